"""The dashboard's plots: each a plotly figure (shown in the page) and a matplotlib drawer (its PNG).

Every builder returns a `Plot` (or None when its inputs are missing); `write_png` draws one with
matplotlib's Agg canvas, so no browser is needed. Every untrusted string in a figure (review text,
sample ids, field and model names) goes through `ptext` or `hover_snippet` first.
"""
from __future__ import annotations

import math
from collections.abc import Callable, Sequence
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import numpy as np
import pandas as pd

from IMDb.analysis.escape import fmt, hover_snippet, ptext
from IMDb.config import LABELS

MAX_MAP_POINTS = 6000  # an SVG scatter stays responsive up to a few thousand points (no WebGL needed)
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


def _go():
    import plotly.graph_objects as go

    return go


def _layout(fig, title: str, height: int = 420, **kw) -> None:
    """Common layout; `title` is plotly label markup: escape any untrusted part before passing it."""
    margin = kw.pop("margin", {"l": 60, "r": 30, "t": 50, "b": 50})
    fig.update_layout(title={"text": title, "x": 0.01}, height=height, template="plotly_white", margin=margin,
                      font={"family": "system-ui, -apple-system, 'Segoe UI', Roboto, sans-serif", "size": 12},
                      **kw)


def _finite(values) -> np.ndarray:
    return pd.to_numeric(pd.Series(values), errors="coerce").astype(float).to_numpy()


def _none_nan(values: np.ndarray) -> list:
    return [None if not math.isfinite(v) else float(v) for v in np.asarray(values, dtype=float)]


def _sizes(values, low: float = 4.0, high: float = 16.0) -> np.ndarray:
    """Marker sizes from a non-negative quantity: square-root scaled into [low, high]."""
    v = np.sqrt(np.clip(np.nan_to_num(_finite(values), nan=0.0), 0, None))
    top = np.nanpercentile(v, 99) if len(v) else 0
    if not top or not math.isfinite(top):
        return np.full(len(v), (low + high) / 2)
    return low + (high - low) * np.clip(v / top, 0, 1)


def _discrete_scale(n: int) -> list:
    """A stepped colorscale of n categories (category i has colour i over [i/n, (i+1)/n])."""
    if n <= 1:
        return [[0, CATEGORY_COLORS[0]], [1, CATEGORY_COLORS[0]]]
    scale = []
    for i in range(n):
        color = CATEGORY_COLORS[i % len(CATEGORY_COLORS)]
        scale += [[i / n, color], [(i + 1) / n, color]]
    return scale


def ground_truth(frame: pd.DataFrame) -> pd.Series:
    """Each sample's label name ("unlabeled" where it has none)."""
    label = frame["label"] if "label" in frame else pd.Series(np.nan, index=frame.index)
    return label.map(lambda v: "unlabeled" if pd.isna(v) else LABELS[int(v)])


def color_options(frame: pd.DataFrame, clusters: np.ndarray | None) -> dict[str, dict]:
    """What the population map can be coloured by: name -> {kind, values (codes or numbers), categories}."""
    options: dict[str, dict] = {}

    def categorical(name: str, values: pd.Series, order=None, limit: int | None = len(CATEGORY_COLORS)) -> None:
        values = values.astype(object).where(values.notna(), "missing").astype(str)
        cats = list(order) if order is not None else sorted(values.unique(), key=lambda c: (c == "missing", c))
        if limit is not None and len(cats) > limit:  # a free-text field: no colour legend can help
            return
        index = {c: i for i, c in enumerate(cats)}
        options[name] = {"kind": "categorical", "values": values.map(index).to_numpy(), "categories": cats}

    def numeric(name: str, values) -> None:
        v = _finite(values)
        if np.isfinite(v).any():
            options[name] = {"kind": "numeric", "values": v}

    categorical("ground truth", ground_truth(frame))
    if "state" in frame and frame["state"].nunique() > 1:
        categorical("state", frame["state"])
    categorical("prediction", frame["prediction"].map(lambda v: LABELS[int(v)]))
    if "correct" in frame and frame["correct"].notna().any():
        categorical("correct", frame["correct"].map(lambda v: "missing" if pd.isna(v) else
                                                    ("right" if bool(v) else "wrong")))
    if clusters is not None:  # any number of clusters (colours repeat past the palette), in id order
        ids = np.asarray(clusters)
        names = {c: "noise" if c < 0 else f"cluster {c}" for c in np.unique(ids).tolist()}
        categorical("cluster", pd.Series([names[c] for c in ids.tolist()], index=frame.index),
                    order=[names[c] for c in sorted(names)], limit=None)
    for name in ("loss", "p_positive"):
        if name in frame:
            numeric(name, frame[name])
    from IMDb.analysis.table import METADATA_TYPES

    for column, kind in METADATA_TYPES.items():
        if column not in frame or column == "label_name" or not frame[column].notna().any():
            continue
        kind = getattr(kind, "name", "")
        if kind == "boolean":
            categorical(column, frame[column].map(lambda v: "missing" if pd.isna(v) else str(bool(v)).lower()))
        elif kind in ("int", "float"):
            numeric(column, frame[column])
        else:
            categorical(column, frame[column])
    for column in frame.columns:
        if column.startswith("baseline_") and column.endswith("_p_positive"):
            numeric(column, frame[column])
    return options


def _color_restyle(name: str, option: dict, keep: np.ndarray) -> dict:
    if option["kind"] == "categorical":
        cats = option["categories"]
        return {"marker.color": [option["values"][keep].astype(int).tolist()],
                "marker.colorscale": [_discrete_scale(len(cats))], "marker.cmin": -0.5,
                "marker.cmax": len(cats) - 0.5,
                "marker.colorbar.tickvals": [list(range(len(cats)))],
                "marker.colorbar.ticktext": [[ptext(c) for c in cats]],
                "marker.colorbar.title.text": ptext(name)}
    v = option["values"][keep]
    finite = v[np.isfinite(v)]
    low, high = (np.percentile(finite, [1, 99]) if len(finite) else (0.0, 1.0))
    if high <= low:
        low, high = float(low) - 0.5, float(high) + 0.5
    return {"marker.color": [_none_nan(v)], "marker.colorscale": ["Viridis"],
            "marker.cmin": float(low), "marker.cmax": float(high),
            "marker.colorbar.tickvals": [None], "marker.colorbar.ticktext": [None],
            "marker.colorbar.title.text": ptext(name)}


def _map_sample(n: int, limit: int = MAX_MAP_POINTS, seed: int = 0) -> np.ndarray:
    if n <= limit:
        return np.arange(n)
    return np.sort(np.random.default_rng(seed).choice(n, size=limit, replace=False))


def population_plot(frame: pd.DataFrame, xy: np.ndarray, clusters: np.ndarray | None, method: str,
                    max_points: int = MAX_MAP_POINTS) -> Plot:
    """The latent map: one scatter; buttons recolour it (ground truth, prediction, cluster, any
    metadata field) and resize it (loss, OOV count). Above `max_points` a seeded sample is drawn."""
    go = _go()
    keep = _map_sample(len(frame), max_points)
    sub = frame.iloc[keep]
    options = color_options(frame, clusters)
    first = "ground truth" if (frame["label"].notna().any() if "label" in frame else False) else "prediction"
    cluster_text = (np.where(np.asarray(clusters)[keep] < 0, "noise", np.asarray(clusters)[keep].astype(str))
                    if clusters is not None else None)
    hover = []
    for i, row in enumerate(sub.itertuples(index=False)):
        parts = [f"<b>{ptext(row.sample_id)}</b>",
                 f"truth {ptext(label_name(getattr(row, 'label', np.nan)))} · predicted "
                 f"{ptext(LABELS[int(row.prediction)])} · p+ {fmt(float(row.p_positive), 3)} · loss "
                 f"{fmt(float(row.loss), 3) if pd.notna(row.loss) else '–'}"]
        if cluster_text is not None:
            parts.append(f"cluster {ptext(cluster_text[i])}")
        parts.append(hover_snippet(row.text))
        hover.append("<br>".join(parts))
    size_options = {"constant": np.full(len(sub), 6.0)}
    if "loss" in frame and frame["loss"].notna().any():
        size_options["loss"] = _sizes(sub["loss"])
    if "oov_count" in frame:
        size_options["OOV count"] = _sizes(sub["oov_count"])
    start = _color_restyle(first, options[first], keep)
    fig = go.Figure(go.Scatter(
        x=xy[keep, 0].astype(float).tolist(), y=xy[keep, 1].astype(float).tolist(), mode="markers",
        hovertext=hover, hovertemplate="%{hovertext}<extra></extra>",
        marker={"color": start["marker.color"][0], "colorscale": start["marker.colorscale"][0],
                "cmin": start["marker.cmin"], "cmax": start["marker.cmax"], "showscale": True,
                "colorbar": {"title": {"text": start["marker.colorbar.title.text"]},
                             "tickvals": start["marker.colorbar.tickvals"][0],
                             "ticktext": start["marker.colorbar.ticktext"][0]},
                "size": size_options.get("loss", size_options["constant"]).tolist(),
                "opacity": 0.75, "line": {"width": 0}}))
    color_buttons = [{"label": ptext(name), "method": "restyle", "args": [_color_restyle(name, opt, keep)]}
                     for name, opt in options.items()]
    size_buttons = [{"label": ptext(name), "method": "restyle", "args": [{"marker.size": [s.tolist()]}]}
                    for name, s in size_options.items()]
    active_size = list(size_options).index("loss") if "loss" in size_options else 0
    shown = f"{len(keep):,} of {len(frame):,} samples" if len(keep) < len(frame) else f"{len(frame):,} samples"
    _layout(fig, f"Latent space ({method.upper()}), {shown}", height=660,
            xaxis={"title": f"{method} 1", "zeroline": False, "showgrid": False},
            yaxis={"title": f"{method} 2", "zeroline": False, "showgrid": False},
            updatemenus=[
                {"buttons": color_buttons, "direction": "down", "x": 0.08, "xanchor": "left", "y": 1.02,
                 "yanchor": "bottom", "active": list(options).index(first), "showactive": True},
                {"buttons": size_buttons, "direction": "down", "x": 0.48, "xanchor": "left", "y": 1.02,
                 "yanchor": "bottom", "active": active_size, "showactive": True}],
            annotations=[{"text": "colour by", "x": 0.0, "y": 1.035, "xref": "paper", "yref": "paper",
                          "xanchor": "left", "yanchor": "bottom", "showarrow": False},
                         {"text": "size by", "x": 0.42, "y": 1.035, "xref": "paper", "yref": "paper",
                          "xanchor": "left", "yanchor": "bottom", "showarrow": False}],
            margin={"l": 60, "r": 30, "t": 110, "b": 50})
    fig.update_layout(title={"y": 0.98, "yref": "container", "yanchor": "top"})

    def png(mfig) -> None:
        ax_truth, ax_cluster = mfig.subplots(1, 2)
        for ax, name in ((ax_truth, first), (ax_cluster, "cluster" if "cluster" in options else "loss")):
            opt = options.get(name)
            if opt is None:
                continue
            size = np.clip(_sizes(frame["loss"]) if "loss" in frame and frame["loss"].notna().any()
                           else np.full(len(frame), 6.0), 1, None) ** 1.2 / 3
            if opt["kind"] == "categorical":
                for i, cat in enumerate(opt["categories"]):
                    sel = opt["values"] == i
                    ax.scatter(xy[sel, 0], xy[sel, 1], s=size[sel], alpha=0.6, linewidths=0,
                               color=CATEGORY_COLORS[i % len(CATEGORY_COLORS)], label=cat)
                if len(opt["categories"]) <= len(CATEGORY_COLORS):
                    ax.legend(fontsize=7, markerscale=2, loc="best")
            else:
                points = ax.scatter(xy[:, 0], xy[:, 1], c=opt["values"], s=size, alpha=0.6, linewidths=0,
                                    cmap="viridis")
                mfig.colorbar(points, ax=ax, label=name)
            ax.set_title(f"coloured by {name}, sized by loss", fontsize=10)
            ax.set_xticks([])
            ax.set_yticks([])
        mfig.suptitle(f"Latent space ({method.upper()}), {len(frame):,} samples")

    return Plot("population", "Population exploration", fig, png)


def label_name(value) -> str:
    """A label value's name ("unlabeled" when missing)."""
    return "unlabeled" if value is None or pd.isna(value) else LABELS[int(value)]


def cluster_plot(summary: pd.DataFrame, population_loss: float | None) -> Plot | None:
    """Size and mean loss per cluster, the population's mean loss as a line."""
    if summary is None or summary.empty or "mean_loss" not in summary:
        return None
    go = _go()
    from plotly.subplots import make_subplots

    names = [ptext(n) for n in _cluster_names(summary)]
    sizes = summary["size"] if "size" in summary else summary.get("n")
    fig = make_subplots(rows=1, cols=2, subplot_titles=("size", "mean loss"))
    fig.add_trace(go.Bar(x=names, y=_none_nan(_finite(sizes)), name="size", marker_color="#4c78a8"), 1, 1)
    fig.add_trace(go.Bar(x=names, y=_none_nan(_finite(summary["mean_loss"])), name="mean loss",
                         marker_color="#e45756"), 1, 2)
    if population_loss is not None and math.isfinite(population_loss):
        fig.add_hline(y=population_loss, line_dash="dash", line_color="#333", row=1, col=2,
                      annotation_text="population", annotation_position="top left")
    _layout(fig, "Clusters: size and mean loss", height=380, showlegend=False)

    def png(mfig) -> None:
        ax_size, ax_loss = mfig.subplots(1, 2)
        labels = _cluster_names(summary)
        ax_size.bar(labels, _finite(sizes), color="#4c78a8")
        ax_size.set_title("size")
        ax_loss.bar(labels, _finite(summary["mean_loss"]), color="#e45756")
        if population_loss is not None and math.isfinite(population_loss):
            ax_loss.axhline(population_loss, color="#333", linestyle="--", label="population")
            ax_loss.legend()
        ax_loss.set_title("mean loss")
        for ax in (ax_size, ax_loss):
            ax.tick_params(axis="x", rotation=45, labelsize=8)
        mfig.suptitle("Clusters: size and mean loss")

    return Plot("clusters", "Clusters", fig, png)


def _cluster_names(summary: pd.DataFrame) -> list[str]:
    ids = summary["cluster"] if "cluster" in summary else summary.index
    return ["noise" if (isinstance(c, (int, np.integer)) and c < 0) else f"cluster {c}" for c in ids]


def metadata_loss_plot(binned: dict[str, pd.DataFrame], population_loss: float | None) -> Plot | None:
    """Mean loss per bin of each metadata field (a dropdown picks the field), counts in the hover."""
    binned = {k: v for k, v in binned.items() if v is not None and not v.empty}
    if not binned:
        return None
    go = _go()
    fig = go.Figure()
    names = list(binned)
    for i, name in enumerate(names):
        b = binned[name]
        err = _none_nan(_finite(b["sem"])) if "sem" in b else None
        fig.add_trace(go.Bar(
            x=[ptext(v) for v in b["bin"].astype(str)], y=_none_nan(_finite(b["mean_loss"])),
            error_y={"type": "data", "array": err, "visible": True} if err else None,
            customdata=_finite(b["count"]).tolist(), visible=i == 0, name=ptext(name),
            hovertemplate="%{x}<br>mean loss %{y:.3f}<br>n = %{customdata:,}<extra></extra>",
            marker_color="#4c78a8"))
    buttons = [{"label": ptext(name), "method": "update",
                "args": [{"visible": [j == i for j in range(len(names))]},
                         {"title.text": f"Mean loss by {ptext(name)}", "xaxis.title.text": ptext(name)}]}
               for i, name in enumerate(names)]
    _layout(fig, f"Mean loss by {ptext(names[0])}", height=420, yaxis={"title": "mean loss"},
            xaxis={"title": ptext(names[0]), "type": "category"},
            updatemenus=[{"buttons": buttons, "direction": "down", "x": 1.0, "xanchor": "right", "y": 1.15,
                          "yanchor": "top"}], margin={"l": 60, "r": 30, "t": 80, "b": 90})
    if population_loss is not None and math.isfinite(population_loss):
        fig.add_hline(y=population_loss, line_dash="dash", line_color="#333",
                      annotation_text="population", annotation_position="top left")

    def png(mfig) -> None:
        cols = 3
        rows = math.ceil(len(names) / cols)
        mfig.set_size_inches(13, 3.1 * rows)
        axes = np.atleast_1d(mfig.subplots(rows, cols)).reshape(-1)
        for ax, name in zip(axes, names):
            b = binned[name]
            pos = np.arange(len(b))
            ax.bar(pos, _finite(b["mean_loss"]), color="#4c78a8",
                   yerr=np.nan_to_num(_finite(b["sem"])) if "sem" in b else None)
            if population_loss is not None and math.isfinite(population_loss):
                ax.axhline(population_loss, color="#333", linestyle="--", linewidth=1)
            ax.set_xticks(pos, [str(v) for v in b["bin"]], rotation=45, ha="right", fontsize=6)
            ax.set_title(name, fontsize=9)
        for ax in axes[len(names):]:
            ax.set_visible(False)
        mfig.suptitle("Mean loss by metadata bin (dashed: population)")

    return Plot("metadata_vs_loss", "Metadata vs loss", fig, png)


def correlation_plot(corr: pd.DataFrame) -> Plot | None:
    if corr is None or corr.empty:
        return None
    go = _go()
    corr = corr.dropna(subset=["rho"]).sort_values("rho")
    if corr.empty:
        return None
    names = [ptext(n) for n in corr.index]
    colors = ["#e45756" if r > 0 else "#4c78a8" for r in corr["rho"]]
    fig = go.Figure(go.Bar(x=corr["rho"].astype(float).tolist(), y=names, orientation="h", marker_color=colors,
                           customdata=np.stack([_finite(corr["p_value"]), _finite(corr["n"])], axis=1).tolist(),
                           hovertemplate="%{y}: rho %{x:.3f}<br>p %{customdata[0]:.2g}, n %{customdata[1]:,}"
                                         "<extra></extra>"))
    _layout(fig, "Spearman correlation with loss", height=max(300, 26 * len(corr) + 100),
            xaxis={"title": "Spearman rho", "zeroline": True})

    def png(mfig) -> None:
        ax = mfig.subplots()
        ax.barh(list(corr.index), corr["rho"].astype(float), color=colors)
        ax.axvline(0, color="#333", linewidth=1)
        ax.set_xlabel("Spearman rho with loss")
        ax.tick_params(axis="y", labelsize=8)
        mfig.suptitle("Spearman correlation with loss")

    return Plot("correlations", "Spearman correlations", fig, png)


def _epoch_ends(batches: pd.DataFrame) -> list[float]:
    if "epoch" not in batches or "step" not in batches:
        return []
    return batches.groupby("epoch")["step"].max().sort_index().astype(float).tolist()


def training_plot(curves: dict[str, dict[str, pd.DataFrame]]) -> Plot | None:
    """Loss and accuracy against batch (raw faint, smoothed bold) per model; validation per epoch
    as markers at each epoch's last batch."""
    curves = {m: c for m, c in curves.items() if c and "batches" in c}
    if not curves:
        return None
    go = _go()
    from plotly.subplots import make_subplots

    fig = make_subplots(rows=1, cols=2, subplot_titles=("loss", "accuracy"))
    palette = iter(CATEGORY_COLORS)
    for model, c in curves.items():
        color = next(palette)
        b = c["batches"]
        for col, metric in ((1, "loss"), (2, "accuracy")):
            if metric not in b:
                continue
            fig.add_trace(go.Scatter(x=b["step"].tolist(), y=_none_nan(_finite(b[metric])), mode="lines",
                                     line={"color": color, "width": 1}, opacity=0.25, showlegend=False,
                                     name=f"{ptext(model)} {metric} per batch", hoverinfo="skip"), 1, col)
            smooth = f"{metric}_smooth"
            if smooth in b:
                fig.add_trace(go.Scatter(x=b["step"].tolist(), y=_none_nan(_finite(b[smooth])), mode="lines",
                                         line={"color": color, "width": 2}, name=f"{ptext(model)} (smoothed)",
                                         showlegend=col == 1), 1, col)
            h = c.get("history")
            ends = _epoch_ends(b)
            val = f"val_{metric}"
            if h is not None and val in h and ends:
                n = min(len(ends), len(h))
                fig.add_trace(go.Scatter(x=ends[:n], y=_none_nan(_finite(h[val])[:n]), mode="markers+lines",
                                         marker={"color": color, "symbol": "diamond", "size": 8},
                                         line={"color": color, "dash": "dot"},
                                         name=f"{ptext(model)} validation (per epoch)", showlegend=col == 1), 1, col)
    fig.update_xaxes(title_text="batch")
    _layout(fig, "Training curves", height=420)

    def png(mfig) -> None:
        axes = mfig.subplots(1, 2)
        for i, (model, c) in enumerate(curves.items()):
            color = CATEGORY_COLORS[i % len(CATEGORY_COLORS)]
            b = c["batches"]
            for ax, metric in zip(axes, ("loss", "accuracy")):
                if metric not in b:
                    continue
                ax.plot(b["step"], b[metric], color=color, alpha=0.2, linewidth=0.7)
                if f"{metric}_smooth" in b:
                    ax.plot(b["step"], b[f"{metric}_smooth"], color=color, linewidth=1.8, label=f"{model} (smoothed)")
                h, ends = c.get("history"), _epoch_ends(b)
                if h is not None and f"val_{metric}" in h and ends:
                    n = min(len(ends), len(h))
                    ax.plot(ends[:n], h[f"val_{metric}"][:n], "D:", color=color, label=f"{model} validation")
                ax.set_title(metric)
                ax.set_xlabel("batch")
        axes[0].legend(fontsize=8)
        mfig.suptitle("Training curves")

    return Plot("training_curves", "Training curves", fig, png)


def faithfulness_plot(summary: dict | None) -> Plot | None:
    rows = [r for r in (summary or {}).get("per_k", []) if r.get("mean_top_drop") is not None]
    if not rows:
        return None
    go = _go()
    ks = [f"k = {r['k']}" for r in rows]
    top = [float(r["mean_top_drop"]) for r in rows]
    rand = [float(r["mean_random_drop"]) for r in rows]
    fig = go.Figure([go.Bar(x=ks, y=top, name="top-k attributed removed", marker_color="#e45756"),
                     go.Bar(x=ks, y=rand, name="k random removed", marker_color="#9d9d9d")])
    _layout(fig, "Faithfulness: drop of p(predicted class)", height=360, barmode="group",
            yaxis={"title": "mean probability drop"})

    def png(mfig) -> None:
        ax = mfig.subplots()
        pos = np.arange(len(ks))
        ax.bar(pos - 0.2, top, 0.4, label="top-k attributed removed", color="#e45756")
        ax.bar(pos + 0.2, rand, 0.4, label="k random removed", color="#9d9d9d")
        ax.set_xticks(pos, ks)
        ax.set_ylabel("mean drop of p(predicted class)")
        ax.legend()
        mfig.suptitle("Faithfulness of the attributions")

    return Plot("faithfulness", "Faithfulness", fig, png)


def accuracy_plot(rows: list[dict]) -> Plot | None:
    """Accuracy and mean loss of each model and baseline on the analysed samples."""
    rows = [r for r in rows if r.get("accuracy") is not None]
    if not rows:
        return None
    go = _go()
    from plotly.subplots import make_subplots

    names = [ptext(r["name"]) for r in rows]
    colors = ["#4c78a8" if r["kind"] == "model" else "#bab0ac" for r in rows]
    fig = make_subplots(rows=1, cols=2, subplot_titles=("accuracy", "mean loss"))
    fig.add_trace(go.Bar(x=names, y=[r["accuracy"] for r in rows], marker_color=colors,
                         text=[f"{r['accuracy']:.3f}" for r in rows], textposition="auto"), 1, 1)
    fig.add_trace(go.Bar(x=names, y=[r.get("loss") for r in rows], marker_color=colors,
                         text=[fmt(r.get("loss"), 3) for r in rows], textposition="auto"), 1, 2)
    _layout(fig, "Models and baselines", height=340, showlegend=False)

    def png(mfig) -> None:
        ax_acc, ax_loss = mfig.subplots(1, 2)
        labels = [r["name"] for r in rows]
        ax_acc.bar(labels, [r["accuracy"] for r in rows], color=colors)
        ax_acc.set_ylim(0, 1)
        ax_acc.set_title("accuracy")
        ax_loss.bar(labels, [np.nan if r.get("loss") is None else r["loss"] for r in rows], color=colors)
        ax_loss.set_title("mean loss")
        mfig.suptitle("Models and baselines")

    return Plot("baselines", "Models and baselines", fig, png)


def agreement_plot(matrix: pd.DataFrame) -> Plot:
    go = _go()
    z = matrix.to_numpy().astype(int)
    fig = go.Figure(go.Heatmap(z=z.tolist(), x=[ptext(c) for c in matrix.columns], y=[ptext(i) for i in matrix.index],
                               text=[[f"{v:,}" for v in row] for row in z], texttemplate="%{text}",
                               colorscale="Blues", showscale=False,
                               hovertemplate="%{y} / %{x}: %{z:,}<extra></extra>"))
    _layout(fig, "Agreement matrix (reviews)", height=340, yaxis={"autorange": "reversed"})

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
    change = _finite(frame.get("loss_change", pd.Series(dtype=float)))
    change = change[np.isfinite(change)]
    if not len(change):
        return None
    go = _go()
    edges = np.histogram_bin_edges(np.clip(change, *np.percentile(change, [0.5, 99.5])), bins=60)
    counts, _ = np.histogram(np.clip(change, edges[0], edges[-1]), bins=edges)
    centers = (edges[:-1] + edges[1:]) / 2
    a, b = names
    fig = go.Figure(go.Bar(x=centers.tolist(), y=counts.tolist(), marker_color="#4c78a8",
                           hovertemplate="loss change %{x:.3f}: %{y:,} reviews<extra></extra>"))
    fig.add_vline(x=0, line_color="#333")
    _layout(fig, f"Per-sample loss change, {ptext(b)} − {ptext(a)} (left of 0: {ptext(b)} better)", height=360,
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
    go = _go()
    a, b = names
    rel = _finite(worst["relative_loss_change"]) * 100
    ids = [ptext(s) for s in worst["sample_id"].astype(str)]
    hover = [hover_snippet(t) for t in worst.get("snippet", pd.Series([""] * len(worst))).tolist()]
    fig = go.Figure(go.Bar(x=ids, y=_none_nan(rel), marker_color=["#54a24b" if v < 0 else "#e45756" for v in rel],
                           hovertext=hover, hovertemplate="%{x}: %{y:.0f}%<br>%{hovertext}<extra></extra>"))
    _layout(fig, f"{ptext(a)}'s worst failures: relative loss change under {ptext(b)}", height=380,
            yaxis={"title": "relative loss change (%)"}, xaxis={"type": "category", "tickangle": -45})

    def png(mfig) -> None:
        ax = mfig.subplots()
        ax.bar(range(len(rel)), rel, color=["#54a24b" if v < 0 else "#e45756" for v in rel])
        ax.set_xticks(range(len(rel)), worst["sample_id"].astype(str), rotation=60, ha="right", fontsize=6)
        ax.set_ylabel("relative loss change (%)")
        ax.axhline(0, color="#333")
        mfig.suptitle(f"{a}'s worst failures: relative loss change under {b}")

    return Plot("worst_failures", "Worst failures", fig, png)


def write_png(plot: Plot, path: Path) -> bool:
    """Draw `plot` with matplotlib's Agg canvas (no display, no browser); False if it has none."""
    if plot.png is None:
        return False
    from matplotlib.figure import Figure

    mfig = Figure(figsize=(12, 5), layout="constrained")
    plot.png(mfig)
    mfig.savefig(path, dpi=90)
    return True
