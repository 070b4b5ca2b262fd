"""The analysis's graph: every family's ``model.onnx`` with its ``latent`` layer added as a second output,
found in one way (`IMDb.architectures.onnx_latent`), in memory only: the served file keeps its one
output ``logits``. The latent is the Keras model's ``latent`` layer, the probabilities `predict`'s."""
import json

import numpy as np
import onnx
import pytest

from IMDb.analysis.inference import latent_and_probabilities, load_keras, load_latent_model
from IMDb.architectures import keras_of
from IMDb.architectures.onnx_latent import latent_tensor, with_latent_output
from IMDb.bundle import Bundle
from IMDb.config.run import MODELS_DIR
from IMDb.errors import ModelError
from IMDb.predict import Predictor

REVIEWS = ["A wonderful, moving film.", "Dull and boring, a waste of time.", "It was fine, I guess. " * 40]
WORD_MODELS = ("dense", "cnn")


def _shipped(name: str) -> Bundle:
    if not (MODELS_DIR / name / "card.json").is_file():
        pytest.skip(f"models/{name} is absent")
    return Bundle.read(name, MODELS_DIR)


def _keras_latent(bundle: Bundle, texts) -> np.ndarray:
    model = load_keras(bundle)
    latent = keras_of(model).Model(model.inputs, model.get_layer("latent").output)
    inputs = [bundle.tokenizer.encode(texts)[n] for n in bundle.input_names]
    return np.asarray(latent(inputs[0] if len(inputs) == 1 else inputs, training=False))


@pytest.mark.parametrize("name", [*WORD_MODELS, "bert", "bert-int8"])
def test_the_latent_output_is_added_and_the_served_file_is_unchanged(name):
    bundle = _shipped(name)
    path = bundle.file("model.onnx")
    before = path.read_bytes()
    graph = onnx.load(str(path)).graph
    found = latent_tensor(graph)
    assert found is not None and "latent" in found
    edited = onnx.load_from_string(with_latent_output(path))
    assert [o.name for o in edited.graph.output] == ["logits", "latent"]
    assert path.read_bytes() == before and [o.name for o in graph.output] == ["logits"]
    assert [o.name for o in bundle.session().get_outputs()] == ["logits"]  # what predict and the binder run


@pytest.mark.parametrize("name", [*WORD_MODELS, "bert"])
def test_the_latent_is_the_keras_latent_layer_and_the_probabilities_predicts(name):
    bundle = _shipped(name)
    latent, probs = latent_and_probabilities(load_latent_model(bundle), bundle.tokenizer, REVIEWS, 2)
    assert np.abs(latent - _keras_latent(bundle, REVIEWS)).max() < 1e-4
    assert np.abs(probs - Predictor.load(name, MODELS_DIR).predict(REVIEWS)).max() < 1e-5


def test_the_int8_bert_latent_is_near_its_source():
    """bert-int8 ships only ONNX: its latent is the same layer as its source's. Its activations are
    quantized per batch, so it is compared with predict on one batch of the same reviews."""
    int8, source = _shipped("bert-int8"), _shipped("bert")
    latent, probs = latent_and_probabilities(load_latent_model(int8), int8.tokenizer, REVIEWS, len(REVIEWS))
    reference, _ = latent_and_probabilities(load_latent_model(source), source.tokenizer, REVIEWS, 2)
    assert latent.shape == reference.shape
    cosine = (latent * reference).sum(1) / np.linalg.norm(latent, axis=1) / np.linalg.norm(reference, axis=1)
    assert (cosine > 0.95).all(), cosine
    assert np.abs(probs - Predictor.load("bert-int8", MODELS_DIR).predict(REVIEWS)).max() < 1e-5


def test_short_inputs_are_padded_to_the_model_length():
    model = load_latent_model(_shipped("dense"))
    tokens = Predictor.load("dense").tokenizer.encode(REVIEWS[:1])["tokens"]
    full, cut = model.run({"tokens": tokens}), model.run({"tokens": tokens[:, :50]})  # it fits in 50
    assert np.allclose(full[0], cut[0]) and np.allclose(full[1], cut[1])


def test_a_graph_without_a_latent_layer_is_one_error(tmp_path):
    graph = onnx.helper.make_graph(
        [onnx.helper.make_node("Relu", ["tokens"], ["logits"], name="model/dense/Relu")], "nolatent",
        [onnx.helper.make_tensor_value_info("tokens", onnx.TensorProto.FLOAT, [None, 2])],
        [onnx.helper.make_tensor_value_info("logits", onnx.TensorProto.FLOAT, [None, 2])])
    path = tmp_path / "model.onnx"
    onnx.save(onnx.helper.make_model(graph), str(path))
    with pytest.raises(ModelError, match="no output of a layer named 'latent'"):
        with_latent_output(path)


@pytest.mark.slow
def test_analyze_runs_on_the_int8_bert(imdb_data, tmp_path):
    from IMDb.analysis.analyze import run_analysis
    from IMDb.analysis.settings import AnalyzeSettings

    _shipped("bert-int8")
    settings = AnalyzeSettings(state="test", limit=12, samples=1, data=str(imdb_data), projection="pca")
    out = run_analysis("bert-int8", settings, tmp_path / "r", progress=False)
    summary = json.loads((out / "summary.json").read_text())
    row = next(r for r in summary["models_and_baselines"] if r["name"] == "bert-int8")
    assert row["n"] == 12 and 0.5 <= row["accuracy"] <= 1.0
    assert any("attributions are those of bert" in note for note in summary.get("notes", []))
