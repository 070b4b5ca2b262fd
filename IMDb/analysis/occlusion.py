"""N-gram occlusion: which phrases of a review moved the prediction, each scored as a unit.

Every n-gram (n = 1, 2, 3) of a word model's review is padded out (or cut out) in turn and the change
of p_positive measured, all variants of one review in one batched ``predict_tokens`` call, so a
phrase such as "mildly entertaining" is scored as a unit, with its interaction (the phrase's change
minus its words' changes). It takes fixed-length token rows, so it runs for the word models only
(one BERT forward per variant would cost ~50x a word model's).
"""
from __future__ import annotations

from collections.abc import Callable, Iterable, Sequence
from dataclasses import dataclass

import numpy as np

from IMDb.config.run import LABELS
from IMDb.text.word_tokenizer import PAD_ID

POSITIVE = LABELS.index("positive")
RANK_KEYS = {"delta": "delta", "log_odds": "delta_log_odds", "interaction": "interaction"}


@dataclass(frozen=True)
class Phrase:
    """One occluded n-gram: where it starts, its length and words, the change of p_positive (and of
    its log-odds) when it is removed, p_positive without it, and its interaction (None for
    unigrams)."""

    start: int | None = None
    length: int | None = None
    words: str | None = None
    delta: float | None = None
    delta_log_odds: float | None = None
    p_positive: float | None = None
    interaction: float | None = None

    @property
    def span(self) -> range:
        return range(self.start, self.start + self.length)


def n_real(tokens: np.ndarray) -> int:
    """Number of word positions: the tokenizer pads at the end only."""
    nonpad = np.flatnonzero(np.asarray(tokens) != PAD_ID)
    return int(nonpad[-1]) + 1 if len(nonpad) else 0


def occlude(tokens: np.ndarray, start: int, length: int, mode: str = "pad") -> np.ndarray:
    """The review with tokens[start:start+length] padded out ("pad") or cut out with the rest
    shifted left and padded at the end ("remove")."""
    out = np.array(tokens, copy=True)
    if mode == "pad":
        out[start:start + length] = PAD_ID
    elif mode == "remove":
        rest = tokens[start + length:]
        out[start:start + len(rest)] = rest
        out[start + len(rest):] = PAD_ID
    else:
        raise ValueError(f"mode must be 'pad' or 'remove', not {mode!r}")
    return out


def _log_odds(p: np.ndarray) -> np.ndarray:
    p = np.clip(p, 1e-7, 1 - 1e-7)
    return np.log(p) - np.log1p(-p)


def occlusion(predict_tokens_fn: Callable[[np.ndarray], np.ndarray], tokens: np.ndarray,
              n_values: Iterable[int] = (1, 2, 3), words: Sequence[str] | None = None, mode: str = "pad",
              rank_by: str = "delta") -> list[Phrase]:
    """Every n-gram of the review occluded in turn; sorted by the |value| named by `rank_by`
    (default: |delta|), largest first.

    delta = p_positive(review) - p_positive(review without the n-gram): positive when the phrase
    pushed toward "positive", like the IG sign for the positive class. delta_log_odds is the same
    change in log-odds, which does not shrink when the prediction is saturated (a confidently wrong
    review at p = 0.003 moves by thousandths in probability whatever is removed); `rank_by`
    "log_odds" sorts by it. For n > 1, interaction = delta_log_odds - the sum of its words'
    delta_log_odds: 0 when the words act independently, far from 0 when the phrase acts as a unit
    ("mildly entertaining" less positive than "entertaining"). It is measured in log-odds because
    the softmax's curvature alone makes probability deltas non-additive. `rank_by` "interaction"
    surfaces such phrases (unigrams last). The `dense` model is additive in log-odds (per-word
    features, averaged): its interactions are 0 up to rounding, only the CNN can have units.

    Default mode "pad" replaces the n-gram with padding ids: the other words keep their positions,
    so the change belongs to the phrase alone (no new n-grams form across the gap in the CNN), and it
    is the same counterfactual as the IG baseline and the faithfulness check. "remove" cuts it out
    and shifts the rest left (in-distribution for a model that never saw padding mid-review, at
    the price of new word pairs across the gap). All variants go to `predict_tokens_fn` at once.
    """
    if rank_by not in RANK_KEYS:
        raise ValueError(f"rank_by must be one of {', '.join(RANK_KEYS)}, not {rank_by!r}")
    tokens = np.asarray(tokens).reshape(-1)
    n = n_real(tokens)
    spans = [(s, k) for k in sorted(set(int(v) for v in n_values)) for s in range(n - k + 1)]
    if not spans:
        return []
    batch = np.stack([tokens] + [occlude(tokens, s, k, mode) for s, k in spans]).astype(np.float32)
    p = np.asarray(predict_tokens_fn(batch), dtype=np.float64)[:, POSITIVE]
    deltas = p[0] - p[1:]
    deltas_lo = _log_odds(p[:1]) - _log_odds(p[1:])
    unigram = {s: d for (s, k), d in zip(spans, deltas_lo) if k == 1}
    rows = []
    for (s, k), d, d_lo, after in zip(spans, deltas, deltas_lo, p[1:]):
        phrase = words[s:s + k] if words is not None else [f"#{int(t)}" for t in tokens[s:s + k]]
        interaction = None
        if k > 1 and all(i in unigram for i in range(s, s + k)):
            interaction = float(d_lo - sum(unigram[i] for i in range(s, s + k)))
        rows.append(Phrase(s, k, " ".join(phrase), float(d), float(d_lo), float(after), interaction))
    key = RANK_KEYS[rank_by]

    def rank(row: Phrase):
        value = getattr(row, key)
        return value is None, -abs(value or 0.0), row.length, row.start
    return sorted(rows, key=rank)


def top_phrases(rows: list[Phrase], k: int = 10, distinct: bool = True) -> list[Phrase]:
    """The first `k` occlusion rows (as `occlusion` ranked them); with `distinct`, a row overlapping
    one already taken is skipped, so "mildly entertaining" does not also appear as "entertaining"."""
    taken: list[Phrase] = []
    for row in rows:
        if distinct and any(set(row.span) & set(t.span) for t in taken):
            continue
        taken.append(row)
        if len(taken) == k:
            break
    return taken
