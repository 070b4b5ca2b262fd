"""The analysis output folder: one self-contained dashboard, a PNG per plot, the data and a summary.

Layout of the folder `write_report` makes (written into a temp folder beside it, then renamed, so a
reader never sees half a report; an existing folder is replaced only if it holds the marker file,
i.e. imdb-leap wrote it, and only when asked to overwrite)::

    .imdb-leap-report    marker: this folder is an imdb-leap report and may be replaced
    dashboard.html       every section below, plotly.js inlined once: opens offline, no CDN or fonts
    plots/<key>.png      one PNG per dashboard plot, drawn by matplotlib (no browser needed)
    table.parquet        the per-sample table (`AnalysisTable.save`; comparison: one per model and
                         comparison.parquet)
    summary.json         every figure, verdict, insight and stage timing of the run
    label_errors.csv     every likely label error (labeled states): rank, sample id, given and
                         suggested label, probabilities, margin, the whole text
    projector/           TensorBoard Embedding Projector export: vectors.tsv, metadata.tsv (header
                         row), projector_config.pbtxt (`tensorboard --logdir projector`)

The sections mirror Tensorleap's views: summary, population exploration, clusters and insights,
sample analysis, data exploration, training curves, label errors and, from `imdb-leap compare`, the
model comparison.

The plots are built in `IMDb.analysis.plots`, the projector files in `IMDb.analysis.projector`.

Review text is untrusted input. Every string that reaches HTML goes through `html.escape`; figure
data sits in ``<script type="application/json">`` blocks with ``<``, ``>`` and ``&`` written as
``\\u003c`` etc. (`script_json`), so no review can close the block (`IMDb.analysis.escape`); a
Content-Security-Policy with a per-report nonce blocks every script but ours and every network
request, as a second line of defence.
"""
from __future__ import annotations

import json
import math
import secrets
import time
from collections.abc import Callable, Sequence
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

import numpy as np
import pandas as pd

from IMDb.analysis.escape import dumps, esc, fmt, script_json, snippet
from IMDb.analysis.plots import (Plot, accuracy_plot, agreement_plot, cluster_plot, correlation_plot,
                                 faithfulness_plot, label_name, loss_change_plot, metadata_loss_plot,
                                 population_plot, training_plot, worst_failures_plot, write_png)
from IMDb.analysis.projector import write_projector
from IMDb.config import LABELS
from IMDb.io import REPORT_MARKER, atomic_dir

MAX_INSIGHTS = 30  # shown in the page; summary.json holds them all
LABEL_ERRORS_CSV = "label_errors.csv"  # every likely label error of a labeled state, linked from the page
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
    robustness: list[dict] | None = None  # robustness.json documents (`IMDb.robustness.result`)
    timings: list[dict] = field(default_factory=list)
    started: float | None = None
    notes: list[str] = field(default_factory=list)


# --------------------------------------------------------------------------- tables


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
            lead = f"<b>{esc(ins['headline'])}</b><br>" if ins.get("headline") else ""
            items.append(
                f"<li>{lead}<span class=\"tag\">{esc(ins.get('kind', ''))}</span> {esc(ins.get('description', ''))}"
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
                f"truth {esc(label_name(label))}, predicted {esc(LABELS[int(e['prediction'])])}, "
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
            + (f"<details><summary>Top n-grams by occlusion</summary>{ngrams}</details>"
               if e.get("ngrams") else "")
            + "</article>")
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
    per_model = attrs.get("per_model")
    if per_model:
        head += (f"<p>The models' probabilities are averaged ({esc(', '.join(per_model))}); alone each would "
                 f"flag: " + ", ".join(f"{esc(m)} {fmt(n)}" for m, n in per_model.items()) + ".</p>")
    head += (f"<p>Every flagged review, ranked, with its whole text: <a href=\"{LABEL_ERRORS_CSV}\">"
             f"{LABEL_ERRORS_CSV}</a> (the table below shows the first 100).</p>")
    return head + html_table(errors, ["rank", "sample_id", "label", "suggested_label", "p_given_label",
                                      "p_suggested", "margin", "snippet"], limit=100)


def label_errors_csv(errors: pd.DataFrame, tables: dict) -> pd.DataFrame:
    """The rows of label_errors.csv: every flagged review, ranked, with its whole text (the report's
    table keeps a snippet) in place of the snippet and the input position."""
    texts = pd.concat([t.frame[["sample_id", "text"]] for t in tables.values()]).drop_duplicates("sample_id")
    out = errors.drop(columns=["snippet", "position"], errors="ignore").merge(texts, on="sample_id", how="left")
    return out.sort_values("rank", kind="stable")


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

def robustness_section(inputs: ReportInputs) -> str:
    from IMDb.analysis.robustness_report import section

    return section(inputs.robustness) if inputs.robustness else ""


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
        ("robustness", "Behaviour and robustness", robustness_section(inputs)),
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
            "per_model": errors.attrs.get("per_model"), "file": LABEL_ERRORS_CSV,
            "top": errors.drop(columns=["snippet"], errors="ignore").head(100)},
        "comparison": None if not comp else {
            "summary": comp.get("summary"),
            "agreement": comp["agreement"].to_dict(orient="split") if "agreement" in comp else None,
            "worst_failures": comp.get("worst_failures", pd.DataFrame()).drop(columns=["snippet"], errors="ignore")},
        "robustness": inputs.robustness,
        "training": {m: {"history": c.get("history")} for m, c in inputs.curves.items()},
        "notes": inputs.notes, "plots": [p.key for p in plots], "files": sorted(files),
        "timings": {"stages": inputs.timings},
    }
    return out


def write_report(out_dir: str | Path, inputs: ReportInputs, *, plotly_js: str | None = None,
                 overwrite: bool = False) -> Path:
    """Write the output folder (see the module docstring) atomically; returns its path. An
    existing report there is replaced only with `overwrite`; any other non-empty folder never.

    A stage timing named "report" is added to `inputs.timings` and, when `inputs.started` is set,
    the run's total wall time to the summary.
    """
    from IMDb.analysis.table import peak_rss_mib

    t0 = time.perf_counter()
    out = Path(out_dir).resolve()
    with atomic_dir(out, REPORT_MARKER, replace=overwrite, flag="--overwrite") as tmp:
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
        if inputs.label_errors is not None:
            label_errors_csv(inputs.label_errors, inputs.tables).to_csv(tmp / LABEL_ERRORS_CSV, index=False)
            files.append(LABEL_ERRORS_CSV)
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
