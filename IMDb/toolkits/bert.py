"""BERT's toolkit: its architecture `IMDb.architectures.bert`, fine-tuned by `IMDb.training.bert_finetune`
(resumable), a Keras 3 ``model.keras``, attributions through `IMDb.analysis.attribution_bert`."""
from __future__ import annotations

from pathlib import Path
from types import ModuleType
from typing import Any

from IMDb.architectures import bert
from IMDb.config.run import Config
from IMDb.families.base import Family
from IMDb.text.wordpiece import WordPieceTokenizer
from IMDb.toolkits.base import PredictTokens, Toolkit
from IMDb.training import bert_finetune


class BertToolkit(Toolkit):
    """Makes and explains BERT models (see the module docstring)."""

    def build(self, family: Family, cfg: Config, keras: ModuleType) -> Any:
        return bert.build(cfg, keras)

    def train(self, family: Family, cfg: Config, restart: bool = False) -> dict:
        return bert_finetune.train(cfg, family, self, restart=restart)

    def load_keras(self, family: Family, path: Path) -> Any:
        import keras_hub  # noqa: F401  (registers BertBackbone and its layers for deserialization)

        return super().load_keras(family, path)

    def explainer(self, family: Family, model: Any, tokenizer: WordPieceTokenizer,
                  predict_tokens: PredictTokens | None = None, baseline: str = "pad") -> Any:
        """BERT's glue scores its variants with the Keras model: `predict_tokens` is not used."""
        from IMDb.analysis.attribution_bert import PieceReviews

        return PieceReviews.of(model, tokenizer, baseline)
