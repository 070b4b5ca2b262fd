"""A box or lasso selection of the map against the rest of the state: size, and per loaded model
accuracy, mean loss and ECE (`IMDb.measures.calibration`); the numeric metadata fields whose means differ most
(the difference in the state's standard deviations); and the rows to export as CSV."""
from __future__ import annotations

import numpy as np
import pandas as pd

from IMDb.analysis.metadata_job import NUMERIC_METADATA
from IMDb.measures.calibration import expected_calibration_error
from IMDb.explore.tables import Explored

TOP_FIELDS = 8


def _figures(explored: Explored, model: str, rows: np.ndarray) -> dict:
    frame = explored.frame.iloc[rows]
    label = frame["label"].to_numpy(dtype=float)
    known = np.isfinite(label)
    p = frame[explored.column(model, "p_positive")].to_numpy(dtype=float)
    ok = known & np.isfinite(p)
    if not ok.any():
        return {"n_labeled": 0, "accuracy": None, "mean_loss": None, "ece": None}
    probs = np.stack([1 - p[ok], p[ok]], axis=1)
    loss = frame[explored.column(model, "loss")].to_numpy(dtype=float)[ok]
    return {"n_labeled": int(ok.sum()), "accuracy": float(((p[ok] >= 0.5) == (label[ok] == 1)).mean()),
            "mean_loss": float(np.nanmean(loss)), "ece": expected_calibration_error(probs, label[ok])}


def _fields(frame: pd.DataFrame, inside: np.ndarray) -> list[dict]:
    out = []
    for column in NUMERIC_METADATA:
        if column not in frame:
            continue
        values = pd.to_numeric(frame[column], errors="coerce").to_numpy(dtype=float)
        spread = np.nanstd(values) if np.isfinite(values).sum() > 1 else 0.0
        if not spread or not np.isfinite(values[inside]).any() or not np.isfinite(values[~inside]).any():
            continue
        mean_in, mean_out = np.nanmean(values[inside]), np.nanmean(values[~inside])
        out.append({"field": column, "selection": float(mean_in), "rest": float(mean_out),
                    "difference_sd": float((mean_in - mean_out) / spread)})
    return sorted(out, key=lambda f: -abs(f["difference_sd"]))[:TOP_FIELDS]


def summarize(explored: Explored, rows: np.ndarray) -> dict:
    """The selection (`rows`, valid and distinct) against the rest of the state."""
    inside = np.zeros(len(explored), dtype=bool)
    inside[rows] = True
    rest = np.flatnonzero(~inside)
    return {"n": int(inside.sum()), "n_rest": int(len(rest)),
            "models": [{"model": m, "selection": _figures(explored, m, rows), "rest": _figures(explored, m, rest)}
                       for m in explored.models],
            "fields": _fields(explored.frame, inside)}


def export_frame(explored: Explored, rows: np.ndarray) -> pd.DataFrame:
    """The selected rows as written to CSV: the map's id first, then the table's columns."""
    return explored.frame.iloc[np.sort(rows)].reset_index(names="id")
