"""The word models' toolkit: their architectures by model name (`IMDb.architectures.dense`, `cnn`),
`IMDb.training.word_models` trains them, an ``.h5`` that TF 2.12 reads, attributions cut at the ``embedding``
layer (`IMDb.analysis.attribution_words`)."""
from __future__ import annotations

import functools
from pathlib import Path
from types import ModuleType
from typing import Any

from IMDb.architectures import cnn, dense
from IMDb.config.run import Config
from IMDb.families.base import Family
from IMDb.text.word_tokenizer import WordTokenizer
from IMDb.toolkits.base import PredictTokens, Toolkit
from IMDb.training import export, word_models

ARCHITECTURES = {"dense": dense.build, "cnn": cnn.build}  # model name -> its `build`


@functools.lru_cache(maxsize=2)
def _load_h5(path: str, mtime_ns: int):
    """The tf_keras model of an ``.h5`` file, read once per process and file version: an analysis
    needs it for the table and again for the attributions."""
    import tf_keras

    return tf_keras.models.load_model(path, compile=False)


class WordToolkit(Toolkit):
    """Makes and explains the word models (see the module docstring)."""

    def build(self, family: Family, cfg: Config, keras: ModuleType) -> Any:
        return ARCHITECTURES[family.name](cfg, keras)

    def train(self, family: Family, cfg: Config, restart: bool = False) -> dict:
        """`IMDb.training.word_models.train` (a run of minutes: it keeps no checkpoint, so `restart` is moot)."""
        return word_models.train(cfg, family, self)

    def save_keras(self, family: Family, model: Any, cfg: Config, path: Path) -> None:
        """An ``.h5`` that the platform's TensorFlow 2.12 reads (`IMDb.training.export.export_h5`), the model
        rebuilt in tf_keras."""
        import tf_keras

        export.export_h5(model, self.build(family, cfg, tf_keras), path)

    def load_keras(self, family: Family, path: Path) -> Any:
        return _load_h5(str(path), Path(path).stat().st_mtime_ns)

    def explainer(self, family: Family, model: Any, tokenizer: WordTokenizer,
                  predict_tokens: PredictTokens | None = None, baseline: str = "pad") -> Any:
        from IMDb.analysis.attribution_words import WordReviews

        return WordReviews.of(model, tokenizer, predict_tokens, baseline)
