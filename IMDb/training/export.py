"""Writing a trained model in the formats the Tensorleap platform imports, and checking them.

- ONNX (tf2onnx, at the family's opset: `IMDb.families.base.Family.onnx_opset`): float32 inputs
  with a dynamic batch, output ``logits``.
- ``.h5`` readable by TensorFlow 2.12 / Keras 2 (the platform's importer pins them). Keras 3 writes
  an HDF5 config TF 2.12 cannot read, so the same architecture is rebuilt with `tf_keras`, the weights
  are copied over, and the one key TF 2.12's InputLayer rejects (``optional``) is dropped.

The bundle these files go into is written by `IMDb.bundle.write`.
"""
from __future__ import annotations

import json
from pathlib import Path

import numpy as np

from IMDb.output.atomic import atomic_path

# keys that tf_keras 2.21 writes but Keras 2.12's layers reject, by layer class
_NEWER_KEYS = {"InputLayer": ("optional",)}


def export_onnx(model, path: str | Path, lengths: dict[str, int], opset: int) -> Path:
    """ONNX of a Keras model with float32 inputs ``name: [batch, length]`` (dynamic batch), in the
    model's input order, and one output ``logits``."""
    import tensorflow as tf
    import tf2onnx

    from IMDb.architectures import OUTPUT_NAME

    spec = [tf.TensorSpec([None, length], tf.float32, name=name) for name, length in lengths.items()]

    @tf.function(input_signature=spec)
    def serve(*inputs):
        return {OUTPUT_NAME: model(list(inputs) if len(inputs) > 1 else inputs[0], training=False)}

    with atomic_path(path) as tmp:
        tf2onnx.convert.from_function(serve, input_signature=spec, opset=opset, output_path=str(tmp))
    return Path(path)


def export_h5(model, legacy, path: str | Path) -> Path:
    """`model`'s weights in `legacy` (the same architecture built with tf_keras), saved as an
    ``.h5`` that TensorFlow 2.12 reads."""
    import h5py

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


def onnx_max_abs_diff(model, onnx_path: str | Path, inputs: dict[str, np.ndarray]) -> float:
    """Largest |Keras - ONNX Runtime| over `inputs` (arrays by input name, in the model's input
    order): the export tests assert it is below 1e-5 (word models) and 1e-4 (BERT)."""
    import onnxruntime as ort

    session = ort.InferenceSession(str(onnx_path), providers=["CPUExecutionProvider"])
    feed = {name: np.asarray(x, dtype=np.float32) for name, x in inputs.items()}
    ours = session.run(None, feed)[0]
    keras_in = list(feed.values()) if len(feed) > 1 else next(iter(feed.values()))
    theirs = np.asarray(model.predict(keras_in, batch_size=64, verbose=0))
    return float(np.abs(ours - theirs).max())
