import json

import h5py
import numpy as np
import pytest

from IMDb import architectures
from IMDb import bundle, families, toolkits
from IMDb.config.run import Config
from IMDb.errors import ModelError
from IMDb.training import export

WORD_MODELS = [n for n in families.names() if families.get(n).kind == "words"]


def tiny(name: str) -> Config:
    return families.config(name, vocab_size=50, seq_len=12, embed_dim=8, hidden=8, filters=4)


@pytest.fixture(scope="module", params=WORD_MODELS)
def model_and_cfg(request):
    import keras

    keras.utils.set_random_seed(0)
    cfg = tiny(request.param)
    family = families.get(cfg.model)
    return toolkits.of(family).build(family, cfg, keras), cfg


def tokens(n=32, seq_len=12, vocab=50, seed=0):
    return np.random.default_rng(seed).integers(0, vocab, size=(n, seq_len)).astype(np.float32)


def test_model_contract(model_and_cfg):
    model, cfg = model_and_cfg
    assert model.input.dtype == "float32" and model.input.shape[1:] == (cfg.model_config.seq_len,)
    assert model.get_layer(architectures.LATENT_LAYER) is not None
    logits = np.asarray(model(tokens()))
    assert logits.shape == (32, 2) and np.isfinite(logits).all()
    assert model.layers[-1].name == "logits" and model.layers[-1].get_config()["activation"] == "linear"


def test_onnx_matches_keras(model_and_cfg, tmp_path):
    import onnxruntime as ort

    model, cfg = model_and_cfg
    path = export.export_onnx(model, tmp_path / "m.onnx", {"tokens": cfg.model_config.seq_len}, families.get(cfg.model).onnx_opset)
    assert export.onnx_max_abs_diff(model, path, {"tokens": tokens(200)}) < 1e-5
    session = ort.InferenceSession(str(path))
    (inp,), (out,) = session.get_inputs(), session.get_outputs()
    assert (inp.name, inp.type, out.name) == ("tokens", "tensor(float)", "logits")
    assert isinstance(inp.shape[0], str) and inp.shape[1] == cfg.model_config.seq_len  # dynamic batch
    import onnx
    assert max(op.version for op in onnx.load(str(path)).opset_import if op.domain in ("", "ai.onnx")) <= 17


def test_h5_is_keras2_readable_and_equal(model_and_cfg, tmp_path):
    import tf_keras

    model, cfg = model_and_cfg
    family = families.get(cfg.model)
    path = export.export_h5(model, toolkits.of(family).build(family, cfg, tf_keras), tmp_path / "m.h5")
    with h5py.File(path) as f:
        config = json.loads(f.attrs["model_config"])
        assert "optimizer_weights" not in f
    assert all("optional" not in layer["config"] for layer in config["config"]["layers"])
    loaded = tf_keras.models.load_model(path, compile=False)
    x = tokens(50)
    np.testing.assert_allclose(loaded.predict(x, verbose=0), np.asarray(model(x)), atol=1e-6)


def test_unknown_model_lists_choices():
    with pytest.raises(ModelError, match="dense, cnn"):
        families.config("lstm")


def test_interrupted_bundle_write_keeps_the_old_bundle(tmp_path):
    out = tmp_path / "cnn"
    bundle.write(out, {"card.json": {"version": 1}})

    def crash(path):
        path.write_text("half")
        raise RuntimeError("disk full")

    with pytest.raises(RuntimeError):
        bundle.write(out, {"model.onnx": crash, "card.json": {"version": 2}}, replace=True)
    assert json.loads((out / "card.json").read_text()) == {"version": 1}
    assert [p.name for p in tmp_path.iterdir()] == ["cnn"]
