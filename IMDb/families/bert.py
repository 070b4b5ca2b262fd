"""BERT: a pretrained encoder fine-tuned on IMDb, three inputs, WordPiece pieces per position.

Its tokenizer is `IMDb.text.wordpiece.WordPieceTokenizer`; how it is built, fine-tuned (resumable),
exported and explained is `IMDb.toolkits.bert`. The bundle keeps a Keras 3 ``model.keras`` and an
ONNX file at opset 13 (the opset at which the platform's importer was seen to read the graph).
Inference runs 32 reviews a batch (attention holds batch x heads x seq_len² floats).

``bert-int8`` is made from the trained ``bert`` by scripts/quantize_bert.py (ONNX Runtime's int8):
it ships only its ONNX file, and its attributions are those of ``bert``.
"""
from __future__ import annotations

from IMDb.config.run import Config
from IMDb.errors import SettingError
from IMDb.families.base import Family
from IMDb.text.wordpiece import MIN_SEQ_LEN, WordPieceTokenizer


class BertFamily(Family):
    """A BERT model (see the module docstring): the fine-tuned one, or one made from it."""

    kind = "bert"
    tokenizer = WordPieceTokenizer
    keras_file = "model.keras"
    onnx_opset = 13
    batch_size = 32

    def check(self, cfg: Config) -> None:
        """[CLS] and [SEP] take two positions: at least two pieces of review must fit (the
        tokenizer's own rule, `IMDb.text.wordpiece.MIN_SEQ_LEN`), and `head_tokens` among them."""
        if cfg.seq_len < MIN_SEQ_LEN:
            raise SettingError(f"{cfg.model}: seq_len must be a whole number >= {MIN_SEQ_LEN} ([CLS], "
                               f"[SEP] and two pieces of review), got {cfg.seq_len}")
        if cfg.head_tokens is not None and cfg.head_tokens > cfg.seq_len - 2:
            raise SettingError(f"{cfg.model}: head_tokens must be <= seq_len - 2 = {cfg.seq_len - 2}, "
                               f"got {cfg.head_tokens}")


BERT = BertFamily("bert", dict(seq_len=256, batch_size=32, epochs=2, learning_rate=5e-5, dropout=0.1))
BERT_INT8 = BertFamily("bert-int8", source="bert", made_by="scripts/quantize_bert.py")
