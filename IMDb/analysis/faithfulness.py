"""Faithfulness: are the words an explanation ranks highest the ones the model needs?

Removing the top-k attributed words (for the predicted class) must lower p(predicted class) more than
removing k random words. `faithfulness_check` runs the test for any model: the caller says which
word indices can be removed and how a review looks without some of them (the word models pad their
positions out, the counterfactual of their IG baseline; BERT deletes the words' pieces), and scores
every variant in one call. `faithfulness` is the word models' form on token rows;
`faithfulness_summary` aggregates over the explained reviews for the report.
"""
from __future__ import annotations

from collections.abc import Callable, Iterable
from dataclasses import dataclass, field

import numpy as np

from IMDb.config.run import LABELS
from IMDb.text.word_tokenizer import PAD_ID


@dataclass(frozen=True)
class FaithfulnessAtK:
    """The test at one k: k asked and used (at most the number of words), the drop of p(target)
    when the top-k words are removed and (mean, std over the random draws) when k random words are,
    their ratio (None when the random drop is <= 0) and whether top beat random (None when k covers
    every word: both sets are the whole review)."""

    k: int | None = None
    k_used: int | None = None
    top_drop: float | None = None
    random_drop: float | None = None
    random_std: float | None = None
    ratio: float | None = None
    passed: bool | None = None


@dataclass(frozen=True)
class Faithfulness:
    """The test of one review: the class whose attributions were tested, its probability, how many
    words could be removed, the random draws' count and seed, the result per k and overall (None
    when no k decided)."""

    target: str | None = None
    p_target: float | None = None
    n_words: int | None = None
    n_random: int | None = None
    seed: int | None = None
    per_k: list[FaithfulnessAtK] = field(default_factory=list)
    passed: bool | None = None


def faithfulness_check(predict_rows: Callable[[list[np.ndarray]], np.ndarray], ids: np.ndarray,
                       units: np.ndarray, attributions: np.ndarray,
                       remove: Callable[[np.ndarray], np.ndarray], k: Iterable[int] = (5, 10),
                       n_random: int = 20, seed: int = 0, target: int | None = None) -> Faithfulness:
    """The test for one review: `ids` is the model's input, `units` the word indices that can be
    removed, `attributions` one value per word index (the top-k are the k largest: the strongest
    evidence for the class), `remove(words)` the input without those words. The random drop is the
    mean over `n_random` seeded draws; the review and all its variants go to `predict_rows` (rows ->
    probabilities [n, 2]) in one call. `target`: the class tested (default: the predicted one)."""
    attributions = np.asarray(attributions, dtype=np.float64).reshape(-1)
    rng = np.random.default_rng(seed)
    order = units[np.argsort(-attributions[units], kind="stable")]
    variants, plan = [ids], []
    for kk in sorted(set(int(v) for v in k)):
        used = min(kk, len(units))
        variants.append(remove(order[:used]))
        variants += [remove(rng.choice(units, size=used, replace=False)) for _ in range(n_random)]
        plan.append((kk, used))
    probs = np.asarray(predict_rows(variants), dtype=np.float64)
    return score_faithfulness(probs, plan, len(units), n_random, seed, target)


def faithfulness(predict_tokens_fn: Callable[[np.ndarray], np.ndarray], tokens: np.ndarray,
                 attributions: np.ndarray, k: Iterable[int] = (5, 10), n_random: int = 20, seed: int = 0,
                 target: int | None = None) -> Faithfulness:
    """Does padding out the top-k attributed tokens lower p(predicted class) more than padding out
    k random words? For a word model's token row; `attributions` are per token position, for the
    predicted class (or `target`). See `faithfulness_check`."""
    tokens = np.asarray(tokens).reshape(-1)

    def pad_out(chosen: np.ndarray) -> np.ndarray:
        out = tokens.copy()
        out[chosen] = PAD_ID
        return out

    return faithfulness_check(lambda rows: predict_tokens_fn(np.stack(rows).astype(np.float32)), tokens,
                              np.flatnonzero(tokens != PAD_ID), attributions, pad_out, k, n_random, seed, target)


def score_faithfulness(probs: np.ndarray, plan: list[tuple[int, int]], n_units: int, n_random: int,
                       seed: int, target: int | None = None) -> Faithfulness:
    """The `Faithfulness` from the probabilities of [review, then per (k, k_used) in `plan`: top-k
    removed, `n_random` random-k removed]; `n_units` words could be removed."""
    c = int(np.argmax(probs[0])) if target is None else int(target)
    p0 = probs[0, c]
    per_k, i = [], 1
    for kk, kk_eff in plan:
        top_drop = p0 - probs[i, c]
        rand = p0 - probs[i + 1:i + 1 + n_random, c]
        i += 1 + n_random
        random_drop = float(rand.mean()) if n_random else float("nan")
        meaningful = 0 < kk_eff < n_units and n_random > 0
        per_k.append(FaithfulnessAtK(
            kk, kk_eff, float(top_drop), random_drop, float(rand.std()) if n_random else None,
            float(top_drop / random_drop) if meaningful and random_drop > 0 else None,
            bool(top_drop > random_drop) if meaningful else None))
    decided = [r.passed for r in per_k if r.passed is not None]
    return Faithfulness(LABELS[c], float(p0), int(n_units), n_random, seed, per_k,
                        all(decided) if decided else None)


def faithfulness_summary(results: Iterable[Faithfulness]) -> dict:
    """Aggregate of `faithfulness` results over samples, per k: mean drops, their ratio and the
    share of samples that passed (undecided samples left out). A plain dict: summary.json's
    ``attribution.faithfulness`` and the report's faithfulness plot read it as it is."""
    results = list(results)
    per_k: dict[int, list[FaithfulnessAtK]] = {}
    for r in results:
        for row in r.per_k:
            per_k.setdefault(row.k, []).append(row)
    out = []
    for kk, rows in sorted(per_k.items()):
        decided = [row for row in rows if row.passed is not None]
        top = float(np.mean([row.top_drop for row in decided])) if decided else None
        rand = float(np.mean([row.random_drop for row in decided])) if decided else None
        out.append({"k": kk, "n": len(decided), "mean_top_drop": top, "mean_random_drop": rand,
                    "ratio": top / rand if decided and rand > 0 else None,
                    "pass_rate": float(np.mean([row.passed for row in decided])) if decided else None})
    decided = [r.passed for r in results if r.passed is not None]
    return {"n_samples": len(results), "per_k": out,
            "pass_rate": float(np.mean(decided)) if decided else None,
            "passed": bool(all(decided)) if decided else None}
