"""The dashboard's latent map: the reviews' 2-d projection as one scatter, and what colours it.

`population_plot` draws the map (a plotly scatter whose buttons recolour and resize it, and its
matplotlib PNG); `color_options` lists what it can be coloured by (ground truth, prediction,
cluster, any metadata field); `ground_truth` and `label_name` name the labels. Every untrusted
string (review text, sample ids, field names) goes through `ptext` or `hover_snippet` first.
"""
from __future__ import annotations

import functools
import math

import numpy as np
import pandas as pd

from IMDb.analysis.escape import fmt, hover_snippet, ptext
from IMDb.analysis.figures import CATEGORY_COLORS, Plot, finite, layout, none_nan, plotly
from IMDb.config.run import LABELS

MAX_MAP_POINTS = 6000  # an SVG scatter stays responsive up to a few thousand points (no WebGL needed)


def _sizes(values, low: float = 4.0, high: float = 16.0) -> np.ndarray:
    """Marker sizes from a non-negative quantity: square-root scaled into [low, high]."""
    v = np.sqrt(np.clip(np.nan_to_num(finite(values), nan=0.0), 0, None))
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
        v = finite(values)
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
    from IMDb.analysis.metadata_job import METADATA_TYPES

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
    return {"marker.color": [none_nan(v)], "marker.colorscale": ["Viridis"],
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
    go = plotly()
    keep = _map_sample(len(frame), max_points)
    sub = frame.iloc[keep]
    options = color_options(frame, clusters)
    first = "ground truth" if (frame["label"].notna().any() if "label" in frame else False) else "prediction"
    hover = _hover(sub, clusters, keep)
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
    layout(fig, f"Latent space ({method.upper()}), {shown}", height=660,
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

    return Plot("population", "Population exploration", fig,
                functools.partial(_population_png, frame=frame, xy=xy, options=options, first=first, method=method))


def _hover(sub: pd.DataFrame, clusters: np.ndarray | None, keep: np.ndarray) -> list[str]:
    """Each drawn point's hover text: its id, truth, prediction, p+, loss, cluster and a snippet."""
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
    return hover


def _population_png(mfig, *, frame: pd.DataFrame, xy: np.ndarray, options: dict, first: str, method: str) -> None:
    """The latent map's PNG: coloured by `first` and by cluster (or loss), every point sized by loss."""
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


def label_name(value) -> str:
    """A label value's name ("unlabeled" when missing)."""
    return "unlabeled" if value is None or pd.isna(value) else LABELS[int(value)]
