"""From the models' logits to probabilities.

The shipped models end in logits, as Tensorleap's authoring guide asks (the platform's gradient
heat maps fade on a saturated softmax). Whatever shows or scores a probability (the loss and
metrics, the ``prediction`` visualizer, ``imdb-leap predict``, the analysis) turns logits into
probabilities here, in float64 so that float16 batches from the platform lose nothing more. A
model whose card holds a calibration temperature T (``imdb-leap calibrate``) shows softmax(logits / T).
"""
from __future__ import annotations

import numpy as np


def log_softmax(logits) -> np.ndarray:
    """Row-wise log of the softmax, as float64, without forming the probabilities (a confidently
    wrong row keeps its true, large negative log-probability instead of log(0))."""
    z = np.asarray(logits, dtype=np.float64)
    z = z - z.max(axis=-1, keepdims=True)
    return z - np.log(np.exp(z).sum(axis=-1, keepdims=True))


def softmax(logits) -> np.ndarray:
    """Row-wise softmax of [..., classes] logits, as float64 (stable for any magnitude)."""
    z = np.asarray(logits, dtype=np.float64)
    z = z - z.max(axis=-1, keepdims=True)
    e = np.exp(z)
    return e / e.sum(axis=-1, keepdims=True)


def probabilities(logits, temperature: float | None = None):
    """softmax(logits / T), or the plain softmax without a temperature: float64 for arrays; for a
    TensorFlow tensor (a Keras graph being differentiated, `IMDb.analysis.inference.with_probabilities`)
    a tensor of its own dtype, so every path, gradients included, applies the temperature here."""
    if type(logits).__module__.startswith("tensorflow"):
        import tensorflow as tf  # already imported: the tensor is one of its own

        return tf.nn.softmax(logits if temperature is None else logits / temperature, axis=-1)
    z = np.asarray(logits, dtype=np.float64)
    return softmax(z if temperature is None else z / temperature)
