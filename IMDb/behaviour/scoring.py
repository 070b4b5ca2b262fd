"""Failure rates of the behavioural tests for any ``predict(texts) -> probabilities [n, 2]``.

- MFT: the predicted label differs from the expected one.
- INV: the predicted label of the perturbed text differs from the original's.
- DIR: p(positive) moves against the expected direction by more than `DIR_TOLERANCE` (a small
  move the wrong way is noise, as in CheckList's monotonicity tests).
"""
from __future__ import annotations

from typing import Callable

import numpy as np

from IMDb.behaviour.suite import Test

DIR_TOLERANCE = 0.05
EXAMPLES = 3

Predict = Callable[[list[str]], np.ndarray]


def failures(test: Test, p_positive: list[np.ndarray]) -> np.ndarray:
    """Boolean per case, from p(positive) of each case's texts (one array per text position)."""
    if test.kind == "MFT":
        expected = np.array([case.expected for case in test.cases])
        return (p_positive[0] > 0.5).astype(int) != expected
    if test.kind == "INV":
        return (p_positive[0] > 0.5) != (p_positive[1] > 0.5)
    if test.kind == "DIR":
        direction = np.array([case.expected for case in test.cases], dtype=np.float64)
        return direction * (p_positive[1] - p_positive[0]) < -DIR_TOLERANCE
    raise ValueError(f"unknown test kind {test.kind!r}")


def score(test: Test, predict: Predict) -> dict:
    """The test's failure rate and a few failing cases (texts and p(positive)). All the test's texts
    go to `predict` in one call."""
    width = len(test.cases[0].texts)
    texts = [case.texts[i] for i in range(width) for case in test.cases]
    p = np.asarray(predict(texts), dtype=np.float64)[:, 1].reshape(width, len(test.cases))
    failed = failures(test, list(p))
    examples = [{"texts": list(test.cases[i].texts), "p_positive": [round(float(v), 3) for v in p[:, i]],
                 "expected": test.cases[i].expected} for i in np.flatnonzero(failed)[:EXAMPLES]]
    return {"name": test.name, "capability": test.capability, "type": test.kind,
            "description": test.description, "cases": len(test.cases),
            "failure_rate": round(float(failed.mean()), 4), "failures": int(failed.sum()),
            "examples": examples}


def by_capability(results: list[dict]) -> dict[str, float]:
    """Failure rate per capability: failing cases over cases, across the capability's tests."""
    totals: dict[str, list[int]] = {}
    for r in results:
        t = totals.setdefault(r["capability"], [0, 0])
        t[0] += r["failures"]
        t[1] += r["cases"]
    return {name: round(f / n, 4) for name, (f, n) in totals.items()}
