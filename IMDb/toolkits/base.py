"""What making and explaining a family's models takes, behind one interface: `Toolkit`.

A family (`IMDb.families`) says only what serving a model needs; its toolkit builds, trains and
exports its models, reads its Keras file and hands out its attribution glue. Each method receives
the family (the model) it works for. The toolkits are registered by family kind in
`IMDb.toolkits`; the trainers (`IMDb.training.word_models`, `IMDb.training.bert_finetune`) receive theirs, so nothing here or
below imports the registry back.
"""
from __future__ import annotations

from collections.abc import Callable
from pathlib import Path
from types import ModuleType
from typing import Any

import numpy as np

from IMDb.config.run import Config
from IMDb.families.base import Family
from IMDb.text.tokenizer import Tokenizer

PredictTokens = Callable[[np.ndarray], np.ndarray]


class Toolkit:
    """Builds, trains, exports and explains the models of one family kind; subclasses implement
    `build`, `train` and `explainer`."""

    def build(self, family: Family, cfg: Config, keras: ModuleType) -> Any:
        """The untrained Keras model of `cfg` (float32 inputs named as the tokenizer's, a ``latent``
        layer before the head, ``logits`` out), in the Keras module given."""
        raise NotImplementedError

    def train(self, family: Family, cfg: Config, restart: bool = False) -> dict:
        """Train `cfg.model`, evaluate it, write its bundle; return the card. `restart` discards a
        resumable checkpoint, where the toolkit keeps one."""
        raise NotImplementedError

    def save_onnx(self, family: Family, model: Any, cfg: Config, path: Path) -> None:
        """Write `model` as the bundle's ``model.onnx``: the tokenizer's inputs (float32, length
        `cfg.model_config.seq_len`, dynamic batch), ``logits`` out, at the family's opset."""
        from IMDb.training.export import export_onnx

        export_onnx(model, path, {name: cfg.model_config.seq_len for name in family.tokenizer.input_names}, family.onnx_opset)

    def save_keras(self, family: Family, model: Any, cfg: Config, path: Path) -> None:
        """Write `model` as the bundle's `keras_file` (Keras 3's format by default)."""
        model.save(path)

    def load_keras(self, family: Family, path: Path) -> Any:
        """The Keras model of the bundle's `keras_file` (Keras 3 by default)."""
        import keras

        return keras.saving.load_model(path, compile=False)

    def explainer(self, family: Family, model: Any, tokenizer: Tokenizer, predict_tokens: PredictTokens | None = None,
                  baseline: str = "pad") -> Any:
        """The attribution glue of `model` (`IMDb.analysis.attribution.Reviews`): its embedding
        split for integrated gradients, its words, and the review without some of them."""
        raise NotImplementedError
