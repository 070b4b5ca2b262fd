"""The dashboard's charts of numbers: losses, accuracies, correlations and curves.

Per cluster and per metadata bin (mean loss), Spearman correlations with loss, training curves,
faithfulness of the attributions, models against baselines (a comparison's own charts:
`IMDb.analysis.comparison_plots`). Each builder returns a `Plot` (or None
when its inputs are missing); every untrusted string goes through `ptext` or `hover_snippet` first.
"""
from __future__ import annotations

import math

import numpy as np
import pandas as pd

from IMDb.analysis.escape import fmt, ptext
from IMDb.analysis.figures import CATEGORY_COLORS, Plot, finite, layout, none_nan, plotly


def cluster_plot(summary: pd.DataFrame, population_loss: float | None) -> Plot | None:
    """Size and mean loss per cluster, the population's mean loss as a line."""
    if summary is None or summary.empty or "mean_loss" not in summary:
        return None
    go = plotly()
    from plotly.subplots import make_subplots

    names = [ptext(n) for n in _cluster_names(summary)]
    sizes = summary["size"] if "size" in summary else summary.get("n")
    fig = make_subplots(rows=1, cols=2, subplot_titles=("size", "mean loss"))
    fig.add_trace(go.Bar(x=names, y=none_nan(finite(sizes)), name="size", marker_color="#4c78a8"), 1, 1)
    fig.add_trace(go.Bar(x=names, y=none_nan(finite(summary["mean_loss"])), name="mean loss",
                         marker_color="#e45756"), 1, 2)
    if population_loss is not None and math.isfinite(population_loss):
        fig.add_hline(y=population_loss, line_dash="dash", line_color="#333", row=1, col=2,
                      annotation_text="population", annotation_position="top left")
    layout(fig, "Clusters: size and mean loss", height=380, showlegend=False)

    def png(mfig) -> None:
        ax_size, ax_loss = mfig.subplots(1, 2)
        labels = _cluster_names(summary)
        ax_size.bar(labels, finite(sizes), color="#4c78a8")
        ax_size.set_title("size")
        ax_loss.bar(labels, finite(summary["mean_loss"]), color="#e45756")
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
    go = plotly()
    fig = go.Figure()
    names = list(binned)
    for i, name in enumerate(names):
        b = binned[name]
        err = none_nan(finite(b["sem"])) if "sem" in b else None
        fig.add_trace(go.Bar(
            x=[ptext(v) for v in b["bin"].astype(str)], y=none_nan(finite(b["mean_loss"])),
            error_y={"type": "data", "array": err, "visible": True} if err else None,
            customdata=finite(b["count"]).tolist(), visible=i == 0, name=ptext(name),
            hovertemplate="%{x}<br>mean loss %{y:.3f}<br>n = %{customdata:,}<extra></extra>",
            marker_color="#4c78a8"))
    buttons = [{"label": ptext(name), "method": "update",
                "args": [{"visible": [j == i for j in range(len(names))]},
                         {"title.text": f"Mean loss by {ptext(name)}", "xaxis.title.text": ptext(name)}]}
               for i, name in enumerate(names)]
    layout(fig, f"Mean loss by {ptext(names[0])}", height=420, yaxis={"title": "mean loss"},
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
            ax.bar(pos, finite(b["mean_loss"]), color="#4c78a8",
                   yerr=np.nan_to_num(finite(b["sem"])) if "sem" in b else None)
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
    go = plotly()
    corr = corr.dropna(subset=["rho"]).sort_values("rho")
    if corr.empty:
        return None
    names = [ptext(n) for n in corr.index]
    colors = ["#e45756" if r > 0 else "#4c78a8" for r in corr["rho"]]
    fig = go.Figure(go.Bar(x=corr["rho"].astype(float).tolist(), y=names, orientation="h", marker_color=colors,
                           customdata=np.stack([finite(corr["p_value"]), finite(corr["n"])], axis=1).tolist(),
                           hovertemplate="%{y}: rho %{x:.3f}<br>p %{customdata[0]:.2g}, n %{customdata[1]:,}"
                                         "<extra></extra>"))
    layout(fig, "Spearman correlation with loss", height=max(300, 26 * len(corr) + 100),
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
    go = plotly()
    from plotly.subplots import make_subplots

    fig = make_subplots(rows=1, cols=2, subplot_titles=("loss", "accuracy"))
    palette = iter(CATEGORY_COLORS)
    for model, c in curves.items():
        color = next(palette)
        b = c["batches"]
        for col, metric in ((1, "loss"), (2, "accuracy")):
            if metric not in b:
                continue
            fig.add_trace(go.Scatter(x=b["step"].tolist(), y=none_nan(finite(b[metric])), mode="lines",
                                     line={"color": color, "width": 1}, opacity=0.25, showlegend=False,
                                     name=f"{ptext(model)} {metric} per batch", hoverinfo="skip"), 1, col)
            smooth = f"{metric}_smooth"
            if smooth in b:
                fig.add_trace(go.Scatter(x=b["step"].tolist(), y=none_nan(finite(b[smooth])), mode="lines",
                                         line={"color": color, "width": 2}, name=f"{ptext(model)} (smoothed)",
                                         showlegend=col == 1), 1, col)
            h = c.get("history")
            ends = _epoch_ends(b)
            val = f"val_{metric}"
            if h is not None and val in h and ends:
                n = min(len(ends), len(h))
                fig.add_trace(go.Scatter(x=ends[:n], y=none_nan(finite(h[val])[:n]), mode="markers+lines",
                                         marker={"color": color, "symbol": "diamond", "size": 8},
                                         line={"color": color, "dash": "dot"},
                                         name=f"{ptext(model)} validation (per epoch)", showlegend=col == 1), 1, col)
    fig.update_xaxes(title_text="batch")
    layout(fig, "Training curves", height=420)

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
    go = plotly()
    ks = [f"k = {r['k']}" for r in rows]
    top = [float(r["mean_top_drop"]) for r in rows]
    rand = [float(r["mean_random_drop"]) for r in rows]
    fig = go.Figure([go.Bar(x=ks, y=top, name="top-k attributed removed", marker_color="#e45756"),
                     go.Bar(x=ks, y=rand, name="k random removed", marker_color="#9d9d9d")])
    layout(fig, "Faithfulness: drop of p(predicted class)", height=360, barmode="group",
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
    go = plotly()
    from plotly.subplots import make_subplots

    names = [ptext(r["name"]) for r in rows]
    colors = ["#4c78a8" if r["kind"] == "model" else "#bab0ac" for r in rows]
    fig = make_subplots(rows=1, cols=2, subplot_titles=("accuracy", "mean loss"))
    fig.add_trace(go.Bar(x=names, y=[r["accuracy"] for r in rows], marker_color=colors,
                         text=[f"{r['accuracy']:.3f}" for r in rows], textposition="auto"), 1, 1)
    fig.add_trace(go.Bar(x=names, y=[r.get("loss") for r in rows], marker_color=colors,
                         text=[fmt(r.get("loss"), 3) for r in rows], textposition="auto"), 1, 2)
    layout(fig, "Models and baselines", height=340, showlegend=False)

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
