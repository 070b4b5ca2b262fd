"""Writing a trained model in the formats the Tensorleap platform imports, and checking them.

- ONNX (tf2onnx, opset 17 for the word models, 13 for BERT): float32 inputs with a dynamic batch,
  output ``logits``.
- ``.h5`` readable by TensorFlow 2.12 / Keras 2 (the platform's importer pins them). Keras 3 writes
  an HDF5 config TF 2.12 cannot read, so the same architecture is rebuilt with `tf_keras`, the weights
  are copied over, and the one key TF 2.12's InputLayer rejects (``optional``) is dropped.

A bundle (model files, tokenizer, card, logs) is written to a temp folder and swapped into place, so
an interrupted export never leaves a half-written model.
"""
from __future__ import annotations

import json
from pathlib import Path

import numpy as np

from IMDb.config import Config
from IMDb.io import atomic_dir, atomic_path

BUNDLE_MARKER = "card.json"  # every bundle has one; only such a folder is replaced

ONNX_OPSET = 17
ONNX_OPSET_BERT = 13  # the opset at which leap-model-parser was seen to import the BERT graph
# keys that tf_keras 2.21 writes but Keras 2.12's layers reject, by layer class
_NEWER_KEYS = {"InputLayer": ("optional",)}


def export_onnx(model, path: str | Path, opset: int = ONNX_OPSET) -> Path:
    from IMDb.models import INPUT_NAME

    return export_onnx_inputs(model, path, {INPUT_NAME: model.input.shape[1]}, opset)


def export_onnx_inputs(model, path: str | Path, lengths: dict[str, int], opset: int) -> Path:
    """ONNX of a Keras model with float32 inputs ``name: [batch, length]`` (dynamic batch), in the
    model's input order, and one output ``logits``."""
    import tensorflow as tf
    import tf2onnx

    from IMDb.models import OUTPUT_NAME

    spec = [tf.TensorSpec([None, length], tf.float32, name=name) for name, length in lengths.items()]

    @tf.function(input_signature=spec)
    def serve(*inputs):
        return {OUTPUT_NAME: model(list(inputs) if len(inputs) > 1 else inputs[0], training=False)}

    with atomic_path(path) as tmp:
        tf2onnx.convert.from_function(serve, input_signature=spec, opset=opset, output_path=str(tmp))
    return Path(path)


def export_h5(model, cfg: Config, path: str | Path) -> Path:
    import h5py
    import tf_keras

    from IMDb.models import build

    legacy = build(cfg, tf_keras)
    legacy.set_weights(model.get_weights())
    with atomic_path(path) as tmp:
        legacy.save(str(tmp), include_optimizer=False, save_format="h5")
        with h5py.File(tmp, "r+") as f:
            config = json.loads(f.attrs["model_config"])
            for layer in config["config"]["layers"]:
                for key in _NEWER_KEYS.get(layer["class_name"], ()):
                    layer["config"].pop(key, None)
            f.attrs["model_config"] = json.dumps(config)
    return Path(path)


def onnx_max_abs_diff(model, onnx_path: str | Path, inputs: np.ndarray | dict[str, np.ndarray]
                      ) -> float:
    """Largest |Keras - ONNX Runtime| over `inputs` (one array, or arrays by input name): the
    export tests assert it is below 1e-5 (word models) and 1e-4 (BERT)."""
    import onnxruntime as ort

    session = ort.InferenceSession(str(onnx_path), providers=["CPUExecutionProvider"])
    if not isinstance(inputs, dict):
        inputs = {session.get_inputs()[0].name: inputs}
    feed = {name: np.asarray(x, dtype=np.float32) for name, x in inputs.items()}
    ours = session.run(None, feed)[0]
    keras_in = list(feed.values()) if len(feed) > 1 else next(iter(feed.values()))
    theirs = np.asarray(model.predict(keras_in, batch_size=64, verbose=0))
    return float(np.abs(ours - theirs).max())


def write_bundle(out_dir: str | Path, writers: dict[str, object]) -> Path:
    """Create `out_dir` with one file per entry: name -> callable(path) or JSON-able object.

    Everything is written to a temp folder first; the old folder is replaced only when all files
    are written, and only if it is a bundle (it holds card.json): a user's folder is never deleted.
    """
    with atomic_dir(out_dir, BUNDLE_MARKER) as tmp:
        for name, writer in writers.items():
            if callable(writer):
                writer(tmp / name)
            else:
                (tmp / name).write_text(json.dumps(writer, indent=2) + "\n", encoding="utf-8")
    return Path(out_dir)
