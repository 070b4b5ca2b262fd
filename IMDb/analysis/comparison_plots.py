"""The charts of a comparison of two models: the agreement matrix, the per-sample loss change and
the worst failures. Each builder returns a `Plot` (or None when its inputs are missing); every
untrusted string goes through `ptext` or `hover_snippet` first.
"""
from __future__ import annotations

from collections.abc import Sequence

import numpy as np
import pandas as pd

from IMDb.analysis.escape import hover_snippet, ptext
from IMDb.analysis.figures import Plot, finite, layout, none_nan, plotly


def agreement_plot(matrix: pd.DataFrame) -> Plot:
    go = plotly()
    z = matrix.to_numpy().astype(int)
    fig = go.Figure(go.Heatmap(z=z.tolist(), x=[ptext(c) for c in matrix.columns], y=[ptext(i) for i in matrix.index],
                               text=[[f"{v:,}" for v in row] for row in z], texttemplate="%{text}",
                               colorscale="Blues", showscale=False,
                               hovertemplate="%{y} / %{x}: %{z:,}<extra></extra>"))
    layout(fig, "Agreement matrix (reviews)", height=340, yaxis={"autorange": "reversed"})

    def png(mfig) -> None:
        ax = mfig.subplots()
        ax.imshow(z, cmap="Blues")
        for (i, j), v in np.ndenumerate(z):
            ax.text(j, i, f"{v:,}", ha="center", va="center",
                    color="white" if v > z.max() / 2 else "black")
        ax.set_xticks(range(z.shape[1]), list(matrix.columns))
        ax.set_yticks(range(z.shape[0]), list(matrix.index))
        mfig.suptitle("Agreement matrix")

    return Plot("agreement", "Agreement matrix", fig, png)


def loss_change_plot(frame: pd.DataFrame, names: Sequence[str]) -> Plot | None:
    change = finite(frame.get("loss_change", pd.Series(dtype=float)))
    change = change[np.isfinite(change)]
    if not len(change):
        return None
    go = plotly()
    edges = np.histogram_bin_edges(np.clip(change, *np.percentile(change, [0.5, 99.5])), bins=60)
    counts, _ = np.histogram(np.clip(change, edges[0], edges[-1]), bins=edges)
    centers = (edges[:-1] + edges[1:]) / 2
    a, b = names
    fig = go.Figure(go.Bar(x=centers.tolist(), y=counts.tolist(), marker_color="#4c78a8",
                           hovertemplate="loss change %{x:.3f}: %{y:,} reviews<extra></extra>"))
    fig.add_vline(x=0, line_color="#333")
    layout(fig, f"Per-sample loss change, {ptext(b)} − {ptext(a)} (left of 0: {ptext(b)} better)", height=360,
            xaxis={"title": f"loss({ptext(b)}) − loss({ptext(a)})"}, yaxis={"title": "reviews", "type": "log"})

    def png(mfig) -> None:
        ax = mfig.subplots()
        ax.bar(centers, counts, width=np.diff(edges), color="#4c78a8")
        ax.axvline(0, color="#333")
        ax.set_yscale("log")
        ax.set_xlabel(f"loss({b}) - loss({a})")
        ax.set_ylabel("reviews")
        mfig.suptitle(f"Per-sample loss change, {b} - {a}")

    return Plot("loss_change", "Loss change", fig, png)


def worst_failures_plot(worst: pd.DataFrame, names: Sequence[str]) -> Plot | None:
    if worst is None or worst.empty or "relative_loss_change" not in worst:
        return None
    go = plotly()
    a, b = names
    rel = finite(worst["relative_loss_change"]) * 100
    ids = [ptext(s) for s in worst["sample_id"].astype(str)]
    hover = [hover_snippet(t) for t in worst.get("snippet", pd.Series([""] * len(worst))).tolist()]
    fig = go.Figure(go.Bar(x=ids, y=none_nan(rel), marker_color=["#54a24b" if v < 0 else "#e45756" for v in rel],
                           hovertext=hover, hovertemplate="%{x}: %{y:.0f}%<br>%{hovertext}<extra></extra>"))
    layout(fig, f"{ptext(a)}'s worst failures: relative loss change under {ptext(b)}", height=380,
            yaxis={"title": "relative loss change (%)"}, xaxis={"type": "category", "tickangle": -45})

    def png(mfig) -> None:
        ax = mfig.subplots()
        ax.bar(range(len(rel)), rel, color=["#54a24b" if v < 0 else "#e45756" for v in rel])
        ax.set_xticks(range(len(rel)), worst["sample_id"].astype(str), rotation=60, ha="right", fontsize=6)
        ax.set_ylabel("relative loss change (%)")
        ax.axhline(0, color="#333")
        mfig.suptitle(f"{a}'s worst failures: relative loss change under {b}")

    return Plot("worst_failures", "Worst failures", fig, png)
