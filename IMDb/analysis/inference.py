"""The analysis's view of a model: ONNX Runtime for its outputs, Keras only for its gradients.

- `load_latent_model` reads the bundle's ``model.onnx`` as the analysis's graph (`IMDb.bundle.Bundle.session`
  with ``latent``: the served file's ``logits`` and the latent layer's output), the same file
  `imdb-leap predict` and the binder run, for every model (one made without training, e.g.
  bert-int8, included). `latent_and_probabilities` runs it on the tokenizer's batches
  (`IMDb.text.tokenizer.Tokenizer.batches`): one pass gives both, the probabilities from
  `IMDb.measures.scores.probabilities` with the card's calibration temperature.
- `load_keras` reads the bundle's Keras file (`IMDb.bundle.Bundle.keras`: through its family's toolkit,
  checked against the tokenizer), for integrated gradients: topped with one layer ``probabilities``
  that applies the same `IMDb.measures.scores.probabilities` to its logits, so the analysis
  attributes in the probabilities `imdb-leap predict` shows.
"""
from __future__ import annotations

import functools
from collections.abc import Sequence
from dataclasses import dataclass
from typing import Any

import numpy as np

from IMDb import toolkits
from IMDb.architectures import LATENT_LAYER, OUTPUT_NAME, keras_of
from IMDb.bundle import Bundle
from IMDb.measures.scores import probabilities


@dataclass
class LatentModel:
    """A bundle's analysis graph in ONNX Runtime (outputs ``logits`` and ``latent``) and the card's
    calibration temperature."""

    session: Any  # onnxruntime.InferenceSession
    temperature: float | None = None

    def run(self, inputs: dict[str, np.ndarray]) -> tuple[np.ndarray, np.ndarray]:
        """(latent float32 [n, d], probabilities float64 [n, 2]) of float32 inputs by name, each
        zero-padded at the end to the graph's fixed length where it is shorter (a tokenizer that pads
        per batch, as BERT's does; id 0 and mask 0 are every tokenizer's padding)."""
        feed = {}
        for spec in self.session.get_inputs():
            x = np.asarray(inputs[spec.name], dtype=np.float32)
            length = spec.shape[-1]
            if isinstance(length, int) and x.shape[1] < length:
                x = np.pad(x, ((0, 0), (0, length - x.shape[1])))
            feed[spec.name] = x
        logits, latent = self.session.run([OUTPUT_NAME, LATENT_LAYER], feed)
        return np.asarray(latent, dtype=np.float32), probabilities(logits, self.temperature)

    @property
    def width(self) -> int:
        """The latent layer's width, where the graph declares it (0 otherwise)."""
        shape = self.session.get_outputs()[1].shape
        return shape[-1] if shape and isinstance(shape[-1], int) else 0


def load_latent_model(bundle: Bundle) -> LatentModel:
    """The bundle's analysis graph (see the module docstring)."""
    return LatentModel(bundle.session(latent=True), bundle.temperature)


def latent_and_probabilities(model: LatentModel, tokenizer, texts: Sequence[str], batch_size: int,
                             progress: bool = False) -> tuple[np.ndarray, np.ndarray]:
    """(latent float32 [n, d], probabilities float64 [n, 2]) of review texts, batch by batch in the
    tokenizer's batching."""
    latent = None
    probs = np.zeros((len(texts), 2), dtype=np.float64)
    from tqdm.auto import tqdm

    with tqdm(total=-(-len(texts) // batch_size), desc="inference", unit="batch", disable=not progress) as bar:
        for rows, inputs in tokenizer.batches(texts, batch_size):
            lat, prob = model.run(inputs)
            if latent is None:
                latent = np.zeros((len(texts), lat.shape[-1]), dtype=np.float32)
            latent[rows], probs[rows] = lat, prob
            bar.update(1)
    if latent is None:  # no reviews: the latent width from the graph
        latent = np.zeros((0, model.width), np.float32)
    return latent, probs


# --------------------------------------------------------------------------- gradients


def load_keras(bundle: Bundle) -> Any:
    """The bundle's Keras model with ``probabilities`` out (see the module docstring)."""
    return with_probabilities(bundle.keras(functools.partial(toolkits.of(bundle.family).load_keras, bundle.family)),
                              bundle.temperature)


def with_probabilities(model, temperature: float | None = None):
    """The shipped model (it ends in logits) topped with a layer ``probabilities``:
    `IMDb.measures.scores.probabilities` of the logits with the card's temperature."""
    keras = keras_of(model)
    head = keras.layers.Lambda(functools.partial(probabilities, temperature=temperature), name="probabilities")
    return keras.Model(model.inputs, head(model.output), name=model.name)
