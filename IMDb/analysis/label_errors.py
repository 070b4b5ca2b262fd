"""Likely label errors: reviews whose given label the models contradict with confidence.

Confident learning (Northcutt, Jiang and Chuang, 2021) as cleanlab implements it
(`cleanlab.filter.find_label_issues`, the field's reference implementation; this module is a thin
adapter that adds sample ids, texts and named columns). With the default ``filter_by=
"confident_learning"``, for two classes: the threshold of class c is the models' mean predicted
probability of c over the reviews labelled c (their typical self-confidence), and a review labelled
i is a likely error when the probability of the other class j reaches j's threshold, p(j) >= t_j.
Per-class thresholds absorb a model that is over- or under-confident on one class, where a fixed
0.5 cut would not. Candidates are ranked by cleanlab's normalized margin, which for two classes
orders them as the margin p(j) - p(i) does, the most contradicted first. cleanlab's pruning variants
(``prune_by_noise_rate``, ``prune_by_class``, ``both``) flag more: on the CNN's 25,000 test
reviews, 783 against 597, a superset (docs/analysis.md).

Several models are combined by averaging their probabilities. The probabilities should be
out-of-sample (validation or test): on the training state a model has fitted its own labels,
errors included, and finds few.
"""
from __future__ import annotations

from collections.abc import Sequence

import numpy as np
import pandas as pd

from IMDb.config.run import LABELS

SNIPPET = 200


def mean_p_positive(p_positive) -> np.ndarray:
    """float64 [n]: one model's p_positive [n], or the mean over models of [models, n] (or a list)."""
    p = np.asarray(p_positive, dtype=np.float64)
    if p.ndim == 2:
        p = p.mean(axis=0)
    if p.ndim != 1:
        raise ValueError(f"p_positive must be [n] or [models, n], got shape {p.shape}")
    if np.isnan(p).any() or (p < 0).any() or (p > 1).any():
        raise ValueError("p_positive must be probabilities in [0, 1] without NaN")
    return p


def thresholds(labels: np.ndarray, probs: np.ndarray) -> np.ndarray:
    """Per class c: mean p(c) over the samples labelled c (NaN for a class nobody carries)."""
    return np.array([probs[labels == c, c].mean() if (labels == c).any() else np.nan
                     for c in range(probs.shape[1])])


def likely_label_errors(labels, p_positive, *, sample_ids: Sequence[str] | None = None,
                        texts: Sequence[str] | None = None, snippet: int | None = SNIPPET,
                        filter_by: str = "confident_learning") -> pd.DataFrame:
    """Ranked likely label errors, one row each (an empty frame when there are none).

    `labels`: 0/1 per review (NaN rows, unlabeled, are never flagged); `p_positive`: [n] or
    [models, n]. Columns: rank (1 = most likely), position (row in the input), sample_id, label,
    suggested_label, p_given_label, p_suggested, margin, threshold (of the suggested class) and,
    with `texts`, snippet (the first `snippet` characters; None: the whole text). `filter_by` is
    cleanlab's. ``frame.attrs`` holds count, n_labeled, share and the thresholds.
    """
    labels = np.asarray(labels, dtype=np.float64)
    p = mean_p_positive(p_positive)
    if len(p) != len(labels):
        raise ValueError(f"{len(labels)} labels but {len(p)} probabilities")
    probs = np.stack([1 - p, p], axis=1)
    known = ~np.isnan(labels)
    given = np.where(known, labels, 0).astype(int)
    t = thresholds(given[known], probs[known])
    other = 1 - given
    rows = np.arange(len(p))
    p_given, p_other = probs[rows, given], probs[rows, other]
    idx = _find(given[known], probs[known], filter_by, np.flatnonzero(known))
    out = pd.DataFrame({
        "rank": np.arange(1, len(idx) + 1),
        "position": idx,
        "sample_id": (np.asarray(sample_ids, dtype=object)[idx] if sample_ids is not None
                      else idx.astype(str)),
        "label": np.array(LABELS, dtype=object)[given[idx]],
        "suggested_label": np.array(LABELS, dtype=object)[other[idx]],
        "p_given_label": p_given[idx],
        "p_suggested": p_other[idx],
        "margin": p_other[idx] - p_given[idx],
        "threshold": t[other[idx]],
    })
    if texts is not None:
        out["snippet"] = [str(texts[i])[:snippet] for i in idx]
    n_labeled = int(known.sum())
    out.attrs.update(count=int(len(out)), n_labeled=n_labeled,
                     share=len(out) / n_labeled if n_labeled else float("nan"),
                     thresholds={LABELS[c]: float(t[c]) for c in range(len(t))})
    return out


def _find(labels: np.ndarray, probs: np.ndarray, filter_by: str, rows: np.ndarray) -> np.ndarray:
    """`rows` (positions in the caller's input) of the likely errors, most likely first; none when
    fewer than two classes carry labels (there is no other class's typical confidence to reach)."""
    if len(np.unique(labels)) < probs.shape[1]:
        return np.array([], dtype=np.int64)
    from cleanlab.filter import find_label_issues

    found = find_label_issues(labels, probs, filter_by=filter_by, return_indices_ranked_by="normalized_margin",
                              n_jobs=1)
    return rows[np.asarray(found, dtype=np.int64)]


def from_tables(tables, *, snippet: int | None = SNIPPET) -> pd.DataFrame:
    """`likely_label_errors` over one or more `AnalysisTable`s (or frames) of the same state, their
    p_positive averaged over the reviews every table holds (joined on sample_id). With several, each
    model's own p_positive is a column (``p_positive_<model>``) and ``attrs["per_model"]`` says how
    many reviews each model alone would flag, beside the ensemble's ``count``."""
    items = tables if isinstance(tables, (list, tuple)) else [tables]
    if not items:
        raise ValueError("no tables given")
    frames = [t.frame if hasattr(t, "frame") else t for t in items]
    names = [getattr(t, "model", None) or f"model{i + 1}" for i, t in enumerate(items)]
    base = frames[0][["sample_id", "label", "text", "p_positive"]].rename(columns={"p_positive": "p0"})
    for i, f in enumerate(frames[1:], start=1):
        base = base.merge(f[["sample_id", "p_positive"]].rename(columns={"p_positive": f"p{i}"}),
                          on="sample_id", how="inner", validate="one_to_one")
    p = base[[f"p{i}" for i in range(len(frames))]].to_numpy().T
    labels = base["label"].to_numpy(dtype=np.float64)
    out = likely_label_errors(labels, p, sample_ids=base["sample_id"].tolist(), texts=base["text"].tolist(),
                              snippet=snippet)
    if len(frames) > 1:
        for i, name in enumerate(names):
            out[f"p_positive_{name}"] = p[i, out["position"].to_numpy()]
        out.attrs["per_model"] = {name: likely_label_errors(labels, p[i]).attrs["count"]
                                  for i, name in enumerate(names)}
    out.attrs["models"] = names
    return out
