"""`imdb-leap train --model bert` on a tiny random BERT: the loop trains, checkpoints, resumes to the same
weights, refuses a checkpoint of other settings, and exports an ONNX equal to Keras."""
import json

import numpy as np
import pytest

from IMDb import bundle
from IMDb import families, toolkits
from IMDb.errors import ModelError
from IMDb.output.folders import check_out_dir
from IMDb.text.wordpiece import INPUT_NAMES
from IMDb.training import bert_steps

from tests.conftest import make_bert_vocab, tiny_bert_config


def test_batches_cover_the_epoch_once_and_are_reproducible():
    lengths = np.random.default_rng(0).integers(5, 300, size=1000)
    batches = bert_steps.epoch_batches(lengths, 32, seed=1, epoch=0)
    assert sorted(np.concatenate(batches).tolist()) == list(range(1000))
    again = bert_steps.epoch_batches(lengths, 32, seed=1, epoch=0)
    assert all(np.array_equal(a, b) for a, b in zip(batches, again))
    other = bert_steps.epoch_batches(lengths, 32, seed=1, epoch=1)
    assert not all(np.array_equal(a, b) for a, b in zip(batches, other))
    # length-sorted inside chunks: a batch spans far less than the whole range
    spread = np.median([np.ptp(lengths[b]) for b in batches])
    assert spread < np.ptp(lengths) / 5


def test_learning_rate_warms_up_then_decays_to_zero():
    
    cfg = families.config("bert", learning_rate=1e-4, warmup_fraction=0.1)
    rates = [bert_steps.learning_rate(cfg, s, 100) for s in range(100)]
    assert rates[9] == pytest.approx(1e-4) and rates[0] == pytest.approx(1e-5)
    assert all(a >= b for a, b in zip(rates[9:], rates[10:])) and rates[-1] < 2e-6


def test_training_writes_a_complete_bundle(bert_bundle):
    folder = bert_bundle / "bert"
    for name in ("model.onnx", "model.keras", "tokenizer.json", "card.json", "history.csv",
                 "batches.csv"):
        assert (folder / name).is_file(), name
    card = json.loads((folder / "card.json").read_text())
    assert card["steps"] == 6 and card["input_names"] == list(INPUT_NAMES)
    assert set(card["figures"]) == {"training", "validation", "test"}
    assert card["onnx_max_abs_diff"] < 1e-4
    steps = (folder / "batches.csv").read_text().splitlines()
    assert len(steps) == 1 + 6


def test_onnx_inputs_are_float32_with_a_dynamic_batch(bert_bundle):
    import onnxruntime as ort

    session = ort.InferenceSession(str(bert_bundle / "bert" / "model.onnx"))
    inputs = {i.name: i for i in session.get_inputs()}
    assert list(inputs) == list(INPUT_NAMES)
    for i in inputs.values():
        assert i.type == "tensor(float)" and i.shape[1] == 32 and not isinstance(i.shape[0], int)
    assert [o.name for o in session.get_outputs()] == ["logits"]


def test_keras_file_reloads_to_the_same_predictions(bert_bundle):
    from IMDb.analysis.inference import load_keras
    from IMDb.bundle import Bundle
    from IMDb.predict import Predictor

    bert = Bundle.read("bert", bert_bundle)
    model, tokenizer = load_keras(bert), bert.tokenizer
    texts = ["Great superb plot.<br />Really!", "Awful boring waste, why?"]
    arrays = tokenizer.encode(texts)
    keras_probs = np.asarray(model([arrays[n] for n in INPUT_NAMES], training=False))
    onnx_probs = Predictor.load("bert", bert_bundle).predict(texts)
    assert np.abs(keras_probs - onnx_probs).max() < 1e-4


def _weights(cfg):
    import keras

    return [w.copy() for w in keras.saving.load_model(
        f"{cfg.model_dir}/model.keras", compile=False).get_weights()]


def test_an_interrupted_run_resumes_to_the_same_weights(tmp_path, synthetic_dataset, monkeypatch):
    vocab = make_bert_vocab(tmp_path / "checkpoint")
    straight = tiny_bert_config(vocab, synthetic_dataset, tmp_path / "straight")
    toolkits.train(straight)

    resumed = tiny_bert_config(vocab, synthetic_dataset, tmp_path / "resumed")
    real = bert_steps.learning_rate

    def crash_at_step_4(cfg, step, total):
        if step == 4:
            raise KeyboardInterrupt
        return real(cfg, step, total)

    monkeypatch.setattr(bert_steps, "learning_rate", crash_at_step_4)
    with pytest.raises(KeyboardInterrupt):
        toolkits.train(resumed)
    [checkpoint] = (tmp_path / "resumed/runs/bert").glob("*/checkpoint")  # the run's own folder
    state = json.loads((checkpoint / "state.json").read_text())
    assert state["step"] == 4  # checkpoint_every=2: the last one before the crash
    monkeypatch.setattr(bert_steps, "learning_rate", real)
    card = toolkits.train(resumed)
    assert card["steps"] == 6
    batches = (tmp_path / "resumed/models/bert/batches.csv").read_text().splitlines()
    assert [line.split(",")[0] for line in batches[1:]] == [str(s) for s in range(1, 7)]
    for a, b in zip(_weights(straight), _weights(resumed)):
        np.testing.assert_allclose(a, b, atol=1e-5)


def test_a_checkpoint_of_other_settings_is_refused(tmp_path, synthetic_dataset):
    vocab = make_bert_vocab(tmp_path / "checkpoint")
    toolkits.train(tiny_bert_config(vocab, synthetic_dataset, tmp_path, max_steps=2))
    with pytest.raises(ModelError, match="other settings.*--restart"):
        toolkits.train(tiny_bert_config(vocab, synthetic_dataset, tmp_path, max_steps=2,
                                          learning_rate=5e-4))
    restarted = tiny_bert_config(vocab, synthetic_dataset, tmp_path, max_steps=2, learning_rate=5e-4)
    check_out_dir(restarted.model_dir, bundle.MARKER, replace=True)  # what `train --overwrite` does first
    card = toolkits.train(restarted, restart=True)
    assert card["config"]["learning_rate"] == 5e-4


def test_a_missing_checkpoint_folder_is_named(tmp_path, synthetic_dataset):
    cfg = tiny_bert_config(tmp_path / "nowhere", synthetic_dataset, tmp_path)
    with pytest.raises(ModelError, match="vocab.txt.*IMDB_BERT"):
        toolkits.train(cfg)


def test_template_sentences_reach_bert_training(tmp_path, synthetic_dataset, capsys):
    """--augment (and --counterfactual, through the same function) is part of BERT's training state,
    not silently dropped as it was before."""
    import re

    vocab = make_bert_vocab(tmp_path / "checkpoint")
    counts = []
    for augment in (0, 24):
        toolkits.train(tiny_bert_config(vocab, synthetic_dataset, tmp_path / str(augment), max_steps=1,
                                          augment=augment))
        out = capsys.readouterr().out
        counts.append(int(re.search(r"data: training (\d+)", out).group(1)))
    assert "+ 24 template sentences" in out
    assert counts[1] == counts[0] + 24


def test_the_epoch_shipped_is_chosen_with_held_out_cad_revisions(tmp_path, synthetic_dataset, monkeypatch,
                                                                capsys):
    """With --counterfactual a share of the CAD training pairs is kept out of training; every epoch's
    end is scored on their revisions and the validation reviews and keeps its weights; the best
    epoch is shipped even when a later one is worse."""
    from tests.conftest import NEGATIVE, POSITIVE

    lines = ["Sentiment\tText\tbatch_id"]
    for i in range(40):
        good, bad = POSITIVE[i % len(POSITIVE)], NEGATIVE[i % len(NEGATIVE)]
        lines += [f"Positive\tthe film was {good}\t{i}", f"Negative\tthe film was {bad}\t{i}"]
    (tmp_path / "cad").mkdir()
    (tmp_path / "cad" / "train_paired.tsv").write_text("\n".join(lines) + "\n")
    monkeypatch.setenv("IMDB_CAD", str(tmp_path / "cad"))
    real = bert_steps.epoch_end
    ends = []

    def first_epoch_scores_best(*args):
        entry = real(*args)
        assert "cad_holdout_revised_accuracy" in entry  # the kept-aside revisions were scored
        ends.append(entry)
        return entry | {"selection": 1.0 if len(ends) == 1 else 0.5}

    monkeypatch.setattr(bert_steps, "epoch_end", first_epoch_scores_best)
    cfg = tiny_bert_config(make_bert_vocab(tmp_path / "checkpoint"), synthetic_dataset, tmp_path, max_steps=None,
                           epochs=2, counterfactual=True)
    card = toolkits.train(cfg)
    out = capsys.readouterr().out
    assert "kept aside to choose the checkpoint" in out
    assert len(ends) == 2 and card["chosen_epoch"] == ends[0]["epoch"] == 1.0
    assert f"shipping the weights of epoch {ends[0]['epoch']}" in out
    assert card["figures"]["validation"]["accuracy"] == ends[0]["val_accuracy"]
    [run] = (tmp_path / "runs" / "bert").iterdir()
    assert sorted(p.name for p in run.glob("step-*.weights.h5")) == [f"step-{e['step']}.weights.h5" for e in ends]


def test_init_from_starts_from_a_bundles_weights(tmp_path, synthetic_dataset, bert_bundle):
    source = bert_bundle / "bert"
    vocab = make_bert_vocab(tmp_path / "checkpoint")
    cfg = tiny_bert_config(vocab, synthetic_dataset, tmp_path, max_steps=1, learning_rate=1e-9,
                           init_from=str(source))
    card = toolkits.train(cfg)
    import hashlib
    assert card["init_from_sha256"] == hashlib.sha256((source / "model.keras").read_bytes()).hexdigest()
    assert card["config"]["init_from"] == str(source)
    import keras
    start = keras.saving.load_model(source / "model.keras", compile=False).get_weights()
    for a, b in zip(start, _weights(cfg)):  # one step at a negligible rate: the source's weights
        np.testing.assert_allclose(a, b, atol=1e-5)


def test_init_from_a_folder_without_a_model_is_one_line(tmp_path, synthetic_dataset):
    cfg = tiny_bert_config(make_bert_vocab(tmp_path / "checkpoint"), synthetic_dataset, tmp_path,
                           init_from=str(tmp_path / "nowhere"))
    with pytest.raises(ModelError, match="--init-from .*nowhere: no model.keras there"):
        toolkits.train(cfg)


def test_mixed_precision_trains_in_bfloat16_and_ships_float32(tmp_path, synthetic_dataset, monkeypatch):
    import keras

    seen = []
    real = bert_steps.Trainer._build
    monkeypatch.setattr(bert_steps.Trainer, "_build",
                        lambda self, precision: seen.append(precision) or real(self, precision))
    cfg = tiny_bert_config(make_bert_vocab(tmp_path / "checkpoint"), synthetic_dataset, tmp_path, max_steps=2,
                           precision="mixed_bfloat16")
    card = toolkits.train(cfg)
    assert seen == ["mixed_bfloat16", "float32"]
    assert keras.config.dtype_policy().name == "float32"  # the process's policy is put back
    model = keras.saving.load_model(f"{cfg.model_dir}/model.keras", compile=False)
    assert {layer.dtype_policy.name for layer in model.layers} == {"float32"}
    assert card["config"]["precision"] == "mixed_bfloat16" and card["onnx_max_abs_diff"] < 1e-4
    assert card["figures"]["validation"]["samples"] > 0
