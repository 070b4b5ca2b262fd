"""The analysis's view of a model: its Keras graph (probabilities out) and one latent pass.

`load_keras` reads the bundle's Keras file (`IMDb.bundle.Bundle.keras`: through its family's toolkit, checked
against the tokenizer) and tops it with the card's calibration temperature and a softmax, so the analysis
reports, attributes and checks faithfulness in the probabilities `imdb-leap predict` shows. A model
that ships only its ONNX file (made without training, e.g. bert-int8) is read as an `OnnxLatent`,
which has no gradients: its attributions use its source model.

`latent_and_probabilities` runs either on the tokenizer's batches (`IMDb.text.tokenizer.Tokenizer.batches`),
with a sub-model that returns the latent layer and the probabilities together, so one pass gives both.
"""
from __future__ import annotations

import functools
import importlib
from collections.abc import Sequence
from typing import Any

import numpy as np

from IMDb import toolkits
from IMDb.architectures import LATENT_LAYER
from IMDb.bundle import Bundle


def load_keras(bundle: Bundle) -> Any:
    """The bundle's model with ``probabilities`` out (see the module docstring)."""
    if bundle.family.keras_file is None:
        from IMDb.analysis.onnx_latent import OnnxLatent

        return OnnxLatent(bundle.file("model.onnx"), bundle.temperature)
    return with_probabilities(bundle.keras(functools.partial(toolkits.of(bundle.family).load_keras, bundle.family)),
                              bundle.temperature)


def _keras_of(model) -> Any:
    """The Keras module `model` belongs to: tf_keras (``.h5`` files) or Keras 3."""
    return importlib.import_module("tf_keras" if type(model).__module__.startswith("tf_keras") else "keras")


def with_probabilities(model, temperature: float | None = None):
    """The shipped model (it ends in logits) with a softmax layer ``probabilities`` on top, after
    dividing by the card's calibration temperature if it has one."""
    keras = _keras_of(model)
    logits = model.output if temperature is None else \
        keras.layers.Rescaling(1.0 / temperature, name="temperature")(model.output)
    return keras.Model(model.inputs, keras.layers.Softmax(name="probabilities")(logits), name=model.name)


def latent_model(model):
    """A model with the same inputs and two outputs: [latent layer output, probabilities]; an
    `OnnxLatent`, or a model that already has two outputs, as it is."""
    from IMDb.analysis.onnx_latent import OnnxLatent

    if isinstance(model, OnnxLatent) or len(model.outputs) == 2:
        return model
    return _keras_of(model).Model(model.inputs, [model.get_layer(LATENT_LAYER).output, model.output])


def latent_and_probabilities(model, tokenizer, texts: Sequence[str], batch_size: int, progress: bool = False
                             ) -> tuple[np.ndarray, np.ndarray]:
    """(latent float32 [n, d], probabilities float64 [n, 2]) of review texts, batch by batch in the
    tokenizer's batching. `model`: from `load_keras` (a latent sub-model is built once here)."""
    sub = latent_model(model)
    latent = None
    probs = np.zeros((len(texts), 2), dtype=np.float64)
    from tqdm.auto import tqdm

    with tqdm(total=-(-len(texts) // batch_size), desc="inference", unit="batch", disable=not progress) as bar:
        for rows, inputs in tokenizer.batches(texts, batch_size):
            arrays = [inputs[name] for name in tokenizer.input_names]
            lat, prob = sub.predict_on_batch(arrays[0] if len(arrays) == 1 else arrays)
            if latent is None:
                latent = np.zeros((len(texts), lat.shape[-1]), dtype=np.float32)
            latent[rows], probs[rows] = lat, prob
            bar.update(1)
    if latent is None:  # no reviews: the latent width from the graph (0 for ONNX)
        latent = np.zeros((0, int(sub.outputs[0].shape[-1]) if hasattr(sub, "outputs") else 0), np.float32)
    return latent, probs
