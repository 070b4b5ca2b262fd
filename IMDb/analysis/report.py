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

The plots are built in `IMDb.analysis.latent_map` (the population map) and
`IMDb.analysis.metric_plots` (the charts), on `IMDb.analysis.figures`; the projector files in
`IMDb.analysis.projector`.

The page is rendered from Jinja2 templates (package data, `IMDb.analysis.templating`); what each
section shows is built in `IMDb.analysis.sections`, the robustness section in
`IMDb.analysis.robustness_report`.

Review text is untrusted input. The templates autoescape every value they print; the only values
printed as they are (our CSS and JS, the plotly.js bundle, each plot's JSON) are made in one audited
function each in `IMDb.analysis.templating`. Figure data sits in ``<script type="application/json">``
blocks with ``<``, ``>`` and ``&`` written as ``\\u003c`` etc. (`script_json`), so no review can close
the block (`IMDb.analysis.escape`); a Content-Security-Policy with a per-report nonce blocks every
script but ours and every network request, as a second line of defence.
"""
from __future__ import annotations

import secrets
import time
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

import numpy as np
import pandas as pd

from IMDb.analysis.explanation import Explanation
from IMDb.analysis.figures import Plot, write_png
from IMDb.analysis.projector import write_projector
from IMDb.analysis.sections import LABEL_ERRORS_CSV, model_rows, sections
from IMDb.analysis.templating import figure_json, inline_script, render
from IMDb.output.folders import REPORT_MARKER, atomic_dir
from IMDb.output.formats import dumps, write_csv


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
    explanations: list[Explanation] = field(default_factory=list)  # dicts are read as Explanations
    faithfulness: dict | None = None
    curves: dict[str, dict[str, pd.DataFrame]] = field(default_factory=dict)
    label_errors: pd.DataFrame | None = None
    comparison: dict | None = None
    robustness: list[dict] | None = None  # robustness.json documents (`IMDb.robustness.run.result`)
    timings: list[dict] = field(default_factory=list)
    started: float | None = None
    notes: list[str] = field(default_factory=list)

    def __post_init__(self):
        self.explanations = [Explanation.coerce(e) for e in self.explanations]


# --------------------------------------------------------------------------- the page


def label_errors_csv(errors: pd.DataFrame, tables: dict) -> pd.DataFrame:
    """The rows of label_errors.csv: every flagged review, ranked, with its whole text (the report's
    table keeps a snippet) in place of the snippet and the input position."""
    texts = pd.concat([t.frame[["sample_id", "text"]] for t in tables.values()]).drop_duplicates("sample_id")
    out = errors.drop(columns=["snippet", "position"], errors="ignore").merge(texts, on="sample_id", how="left")
    return out.sort_values("rank", kind="stable")


def render_html(inputs: ReportInputs, plotly_js: str | None = None) -> tuple[str, list[Plot]]:
    """The dashboard page (``templates/dashboard.html.j2``) and the plots it shows (for their PNGs)."""
    shown = sections(inputs)
    plots = [plot for section in shown for plot in section.plots]
    if plotly_js is None:
        from plotly.offline import get_plotlyjs

        plotly_js = get_plotlyjs()
    nonce = secrets.token_urlsafe(18)
    csp = (f"default-src 'none'; script-src 'nonce-{nonce}'; style-src 'unsafe-inline'; "
           f"img-src data: blob:; font-src data:; connect-src 'none'; base-uri 'none'; form-action 'none'")
    page = render("dashboard.html.j2", heading=f"imdb-leap analysis: {inputs.model} · {inputs.state}", csp=csp,
                  nonce=nonce, generated=time.strftime("%Y-%m-%d %H:%M:%S"), plotly=inline_script(plotly_js),
                  sections=shown, figures=[{"key": p.key, "json": figure_json(p.figure)} for p in plots])
    return page, plots


# --------------------------------------------------------------------------- summary and folder


def build_summary(inputs: ReportInputs, rows: list[dict], plots: list[Plot], files: list[str],
                  timings: dict[str, Any]) -> dict:
    """Everything the dashboard states, as JSON: figures, insights, verdicts, and `timings` (the
    stages, including the report's own, the total wall time and the peak RSS)."""
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
                        "samples": [e.summary() for e in inputs.explanations]},
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
        "timings": timings,
    }
    return out


def write_report(out_dir: str | Path, inputs: ReportInputs, *, plotly_js: str | None = None,
                 overwrite: bool = False) -> Path:
    """Write the output folder (see the module docstring) atomically; returns its path. An
    existing report there is replaced only with `overwrite`; any other non-empty folder never.

    The summary's stage timings are `inputs.timings` followed by the report's own ("report") and,
    when `inputs.started` is set, the run's total wall time; `inputs` itself is left as it is.
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
            write_csv(label_errors_csv(inputs.label_errors, inputs.tables), tmp / LABEL_ERRORS_CSV)
            files.append(LABEL_ERRORS_CSV)
        if inputs.tables:
            files += [f"projector/{f}" for f in write_projector(tmp / "projector", inputs.tables, inputs.clusters)]
        own = {"stage": "report", "seconds": round(time.perf_counter() - t0, 3),
               "peak_rss_mib": round(peak_rss_mib(), 1)}
        timings: dict[str, Any] = {"stages": [*inputs.timings, own]}
        if inputs.started is not None:
            timings["total_seconds"] = round(time.perf_counter() - inputs.started, 3)
        timings["peak_rss_mib"] = round(peak_rss_mib(), 1)
        summary = build_summary(inputs, model_rows(inputs), plots, files + ["summary.json"], timings)
        (tmp / "summary.json").write_text(dumps(summary, indent=2), encoding="utf-8")
    return out
