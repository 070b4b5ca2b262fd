"""The analysis table of a model that ships only ONNX (bert-int8): `OnnxLatent` gives the latent layer
and probabilities the Keras sub-model gives, and `imdb-leap analyze` runs on bert-int8."""
import numpy as np
import pytest

from IMDb.analysis.inference import latent_and_probabilities, load_keras
from IMDb.analysis.onnx_latent import OnnxLatent
from IMDb.bundle import Bundle
from IMDb.config.run import MODELS_DIR
from IMDb.predict import Predictor

REVIEWS = ["A wonderful, moving film.", "Dull and boring, a waste of time.", "It was fine, I guess. " * 40]


def test_onnx_latent_matches_keras_on_the_dense_model():
    dense = Bundle.read("dense", MODELS_DIR)
    latent, probs = latent_and_probabilities(load_keras(dense), dense.tokenizer, REVIEWS, 512)
    # load_keras divides by the card's temperature, too
    onnx = OnnxLatent(MODELS_DIR / "dense" / "model.onnx", dense.temperature)
    onnx_latent, onnx_probs = latent_and_probabilities(onnx, dense.tokenizer, REVIEWS, 512)
    assert onnx_latent.shape == latent.shape
    assert np.abs(onnx_latent - latent).max() < 1e-4
    assert np.abs(onnx_probs - probs).max() < 1e-5


def test_onnx_latent_pads_short_inputs_to_the_model_length():
    session = OnnxLatent(MODELS_DIR / "dense" / "model.onnx")
    tokens = Predictor.load("dense").tokenizer.encode(REVIEWS[:1])["tokens"]
    full = session.predict_on_batch([tokens])
    cut = session.predict_on_batch([tokens[:, :50]])  # the review fits in 50 positions
    assert np.allclose(full[0], cut[0]) and np.allclose(full[1], cut[1])


@pytest.mark.slow
def test_analyze_runs_on_the_int8_bert(imdb_data, tmp_path):
    import json

    from IMDb.analysis.analyze import run_analysis

    if not (MODELS_DIR / "bert-int8" / "card.json").is_file():
        pytest.skip("models/bert-int8 is absent: build it with imdb-leap quantize")
    out = run_analysis("bert-int8", "test", tmp_path / "r", limit=12, n_samples=1, progress=False,
                       data=str(imdb_data), projection="pca")
    summary = json.loads((out / "summary.json").read_text())
    row = next(r for r in summary["models_and_baselines"] if r["name"] == "bert-int8")
    assert row["n"] == 12 and 0.5 <= row["accuracy"] <= 1.0
    assert any("attributions are those of bert" in note for note in summary.get("notes", []))
