"""Integrated gradients (IG), written once for every model that can be cut at its token embeddings.

A model is attributable when it can be split into an embedding lookup and a function of the looked-up
vectors: an `EmbeddingSplit`. `IMDb.analysis.attribution_words` cuts the word models (dense, CNN; a
tf_keras or Keras 3 functional model) at their ``embedding`` layer, `IMDb.analysis.attribution_bert`
re-runs BERT from its token vectors (position and segment embeddings, encoder, masked pooling, head).
The model's toolkit picks its split (`IMDb.toolkits.base.Toolkit.explainer`).

`integrated_gradients` then does the same for both: the review's vectors x and the baseline's b (the
split's baseline ids looked up in the same matrix) span a straight path of steps+1 points, which
go through the split `batch_size` points at a time under one gradient tape; the gradients are
averaged with trapezoid weights and multiplied by (x - b), and summed over the embedding dimension
this gives one number per position. Positions where the review and the baseline hold the same id
get exactly 0. The numbers of a target add up to f(x) - f(b) up to the integration error, which
`IGResult` reports (completeness).
"""
from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass
from typing import Any, Protocol, runtime_checkable

import numpy as np

from IMDb.config.run import LABELS

POSITIVE = LABELS.index("positive")
NEGATIVE = LABELS.index("negative")


@runtime_checkable
class EmbeddingSplit(Protocol):
    """A model as an embedding lookup followed by a function of the looked-up vectors.

    `batch_size`: path points per forward/backward pass (memory: BERT's tape holds every layer's
    attention per point). `complementary`: the outputs are two probabilities that sum to 1, so the
    gradient of one class is the other's negated and one backward pass serves both targets.
    """

    batch_size: int
    complementary: bool

    @property
    def matrix(self) -> np.ndarray:
        """The embedding matrix [vocab, dim] (float32), read at each call: never stale."""

    def embed(self, ids: np.ndarray) -> np.ndarray:
        """The vectors of token ids: ids [..., seq] -> [..., seq, dim]."""

    def baseline_ids(self, ids: np.ndarray) -> np.ndarray:
        """The ids of the baseline for one review's ids (same shape): the "empty" review."""

    def __call__(self, vectors: Any, ids: np.ndarray) -> Any:
        """Probabilities [n, classes] of vectors [n, seq, dim] (a TensorFlow tensor, so gradients
        flow); `ids` are the review's ids [seq] (or one row per vector), for the inputs the model
        reads besides the vectors (tokens, attention mask)."""


@dataclass(frozen=True)
class Completeness:
    """How well one target's attributions add up: sum vs f(input) - f(baseline)."""

    target: str | None = None
    sum: float | None = None
    f_input: float | None = None
    f_baseline: float | None = None
    delta: float | None = None
    abs_error: float | None = None
    rel_error: float | None = None
    steps: int | None = None


@dataclass
class IGResult:
    """Attributions [n_targets, seq_len] and the completeness check of each target."""

    targets: list[int]
    attributions: np.ndarray
    f_input: np.ndarray  # model output of each target at the review
    f_baseline: np.ndarray  # ... and at the baseline
    steps: int

    @property
    def delta(self) -> np.ndarray:
        return self.f_input - self.f_baseline

    @property
    def total(self) -> np.ndarray:
        return self.attributions.sum(axis=1)

    @property
    def abs_error(self) -> np.ndarray:
        """|sum(attributions) - (f(x) - f(baseline))|: the integration error, 0 for exact IG."""
        return np.abs(self.total - self.delta)

    @property
    def rel_error(self) -> np.ndarray:
        return self.abs_error / np.maximum(np.abs(self.delta), 1e-6)

    def of(self, target: int) -> np.ndarray:
        """The attributions [seq_len] of class `target`."""
        return self.attributions[self.targets.index(target)]

    def completeness(self, i: int = 0) -> Completeness:
        return Completeness(LABELS[self.targets[i]], float(self.total[i]), float(self.f_input[i]),
                            float(self.f_baseline[i]), float(self.delta[i]), float(self.abs_error[i]),
                            float(self.rel_error[i]), self.steps)

    def completeness_by_target(self) -> dict[str, Completeness]:
        return {LABELS[t]: self.completeness(i) for i, t in enumerate(self.targets)}


def trapezoid(steps: int) -> tuple[np.ndarray, np.ndarray]:
    """The path's steps+1 interpolation points on [0, 1] and their trapezoid-rule weights."""
    if steps < 1:
        raise ValueError("steps must be >= 1")
    alphas = np.linspace(0.0, 1.0, steps + 1, dtype=np.float32)
    weights = np.full(steps + 1, 1.0 / steps, dtype=np.float32)
    weights[[0, -1]] /= 2
    return alphas, weights


def _targets(targets: int | Sequence[int]) -> list[int]:
    return [int(targets)] if np.isscalar(targets) else [int(t) for t in targets]


def integrated_gradients(split: EmbeddingSplit, ids: np.ndarray,
                         targets: int | Sequence[int] = (NEGATIVE, POSITIVE), steps: int = 50,
                         baseline: np.ndarray | None = None, batch_size: int | None = None) -> IGResult:
    """IG of one review (`ids`, as the split takes them) for each target class, with the
    completeness figures.

    `baseline`: the baseline's ids (default: `split.baseline_ids(ids)`). The steps+1 path points go
    through the split `batch_size` at a time (default: the split's); gradients of all targets come
    from one forward pass per batch (of one target only when the split is `complementary`: the
    other class's attributions are the negated ones).
    """
    import tensorflow as tf

    alphas, weights = trapezoid(steps)
    targets = _targets(targets)
    ids = np.asarray(ids).reshape(-1)
    base = split.baseline_ids(ids) if baseline is None else np.asarray(baseline).reshape(ids.shape)
    batch_size = batch_size or split.batch_size
    matrix = split.matrix
    x = matrix[ids.astype(np.int64)]
    b = matrix[base.astype(np.int64)]
    diff = x - b
    # the classes whose gradients are taken: with complementary outputs, one (positive if asked)
    wrt = targets
    if split.complementary and len(targets) > 1:
        wrt = [POSITIVE if POSITIVE in targets else targets[0]]
    avg = np.zeros((len(wrt), *x.shape), dtype=np.float64)
    outputs = np.empty((steps + 1, len(targets)), dtype=np.float64)
    for i in range(0, steps + 1, batch_size):
        a = alphas[i:i + batch_size]
        path = tf.constant(b[None] + a[:, None, None] * diff[None])
        with tf.GradientTape(persistent=len(wrt) > 1) as tape:
            tape.watch(path)
            probs = split(path, ids)
            picked = [tf.reduce_sum(probs[:, t]) for t in wrt]  # rows are independent
        w = tf.constant(weights[i:i + batch_size])
        for j, value in enumerate(picked):
            avg[j] += tf.tensordot(w, tape.gradient(value, path), axes=1).numpy()
        outputs[i:i + len(a)] = np.asarray(probs)[:, targets]
        del tape
    solved = (avg * diff[None]).sum(axis=-1)
    attributions = np.stack([solved[wrt.index(t)] if t in wrt else -solved[0] for t in targets])
    attributions[:, ids == base] = 0.0
    return IGResult(targets, attributions, outputs[-1], outputs[0], steps)
