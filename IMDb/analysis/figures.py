"""What every dashboard plot shares: the `Plot` record, its PNG writer and the plotly helpers.

A `Plot` pairs a plotly figure (shown in the page) with a matplotlib drawer (its PNG); `write_png`
draws one with matplotlib's Agg canvas, so no browser is needed. The builders themselves live in
`IMDb.analysis.latent_map` (the population map) and `IMDb.analysis.metric_plots` (the charts of
losses, accuracies and curves); `layout`, `finite` and `none_nan` are their common layout and
number conversions, `CATEGORY_COLORS` their palette.
"""
from __future__ import annotations

import math
from collections.abc import Callable
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import numpy as np
import pandas as pd

CATEGORY_COLORS = ("#1f77b4", "#d62728", "#2ca02c", "#ff7f0e", "#9467bd", "#8c564b", "#e377c2",
                   "#7f7f7f", "#bcbd22", "#17becf", "#393b79", "#637939", "#8c6d31", "#843c39",
                   "#7b4173", "#3182bd", "#e6550d", "#31a354", "#756bb1", "#636363")


@dataclass
class Plot:
    """One dashboard plot: a plotly figure (rendered in the page) and a matplotlib drawer (PNG)."""

    key: str
    title: str
    figure: Any  # plotly.graph_objects.Figure
    png: Callable[[Any], None] | None  # draws into a matplotlib Figure


def plotly():
    """``plotly.graph_objects``, imported when a plot is first made (it is slow to import)."""
    import plotly.graph_objects as go

    return go


def layout(fig, title: str, height: int = 420, **kw) -> None:
    """Common layout; `title` is plotly label markup: escape any untrusted part before passing it."""
    margin = kw.pop("margin", {"l": 60, "r": 30, "t": 50, "b": 50})
    fig.update_layout(title={"text": title, "x": 0.01}, height=height, template="plotly_white", margin=margin,
                      font={"family": "system-ui, -apple-system, 'Segoe UI', Roboto, sans-serif", "size": 12},
                      **kw)


def finite(values) -> np.ndarray:
    return pd.to_numeric(pd.Series(values), errors="coerce").astype(float).to_numpy()


def none_nan(values: np.ndarray) -> list:
    return [None if not math.isfinite(v) else float(v) for v in np.asarray(values, dtype=float)]



def write_png(plot: Plot, path: Path) -> bool:
    """Draw `plot` with matplotlib's Agg canvas (no display, no browser); False if it has none."""
    if plot.png is None:
        return False
    from matplotlib.figure import Figure

    mfig = Figure(figsize=(12, 5), layout="constrained")
    plot.png(mfig)
    mfig.savefig(path, dpi=90)
    return True
