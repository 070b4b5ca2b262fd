"""Model architectures, one module each (`dense`, `cnn`, `bert`); each family's toolkit
(`IMDb.toolkits`) builds its models from them. Each `build` takes a Keras module (`keras` for training, `tf_keras` to
write an `.h5` that TensorFlow 2.12 reads) so one definition serves both (BERT is Keras 3 only).

Conventions the rest of the package relies on:
- inputs are float32 (the platform's encoders return float32 and it refuses int64 ONNX inputs) and
  cast to int32 inside the model: ``tokens`` [seq_len] for the word models, ``input_ids``,
  ``attention_mask``, ``token_type_ids`` for BERT (`IMDb.architectures.bert`);
- the layer named ``latent`` is the representation before the classifier head (the analysis reads it);
- the output ``logits``: one raw score per class [negative, positive], no softmax (Tensorleap's
  rule: postprocessing belongs in the loss, metrics and visualizers; see `IMDb.measures.scores`).
"""
from __future__ import annotations

LATENT_LAYER = "latent"
OUTPUT_NAME = "logits"
