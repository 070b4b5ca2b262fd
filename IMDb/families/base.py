"""What every model family provides, behind one small interface: `Family`.

A family is a kind of model (the word models, BERT): its tokenizer, how a model of it is built,
trained and exported (`save_onnx`, `save_keras`), which Keras file its bundle holds and how that
file is read, how many reviews
a batch holds, and how its attributions are computed. One instance of a family is one model (its
preset: the shipped settings); `IMDb.families` maps each model name to its instance. Everything
else (the bundle, the binder, `imdb-leap`, the analysis) reads the instance and never asks which
family a model is.
"""
from __future__ import annotations

import importlib
from collections.abc import Callable
from pathlib import Path
from types import ModuleType
from typing import Any

import numpy as np

from IMDb.config import Config
from IMDb.tokenizer import Tokenizer

PredictTokens = Callable[[np.ndarray], np.ndarray]


def implementation(module: str) -> ModuleType:
    """A module that builds, trains or explains a family's models, imported by name when first
    used: the Tensorleap upload (leap.yaml's ``include``, checked against what the binder can
    import) carries only what serving a model needs, and the binder never trains or explains."""
    return importlib.import_module(module)


class Family:
    """One model of a family: its preset and the family's ways of making and reading it.

    Subclasses set the class attributes and implement `build`, `train` and `explainer`; a model
    made from another without training (``source``) is predicted and analysed like it, but its
    attributions come from the source, and `imdb-leap train` refuses it.
    """

    name: str = ""  # the family's name, e.g. "words"
    tokenizer: type[Tokenizer]  # reads the bundle's tokenizer.json
    keras_file: str | None = None  # the bundle's Keras file the analysis reads; None: ONNX only
    onnx_opset: int = 17
    batch_size: int = 512  # reviews per inference batch

    def __init__(self, preset: dict | None = None, *, source: str | None = None, made_by: str | None = None):
        self.preset = dict(preset or {})  # Config overrides of this model (its shipped settings)
        self.source = source  # the trained model this one is made from, without training
        self.made_by = made_by  # what makes it from `source` (a script), for messages
        if source is not None:
            self.keras_file = None  # made without training, it ships only its ONNX file

    @property
    def trainable(self) -> bool:
        return self.source is None

    def explained_by(self, name: str) -> str:
        """The model whose Keras graph explains `name`: itself, or its source."""
        return self.source or name

    def check(self, cfg: Config) -> None:
        """Raise a SettingError where `cfg`'s settings, each in its own range (`IMDb.config`), do
        not fit together for this family. Here: nothing to check."""

    def build(self, cfg: Config, keras: ModuleType) -> Any:
        """The untrained Keras model of `cfg` (float32 inputs named as the tokenizer's, a ``latent``
        layer before the head, ``logits`` out), in the Keras module given."""
        raise NotImplementedError

    def train(self, cfg: Config, restart: bool = False) -> dict:
        """Train `cfg.model`, evaluate it, write its bundle; return the card. `restart` discards a
        resumable checkpoint, where the family keeps one."""
        raise NotImplementedError

    def save_onnx(self, model: Any, cfg: Config, path: Path) -> None:
        """Write `model` as the bundle's ``model.onnx``: the tokenizer's inputs (float32, length
        `cfg.seq_len`, dynamic batch), ``logits`` out, at the family's opset."""
        lengths = {name: cfg.seq_len for name in self.tokenizer.input_names}
        implementation("IMDb.export").export_onnx(model, path, lengths, self.onnx_opset)

    def save_keras(self, model: Any, cfg: Config, path: Path) -> None:
        """Write `model` as the bundle's `keras_file` (Keras 3's format by default)."""
        model.save(path)

    def load_keras(self, path: Path) -> Any:
        """The Keras model of the bundle's `keras_file` (Keras 3 by default)."""
        import keras

        return keras.saving.load_model(path, compile=False)

    def explainer(self, model: Any, tokenizer: Tokenizer, predict_tokens: PredictTokens | None = None,
                  baseline: str = "pad") -> Any:
        """The attribution glue of `model` (`IMDb.analysis.attribution.Reviews`): its embedding
        split for integrated gradients, its words, and the review without some of them."""
        raise NotImplementedError
