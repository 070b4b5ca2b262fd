"""A tiny training run proves the loop: logs, best checkpoint, bundle, card, and inference."""
import csv
import json

import numpy as np
import pytest

from IMDb import families
from IMDb.predict import Predictor
from IMDb.toolkits import train
from tests.conftest import synthetic_reviews

pytestmark = pytest.mark.slow


@pytest.fixture(scope="module")
def bundle(tmp_path_factory):
    root = tmp_path_factory.mktemp("train")
    frame = synthetic_reviews(150, 0, "train")
    test = synthetic_reviews(50, 1, "test")
    import pandas as pd
    pd.concat([frame, test], ignore_index=True).to_parquet(root / "imdb.parquet")
    unsup = synthetic_reviews(100, 2, "unsup").drop(columns=["label", "rating"])
    unsup.assign(id=range(len(unsup))).to_parquet(root / "imdb_unsup.parquet")
    # the shipped CNN recipe: PPMI vectors from training + unlabeled, fixed, then a fine-tuning stage
    cfg = families.config("cnn", data=str(root / "imdb.parquet"), vocab_size=60, seq_len=40,
                          embed_dim=8, filters=8, hidden=8, epochs=2, fine_tune_epochs=1,
                          batch_size=32, out_dir=str(root / "models"), runs_dir=str(root / "runs"))
    assert cfg.model_config.pretrained_embeddings and not cfg.model_config.train_embeddings
    card = train(cfg)
    return cfg, card


def test_bundle_files_and_card(bundle):
    cfg, card = bundle
    folder = cfg.model_dir
    assert {p.name for p in folder.iterdir()} == {
        "model.h5", "model.onnx", "tokenizer.json", "card.json", "split.json", "history.csv", "batches.csv",
        ".imdb-leap-manifest"}
    validation = json.loads((folder / "split.json").read_text())["validation"]
    assert len(validation) == card["figures"]["validation"]["samples"] and validation == sorted(validation)
    assert set(card["split_checksums"]) == {"training", "validation", "test"}
    assert json.loads((folder / "card.json").read_text()) == card
    assert set(card["figures"]) == {"training", "validation", "test"}
    assert card["epochs_run"] == 3 and 1 <= card["best_epoch"] <= 3  # 2 + 1 fine-tuning
    assert card["onnx_max_abs_diff"] < 1e-5
    assert len(card["data_checksum"]) == 64
    assert not list(folder.parent.glob(".*"))  # no temp folders left behind


def test_logs_per_epoch_and_per_batch(bundle):
    cfg, _ = bundle
    epochs = list(csv.DictReader(open(cfg.model_dir / "history.csv")))
    batches = list(csv.DictReader(open(cfg.model_dir / "batches.csv")))
    assert [int(row["epoch"]) for row in epochs] == [0, 1, 2]  # one log across both stages
    assert {"loss", "accuracy", "val_loss", "val_accuracy"} <= set(epochs[0])
    assert len(batches) == 3 * int(np.ceil(cfg_train_size(cfg) / cfg.batch_size))
    assert [int(row["step"]) for row in batches] == list(range(1, len(batches) + 1))
    assert len(list((cfg.model_dir.parent.parent / "runs" / "cnn").glob("*/best.keras"))) == 1  # its own run


def cfg_train_size(cfg):
    from IMDb.data import dataset_states
    return len(dataset_states.load_states(cfg)["training"])


def test_the_trained_bundle_predicts(bundle):
    cfg, _ = bundle
    predictor = Predictor.load("cnn", cfg.model_dir.parent)
    probs = predictor.predict(["wonderful superb film", "awful dull waste"])
    assert probs.shape == (2, 2) and np.allclose(probs.sum(1), 1, atol=1e-5)


def test_a_student_learns_from_a_teachers_probabilities_scored_once(bundle, tmp_path, monkeypatch):
    """Distillation (`--teacher`): the unlabeled reviews join training with the teacher's
    probabilities as targets; they are scored once per teacher (cached), the card names the teacher
    but holds no local path, and the labeled states are evaluated as without a teacher."""
    from IMDb.training import distill

    cfg, teacher_card = bundle
    monkeypatch.setenv("IMDB_CACHE", str(tmp_path / "cache"))
    scored = []
    real = Predictor.predict_logits
    monkeypatch.setattr(Predictor, "predict_logits",
                        lambda self, inputs, batch_size=None: scored.append(len(inputs["tokens"])) or real(self, inputs))
    student = families.config("dense", data=cfg.data, vocab_size=60, seq_len=40, embed_dim=8, hidden=8,
                              epochs=1, batch_size=32, teacher=str(cfg.model_dir),
                              out_dir=str(tmp_path / "models"), runs_dir=str(tmp_path / "runs"))
    card = train(student)
    unlabeled = distill_texts(cfg)
    assert sum(scored) == len(unlabeled) > 0  # every unlabeled review, once
    assert card["teacher"] == {"model": "cnn", "tokenizer_fingerprint": teacher_card["tokenizer_fingerprint"],
                               "test_accuracy": teacher_card["figures"]["test"]["accuracy"],
                               "unlabeled_reviews": len(unlabeled)}
    assert card["config"]["teacher"] is None  # no local path on a card
    assert card["figures"]["training"]["samples"] == cfg_train_size(cfg)  # the labeled reviews only
    assert len(list((tmp_path / "cache" / "teacher").glob("*/*.npy"))) == 1  # one chunk of <= 1000
    probs = distill.probabilities(cfg.model_dir, unlabeled)
    assert sum(scored) == len(unlabeled) and probs.shape == (len(unlabeled), 2)  # from the cache
    expected = Predictor.load("cnn", cfg.model_dir.parent).predict(list(unlabeled))  # with its temperature
    assert np.allclose(probs, expected, atol=1e-6)


def distill_texts(cfg):
    from IMDb.data import sources
    return sources.load_unlabeled(cfg.data)["text"]


def test_a_teacher_that_is_not_a_bundle_is_one_line(tmp_path):
    from IMDb.errors import ModelError
    from IMDb.training import distill

    with pytest.raises(ModelError, match="--teacher .*not a model bundle"):
        distill.teacher_dir(tmp_path)


def test_targets_are_one_hot_labels_or_the_teachers_probabilities(bundle):
    import pandas as pd

    from IMDb.text.word_tokenizer import WordTokenizer
    from IMDb.training.word_models import encode_states

    tokenizer = WordTokenizer(60, 10).fit(["a good film", "a bad film"])
    arrays = encode_states(tokenizer, {
        "labeled": pd.DataFrame({"text": ["a good film", "a bad film"], "label": [1, 0]}),
        "taught": pd.DataFrame({"text": ["a film"], "soft": [np.array([0.3, 0.7], np.float32)]})})
    assert arrays["labeled"][1].tolist() == [[0, 1], [1, 0]]
    assert np.allclose(arrays["taught"][1], [[0.3, 0.7]]) and arrays["taught"][0].shape == (1, 10)


def test_only_word_models_take_a_teacher():
    from IMDb.errors import SettingError

    with pytest.raises(SettingError, match="bert has no setting teacher"):
        families.config("bert", teacher="models/bert-int8")
