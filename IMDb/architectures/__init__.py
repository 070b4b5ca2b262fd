"""Model architectures, one module each (`dense`, `cnn`, `bert`); each family's toolkit
(`IMDb.toolkits`) builds its models from them. Each `build` takes a Keras module (`keras` for training, `tf_keras` to
write an `.h5` that TensorFlow 2.12 reads) so one definition serves both (BERT is Keras 3 only);
`keras_of` tells which of the two built a loaded model. `onnx_latent` finds the ``latent`` layer in
a model's ONNX graph.

Conventions the rest of the package relies on:
- inputs are float32 (the platform's encoders return float32 and it refuses int64 ONNX inputs) and
  cast to int32 inside the model: ``tokens`` [seq_len] for the word models, ``input_ids``,
  ``attention_mask``, ``token_type_ids`` for BERT (`IMDb.architectures.bert`);
- the layer named ``latent`` is the representation before the classifier head (the analysis reads it);
- the output ``logits``: one raw score per class [negative, positive], no softmax (Tensorleap's
  rule: postprocessing belongs in the loss, metrics and visualizers; see `IMDb.measures.scores`).
"""
from __future__ import annotations

import importlib
from types import ModuleType

LATENT_LAYER = "latent"
OUTPUT_NAME = "logits"


def keras_of(model) -> ModuleType:
    """The Keras module that built `model`: `tf_keras` (an ``.h5`` file) or Keras 3. Layers added to a
    loaded model (a head, an embedding split) must come from the same one; Keras 3 must run on
    TensorFlow, where the attributions' gradients are taken."""
    keras = importlib.import_module("tf_keras" if type(model).__module__.startswith("tf_keras") else "keras")
    if keras.__name__ == "keras" and keras.backend.backend() != "tensorflow":
        raise ValueError(f"integrated gradients need the TensorFlow backend, Keras runs on "
                         f"{keras.backend.backend()!r}")
    return keras
