"""The word models (dense, CNN): one word per input position, ``tokens`` in, an ``.h5`` for TF 2.12.

Their tokenizer is `IMDb.text.WordTokenizer`; their architectures are `IMDb.models.dense` and
`IMDb.models.cnn`; `IMDb.train` trains them; attributions cut them at their ``embedding`` layer
(`IMDb.analysis.attribution_words`). The presets below are the shipped models' settings.
"""
from __future__ import annotations

import functools
from pathlib import Path
from types import ModuleType
from typing import Any

from IMDb.config import Config
from IMDb.families.base import Family, PredictTokens, implementation
from IMDb.text import WordTokenizer


@functools.lru_cache(maxsize=2)
def _load_h5(path: str, mtime_ns: int):
    """The tf_keras model of an ``.h5`` file, read once per process and file version: an analysis
    needs it for the table and again for the attributions."""
    import tf_keras

    return tf_keras.models.load_model(path, compile=False)


class WordFamily(Family):
    """A word model: its architecture module (dense or CNN) and its preset."""

    name = "words"
    tokenizer = WordTokenizer
    keras_file = "model.h5"  # written with tf_keras, which the platform's TF 2.12 reads

    def __init__(self, architecture: str, preset: dict):
        super().__init__(preset)
        self.architecture = architecture  # the module holding `build`, e.g. IMDb.models.dense

    def build(self, cfg: Config, keras: ModuleType) -> Any:
        return implementation(self.architecture).build(cfg, keras)

    def train(self, cfg: Config, restart: bool = False) -> dict:
        """`IMDb.train.train` (a run of minutes: it keeps no checkpoint, so `restart` is moot)."""
        return implementation("IMDb.train").train(cfg)

    def save_keras(self, model: Any, cfg: Config, path: Path) -> None:
        """An ``.h5`` that the platform's TensorFlow 2.12 reads (`IMDb.export.export_h5`)."""
        implementation("IMDb.export").export_h5(model, cfg, path)

    def load_keras(self, path: Path) -> Any:
        return _load_h5(str(path), Path(path).stat().st_mtime_ns)

    def explainer(self, model: Any, tokenizer: WordTokenizer, predict_tokens: PredictTokens | None = None,
                  baseline: str = "pad") -> Any:
        return implementation("IMDb.analysis.attribution_words").WordReviews.of(model, tokenizer, predict_tokens,
                                                                                 baseline)


DENSE = WordFamily("IMDb.models.dense", dict(seq_len=800, embed_dim=64, hidden=64, epochs=8, batch_size=64))
CNN = WordFamily("IMDb.models.cnn", dict(seq_len=600, embed_dim=64, filters=64, kernel_size=5, hidden=64,
                                         dropout=0.5, pretrained_embeddings=True, train_embeddings=False,
                                         fine_tune_epochs=3, epochs=20, patience=3, batch_size=64))
