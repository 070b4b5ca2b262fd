"""Two loaded models side by side on the explored reviews: where their predicted classes disagree
(a slice the map can select), the reviews whose loss differs most, and the agreement matrix of
model A's class against model B's, each cell's reviews listed so the page can select them.

The right/wrong matrix over the labeled reviews and McNemar's test are the analysis's own
(`IMDb.analysis.compare`), as ``imdb-leap compare`` reports them.
"""
from __future__ import annotations

import numpy as np

from IMDb.analysis.compare import agreement_matrix, mcnemar
from IMDb.config.run import LABELS
from IMDb.explore.tables import Explored

LARGEST = 20  # reviews in the ranked list of loss differences
SNIPPET = 160


def side_by_side(explored: Explored, a: str, b: str) -> dict:
    """Model `a` against model `b` (two of `explored.models`, different) on every review both
    predicted; ids are the map's rows."""
    frame = explored.frame
    pred = {m: frame[explored.column(m, "prediction")].to_numpy(dtype=float) for m in (a, b)}
    loss = {m: frame[explored.column(m, "loss")].to_numpy(dtype=float) for m in (a, b)}
    both = np.isfinite(pred[a]) & np.isfinite(pred[b])
    cells = [[np.flatnonzero(both & (pred[a] == i) & (pred[b] == j)).tolist() for j in range(len(LABELS))]
             for i in range(len(LABELS))]
    label = frame["label"].to_numpy(dtype=float)
    labeled = both & np.isfinite(label)
    right = {m: pred[m][labeled] == label[labeled] for m in (a, b)}
    matrix = agreement_matrix(right[a], right[b], (a, b))
    difference = loss[b] - loss[a]
    ranked = np.flatnonzero(np.isfinite(difference))
    ranked = ranked[np.argsort(-np.abs(difference[ranked]), kind="stable")][:LARGEST]
    return {"a": a, "b": b, "n": int(both.sum()), "classes": list(LABELS),
            "matrix": [[len(c) for c in row] for row in cells], "cells": cells,
            "disagree": sorted(i for r, row in enumerate(cells) for c, ids in enumerate(row) if r != c for i in ids),
            "right_wrong": {"rows": list(matrix.index), "columns": list(matrix.columns),
                            "counts": matrix.to_numpy().tolist()},
            "mcnemar_p": mcnemar(int(matrix.iat[0, 1]), int(matrix.iat[1, 0])),
            "largest": [{"id": int(i), "snippet": frame["text"].iat[i][:SNIPPET], "label": label[i],
                         "prediction_a": pred[a][i], "prediction_b": pred[b][i],
                         "loss_a": loss[a][i], "loss_b": loss[b][i], "difference": difference[i]}
                        for i in ranked]}
