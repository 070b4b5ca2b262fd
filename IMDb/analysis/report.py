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

The report reads one `IMDb.analysis.run_state.Run`: the summary section and summary.json's own keys
are the run's (`IMDb.analysis.sections.summary`); every other section, summary.json entry and file
is a stage result's own (`IMDb.analysis.stage.Result`), in run order, so the page and the summary
are made from the same values. The page is rendered from Jinja2 templates (package data,
`IMDb.analysis.templating`).

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
from pathlib import Path
from typing import Any

from IMDb.analysis.figures import Plot, write_png
from IMDb.analysis.projector import write_projector
from IMDb.analysis.run_state import Run
from IMDb.analysis.sections import Section, model_rows, summary
from IMDb.analysis.stage import registered
from IMDb.analysis.templating import figure_json, inline_script, render
from IMDb.output.folders import REPORT_MARKER, atomic_dir
from IMDb.output.formats import dumps


def sections(run: Run) -> list[Section]:
    """The page's sections: the run's summary, then each result's, in run order (None left out)."""
    shown = [summary(run), *(result.section(run) for result in run.results.values())]
    return [s for s in shown if s is not None]


def render_html(run: Run, plotly_js: str | None = None) -> tuple[str, list[Plot]]:
    """The dashboard page (``templates/dashboard.html.j2``) and the plots it shows (for their PNGs)."""
    shown = sections(run)
    plots = [plot for section in shown for plot in section.plots]
    if plotly_js is None:
        from plotly.offline import get_plotlyjs

        plotly_js = get_plotlyjs()
    nonce = secrets.token_urlsafe(18)
    csp = (f"default-src 'none'; script-src 'nonce-{nonce}'; style-src 'unsafe-inline'; "
           f"img-src data: blob:; font-src data:; connect-src 'none'; base-uri 'none'; form-action 'none'")
    page = render("dashboard.html.j2", heading=f"imdb-leap analysis: {run.title} · {run.state}", csp=csp,
                  nonce=nonce, generated=time.strftime("%Y-%m-%d %H:%M:%S"), plotly=inline_script(plotly_js),
                  sections=shown, figures=[{"key": p.key, "json": figure_json(p.figure)} for p in plots])
    return page, plots


# --------------------------------------------------------------------------- summary and folder


def build_summary(run: Run, plots: list[Plot], files: list[str], timings: dict[str, Any]) -> dict:
    """Everything the dashboard states, as JSON: the run's own keys, then every result's entries
    (a registered stage the command did not run gives its `absent` entries, so every summary of
    format /1 holds the same keys), and `timings` (the stages, the report's own included, the total
    wall time and the peak RSS)."""
    out: dict[str, Any] = {
        "format": "imdb-leap/analysis-summary/1", "model": run.title, "state": run.state,
        "settings": run.all_settings(), "generated": time.strftime("%Y-%m-%dT%H:%M:%S"),
        "models_and_baselines": model_rows(run)}
    for name, stage in registered().items():
        if name not in run.results:
            out.update(stage.absent)
    for result in run.results.values():
        out.update(result.summary())
    out.update({"notes": run.notes, "plots": [p.key for p in plots], "files": sorted(files), "timings": timings})
    return out


def _write_files(tmp: Path, run: Run) -> list[str]:
    """The tables (table.parquet; compare: table_<model>.parquet each), every result's own files
    and the projector export."""
    files: list[str] = []
    tables = run.tables
    for name, table in tables.items():
        path = "table.parquet" if len(tables) == 1 else f"table_{name}.parquet"
        table.save(tmp / path)
        files.append(path)
    for result in run.results.values():
        files += result.write(tmp, run)
    if tables:
        clusters = getattr(run.results.get("clusters"), "labels", None)
        files += [f"projector/{f}" for f in write_projector(tmp / "projector", tables, clusters)]
    return files


def write_report(out_dir: str | Path, run: Run, *, plotly_js: str | None = None, overwrite: bool = False) -> Path:
    """Write the output folder (see the module docstring) atomically; returns its path. An
    existing report there is replaced only with `overwrite`; any other non-empty folder never.

    The summary's stage timings are `run.timings` followed by the report's own ("report") and,
    when `run.started` is set, the run's total wall time; `run` itself is left as it is.
    """
    from IMDb.analysis.table import peak_rss_mib

    t0 = time.perf_counter()
    out = Path(out_dir).resolve()
    with atomic_dir(out, REPORT_MARKER, replace=overwrite, flag="--overwrite") as tmp:
        page, plots = render_html(run, plotly_js)
        (tmp / "dashboard.html").write_text(page, encoding="utf-8")
        files = ["dashboard.html"]
        (tmp / "plots").mkdir()
        files += [f"plots/{p.key}.png" for p in plots if write_png(p, tmp / "plots" / f"{p.key}.png")]
        files += _write_files(tmp, run)
        own = {"stage": "report", "seconds": round(time.perf_counter() - t0, 3),
               "peak_rss_mib": round(peak_rss_mib(), 1)}
        timings: dict[str, Any] = {"stages": [*run.timings, own]}
        if run.started is not None:
            timings["total_seconds"] = round(time.perf_counter() - run.started, 3)
        timings["peak_rss_mib"] = round(peak_rss_mib(), 1)
        summary_json = build_summary(run, plots, files + ["summary.json"], timings)
        (tmp / "summary.json").write_text(dumps(summary_json, indent=2), encoding="utf-8")
    return out
