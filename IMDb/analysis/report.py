"""The analysis output folder: one self-contained dashboard, a PNG per plot, the data and a summary.

Layout of the folder `write_report` makes (written into a temp folder beside it, then renamed, so a
reader never sees half a report)::

    dashboard.html       every section below, plotly.js inlined once: opens offline, no CDN or fonts
    plots/<key>.png      one PNG per dashboard plot, drawn by matplotlib (no browser needed)
    table.parquet        the per-sample table (`AnalysisTable.save`; comparison: one per model and
                         comparison.parquet)
    summary.json         every figure, verdict, insight and stage timing of the run
    projector/           TensorBoard Embedding Projector export: vectors.tsv, metadata.tsv (header
                         row), projector_config.pbtxt (`tensorboard --logdir projector`)

The sections mirror Tensorleap's views: summary, population exploration, clusters and insights,
sample analysis, data exploration, training curves, label errors and, from `imdb-leap compare`, the
model comparison.

Review text is untrusted input. Every string that reaches HTML goes through `html.escape`; figure
data sits in ``<script type="application/json">`` blocks with ``<``, ``>`` and ``&`` written as
``\\u003c`` etc. (`script_json`), so no review can close the block; a Content-Security-Policy with a
per-report nonce blocks every script but ours and every network request, as a second line of defence.
"""
from __future__ import annotations

import html
import json
import math
import secrets
import textwrap
import time
from collections.abc import Callable, Sequence
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

import numpy as np
import pandas as pd

from IMDb.config import LABELS
from IMDb.io import atomic_dir

MAX_MAP_POINTS = 6000  # an SVG scatter stays responsive up to a few thousand points (no WebGL needed)
SNIPPET_CHARS = 220
MAX_INSIGHTS = 30  # shown in the page; summary.json holds them all
PROJECTOR_FIELDS = ("label_name", "prediction", "correct", "loss", "p_positive", "cluster",
                    "length_words", "oov_count", "oov_ratio", "textblob_polarity",
                    "textblob_subjectivity", "rating_stars")
CATEGORY_COLORS = ("#1f77b4", "#d62728", "#2ca02c", "#ff7f0e", "#9467bd", "#8c564b", "#e377c2",
                   "#7f7f7f", "#bcbd22", "#17becf", "#393b79", "#637939", "#8c6d31", "#843c39",
                   "#7b4173", "#3182bd", "#e6550d", "#31a354", "#756bb1", "#636363")
POSITIVE_RGB, NEGATIVE_RGB = (26, 150, 65), (215, 48, 39)


@dataclass
class ReportInputs:
    """Everything one report shows; a section whose inputs are missing is left out.

    `tables` maps a model name to its `AnalysisTable` (analyze: one; compare: two). `frame` is the
    table the population, cluster and exploration sections read (analyze: the table's frame).
    `curves` maps a model name to `exploration.training_curves`' dict. `timings` holds one dict per
    stage (stage, seconds, peak_rss_mib); `started` (time.perf_counter at the start of the run) lets
    the summary record the total wall time including the report itself.
    """

    model: str
    state: str
    tables: dict[str, Any] = field(default_factory=dict)
    frame: pd.DataFrame | None = None
    cards: dict[str, dict] = field(default_factory=dict)
    settings: dict[str, Any] = field(default_factory=dict)
    projection: np.ndarray | None = None
    clusters: np.ndarray | None = None
    cluster_summary: pd.DataFrame | None = None
    insights: list[dict] = field(default_factory=list)
    binned: dict[str, pd.DataFrame] = field(default_factory=dict)
    correlations: pd.DataFrame | None = None
    claims: list[dict] = field(default_factory=list)
    explanations: list[dict] = field(default_factory=list)
    faithfulness: dict | None = None
    curves: dict[str, dict[str, pd.DataFrame]] = field(default_factory=dict)
    label_errors: pd.DataFrame | None = None
    comparison: dict | None = None
    timings: list[dict] = field(default_factory=list)
    started: float | None = None
    notes: list[str] = field(default_factory=list)


# --------------------------------------------------------------------------- escaping and JSON


def esc(value: Any) -> str:
    """Text for HTML (element content or a quoted attribute): every value goes through here."""
    return html.escape("" if value is None else str(value), quote=True)


_SCRIPT_SAFE = str.maketrans({"<": "\\u003c", ">": "\\u003e", "&": "\\u0026",
                              "\u2028": "\\u2028", "\u2029": "\\u2029"})


def ptext(value: Any) -> str:
    """Text for a plotly label (title, tick, hover, button): `<`, `>`, `&` escaped. Plotly splits a
    label on its own few tags before decoding entities, so escaped text shows literally; it does
    not decode ``&quot;``, hence quotes stay as they are (a label is never an HTML attribute)."""
    return html.escape("" if value is None else str(value), quote=False)


def script_json(text: str) -> str:
    """JSON text made safe inside a ``<script>`` element: ``<``, ``>``, ``&`` (and the JS line
    separators) only occur inside JSON strings, where their \\u escapes mean the same characters, so
    a review holding ``</script>`` can neither end the element nor open a comment."""
    return text.translate(_SCRIPT_SAFE)


def jsonable(obj: Any) -> Any:
    """Plain JSON values: numpy and pandas scalars unwrapped, NaN/inf -> None, frames -> records."""
    if obj is None or isinstance(obj, (str, bool)):
        return obj
    if isinstance(obj, (np.bool_,)):
        return bool(obj)
    if isinstance(obj, (int, np.integer)):
        return int(obj)
    if isinstance(obj, (float, np.floating)):
        return float(obj) if math.isfinite(float(obj)) else None
    if isinstance(obj, dict):
        return {str(k): jsonable(v) for k, v in obj.items()}
    if isinstance(obj, (list, tuple, set)):
        return [jsonable(v) for v in obj]
    if isinstance(obj, np.ndarray):
        return [jsonable(v) for v in obj.tolist()]
    if isinstance(obj, pd.DataFrame):
        frame = obj.reset_index() if obj.index.name is not None else obj
        return [jsonable(r) for r in frame.to_dict("records")]
    if isinstance(obj, pd.Series):
        return jsonable(obj.to_dict())
    if isinstance(obj, Path):
        return str(obj)
    if obj is pd.NA or obj is pd.NaT:
        return None
    if hasattr(obj, "item"):
        return jsonable(obj.item())
    return str(obj)


def dumps(obj: Any, indent: int | None = None) -> str:
    """Strict JSON (no NaN tokens) of `jsonable(obj)`."""
    return json.dumps(jsonable(obj), indent=indent, allow_nan=False, ensure_ascii=False)


def snippet(text: Any, chars: int = SNIPPET_CHARS) -> str:
    """The start of a review, whitespace collapsed (raw: escape it where it is shown)."""
    text = " ".join(str(text or "").split())
    return text if len(text) <= chars else text[: chars - 1].rstrip() + "…"


def hover_snippet(text: Any, chars: int = 160, width: int = 60) -> str:
    """An escaped snippet wrapped with ``<br>`` for a plotly hover label. The raw text is wrapped
    first and each line escaped, so no entity is cut; plotly splits the label on its own tags
    before decoding entities, so an escaped ``<script>`` shows as text."""
    return "<br>".join(ptext(line) for line in textwrap.wrap(snippet(text, chars), width) or [""])


def fmt(value: Any, digits: int = 4) -> str:
    """A number as a person reads it (escaped text); '–' when missing."""
    if value is None or (isinstance(value, float) and not math.isfinite(value)):
        return "–"
    if isinstance(value, (bool, np.bool_)):
        return "yes" if value else "no"
    if isinstance(value, (int, np.integer)):
        return f"{int(value):,}"
    if isinstance(value, (float, np.floating)):
        v = float(value)
        if not math.isfinite(v):
            return "–"
        if v != 0 and (abs(v) < 1e-3 or abs(v) >= 1e6):
            return f"{v:.{digits - 1}e}"
        return f"{v:.{digits}g}"
    return esc(value)


def html_table(frame: pd.DataFrame | list[dict], columns: Sequence[str] | None = None,
               headers: dict[str, str] | None = None, formats: dict[str, Callable] | None = None,
               limit: int | None = None, css: str = "") -> str:
    """An HTML table with every header and cell escaped (`fmt` for numbers, `esc` for text)."""
    frame = pd.DataFrame(frame) if not isinstance(frame, pd.DataFrame) else frame
    columns = [c for c in (columns or list(frame.columns)) if c in frame.columns]
    headers, formats = headers or {}, formats or {}
    rows = frame.head(limit) if limit else frame
    head = "".join(f"<th>{esc(headers.get(c, c))}</th>" for c in columns)
    body = []
    for record in rows[columns].itertuples(index=False, name=None):
        cells = []
        for c, v in zip(columns, record):
            text = formats[c](v) if c in formats else fmt(v) if not isinstance(v, str) else esc(v)
            num = isinstance(v, (int, float, np.integer, np.floating)) and not isinstance(v, bool)
            cells.append(f'<td class="num">{text}</td>' if num else f"<td>{text}</td>")
        body.append("<tr>" + "".join(cells) + "</tr>")
    if not body:
        return '<p class="muted">none</p>'
    return (f'<div class="table-wrap"><table class="{esc(css)}"><thead><tr>{head}</tr></thead>'
            f'<tbody>{"".join(body)}</tbody></table></div>')


# --------------------------------------------------------------------------- plots


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


def _ground_truth(frame: pd.DataFrame) -> pd.Series:
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

    categorical("ground truth", _ground_truth(frame))
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
                 f"truth {ptext(_label_name(getattr(row, 'label', np.nan)))} · predicted "
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


def _label_name(value) -> str:
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


# --------------------------------------------------------------------------- sections


def _stats(frame: pd.DataFrame) -> dict:
    labeled = frame[frame["label"].notna()] if "label" in frame else frame.iloc[:0]
    return {"n": int(len(frame)), "n_labeled": int(len(labeled)),
            "accuracy": float(labeled["correct"].astype(float).mean()) if len(labeled) else None,
            "loss": float(labeled["loss"].mean()) if len(labeled) else None,
            "positive_predictions": float((frame["prediction"] == 1).mean()) if len(frame) else None}


def model_rows(inputs: ReportInputs) -> list[dict]:
    """Accuracy and mean loss of each model and each baseline over the labeled samples."""
    rows = []
    for name, table in inputs.tables.items():
        stats = _stats(table.frame)
        rows.append({"name": name, "kind": "model", **stats})
    first = next(iter(inputs.tables.values()), None)
    frame = first.frame if first is not None else inputs.frame
    if frame is None:
        return rows
    labeled = frame[frame["label"].notna()] if "label" in frame else frame.iloc[:0]
    for baseline in ("textblob", "tfidf"):
        p_col, l_col = f"baseline_{baseline}_p_positive", f"baseline_{baseline}_loss"
        if p_col not in frame or not len(labeled):
            continue
        right = (labeled[p_col].to_numpy() >= 0.5).astype(int) == labeled["label"].to_numpy().astype(int)
        rows.append({"name": {"textblob": "TextBlob polarity", "tfidf": "TF-IDF + logistic regression"}[baseline],
                     "kind": "baseline", "n": int(len(frame)), "n_labeled": int(len(labeled)),
                     "accuracy": float(right.mean()), "loss": float(labeled[l_col].mean())})
    return rows


def _kv(pairs: Sequence[tuple[str, Any]]) -> str:
    return "<dl class=\"kv\">" + "".join(f"<dt>{esc(k)}</dt><dd>{v}</dd>" for k, v in pairs) + "</dl>"


def summary_section(inputs: ReportInputs, rows: list[dict], plots: list[Plot]) -> str:
    parts = []
    for name, table in inputs.tables.items():
        card = inputs.cards.get(name, {})
        s = _stats(table.frame)
        config = card.get("config", {})
        pairs = [("model", esc(name)), ("state", esc(inputs.state)), ("samples", fmt(s["n"])),
                 ("labeled", fmt(s["n_labeled"])), ("accuracy", fmt(s["accuracy"])),
                 ("mean loss", fmt(s["loss"])), ("predicted positive", fmt(s["positive_predictions"])),
                 ("latent dimensions", fmt(int(table.latent.shape[1])))]
        if config:
            pairs.append(("sequence length / vocabulary",
                          f"{fmt(config.get('seq_len'))} / {fmt(config.get('vocab_size'))}"))
        figures = card.get("figures", {}).get(inputs.state)
        if figures:
            pairs.append(("model card, this state", f"accuracy {fmt(figures.get('accuracy'))}, loss "
                                                    f"{fmt(figures.get('loss'))}, n {fmt(figures.get('samples'))}"))
        parts.append(f"<div class=\"card\"><h3>{esc(name)}</h3>{_kv(pairs)}</div>")
    settings = "".join(f"<li><code>{esc(k)}</code> = {esc(v)}</li>" for k, v in inputs.settings.items())
    html_rows = html_table(rows, ["name", "kind", "n_labeled", "accuracy", "loss"],
                           {"n_labeled": "labeled samples", "loss": "mean loss"})
    plot = accuracy_plot(rows)
    timing = html_table(inputs.timings, ["stage", "seconds", "peak_rss_mib"],
                        {"peak_rss_mib": "peak RSS (MiB)"}) if inputs.timings else ""
    notes = "".join(f"<li>{esc(n)}</li>" for n in inputs.notes)
    return (f"<div class=\"cards\">{''.join(parts)}</div>"
            f"<h3>Models and baselines (same samples)</h3>{html_rows}{_plot_div(plot, plots)}"
            + (f"<h3>Notes</h3><ul>{notes}</ul>" if notes else "")
            + (f"<details><summary>Settings and stage timings</summary><ul>{settings}</ul>{timing}</details>"))


def _plot_div(plot: Plot | None, plots: list[Plot]) -> str:
    """A placeholder the page's render script fills from the plot's JSON block."""
    if plot is None:
        return ""
    plots.append(plot)
    return (f'<figure class="plot-figure"><div class="plot" id="plot-{esc(plot.key)}" '
            f'data-figure="figure-{esc(plot.key)}"></div><figcaption><a href="plots/{esc(plot.key)}.png">'
            f'PNG</a></figcaption></figure>')


def population_section(inputs: ReportInputs, plots: list[Plot]) -> str:
    frame = inputs.frame
    if frame is None or inputs.projection is None:
        return ""
    method = str(inputs.settings.get("projection", "projection"))
    plot = population_plot(frame, np.asarray(inputs.projection), inputs.clusters, method)
    return ("<p>Each point is a review, placed by the model's latent layer. The menus colour the map "
            "by ground truth, prediction, cluster or any metadata field and size it by loss or OOV "
            "count; hover a point for its review.</p>" + _plot_div(plot, plots))


def _population_loss(frame: pd.DataFrame | None) -> float | None:
    if frame is None or "loss" not in frame or not frame["loss"].notna().any():
        return None
    return float(frame["loss"].mean())


def clusters_section(inputs: ReportInputs, plots: list[Plot]) -> str:
    if inputs.cluster_summary is None and not inputs.insights:
        return ""
    out = []
    if inputs.cluster_summary is not None:
        summary = inputs.cluster_summary.reset_index() if inputs.cluster_summary.index.name else inputs.cluster_summary
        out.append(_plot_div(cluster_plot(summary, _population_loss(inputs.frame)), plots))
        out.append("<h3>Per cluster</h3>" + html_table(summary))
    out.append(f"<h3>Ranked insights ({len(inputs.insights)})</h3>")
    if inputs.insights:
        items = []
        for ins in inputs.insights[:MAX_INSIGHTS]:
            stat = ins.get("statistic")
            if isinstance(stat, dict):
                stat_text = ", ".join(f"{esc(k)} {fmt(v)}" for k, v in stat.items())
            else:
                stat_text = f"{esc(stat)} {fmt(ins.get('statistic_value', ins.get('value')))}"
            effect = ins.get("effect_size")
            effect_text = (", ".join(f"{esc(k)} {fmt(v)}" for k, v in effect.items()) if isinstance(effect, dict)
                           else f"{esc(ins.get('effect_size_name', 'effect size'))} {fmt(effect)}")
            rest = (f" vs rest {fmt(ins.get('rest_mean_loss'))}" if ins.get("rest_mean_loss") is not None else "")
            adjusted = f", Holm-adjusted p {fmt(ins.get('p_adjusted'))}" if ins.get("p_adjusted") is not None else ""
            items.append(
                f"<li><span class=\"tag\">{esc(ins.get('kind', ''))}</span> <b>{esc(ins.get('description', ''))}</b>"
                f"<br><span class=\"muted\">n = {fmt(ins.get('n'))}; mean loss {fmt(ins.get('mean_loss'))}{rest} "
                f"(population {fmt(ins.get('population_mean_loss'))}); {stat_text}; p = {fmt(ins.get('p_value'))}"
                f"{adjusted}; {effect_text}</span></li>")
        out.append(f"<ol class=\"insights\">{''.join(items)}</ol>")
        if len(inputs.insights) > MAX_INSIGHTS:
            out.append(f"<p class=\"muted\">{len(inputs.insights) - MAX_INSIGHTS} more in summary.json.</p>")
    else:
        out.append("<p class=\"muted\">No cluster or metadata range has a loss significantly above the "
                   "population's.</p>")
    return "".join(out)


def heat_spans(words: Sequence[str], scores: Sequence[float], oov: Sequence[bool] | None = None) -> str:
    """Words as coloured spans: green pushes toward the output, red against; opacity ~ |score| over
    the review's largest. Every word is escaped; the score sits in the title (a number)."""
    scores = np.asarray(scores, dtype=float)
    top = float(np.nanmax(np.abs(scores))) if len(scores) else 0.0
    spans = []
    for i, (word, score) in enumerate(zip(words, scores)):
        alpha = 0.0 if not top or not math.isfinite(score) else min(1.0, abs(score) / top) * 0.85
        rgb = POSITIVE_RGB if score >= 0 else NEGATIVE_RGB
        cls = "w oov" if oov is not None and i < len(oov) and oov[i] else "w"
        spans.append(f'<span class="{cls}" style="background:rgba({rgb[0]},{rgb[1]},{rgb[2]},{alpha:.3f})" '
                     f'title="{score:+.4f}">{esc(word)}</span>')
    return "<div class=\"heat\">" + " ".join(spans) + "</div>"


def samples_section(inputs: ReportInputs, plots: list[Plot]) -> str:
    if not inputs.explanations:
        return ""
    texts = {}
    if inputs.frame is not None and "sample_id" in inputs.frame:
        ids = {e.get("sample_id") for e in inputs.explanations}
        sub = inputs.frame[inputs.frame["sample_id"].isin(ids)]
        texts = dict(zip(sub["sample_id"], sub["text"]))
    out = ["<p>Per-token integrated gradients on the embedding layer (green: pushes toward that output, "
           "red: against; hover a word for its value; underlined words are out of vocabulary), the "
           "top n-grams by occlusion (Δ = p(positive) with the phrase minus without it) and the "
           "faithfulness check of each review.</p>"]
    if inputs.faithfulness:
        f = inputs.faithfulness
        out.append(f"<p><b>Faithfulness over {fmt(f.get('n_samples'))} reviews:</b> pass rate "
                   f"{fmt(f.get('pass_rate'))}; passed: {fmt(f.get('passed'))}.</p>")
        out.append(html_table(f.get("per_k", []), ["k", "n", "mean_top_drop", "mean_random_drop", "ratio",
                                                   "pass_rate"]))
        out.append(_plot_div(faithfulness_plot(f), plots))
    for e in inputs.explanations:
        label = e.get("label")
        head = (f"{esc(e.get('sample_id') or '')} <span class=\"tag\">{esc(e.get('kind') or '')}</span> "
                f"truth {esc(_label_name(label))}, predicted {esc(LABELS[int(e['prediction'])])}, "
                f"p(positive) {fmt(e.get('p_positive'), 3)}, loss {fmt(e.get('loss'), 3)}")
        words, oov = e.get("words", []), e.get("oov")
        completeness = e.get("completeness", {})
        comp = "; ".join(f"{esc(k)}: Σ attributions {fmt(v.get('sum'), 3)} vs Δf {fmt(v.get('delta'), 3)}"
                         for k, v in completeness.items())
        ngrams = html_table(e.get("ngrams", []), ["words", "length", "delta", "interaction", "p_positive"],
                            {"delta": "Δ p(positive)", "p_positive": "p(positive) without"})
        faith = e.get("faithfulness") or {}
        faith_text = "; ".join(f"k={fmt(r.get('k'))}: top drop {fmt(r.get('top_drop'), 3)} vs random "
                               f"{fmt(r.get('random_drop'), 3)}" for r in faith.get("per_k", []))
        text = texts.get(e.get("sample_id"))
        out.append(
            f"<article class=\"sample\"><h3>{head}</h3>"
            + (f"<p class=\"review\">{esc(snippet(text, 600))}</p>" if text is not None else "")
            + f"<h4>What drove the positive output</h4>{heat_spans(words, e.get('ig_positive', []), oov)}"
            + f"<h4>What drove the negative output</h4>{heat_spans(words, e.get('ig_negative', []), oov)}"
            + f"<p class=\"muted\">Completeness: {comp}. "
            + ("Truncated to the model input. " if e.get("truncated") else "")
            + f"Faithfulness ({esc(faith.get('target', ''))}): {faith_text}; passed: {fmt(faith.get('passed'))}.</p>"
            + f"<details><summary>Top n-grams by occlusion</summary>{ngrams}</details></article>")
    return "".join(out)


def exploration_section(inputs: ReportInputs, plots: list[Plot]) -> str:
    if not inputs.binned and inputs.correlations is None and not inputs.claims:
        return ""
    out = []
    if inputs.claims:
        out.append("<h3>The seeds' five claims, measured here</h3>")
        out.append(html_table(inputs.claims, ["claim", "verdict", "field", "transform", "statistic", "value",
                                              "p_value", "n", "reason"],
                              formats={"verdict": lambda v: f'<span class="verdict {esc(str(v).replace(" ", "-"))}">'
                                                            f'{esc(v)}</span>'}))
    out.append(_plot_div(metadata_loss_plot(inputs.binned, _population_loss(inputs.frame)), plots))
    if inputs.correlations is not None and not inputs.correlations.empty:
        corr = inputs.correlations.reset_index() if inputs.correlations.index.name else inputs.correlations
        out.append(_plot_div(correlation_plot(inputs.correlations), plots))
        out.append("<details><summary>Spearman table</summary>" + html_table(corr) + "</details>")
    if inputs.binned:
        tables = "".join(f"<h4>{esc(name)}</h4>" + html_table(b) for name, b in inputs.binned.items())
        out.append(f"<details><summary>Binned mean loss per field</summary>{tables}</details>")
    return "".join(out)


def training_section(inputs: ReportInputs, plots: list[Plot]) -> str:
    plot = training_plot(inputs.curves)
    if plot is None:
        return ""
    return _plot_div(plot, plots)


def label_errors_section(inputs: ReportInputs) -> str:
    errors = inputs.label_errors
    if errors is None:
        return ""
    attrs = errors.attrs
    thresholds = attrs.get("thresholds", {})
    head = (f"<p><b>{fmt(attrs.get('count', len(errors)))}</b> likely label errors among "
            f"{fmt(attrs.get('n_labeled'))} labeled reviews (share {fmt(attrs.get('share'))}); per-class "
            f"thresholds (mean self-confidence): "
            + ", ".join(f"{esc(k)} {fmt(v, 3)}" for k, v in thresholds.items())
            + ". For scale: about 2.9% of IMDb's test split are confirmed label errors.</p>")
    return head + html_table(errors, ["rank", "sample_id", "label", "suggested_label", "p_given_label",
                                      "p_suggested", "margin", "snippet"], limit=100)


def comparison_section(inputs: ReportInputs, plots: list[Plot]) -> str:
    comp = inputs.comparison
    if not comp:
        return ""
    s = comp.get("summary", {})
    names = s.get("names", ["a", "b"])
    a, b = names
    pairs = [(k.replace("_", " "), fmt(v)) for k, v in s.items() if k != "names"]
    cols = ["sample_id", "label", f"loss_{a}", f"loss_{b}", "loss_change", "relative_loss_change", "snippet"]
    out = [_kv(pairs), _plot_div(agreement_plot(comp["agreement"]), plots)] if "agreement" in comp else [_kv(pairs)]
    out.append(_plot_div(loss_change_plot(comp.get("frame", pd.DataFrame()), names), plots))
    worst = comp.get("worst_failures")
    out.append(_plot_div(worst_failures_plot(worst, names), plots))
    if worst is not None:
        out.append(f"<h3>{esc(a)}'s worst failures under {esc(b)}</h3>" + html_table(worst, cols + [f"correct_{b}"]))
    for key, title in (("b_right_a_wrong", f"{b} right, {a} wrong"), ("a_right_b_wrong", f"{a} right, {b} wrong")):
        frame = comp.get(key)
        if frame is not None:
            out.append(f"<details><summary>{esc(title)} ({fmt(len(frame))})</summary>"
                       + html_table(frame, cols, limit=50) + "</details>")
    return "".join(out)


# --------------------------------------------------------------------------- the page

CSS = """
:root{--fg:#1d232a;--muted:#5b6570;--line:#dde2e7;--bg:#f6f8fa;--accent:#2f6fb0}
*{box-sizing:border-box}
body{margin:0;font:14px/1.5 system-ui,-apple-system,"Segoe UI",Roboto,"Helvetica Neue",Arial,sans-serif;color:var(--fg);background:#fff}
header{padding:18px 28px;background:var(--bg);border-bottom:1px solid var(--line)}
header h1{margin:0;font-size:22px}
nav{position:sticky;top:0;z-index:5;background:#fff;border-bottom:1px solid var(--line);padding:8px 28px;display:flex;flex-wrap:wrap;gap:14px}
nav a{color:var(--accent);text-decoration:none;font-weight:500}
main{padding:8px 28px 60px;max-width:1400px}
section{border-bottom:1px solid var(--line);padding:10px 0 26px}
h2{font-size:19px;margin:18px 0 8px}h3{font-size:15px;margin:16px 0 6px}h4{font-size:13px;margin:10px 0 4px;color:var(--muted)}
.muted{color:var(--muted)}
.cards{display:flex;flex-wrap:wrap;gap:16px}.card{border:1px solid var(--line);border-radius:8px;padding:8px 16px;min-width:280px}
dl.kv{display:grid;grid-template-columns:max-content auto;gap:2px 14px;margin:6px 0}dl.kv dt{color:var(--muted)}dl.kv dd{margin:0}
.table-wrap{overflow-x:auto;max-height:520px;overflow-y:auto;margin:6px 0}
table{border-collapse:collapse;font-size:12.5px}th,td{border-bottom:1px solid var(--line);padding:4px 8px;text-align:left;vertical-align:top}
th{background:var(--bg);position:sticky;top:0}td.num{text-align:right;font-variant-numeric:tabular-nums}
td{max-width:560px;overflow-wrap:anywhere}
.plot-figure{margin:8px 0}.plot{min-height:300px;width:100%}figcaption{font-size:11px;text-align:right}
.heat{line-height:1.9;border:1px solid var(--line);border-radius:6px;padding:8px 10px;max-height:260px;overflow-y:auto}
.w{padding:1px 2px;border-radius:3px}.w.oov{text-decoration:underline dotted}
.review{background:var(--bg);padding:8px 10px;border-radius:6px;font-size:13px;overflow-wrap:anywhere}
.sample{border-top:1px dashed var(--line);margin-top:14px}
.tag{display:inline-block;background:#e8eef6;color:#234;border-radius:10px;padding:0 8px;font-size:11px}
.verdict{font-weight:600}.verdict.supported{color:#1a7f37}.verdict.contradicted{color:#b42318}.verdict.no-evidence{color:var(--muted)}
ol.insights li{margin-bottom:6px}
#render-status{font-size:12px;color:var(--muted)}#render-errors{color:#b42318;white-space:pre-wrap}
"""

RENDER_JS = """
(function () {
  var status = document.getElementById("render-status");
  var errors = document.getElementById("render-errors");
  function fail(where, e) {
    var msg = where + ": " + (e && e.message ? e.message : e);
    errors.textContent += msg + "\\n";
    console.error("dashboard render error: " + msg);
  }
  if (typeof Plotly === "undefined") { fail("plotly.js", "not loaded"); document.body.setAttribute("data-render", "failed"); return; }
  var divs = Array.prototype.slice.call(document.querySelectorAll("div.plot"));
  var jobs = divs.map(function (div) {
    try {
      var fig = JSON.parse(document.getElementById(div.getAttribute("data-figure")).textContent);
      var config = {responsive: true, displaylogo: false, toImageButtonOptions: {format: "png", scale: 2}};
      return Plotly.newPlot(div, fig.data, fig.layout, config).then(function () { return true; },
        function (e) { fail(div.id, e); return false; });
    } catch (e) { fail(div.id, e); return Promise.resolve(false); }
  });
  Promise.all(jobs).then(function (ok) {
    var n = ok.filter(Boolean).length;
    status.textContent = n + " of " + divs.length + " plots rendered";
    document.body.setAttribute("data-plots-rendered", String(n));
    document.body.setAttribute("data-render", n === divs.length ? "done" : "failed");
  });
})();
"""


def render_html(inputs: ReportInputs, plotly_js: str | None = None) -> tuple[str, list[Plot]]:
    """The dashboard page and the plots it shows (for their PNGs)."""
    plots: list[Plot] = []
    rows = model_rows(inputs)
    sections = [
        ("summary", "Summary", summary_section(inputs, rows, plots)),
        ("population", "Population exploration", population_section(inputs, plots)),
        ("clusters", "Clusters and insights", clusters_section(inputs, plots)),
        ("samples", "Sample analysis", samples_section(inputs, plots)),
        ("exploration", "Data exploration", exploration_section(inputs, plots)),
        ("training", "Training curves", training_section(inputs, plots)),
        ("label-errors", "Likely label errors", label_errors_section(inputs)),
        ("comparison", "Model comparison", comparison_section(inputs, plots)),
    ]
    sections = [s for s in sections if s[2]]
    if plotly_js is None:
        from plotly.offline import get_plotlyjs

        plotly_js = get_plotlyjs()
    if "</script" in plotly_js.lower():
        raise ValueError("the plotly.js bundle holds '</script': it cannot be inlined safely")
    import plotly.io as pio

    nonce = secrets.token_urlsafe(18)
    blocks = []
    for plot in plots:
        spec = json.loads(pio.to_json(plot.figure, validate=False, engine="json"))
        data = json.dumps({"data": spec.get("data", []), "layout": spec.get("layout", {})},
                          allow_nan=False, separators=(",", ":"), ensure_ascii=False)
        blocks.append(f'<script type="application/json" id="figure-{esc(plot.key)}">{script_json(data)}</script>')
    title = f"{inputs.model} · {inputs.state}"
    csp = (f"default-src 'none'; script-src 'nonce-{nonce}'; style-src 'unsafe-inline'; "
           f"img-src data: blob:; font-src data:; connect-src 'none'; base-uri 'none'; form-action 'none'")
    nav = "".join(f'<a href="#{sid}">{esc(name)}</a>' for sid, name, _ in sections)
    body = "".join(f'<section id="{sid}"><h2>{esc(name)}</h2>{content}</section>' for sid, name, content in sections)
    page = f"""<!DOCTYPE html>
<html lang="en"><head><meta charset="utf-8">
<meta http-equiv="Content-Security-Policy" content="{esc(csp)}">
<meta name="viewport" content="width=device-width, initial-scale=1">
<title>imdb-leap analysis: {esc(title)}</title>
<style>{CSS}</style>
<script nonce="{nonce}">{plotly_js}</script>
</head><body data-render="pending">
<header><h1>imdb-leap analysis: {esc(title)}</h1>
<div class="muted">generated {esc(time.strftime('%Y-%m-%d %H:%M:%S'))}; works offline;
<span id="render-status">rendering plots…</span></div>
<div id="render-errors"></div></header>
<nav>{nav}</nav>
<main>{body}</main>
{''.join(blocks)}
<script nonce="{nonce}">{RENDER_JS}</script>
</body></html>
"""
    return page, plots


# --------------------------------------------------------------------------- projector export


def _tsv_cell(value: Any) -> str:
    if value is None or (isinstance(value, float) and not math.isfinite(value)):
        return ""
    if isinstance(value, (float, np.floating)):
        return f"{float(value):.5g}"
    return " ".join(str(value).replace("\t", " ").split())


def write_projector(folder: Path, tables: dict[str, Any], clusters: np.ndarray | None = None) -> list[str]:
    """TensorBoard Embedding Projector files: per model vectors (TSV, no header) and metadata (TSV
    with a header row, one line per vector), and the config that names them. Returns file names."""
    folder.mkdir(parents=True, exist_ok=True)
    config, files = [], []
    for name, table in tables.items():
        suffix = "" if len(tables) == 1 else f"_{name}"
        frame = table.frame.copy()
        frame["label_name"] = _ground_truth(frame)
        frame["prediction"] = frame["prediction"].map(lambda v: LABELS[int(v)])
        if clusters is not None and len(tables) == 1:
            frame["cluster"] = np.asarray(clusters)
        columns = ["sample_id"] + [c for c in PROJECTOR_FIELDS if c in frame]
        vectors, meta = f"vectors{suffix}.tsv", f"metadata{suffix}.tsv"
        np.savetxt(folder / vectors, table.latent, fmt="%.5g", delimiter="\t")
        lines = ["\t".join(columns + ["snippet"])]
        for record in frame[columns + ["text"]].itertuples(index=False, name=None):
            lines.append("\t".join([_tsv_cell(v) for v in record[:-1]] + [_tsv_cell(snippet(record[-1], 160))]))
        (folder / meta).write_text("\n".join(lines) + "\n", encoding="utf-8")
        config.append(f'embeddings {{\n  tensor_name: "{name}_latent"\n  tensor_path: "{vectors}"\n'
                      f'  metadata_path: "{meta}"\n}}\n')
        files += [vectors, meta]
    (folder / "projector_config.pbtxt").write_text("".join(config), encoding="utf-8")
    return files + ["projector_config.pbtxt"]


# --------------------------------------------------------------------------- summary and folder


def build_summary(inputs: ReportInputs, rows: list[dict], plots: list[Plot], files: list[str]) -> dict:
    """Everything the dashboard states, as JSON: figures, insights, verdicts, timings."""
    comp = inputs.comparison or {}
    errors = inputs.label_errors
    out = {
        "format": "imdb-leap/analysis-summary/1",
        "model": inputs.model, "state": inputs.state, "settings": inputs.settings,
        "generated": time.strftime("%Y-%m-%dT%H:%M:%S"),
        "models_and_baselines": rows,
        "clusters": inputs.cluster_summary, "insights": inputs.insights,
        "correlations": inputs.correlations, "seed_claims": inputs.claims,
        "metadata_vs_loss": inputs.binned,
        "attribution": {"faithfulness": inputs.faithfulness,
                        "samples": [{k: e.get(k) for k in ("sample_id", "kind", "label", "prediction", "p_positive",
                                                           "loss", "completeness", "faithfulness", "ngrams")}
                                    for e in inputs.explanations]},
        "label_errors": None if errors is None else {
            "count": errors.attrs.get("count", len(errors)), "n_labeled": errors.attrs.get("n_labeled"),
            "share": errors.attrs.get("share"), "thresholds": errors.attrs.get("thresholds"),
            "top": errors.drop(columns=["snippet"], errors="ignore").head(100)},
        "comparison": None if not comp else {
            "summary": comp.get("summary"),
            "agreement": comp["agreement"].to_dict(orient="split") if "agreement" in comp else None,
            "worst_failures": comp.get("worst_failures", pd.DataFrame()).drop(columns=["snippet"], errors="ignore")},
        "training": {m: {"history": c.get("history")} for m, c in inputs.curves.items()},
        "notes": inputs.notes, "plots": [p.key for p in plots], "files": sorted(files),
        "timings": {"stages": inputs.timings},
    }
    return out


def write_report(out_dir: str | Path, inputs: ReportInputs, *, plotly_js: str | None = None) -> Path:
    """Write the output folder (see the module docstring) atomically; returns its path.

    A stage timing named "report" is added to `inputs.timings` and, when `inputs.started` is set,
    the run's total wall time to the summary.
    """
    from IMDb.analysis.table import peak_rss_mib

    t0 = time.perf_counter()
    out = Path(out_dir).resolve()
    with atomic_dir(out) as tmp:
        files: list[str] = []
        page, plots = render_html(inputs, plotly_js)
        (tmp / "dashboard.html").write_text(page, encoding="utf-8")
        files.append("dashboard.html")
        (tmp / "plots").mkdir()
        for plot in plots:
            if write_png(plot, tmp / "plots" / f"{plot.key}.png"):
                files.append(f"plots/{plot.key}.png")
        if len(inputs.tables) == 1:
            next(iter(inputs.tables.values())).save(tmp / "table.parquet")
            files.append("table.parquet")
        else:
            for name, table in inputs.tables.items():
                table.save(tmp / f"table_{name}.parquet")
                files.append(f"table_{name}.parquet")
        if inputs.comparison and "frame" in inputs.comparison:
            inputs.comparison["frame"].to_parquet(tmp / "comparison.parquet", index=False)
            files.append("comparison.parquet")
        if inputs.tables:
            files += [f"projector/{f}" for f in write_projector(tmp / "projector", inputs.tables, inputs.clusters)]
        rows = model_rows(inputs)
        inputs.timings.append({"stage": "report", "seconds": round(time.perf_counter() - t0, 3),
                               "peak_rss_mib": round(peak_rss_mib(), 1)})
        summary = build_summary(inputs, rows, plots, files + ["summary.json"])
        if inputs.started is not None:
            summary["timings"]["total_seconds"] = round(time.perf_counter() - inputs.started, 3)
        summary["timings"]["peak_rss_mib"] = round(peak_rss_mib(), 1)
        (tmp / "summary.json").write_text(dumps(summary, indent=2), encoding="utf-8")
    return out
