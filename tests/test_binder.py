"""The Tensorleap integration: model choice and bad input, data states, label order, loss, metrics
and visualizers, then leap_binder.py end to end through leap_test.py (synthetic data, tiny bundles;
its --json result is what they assert on; the full run is skipped under `poetry run test`, which runs
leap_test.py itself on the real data right after the suite),
and the shipped models (a missing bundle fails here, it does not skip)."""
import json
import os
import re
import shutil
import subprocess
import sys
import tempfile
from pathlib import Path

import numpy as np
import pytest

from IMDb import families
from IMDb.bundle import Bundle
from IMDb.cli.testing import LEAP_TEST_FOLLOWS
from IMDb.config import environment as env
from IMDb.config import project_file
from IMDb.config.run import LABELS, MODELS_DIR
from IMDb.data import dataset_states
from IMDb.errors import DataError, ModelError
from IMDb.measures import losses
from IMDb.tensorleap import integration, visualizers

ROOT = Path(__file__).resolve().parent.parent
SAMPLE_ID = re.compile(r"(train|test)/(pos|neg)/\d+|unsup/\d+")


def _clear_caches():
    integration.selected_model.cache_clear()
    integration.states.cache_clear()


@pytest.fixture
def settings(monkeypatch, word_bundles, synthetic_dataset):
    """The integration pointed at the tiny bundles and the synthetic data, with fresh caches."""
    monkeypatch.setenv(env.MODELS_DIR, str(word_bundles))
    monkeypatch.setenv(env.DATA, str(synthetic_dataset))
    monkeypatch.delenv(env.MODEL, raising=False)
    _clear_caches()
    yield monkeypatch
    _clear_caches()


@pytest.fixture
def own_bundles(settings, word_bundles, tmp_path):
    """A copy of the tiny bundles this test may break."""
    models = tmp_path / "models"
    shutil.copytree(word_bundles, models)
    settings.setenv(env.MODELS_DIR, str(models))
    return models


# --------------------------------------------------------------------------- model choice and bad input


def test_default_model_is_dense(settings):
    model = integration.selected_model()
    assert model.name == "dense" == project_file.load().model and model.seq_len == 30


def test_the_model_is_one_setting(settings):
    settings.setenv(env.MODEL, "cnn")
    model = integration.selected_model()
    assert model.name == "cnn" and model.seq_len == 24 and model.input_names == ("tokens",)
    encoded = model.tokenizer.encode(["A wonderful film.<br />Superb!"])
    assert set(encoded) == {"tokens"} and encoded["tokens"].dtype == np.float32
    assert encoded["tokens"].shape == (1, 24)
    assert model.tokenizer.positions("A wonderful film.")[:4] == ["a", "wonderful", "film", ""]


def test_unknown_model_lists_the_valid_choices(settings):
    settings.setenv(env.MODEL, "lstm")
    with pytest.raises(ModelError, match=r"IMDB_MODEL='lstm' is not a model .* valid choices: dense, cnn, bert"):
        integration.selected_model()


def test_bert_is_served_by_the_same_setting(settings, bert_bundle):
    settings.setenv(env.MODELS_DIR, str(bert_bundle))
    settings.setenv(env.MODEL, "bert")
    model = integration.selected_model()
    assert model.input_names == ("input_ids", "attention_mask", "token_type_ids")
    tokenizer = model.tokenizer
    encoded = tokenizer.encode(["A wonderful film.<br />Superb!"])
    assert set(encoded) == set(model.input_names)
    assert all(x.dtype == np.float32 and x.shape == (1, 32) for x in encoded.values())
    positions = tokenizer.positions("A wonderful film.<br />Superb!")
    assert positions[:4] == ["[CLS]", "a", "wonderful", "film"] and positions[-1] == ""
    assert len(positions) == 32 and positions.index("[SEP]") == int(encoded["attention_mask"].sum()) - 1
    # a word outside the tiny vocabulary is split into letters, a character outside it is [UNK]
    assert tokenizer.oov_count("wonderful ☃ film") == 1 and tokenizer.oov_positions("wonderful ☃")[2] == 1
    assert tokenizer.max_tokens == 30 and tokenizer.count("great " * 40) == 40


def test_missing_bundle_names_the_file(own_bundles, settings):
    shutil.rmtree(own_bundles / "cnn")
    settings.setenv(env.MODEL, "cnn")
    with pytest.raises(ModelError, match=re.escape(str(own_bundles / "cnn" / "card.json")) + " not found"):
        integration.selected_model()


def test_missing_tokenizer_names_the_file(own_bundles):
    (own_bundles / "dense" / "tokenizer.json").unlink()
    with pytest.raises(ModelError, match=re.escape(str(own_bundles / "dense" / "tokenizer.json"))):
        integration.selected_model()


def test_a_tokenizer_that_does_not_match_the_model_is_refused(own_bundles):
    shutil.copy(own_bundles / "cnn" / "tokenizer.json", own_bundles / "dense" / "tokenizer.json")
    with pytest.raises(ModelError, match=r"dense/tokenizer.json .* is not the tokenizer dense was trained with"):
        integration.selected_model()


def test_missing_model_file_names_the_file(own_bundles):
    (own_bundles / "dense" / "model.onnx").unlink()
    model = integration.selected_model()  # the dataset side does not need the model file
    with pytest.raises(ModelError, match=re.escape(str(own_bundles / "dense" / "model.onnx"))):
        model.session()


def test_a_card_of_another_model_is_refused(own_bundles):
    shutil.copy(own_bundles / "cnn" / "card.json", own_bundles / "dense" / "card.json")
    with pytest.raises(ModelError, match="describes model 'cnn', not 'dense'"):
        integration.selected_model()


def test_the_session_matches_the_declared_prediction(settings):
    session = integration.selected_model().session()
    assert [o.name for o in session.get_outputs()] == ["logits"]
    assert [i.name for i in session.get_inputs()] == list(integration.selected_model().input_names)


# --------------------------------------------------------------------------- data


def test_states_have_stable_unique_string_ids(settings):
    states = integration.states()
    assert list(states) == ["training", "validation", "test", "unlabeled"]
    assert [len(s) for s in states.values()] == [96, 24, 60, 40]
    every = [sid for s in states.values() for sid in s.sample_ids]
    assert len(set(every)) == len(every) and all(SAMPLE_ID.fullmatch(sid) for sid in every)
    assert states["unlabeled"].review("unsup/3").label is None and not states["unlabeled"].labeled
    first = states["training"].sample_ids
    _clear_caches()
    assert integration.states()["training"].sample_ids == first


def test_data_is_loaded_once_per_process(settings):
    calls = []
    real = dataset_states.load_states
    settings.setattr(dataset_states, "load_states", lambda *a, **k: calls.append(1) or real(*a, **k))
    for _ in range(3):
        responses = [integration.preprocess_response(s) for s in integration.STATES]
    assert len(calls) == 1
    assert [r.state.value for r in responses] == list(integration.STATES)
    assert all(r.sample_id_type is str and r.data is integration.states()[r.state.value] for r in responses)


def test_reviews_are_found_by_sample_id(settings):
    response = integration.preprocess_response("test")
    sid = response.sample_ids[-1]
    review = integration.review(sid, response)
    assert review.sample_id == sid and review.label == 1 and 7 <= review.rating <= 10

    from code_loader.contract.datasetclasses import SamplePreprocessResponse

    for given in (sid, np.array([sid])):  # a scalar in the integration test, an array on the platform
        assert integration.sample_review(SamplePreprocessResponse(given, response)) == review
    with pytest.raises(KeyError, match="not in the test state"):
        integration.review("train/pos/999999", response)


# --------------------------------------------------------------------------- the recorded split


def test_the_recorded_split_is_the_validation_state(own_bundles, synthetic_dataset):
    from conftest import record_synthetic_split

    record_synthetic_split(own_bundles / "dense", synthetic_dataset)
    recorded = json.loads((own_bundles / "dense" / "split.json").read_text())["validation"]
    assert sorted(integration.states()["validation"].sample_ids) == recorded


def test_a_split_that_differs_from_the_card_names_the_state(own_bundles, synthetic_dataset):
    from conftest import record_synthetic_split

    record_synthetic_split(own_bundles / "dense", synthetic_dataset)
    card = json.loads((own_bundles / "dense" / "card.json").read_text())
    card["split_checksums"]["test"] = "0123456789abcdef"
    (own_bundles / "dense" / "card.json").write_text(json.dumps(card))
    with pytest.raises(DataError) as error:
        integration.states()
    message = str(error.value)
    assert message.startswith("the test state differs from the one dense was trained with") and "\n" not in message
    assert "split_checksums.test" in message and "0123456789abcdef" in message


def test_a_split_of_another_dataset_is_refused(own_bundles, synthetic_dataset):
    (own_bundles / "dense" / "split.json").write_text(json.dumps({"validation": ["train/pos/999999"]}))
    with pytest.raises(DataError, match="1 of the 1 validation reviews the model was validated on are not in its "
                                        "train split"):
        integration.states()


def test_the_shipped_bundles_record_their_split():
    for model in integration.served_models():
        loaded = Bundle.read(model)
        assert len(loaded.validation_ids()) == loaded.card["figures"]["validation"]["samples"]
        assert set(loaded.card["split_checksums"]) == {"training", "validation", "test"}


# --------------------------------------------------------------------------- label order


def test_label_order_is_negative_then_positive():
    """The public Tensorleap IMDb example lists the labels reversed; ours follow the class ids."""
    assert LABELS == ("negative", "positive")
    assert integration.one_hot(0).tolist() == [1.0, 0.0] and integration.one_hot(1).tolist() == [0.0, 1.0]
    assert integration.one_hot(1).dtype == np.float32 and integration.one_hot(None).shape == (0,)
    assert visualizers.prediction(np.array([[0.2, 0.8]], np.float32)).labels == ["negative", "positive"]
    row = losses.confusion_matrix(np.array([[0.0, 1.0]]), np.array([[0.2, 0.8]]))[0]
    assert [e.label for e in row] == ["negative", "positive"]
    assert [e.expected_outcome.value for e in row] == ["Negative", "Positive"]


# --------------------------------------------------------------------------- loss and metrics


def test_cross_entropy_per_sample_from_logits():
    gt = np.array([[1, 0], [0, 1], [0, 1], [1, 0]], np.float32)
    probs = np.array([[0.9, 0.1], [0.3, 0.7]])
    logits = np.vstack([np.log(probs) + [[2.0], [-3.0]], [[30.0, -30.0], [400.0, -400.0]]])  # any offset
    loss = losses.categorical_crossentropy(gt, logits)
    assert loss.dtype == np.float32 and loss.shape == (4,)
    assert np.allclose(loss[:2], [-np.log(0.9), -np.log(0.7)], atol=1e-6)
    assert loss[2] == pytest.approx(60.0, rel=1e-6)  # confidently wrong: the true loss, not a clipped one
    assert loss[3] == pytest.approx(0.0, abs=1e-6)  # huge logits overflow nothing
    half = losses.categorical_crossentropy(gt.astype(np.float16), logits.astype(np.float16))  # platform precision
    assert np.allclose(half[:2], loss[:2], atol=1e-2) and np.isfinite(half).all()
    assert np.allclose(losses.crossentropy_of_probabilities(gt[:2], probs), loss[:2], atol=1e-6)


def test_metrics_and_errors():
    gt = np.array([[1, 0], [1, 0], [0, 1], [0, 1]], np.float16)
    pred = np.log(np.array([[0.8, 0.2], [0.3, 0.7], [0.4, 0.6], [0.9, 0.1]])).astype(np.float16)  # logits
    assert losses.accuracy(gt, pred).tolist() == [1, 0, 1, 0]
    errors = losses.errors(gt, pred)
    assert errors["false_positive"].tolist() == [0, 1, 0, 0] and errors["false_negative"].tolist() == [0, 0, 0, 1]
    matrix = losses.confusion_matrix(gt, pred)
    assert len(matrix) == 4 and matrix[1][1].predicted_probability == pytest.approx(0.7, abs=1e-3)


def test_without_a_label_everything_is_undefined():
    gt, pred = np.zeros((1, 0), np.float32), np.array([[0.3, 0.7]], np.float32)
    assert np.isnan(losses.categorical_crossentropy(gt, pred)).all()
    assert np.isnan(losses.accuracy(gt, pred)).all()
    assert all(np.isnan(v).all() for v in losses.errors(gt, pred).values())
    assert losses.confusion_matrix(gt, pred) == [[]]


# --------------------------------------------------------------------------- visualizers


def test_review_text_has_no_heat_map_and_the_lexicon_has_its_own():
    words = ["a", "brilliant", "film", "not", "brilliant", "", ""]
    shown = visualizers.review(words, np.zeros((1, 7), np.float32))
    assert shown.data == words and shown.heatmap is None  # the platform's attribution map goes here
    heat = visualizers.lexicon(words)
    assert heat.data == words and len(heat.heatmap) == 7 and all(type(v) is float for v in heat.heatmap)
    assert 0 < heat.heatmap[1] <= 1 and heat.heatmap[4] == pytest.approx(heat.heatmap[1] / 2)
    assert heat.heatmap[0] == heat.heatmap[2] == heat.heatmap[5] == 0.0
    with pytest.raises(ValueError, match="disagree on the tokenizer"):
        visualizers.review(words, np.zeros(8, np.float32))


def test_oov_mask_prediction_and_cleaned_text():
    mask = visualizers.oov_tokens(["a", "zyzzyva", ""], np.array([0, 1, 0]), np.zeros(3, np.float32))
    assert mask.mask.dtype == np.uint8 and mask.mask.tolist() == [0, 1, 0] and mask.labels == ["out-of-vocabulary"]
    logits = np.log(np.array([[0.25, 0.75]])).astype(np.float16)
    bar = visualizers.prediction(logits, np.array([[0, 1]], np.float16))
    assert bar.body.dtype == np.float32 and np.allclose(bar.body, [0.25, 0.75], atol=1e-3)
    assert bar.gt.tolist() == [0, 1] and bar.labels == ["negative", "positive"]
    assert visualizers.prediction(logits, np.zeros((1, 0), np.float16)).gt is None  # unlabeled: no truth shown
    with pytest.raises(ValueError):
        visualizers.prediction(np.array([0.1, 0.2, 0.7], np.float32))
    assert visualizers.cleaned_text("Great<br />film, isn't it?").data == ["great", "film", "isnt", "it"]


# --------------------------------------------------------------------------- leap_binder.py end to end


def run_leap_test(env_updates: dict, *args: str) -> tuple[subprocess.CompletedProcess, dict]:
    """leap_test.py in its own process, and its --json result (what the assertions read; the table is
    for people)."""
    env = {**os.environ, "TL_DISABLE_ANALYTICS": "1", **env_updates}
    with tempfile.TemporaryDirectory() as tmp:
        out = Path(tmp) / "leap_test.json"
        proc = subprocess.run([sys.executable, str(ROOT / "leap_test.py"), *args, "--json", str(out)], env=env,
                              cwd=ROOT, capture_output=True, text=True, timeout=600)
        assert out.is_file(), proc.stdout[-3000:] + proc.stderr[-2000:]
        return proc, json.loads(out.read_text())


@pytest.fixture(scope="module")
def all_bundles(word_bundles, bert_bundle, tmp_path_factory) -> Path:
    models = tmp_path_factory.mktemp("all") / "models"
    shutil.copytree(word_bundles, models)
    shutil.copytree(bert_bundle / "bert", models / "bert")
    return models


@pytest.mark.skipif(bool(os.environ.get(LEAP_TEST_FOLLOWS)),
                    reason="the test command runs leap_test.py on the dataset and the shipped models right after "
                           "the suite: this synthetic run would repeat it")
def test_leap_test_passes_on_synthetic_data(all_bundles, synthetic_dataset):
    """Integration test for the three models over every state, then check_dataset() as on the
    platform. Under `poetry run test` (and so CI) the full check runs once, after the suite, on the
    real data: this run is for pytest alone."""
    proc, result = run_leap_test({env.DATA: str(synthetic_dataset),
                                  env.MODELS_DIR: str(all_bundles)}, "--samples", "4")
    assert proc.returncode == 0 and result["passed"], result["failures"]
    assert result["failures"] == []
    assert set(result["models"]) == {"dense", "cnn", "bert"}
    for model, checked in result["models"].items():
        integration_run = checked["integration"]
        assert {state: s["samples"] for state, s in integration_run["states"].items()} == \
            {"training": 4, "validation": 4, "test": 4, "unlabeled": 4}, model
        assert integration_run["errors"] == []
        platform = checked["platform"]
        assert platform["status"] == "valid" and platform["failing"] == [] and platform["errors"] == [], model
        assert platform["payloads"] > 0 and platform["metadata_fields"] > 0 and platform["engine_calls"] > 0
        assert platform["python"].startswith("3.10."), platform["python"]
    assert result["registered"]["prediction_types"] == [["logits", ["negative", "positive"]]]
    assert result["registered"]["visualizers"] == ["review", "lexicon", "oov_tokens", "cleaned_text", "prediction",
                                                   "prediction_only"]
    assert any("data_path is the placeholder '/your/data/volume/imdb/imdb.parquet': the one edit" in note
               for note in result["notes"]), result["notes"]


def test_leap_test_checks_the_config_as_it_is_first(word_bundles, synthetic_dataset, tmp_path):
    """A data_path that cannot exist inside a pushed bundle fails in one line, though the emulation's
    copy (data_path set to the dataset here) would pass."""
    config = tmp_path / "project_config.yaml"
    config.write_text("data_path: ../shared/data/imdb/imdb.parquet\nmodel: dense\nsample_limit_per_split: null\n")
    proc, result = run_leap_test({env.DATA: str(synthetic_dataset), env.MODELS_DIR: str(word_bundles)},
                                 "--models", "dense", "--platform-only", "--config", str(config))
    assert proc.returncode == 1 and not result["passed"]
    [failure] = result["failures"]
    assert re.fullmatch(r".*project_config.yaml: data_path '../shared/data/imdb/imdb.parquet' is relative: "
                        r"inside a pushed bundle .* data volume.*", failure, re.S), failure
    assert result["models"]["dense"]["platform"]["status"] == "valid"  # the copy, with the one edit, is fine


def test_leap_test_fails_clearly_on_an_unknown_model(word_bundles, synthetic_dataset):
    proc, result = run_leap_test({env.DATA: str(synthetic_dataset),
                                  env.MODELS_DIR: str(word_bundles)}, "--models", "lstm", "--samples", "1")
    assert proc.returncode == 1 and not result["passed"]
    assert any("IMDB_MODEL='lstm' is not a model this integration serves; valid choices: dense, cnn, bert" in f
               for f in result["failures"]), result["failures"]
    assert "leap_test: FAILED" in proc.stdout  # people still read the verdict


def test_the_test_command_runs_leap_test_once_after_the_suite(monkeypatch):
    """`poetry run test`: pytest is told that leap_test.py follows (so the synthetic full run above is
    skipped), then leap_test.py runs once; the variable does not outlive the pytest run."""
    from IMDb.cli import testing

    seen = []
    monkeypatch.delenv(LEAP_TEST_FOLLOWS, raising=False)
    monkeypatch.chdir(ROOT)
    monkeypatch.setattr(sys, "argv", ["test", "-k", "nothing"])
    monkeypatch.setattr(testing, "run_pytest", lambda args: seen.append(("pytest", os.environ.get(LEAP_TEST_FOLLOWS),
                                                                          args)) or 0)
    monkeypatch.setattr(testing, "run_leap_test", lambda: seen.append(("leap_test", os.environ.get(LEAP_TEST_FOLLOWS),
                                                                       None)) or 0)
    assert testing.main() == 0
    assert seen == [("pytest", "1", ["-k", "nothing"]), ("leap_test", None, None)]


# --------------------------------------------------------------------------- the shipped models


def shipped(model: str) -> Path:
    folder = MODELS_DIR / model
    keras_file = families.get(model).keras_file
    missing = [n for n in ("card.json", "tokenizer.json", "model.onnx", keras_file)
               if not (folder / n).is_file()]
    if missing:
        pytest.fail(f"the shipped {model} bundle is incomplete: {', '.join(str(folder / n) for n in missing)} "
                    f"missing. Train it (imdb-leap train {model}) or restore models/{model}/.")
    return folder


@pytest.mark.parametrize("model", integration.served_models())
def test_shipped_bundle_is_complete_and_consistent(model, monkeypatch):
    folder = shipped(model)
    monkeypatch.delenv(env.MODELS_DIR, raising=False)
    loaded = Bundle.read(model, folder.parent)
    session = loaded.session()
    assert [i.name for i in session.get_inputs()] == list(loaded.input_names)
    assert all(i.shape[-1] == loaded.seq_len for i in session.get_inputs())


@pytest.mark.parametrize("model", integration.served_models())
def test_shipped_model_agrees_with_the_ground_truth_order(model, imdb_data):
    """200 test reviews: with the ground truth encoded as [negative, positive] the shipped model is
    right far above chance; with the order reversed it would be right far below it."""
    from IMDb.predict import Predictor

    shipped(model)
    test = dataset_states.labeled(str(imdb_data)).query("split == 'test'")
    picked = test.iloc[np.linspace(0, len(test) - 1, 200).astype(int)]
    probabilities = Predictor.load(model).predict(picked["text"].tolist())
    truth = np.stack([integration.one_hot(int(label)) for label in picked["label"]])
    accuracy = float(losses.accuracy(truth, probabilities).mean())
    assert accuracy > 0.75, f"{model}: accuracy {accuracy:.2f} on 200 test reviews"


def test_real_states(imdb_data, monkeypatch):
    """The real dataset through the integration: the four states, ids unique across them."""
    monkeypatch.setenv(env.DATA, str(imdb_data))
    monkeypatch.delenv(env.MODELS_DIR, raising=False)
    monkeypatch.delenv(env.MODEL, raising=False)
    shipped(project_file.load().model)
    _clear_caches()
    try:
        states = integration.states()
        sizes = {name: len(s) for name, s in states.items()}
        assert sizes["test"] == 25_000 and sizes["unlabeled"] == 50_000
        assert sizes["training"] + sizes["validation"] == 25_000 - 123  # train texts also in test are dropped
        every = [sid for s in states.values() for sid in s.sample_ids]
        assert len(set(every)) == len(every) == sum(sizes.values())
        assert all(SAMPLE_ID.fullmatch(sid) for sid in every[::997])
    finally:
        _clear_caches()
