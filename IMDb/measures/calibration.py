"""Calibration of p(positive): expected calibration error, reliability bins, temperature scaling.

A user who thresholds p(positive) (flag reviews above 0.9, say) relies on it meaning what it says.
ECE bins the predicted class's probability into 15 equal-width bins and averages |accuracy -
confidence| weighted by the bin's share of reviews (Guo et al., ICML 2017). Temperature scaling
divides the logits by one number T fitted on the validation state (minimum negative log-likelihood),
which changes no predicted class, only how confident the probabilities are.
"""
from __future__ import annotations

import numpy as np

from IMDb.measures.scores import log_softmax


BINS = 15


def reliability(probabilities: np.ndarray, labels: np.ndarray, bins: int = BINS) -> list[dict]:
    """Per confidence bin (of the predicted class): its range, count, mean confidence, accuracy."""
    probs = np.asarray(probabilities, dtype=np.float64)
    labels = np.asarray(labels).astype(int)
    confidence, predicted = probs.max(axis=1), probs.argmax(axis=1)
    edges = np.linspace(0.0, 1.0, bins + 1)
    which = np.clip(np.searchsorted(edges, confidence, side="left") - 1, 0, bins - 1)
    rows = []
    for b in range(bins):
        inside = which == b
        n = int(inside.sum())
        rows.append({"low": float(edges[b]), "high": float(edges[b + 1]), "count": n,
                     "confidence": float(confidence[inside].mean()) if n else None,
                     "accuracy": float((predicted[inside] == labels[inside]).mean()) if n else None})
    return rows


def expected_calibration_error(probabilities: np.ndarray, labels: np.ndarray, bins: int = BINS) -> float:
    """sum over bins of (share of reviews) x |accuracy - mean confidence|."""
    rows = reliability(probabilities, labels, bins)
    total = sum(r["count"] for r in rows)
    if not total:
        raise ValueError("no reviews to measure calibration on")
    return float(sum(r["count"] / total * abs(r["accuracy"] - r["confidence"]) for r in rows if r["count"]))


def negative_log_likelihood(logits: np.ndarray, labels: np.ndarray, temperature: float = 1.0) -> float:
    log_p = log_softmax(np.asarray(logits, dtype=np.float64) / temperature)
    return float(-log_p[np.arange(len(log_p)), np.asarray(labels).astype(int)].mean())


def fit_temperature(logits: np.ndarray, labels: np.ndarray) -> float:
    """The T in [0.05, 20] that minimises the negative log-likelihood of `labels` under
    softmax(logits / T); searched on log T, where the objective is smooth and unimodal."""
    from scipy.optimize import minimize_scalar

    if len(logits) == 0:
        raise ValueError("no reviews to fit a temperature on")
    result = minimize_scalar(lambda log_t: negative_log_likelihood(logits, labels, float(np.exp(log_t))),
                             bounds=(np.log(0.05), np.log(20.0)), method="bounded", options={"xatol": 1e-4})
    return float(np.exp(result.x))

