"""Why did BERT say that? Integrated gradients on its token embeddings, shown per word.

The same questions as `IMDb.analysis.attribution` asks of the word models, for a model whose tokens
are WordPiece pieces:

- IG on the token-embedding output: the model is re-run from its token vectors (position and
  segment embeddings, the encoder layers, the pooling and the head are applied to them), the
  vectors are interpolated from a baseline in which every review piece is ``[PAD]`` (``[CLS]``,
  ``[SEP]`` and the attention mask unchanged) to the review's, and the path's gradients (trapezoid
  rule) times (input - baseline), summed over the embedding dimension, give one number per piece.
  They add up to p(review) - p(baseline) (completeness, reported). Since p(negative) = 1 -
  p(positive), the negative class's attributions are the positive's negated.
- Pieces are merged back into the words a reader sees: a run of pieces with no space between them
  in the review ("un", "##watch", "##able", or "didn", "'", "t") is one word, whose attribution is
  the sum of its pieces'. Where head+tail truncation cut the middle out, a ``[…]`` word marks it.
- Faithfulness: deleting the top-k attributed words must lower p(predicted class) more than
  deleting k random words (the word models' test, with deletion as BERT's "removal").

Occlusion of n-grams is not run for BERT (one forward per variant costs ~50x a word model's).
"""
from __future__ import annotations

import time
from dataclasses import dataclass
from typing import Any

import numpy as np

from IMDb.analysis.attribution import (NEGATIVE, POSITIVE, IGResult, explanation, samples_frame,
                                       score_faithfulness)

GAP = "[…]"


@dataclass
class BertSplit:
    """The fine-tuned BERT model as a function of its token vectors (and mask, segment ids)."""

    model: Any

    def __post_init__(self):
        found = [layer for layer in self.model.layers if type(layer).__name__ == "BertBackbone"]
        if len(found) != 1:
            raise ValueError(f"model {self.model.name!r} holds {len(found)} BertBackbone layers, "
                             f"expected 1")
        self.backbone = found[0]
        self.pool = self.model.get_layer("latent")
        # the head after pooling: logits, then (added by `table.with_probabilities`) the calibration
        # temperature if the card has one, and the softmax
        names = {layer.name for layer in self.model.layers}
        self.head = [self.model.get_layer(n) for n in ("logits", "temperature", "probabilities") if n in names]

    @property
    def matrix(self) -> np.ndarray:
        return np.asarray(self.backbone.token_embedding.embeddings.numpy(), dtype=np.float32)

    def __call__(self, vectors, mask, types):
        import tensorflow as tf

        bb = self.backbone
        x = bb.embeddings_add((vectors, bb.position_embedding(vectors), bb.segment_embedding(types)))
        x = bb.embeddings_layer_norm(x)
        for layer in bb.transformer_layers:
            x = layer(x, padding_mask=mask)
        x = self.pool(x, mask=tf.cast(mask, tf.bool))
        for layer in self.head:
            x = layer(x)
        return x


def integrated_gradients(split: BertSplit, ids: np.ndarray, pad_id: int, steps: int = 50,
                         batch_size: int = 8) -> IGResult:
    """IG of one review's pieces ([CLS] ... [SEP], no padding) for both classes. The path's
    steps+1 points go through the model `batch_size` at a time: the tape holds every layer's
    attention for each point, about 0.15 GB a point at 256 pieces."""
    import tensorflow as tf

    ids = np.asarray(ids, dtype=np.int64)
    matrix = split.matrix
    base_ids = ids.copy()
    base_ids[1:-1] = pad_id
    x, b = matrix[ids], matrix[base_ids]
    diff = x - b
    alphas = np.linspace(0.0, 1.0, steps + 1, dtype=np.float32)
    weights = np.full(steps + 1, 1.0 / steps, dtype=np.float32)
    weights[[0, -1]] /= 2
    avg = np.zeros(x.shape, dtype=np.float64)
    p = np.zeros((steps + 1, 2), dtype=np.float64)
    for i in range(0, steps + 1, batch_size):
        a = alphas[i:i + batch_size]
        path = tf.constant(b[None] + a[:, None, None] * diff[None])
        mask = tf.ones((len(a), len(ids)), tf.int32)
        with tf.GradientTape() as tape:
            tape.watch(path)
            probs = split(path, mask, tf.zeros_like(mask))
            value = tf.reduce_sum(probs[:, POSITIVE])
        grads = tape.gradient(value, path).numpy()
        avg += np.tensordot(weights[i:i + batch_size], grads, axes=1)
        p[i:i + len(a)] = probs.numpy()
    positive = (avg * diff).sum(axis=-1)
    targets = [NEGATIVE, POSITIVE]
    attributions = np.stack([-positive, positive])
    return IGResult(targets, attributions, p[-1, targets], p[0, targets], steps)


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


def per_word(values: np.ndarray, word_of: list[int], n_words: int) -> np.ndarray:
    out = np.zeros(n_words, dtype=np.float64)
    for value, word in zip(values, word_of):
        if word >= 0:
            out[word] += value
    return out


def faithfulness(predict_rows, ids: np.ndarray, word_of: list[int], words: list[str],
                 attributions: np.ndarray, k=(5, 10), n_random: int = 20, seed: int = 0) -> dict:
    """Deleting the top-k attributed words (for the predicted class) vs k random words."""
    word_of = np.asarray(word_of)
    real = np.array([i for i, w in enumerate(words) if w != GAP])
    rng = np.random.default_rng(seed)
    order = real[np.argsort(-attributions[real], kind="stable")]

    def without(chosen) -> np.ndarray:
        return ids[~np.isin(word_of, chosen)]

    variants, plan = [ids], []
    for kk in sorted(set(int(v) for v in k)):
        used = min(kk, len(real))
        variants.append(without(order[:used]))
        variants += [without(rng.choice(real, size=used, replace=False)) for _ in range(n_random)]
        plan.append((kk, used))
    return score_faithfulness(predict_rows(variants), plan, len(real), n_random, seed)


def rows_predictor(model, tokenizer, batch_size: int = 32):
    """Probabilities of unpadded piece-id rows, through the Keras model, padded per batch."""
    from IMDb.wordpiece import INPUT_NAMES

    def predict(rows: list[np.ndarray]) -> np.ndarray:
        out = []
        for i in range(0, len(rows), batch_size):
            arrays = tokenizer.pad_tight(rows[i:i + batch_size])
            out.append(np.asarray(model([arrays[n] for n in INPUT_NAMES], training=False)))
        return np.concatenate(out).astype(np.float64)
    return predict


def explain(model, tokenizer, texts_or_frame, *, n_samples: int | None = None, steps: int = 50,
            k=(5, 10), n_random: int = 20, seed: int = 0, progress: bool = False) -> list[dict]:
    """Explanations of reviews in the report's format (see `IMDb.analysis.attribution.explain`):
    words, per-word ig_positive / ig_negative, completeness, faithfulness; ``ngrams`` is empty."""
    frame = samples_frame(texts_or_frame, n_samples)
    split = BertSplit(model)
    predict_rows = rows_predictor(model, tokenizer)
    rows = frame.to_dict("records")
    if progress:
        from tqdm.auto import tqdm
        rows = tqdm(rows, desc="attribution", unit="review")
    out = []
    for row in rows:
        text = row["text"]
        ids, word_of, words, unknown = words_of(tokenizer, text)
        t0 = time.perf_counter()
        ig = integrated_gradients(split, ids, tokenizer.pad_id, steps)
        t1 = time.perf_counter()
        by_word = {t: per_word(ig.attributions[i], word_of, len(words))
                   for i, t in enumerate(ig.targets)}
        p = ig.f_input
        predicted = int(np.argmax(p))
        faith = faithfulness(predict_rows, ids, word_of, words, by_word[[NEGATIVE, POSITIVE][predicted]],
                             k, n_random, seed)
        t2 = time.perf_counter()
        out.append(explanation(row, predicted, p, ig) | {
            "words": words,
            "oov": unknown,
            "truncated": GAP in words or len(ids) - 2 < len(tokenizer.encodings([text])[0].ids),
            "ig_positive": [float(v) for v in by_word[POSITIVE]],
            "ig_negative": [float(v) for v in by_word[NEGATIVE]],
            "ngrams": [],
            "faithfulness": faith,
            "seconds": {"ig": t1 - t0, "faithfulness": t2 - t1},
        })
    return out
