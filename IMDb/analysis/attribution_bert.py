"""BERT for attribution: its embedding split, and how its WordPiece pieces become the words a reader sees.

- `BertSplit`: the fine-tuned model as a function of its token vectors (position and segment
  embeddings, the encoder layers, the masked pooling and the head are applied to them), for
  `IMDb.analysis.integrated_gradients`. Its baseline is every review piece ``[PAD]``, with
  ``[CLS]``, ``[SEP]`` and the attention mask unchanged. Its two outputs are complementary
  (p(negative) = 1 - p(positive)): one gradient serves both classes, the negative class's
  attributions being the positive's negated.
- `PieceReviews`: the per-model glue `IMDb.analysis.attribution.explain` uses. A run of pieces with no
  space between them in the review ("un", "##watch", "##able", or "didn", "'", "t") is one word,
  whose attribution is the sum of its pieces'; where head+tail truncation cut the middle out, a
  ``[…]`` word (`GAP`, no piece belongs to it) marks it. Removing words deletes their pieces (BERT's
  "removal", for faithfulness), and the variants go through the Keras model, padded per batch.
  N-gram occlusion is not run (one forward per variant costs ~50x a word model's).
"""
from __future__ import annotations

from dataclasses import dataclass
from typing import Any

import numpy as np

from IMDb.analysis.explanation import Review
from IMDb.analysis.integrated_gradients import IGResult
from IMDb.analysis.occlusion import Phrase

GAP = "[…]"


def backbone_of(model) -> Any | None:
    """The model's BertBackbone layer, or None: the mark of a BERT model."""
    found = [layer for layer in model.layers if type(layer).__name__ == "BertBackbone"]
    if len(found) > 1:
        raise ValueError(f"model {model.name!r} holds {len(found)} BertBackbone layers, expected 1")
    return found[0] if found else None


@dataclass
class BertSplit:
    """The fine-tuned BERT model as a function of its token vectors (and mask, segment ids)."""

    model: Any
    pad_id: int
    batch_size: int = 8  # the tape holds every layer's attention per point: ~0.15 GB at 256 pieces
    complementary: bool = True

    def __post_init__(self):
        self.backbone = backbone_of(self.model)
        if self.backbone is None:
            raise ValueError(f"model {self.model.name!r} holds no BertBackbone layer")
        self.pool = self.model.get_layer("latent")
        # the head after pooling: logits, then the probabilities (`inference.with_probabilities`: the
        # card's temperature and the softmax, in `IMDb.measures.scores.probabilities`) where added
        names = {layer.name for layer in self.model.layers}
        self.head = [self.model.get_layer(n) for n in ("logits", "probabilities") if n in names]

    @property
    def matrix(self) -> np.ndarray:
        return np.asarray(self.backbone.token_embedding.embeddings.numpy(), dtype=np.float32)

    def embed(self, ids: np.ndarray) -> np.ndarray:
        return self.matrix[np.asarray(ids).astype(np.int64)]

    def baseline_ids(self, ids: np.ndarray) -> np.ndarray:
        """[CLS] [PAD] ... [PAD] [SEP]: every piece of the review padded out."""
        base = np.array(ids, dtype=np.int64, copy=True)
        base[1:-1] = self.pad_id
        return base

    def __call__(self, vectors, ids, mask=None):
        """Probabilities of token vectors [n, seq, dim]; `mask` (default: every piece attended to,
        as in an unpadded review) is the attention mask [n, seq]; the segment ids are all 0."""
        import tensorflow as tf

        if mask is None:
            mask = tf.ones(tuple(vectors.shape[:2]), tf.int32)
        mask = tf.cast(mask, tf.int32)
        types = tf.zeros_like(mask)
        bb = self.backbone
        x = bb.embeddings_add((vectors, bb.position_embedding(vectors), bb.segment_embedding(types)))
        x = bb.embeddings_layer_norm(x)
        for layer in bb.transformer_layers:
            x = layer(x, padding_mask=mask)
        x = self.pool(x, mask=tf.cast(mask, tf.bool))
        for layer in self.head:
            x = layer(x)
        return x


def words_of(tokenizer, text: str) -> tuple[np.ndarray, list[int], list[str], list[bool]]:
    """(kept piece ids with [CLS]/[SEP], word index of each kept piece (-1 for the specials),
    the words, whether each word holds an [UNK] piece). A ``[…]`` word marks a cut."""
    encoding = tokenizer.encodings([text])[0]
    prepared = tokenizer.prepare(text)
    keep = tokenizer.keep(len(encoding.ids))
    pieces = np.asarray(encoding.ids, dtype=np.int64)[keep]
    offsets = [encoding.offsets[i] for i in keep]
    word_of, words, unknown = [-1], [], []
    previous_end, previous_index = None, None
    for index, piece, (start, end) in zip(keep, pieces, offsets):
        if previous_index is not None and index != previous_index + 1:
            words.append(GAP)
            unknown.append(False)
            previous_end = None
        if previous_end is None or start != previous_end:
            words.append(prepared[start:end])
            unknown.append(False)
        else:
            words[-1] += prepared[start:end]
        unknown[-1] = unknown[-1] or piece == tokenizer.unk_id
        word_of.append(len(words) - 1)
        previous_end, previous_index = end, index
    ids = np.concatenate([[tokenizer.cls_id], pieces, [tokenizer.sep_id]])
    return ids, word_of + [-1], words, unknown


def rows_predictor(model, tokenizer, batch_size: int = 32):
    """Probabilities of unpadded piece-id rows, through the Keras model, padded per batch."""
    from IMDb.text.wordpiece import INPUT_NAMES

    def predict(rows: list[np.ndarray]) -> np.ndarray:
        out = []
        for i in range(0, len(rows), batch_size):
            arrays = tokenizer.pad_tight(rows[i:i + batch_size])
            out.append(np.asarray(model([arrays[n] for n in INPUT_NAMES], training=False)))
        return np.concatenate(out).astype(np.float64)
    return predict


@dataclass
class PieceReviews:
    """BERT: pieces merged into words, removal = deleting the words' pieces; no n-gram occlusion."""

    split: BertSplit
    tokenizer: Any  # IMDb.text.wordpiece.WordPieceTokenizer
    predict: Any  # rows of piece ids -> probabilities [n, 2] (`rows_predictor`)

    @classmethod
    def of(cls, model, tokenizer, baseline: str = "pad") -> "PieceReviews":
        if baseline != "pad":
            raise ValueError(f"BERT's baseline is [PAD] pieces ('pad'), not {baseline!r}")
        return cls(BertSplit(model, tokenizer.pad_id), tokenizer, rows_predictor(model, tokenizer))

    def read(self, text: str) -> Review:
        ids, word_of, words, unknown = words_of(self.tokenizer, text)
        truncated = GAP in words or len(ids) - 2 < len(self.tokenizer.encodings([text])[0].ids)
        return Review(ids, np.asarray(word_of), words, [bool(u) for u in unknown], truncated)

    def probabilities(self, review: Review, ig: IGResult) -> np.ndarray:
        """p of the review: IG's f(input) (by class), which saves a forward pass."""
        return np.array([ig.f_input[ig.targets.index(c)] for c in range(2)], dtype=np.float64)

    def without(self, review: Review, words: np.ndarray) -> np.ndarray:
        """The piece ids without those words' pieces."""
        return review.ids[~np.isin(review.word_of, words)]

    def phrases(self, review: Review, *args) -> list[Phrase]:
        return []
