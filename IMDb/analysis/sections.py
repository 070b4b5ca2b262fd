"""The dashboard's sections: for each, what it shows (a `Section`: its template's context and plots).

Each builder reads a `ReportInputs` (never changes it) and returns the `Section` for its template
``templates/sections/<id>.html.j2``, or None when its inputs are missing; the page
(`IMDb.analysis.report.render_html`) shows the sections in `BUILDERS` order. A context holds plain
values and text only (numbers go through the ``fmt`` filter), so the autoescaping templates escape
every review, name and label; the plots each section shows are listed in `Section.plots` in page
order, for their JSON blocks and PNGs.
"""
from __future__ import annotations

from collections.abc import Callable
from dataclasses import asdict, dataclass, field
from typing import TYPE_CHECKING, Any

import numpy as np
import pandas as pd

from IMDb.analysis import robustness_report
from IMDb.analysis.comparison_plots import agreement_plot, loss_change_plot, worst_failures_plot
from IMDb.analysis.escape import plain, snippet
from IMDb.analysis.explanation import Explanation
from IMDb.analysis.faithfulness import Faithfulness
from IMDb.analysis.figures import Plot
from IMDb.analysis.latent_map import label_name, population_plot
from IMDb.analysis.metric_plots import (accuracy_plot, cluster_plot, correlation_plot, faithfulness_plot,
                                        metadata_loss_plot, training_plot)
from IMDb.analysis.templating import heat, table
from IMDb.config.run import LABELS

if TYPE_CHECKING:
    from IMDb.analysis.report import ReportInputs

MAX_INSIGHTS = 30  # shown in the page; summary.json holds them all
LABEL_ERRORS_CSV = "label_errors.csv"  # every likely label error of a labeled state, linked from the page
BASELINES = {"textblob": "TextBlob polarity", "tfidf": "TF-IDF + logistic regression"}


@dataclass(frozen=True)
class Section:
    """One section of the page: anchor id (also its template's name), heading, the template's
    context, and the plots it shows in page order (None entries dropped)."""

    id: str
    title: str
    context: dict[str, Any]
    plots: tuple[Plot, ...] = field(default=())

    def __post_init__(self) -> None:
        object.__setattr__(self, "plots", tuple(p for p in self.plots if p is not None))


def text(value: Any) -> str:
    """A value as text for a template ('' for None)."""
    return "" if value is None else str(value)


def _stats(frame: pd.DataFrame) -> dict:
    labeled = frame[frame["label"].notna()] if "label" in frame else frame.iloc[:0]
    return {"n": int(len(frame)), "n_labeled": int(len(labeled)),
            "accuracy": float(labeled["correct"].astype(float).mean()) if len(labeled) else None,
            "loss": float(labeled["loss"].mean()) if len(labeled) else None,
            "positive_predictions": float((frame["prediction"] == 1).mean()) if len(frame) else None}


def model_rows(inputs: ReportInputs) -> list[dict]:
    """Accuracy and mean loss of each model and each baseline over the labeled samples."""
    rows = [{"name": name, "kind": "model", **_stats(table.frame)} for name, table in inputs.tables.items()]
    first = next(iter(inputs.tables.values()), None)
    frame = first.frame if first is not None else inputs.frame
    if frame is None:
        return rows
    labeled = frame[frame["label"].notna()] if "label" in frame else frame.iloc[:0]
    for baseline, title in BASELINES.items():
        p_col, l_col = f"baseline_{baseline}_p_positive", f"baseline_{baseline}_loss"
        if p_col not in frame or not len(labeled):
            continue
        right = (labeled[p_col].to_numpy() >= 0.5).astype(int) == labeled["label"].to_numpy().astype(int)
        rows.append({"name": title, "kind": "baseline", "n": int(len(frame)), "n_labeled": int(len(labeled)),
                     "accuracy": float(right.mean()), "loss": float(labeled[l_col].mean())})
    return rows


def _population_loss(frame: pd.DataFrame | None) -> float | None:
    if frame is None or "loss" not in frame or not frame["loss"].notna().any():
        return None
    return float(frame["loss"].mean())


# --------------------------------------------------------------------------- sections


def summary(inputs: ReportInputs) -> Section:
    cards = []
    for name, tab in inputs.tables.items():
        card, s = inputs.cards.get(name, {}), _stats(tab.frame)
        config = card.get("config", {})
        pairs = [("model", name), ("state", inputs.state), ("samples", plain(s["n"])),
                 ("labeled", plain(s["n_labeled"])), ("accuracy", plain(s["accuracy"])),
                 ("mean loss", plain(s["loss"])), ("predicted positive", plain(s["positive_predictions"])),
                 ("latent dimensions", plain(int(tab.latent.shape[1])))]
        if config:
            pairs.append(("sequence length / vocabulary",
                          f"{plain(config.get('seq_len'))} / {plain(config.get('vocab_size'))}"))
        figures = card.get("figures", {}).get(inputs.state)
        if figures:
            pairs.append(("model card, this state", f"accuracy {plain(figures.get('accuracy'))}, loss "
                                                    f"{plain(figures.get('loss'))}, n {plain(figures.get('samples'))}"))
        cards.append({"name": name, "pairs": pairs})
    rows = model_rows(inputs)
    plot = accuracy_plot(rows)
    timings = (table(inputs.timings, ["stage", "seconds", "peak_rss_mib"], {"peak_rss_mib": "peak RSS (MiB)"})
               if inputs.timings else None)
    context = {"cards": cards, "rows": table(rows, ["name", "kind", "n_labeled", "accuracy", "loss"],
                                             {"n_labeled": "labeled samples", "loss": "mean loss"}),
               "plot": plot, "notes": list(inputs.notes), "timings": timings,
               "settings": [(k, text(v)) for k, v in inputs.settings.items()]}
    return Section("summary", "Summary", context, (plot,))


def population(inputs: ReportInputs) -> Section | None:
    if inputs.frame is None or inputs.projection is None:
        return None
    method = str(inputs.settings.get("projection", "projection"))
    plot = population_plot(inputs.frame, np.asarray(inputs.projection), inputs.clusters, method)
    return Section("population", "Population exploration", {"plot": plot}, (plot,))


def _insight(ins: dict) -> dict:
    """One ranked insight's texts (plain; the template escapes them)."""
    stat = ins.get("statistic")
    if isinstance(stat, dict):
        stat_text = ", ".join(f"{k} {plain(v)}" for k, v in stat.items())
    else:
        stat_text = f"{text(stat)} {plain(ins.get('statistic_value', ins.get('value')))}"
    effect = ins.get("effect_size")
    effect_text = (", ".join(f"{k} {plain(v)}" for k, v in effect.items()) if isinstance(effect, dict)
                   else f"{text(ins.get('effect_size_name', 'effect size'))} {plain(effect)}")
    rest = f" vs rest {plain(ins.get('rest_mean_loss'))}" if ins.get("rest_mean_loss") is not None else ""
    adjusted = f", Holm-adjusted p {plain(ins.get('p_adjusted'))}" if ins.get("p_adjusted") is not None else ""
    return {"headline": text(ins.get("headline")), "kind": text(ins.get("kind", "")),
            "description": text(ins.get("description", "")), "n": ins.get("n"), "mean_loss": ins.get("mean_loss"),
            "rest": rest, "population": ins.get("population_mean_loss"), "statistic": stat_text,
            "p_value": ins.get("p_value"), "adjusted": adjusted, "effect": effect_text}


def clusters(inputs: ReportInputs) -> Section | None:
    if inputs.cluster_summary is None and not inputs.insights:
        return None
    plot, per_cluster = None, None
    if inputs.cluster_summary is not None:
        frame = inputs.cluster_summary
        frame = frame.reset_index() if frame.index.name else frame
        plot, per_cluster = cluster_plot(frame, _population_loss(inputs.frame)), table(frame)
    context = {"plot": plot, "per_cluster": per_cluster, "count": len(inputs.insights),
               "insights": [_insight(i) for i in inputs.insights[:MAX_INSIGHTS]],
               "more": max(0, len(inputs.insights) - MAX_INSIGHTS)}
    return Section("clusters", "Clusters and insights", context, (plot,))


def _explanation(e: Explanation, review: Any) -> dict:
    """One explained review: heading, snippet, heat maps, completeness, faithfulness, n-grams."""
    words, oov, faith = e.words or [], e.oov, e.faithfulness or Faithfulness()
    return {
        "sample_id": text(e.sample_id or ""), "kind": text(e.kind or ""),
        "truth": label_name(e.label), "predicted": LABELS[int(e.prediction)],
        "p_positive": plain(e.p_positive, 3), "loss": plain(e.loss, 3),
        "review": None if review is None else snippet(review, 600),
        "positive": heat(words, e.ig_positive or [], oov), "negative": heat(words, e.ig_negative or [], oov),
        "completeness": "; ".join(f"{k}: Σ attributions {plain(v.sum, 3)} vs Δf {plain(v.delta, 3)}"
                                  for k, v in (e.completeness or {}).items()),
        "truncated": bool(e.truncated), "target": text(faith.target or ""),
        "faithfulness": "; ".join(f"k={plain(r.k)}: top drop {plain(r.top_drop, 3)} vs random "
                                  f"{plain(r.random_drop, 3)}" for r in faith.per_k or []),
        "passed": faith.passed,
        "ngrams": table([asdict(r) for r in e.ngrams], ["words", "length", "delta", "interaction", "p_positive"],
                        {"delta": "Δ p(positive)", "p_positive": "p(positive) without"}) if e.ngrams else None}


def samples(inputs: ReportInputs) -> Section | None:
    if not inputs.explanations:
        return None
    texts = {}
    if inputs.frame is not None and "sample_id" in inputs.frame:
        ids = {e.sample_id for e in inputs.explanations}
        sub = inputs.frame[inputs.frame["sample_id"].isin(ids)]
        texts = dict(zip(sub["sample_id"], sub["text"]))
    faith = inputs.faithfulness
    plot = faithfulness_plot(faith) if faith else None
    overall = {"n": faith.get("n_samples"), "pass_rate": faith.get("pass_rate"), "passed": faith.get("passed"),
               "per_k": table(faith.get("per_k", []), ["k", "n", "mean_top_drop", "mean_random_drop", "ratio",
                                                       "pass_rate"])} if faith else None
    context = {"faithfulness": overall, "plot": plot,
               "explanations": [_explanation(e, texts.get(e.sample_id)) for e in inputs.explanations]}
    return Section("samples", "Sample analysis", context, (plot,))


def exploration(inputs: ReportInputs) -> Section | None:
    if not inputs.binned and inputs.correlations is None and not inputs.claims:
        return None
    corr = inputs.correlations if inputs.correlations is not None and not inputs.correlations.empty else None
    metadata = metadata_loss_plot(inputs.binned, _population_loss(inputs.frame))
    correlation = correlation_plot(corr) if corr is not None else None
    if not inputs.claims and metadata is None and corr is None and not inputs.binned:
        return None  # nothing to show after all
    claims = table(inputs.claims, ["claim", "verdict", "field", "transform", "statistic", "value", "p_value", "n",
                                   "reason"], spans={"verdict": lambda v: f"verdict {str(v).replace(' ', '-')}"},
                   formats={"verdict": text}) if inputs.claims else None
    context = {"claims": claims, "metadata": metadata, "correlation": correlation,
               "spearman": table(corr.reset_index() if corr.index.name else corr) if corr is not None else None,
               "binned": [(name, table(b)) for name, b in inputs.binned.items()]}
    return Section("exploration", "Data exploration", context, (metadata, correlation))


def training(inputs: ReportInputs) -> Section | None:
    plot = training_plot(inputs.curves)
    return None if plot is None else Section("training", "Training curves", {"plot": plot}, (plot,))


def label_errors(inputs: ReportInputs) -> Section | None:
    errors = inputs.label_errors
    if errors is None:
        return None
    attrs = errors.attrs
    per_model = attrs.get("per_model")
    flags = {"names": ", ".join(per_model), "flags": ", ".join(f"{m} {plain(n)}" for m, n in per_model.items())} \
        if per_model else None
    context = {"count": attrs.get("count", len(errors)), "n_labeled": attrs.get("n_labeled"),
               "share": attrs.get("share"),
               "thresholds": ", ".join(f"{k} {plain(v, 3)}" for k, v in attrs.get("thresholds", {}).items()),
               "per_model": flags, "file": LABEL_ERRORS_CSV,
               "table": table(errors, ["rank", "sample_id", "label", "suggested_label", "p_given_label",
                                       "p_suggested", "margin", "snippet"], limit=100)}
    return Section("label-errors", "Likely label errors", context)


def comparison(inputs: ReportInputs) -> Section | None:
    comp = inputs.comparison
    if not comp:
        return None
    s = comp.get("summary", {})
    names = s.get("names", ["a", "b"])
    a, b = names
    cols = ["sample_id", "label", f"loss_{a}", f"loss_{b}", "loss_change", "relative_loss_change", "snippet"]
    worst = comp.get("worst_failures")
    plots = (agreement_plot(comp["agreement"]) if "agreement" in comp else None,
             loss_change_plot(comp.get("frame", pd.DataFrame()), names), worst_failures_plot(worst, names))
    titles = (("b_right_a_wrong", f"{b} right, {a} wrong"), ("a_right_b_wrong", f"{a} right, {b} wrong"))
    lists = [(title, len(comp[key]), table(comp[key], cols, limit=50))
             for key, title in titles if comp.get(key) is not None]
    context = {"pairs": [(k.replace("_", " "), plain(v)) for k, v in s.items() if k != "names"],
               "a": a, "b": b, "plots": [p for p in plots if p is not None],
               "worst": table(worst, cols + [f"correct_{b}"]) if worst is not None else None, "lists": lists}
    return Section("comparison", "Model comparison", context, plots)


def robustness(inputs: ReportInputs) -> Section | None:
    if not inputs.robustness:
        return None
    return Section("robustness", "Behaviour and robustness", robustness_report.context(inputs.robustness))


BUILDERS: tuple[Callable[[ReportInputs], Section | None], ...] = (
    summary, population, clusters, samples, exploration, training, label_errors, comparison, robustness)


def sections(inputs: ReportInputs) -> list[Section]:
    """The page's sections, in order, those without inputs left out."""
    return [s for s in (build(inputs) for build in BUILDERS) if s is not None]
