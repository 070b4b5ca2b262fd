"""BERT: a pretrained encoder fine-tuned on IMDb, three inputs, WordPiece pieces per position.

Its tokenizer is `IMDb.text.wordpiece.WordPieceTokenizer`; how it is built, fine-tuned (resumable),
exported and explained is `IMDb.toolkits.bert`. The bundle keeps a Keras 3 ``model.keras`` and an
ONNX file at opset 13 (the opset at which the platform's importer was seen to read the graph).
Inference runs 32 reviews a batch (attention holds batch x heads x seq_len² floats).

``bert-int8`` is made from the trained ``bert`` by ``imdb-leap quantize`` (ONNX Runtime's int8,
`IMDb.quantize`): it ships only its ONNX file, and its attributions are those of ``bert``.
"""
from __future__ import annotations

from dataclasses import dataclass

from IMDb.config import environment
from IMDb.config.fields import setting
from IMDb.config.run import Config, ModelConfig
from IMDb.errors import SettingError
from IMDb.families.base import Family
from IMDb.text.wordpiece import MIN_SEQ_LEN, WordPieceTokenizer


@dataclass
class BertConfig(ModelConfig):
    """BERT: its pretrained encoder, which pieces of a long review it keeps, and how it is
    fine-tuned (AdamW's weight decay, a warmup, resumable checkpoints, the CAD pairs kept aside)."""

    # which pieces of a long review are kept, the first and last ("headtail") or the first
    truncation: str = setting("headtail", choices=("headtail", "head"), option="--truncation",
                              help="BERT: keep a long review's first and last pieces (default) or only its first")
    head_tokens: int | None = setting(None, low=1)  # pieces kept from the start with headtail (default: half)
    vocab_size: int = setting(20_000, low=3, option="--vocab-size")  # the checkpoint's, once its vocab is read
    dropout: float = setting(0.0, low=0, high=1, open_high=True)
    bert_checkpoint: str = setting(default_factory=environment.bert_checkpoint, option="--bert",  # the pretrained encoder
                                   help="BERT: a Hugging Face BERT folder or hub id (default: $IMDB_BERT, else "
                                        "hf://sentence-transformers/all-MiniLM-L6-v2)")
    bert_tiny: bool = False  # a small random BERT instead of the checkpoint's weights (tests)
    weight_decay: float = setting(0.01, low=0)
    warmup_fraction: float = setting(0.06, low=0, high=1)  # linear warmup, then linear decay to 0
    # the compute dtype of training steps; the shipped model, its validation and test figures are float32
    precision: str = setting("float32", choices=("float32", "mixed_bfloat16"), option="--precision",
                             help="BERT: train in float32 (default) or mixed_bfloat16, faster on CPUs with "
                                  "bfloat16 instructions; the shipped model and its figures are float32")
    max_steps: int | None = setting(None, low=1, option="--max-steps",  # not whole epochs
                                    help="BERT: train this many steps (the learning rate decays to 0 over them)")
    checkpoint_every: int = setting(50, low=1, option="--checkpoint-every",
                                    help="BERT: steps between resumable checkpoints (default: 50)")
    # with counterfactual: this share of the CAD training pairs is kept out of training, and each
    # epoch's end is scored on its revisions and the validation reviews (the mean of the two
    # accuracies) to choose the weights shipped
    # a bundle whose fine-tuned weights the run starts from instead of the pretrained encoder's
    # (continued fine-tuning: a new recipe on top of a shipped model, at a fraction of the cost)
    init_from: str | None = setting(None, option="--init-from",
                                    help="BERT: start from this bundle's fine-tuned weights (a model folder, "
                                         "e.g. models/bert) instead of the pretrained encoder")
    cad_holdout: float = setting(0.2, low=0, high=1, open_high=True, option="--cad-holdout",
                                 help="with --counterfactual: the share of CAD training pairs kept aside to "
                                      "choose the epoch on, with the validation reviews (default: 0.2)")


class BertFamily(Family):
    """A BERT model (see the module docstring): the fine-tuned one, or one made from it."""

    kind = "bert"
    tokenizer = WordPieceTokenizer
    config_class = BertConfig
    keras_file = "model.keras"
    onnx_opset = 13
    batch_size = 32

    def check(self, cfg: Config) -> None:
        """[CLS] and [SEP] take two positions: at least two pieces of review must fit (the
        tokenizer's own rule, `IMDb.text.wordpiece.MIN_SEQ_LEN`), and `head_tokens` among them."""
        own = cfg.model_config
        if own.seq_len < MIN_SEQ_LEN:
            raise SettingError(f"{cfg.model}: seq_len must be a whole number >= {MIN_SEQ_LEN} ([CLS], "
                               f"[SEP] and two pieces of review), got {own.seq_len}")
        if own.head_tokens is not None and own.head_tokens > own.seq_len - 2:
            raise SettingError(f"{cfg.model}: head_tokens must be <= seq_len - 2 = {own.seq_len - 2}, "
                               f"got {own.head_tokens}")


BERT = BertFamily("bert", dict(seq_len=256, batch_size=32, epochs=2, learning_rate=5e-5, dropout=0.1))
BERT_INT8 = BertFamily("bert-int8", source="bert", made_by="imdb-leap quantize")
