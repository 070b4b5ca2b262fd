"""`imdb-leap compare` as one call, `run_compare`: one table per model on the same reviews ->
comparison -> label errors -> training curves -> (robustness) -> report, each stage timed
(`IMDb.analysis.stages.StageLog`).
"""
from __future__ import annotations

from pathlib import Path

from IMDb.analysis.stages import StageLog, build_table, check_settings, read_cards, split_states, state_cfg
from IMDb.config.run import MODELS_DIR, Config
from IMDb.errors import AnalysisError
from IMDb.output.folders import REPORT_MARKER, check_out_dir

COMPARE_STAGES = ("table a", "table b", "comparison", "label errors", "training curves", "robustness", "report")


def run_compare(a: str, b: str, state: str = "test", out_dir: str | Path | None = None, *,
                limit: int | None = None, progress: bool = True, models_dir: str | Path = MODELS_DIR,
                cfg: Config | None = None, data: str | None = None, baselines: bool = True,
                seed: int = 0, worst: int = 20, overwrite: bool = False, robustness: bool = False,
                cad: str | Path | None = None) -> Path:
    """Model `a` against model `b` on the same reviews of one state (default: test), written to
    `out_dir` (default reports/compare-<a>-<b>-<state>); returns the folder. `overwrite` as in
    `run_analysis`; `robustness` adds both models' behavioural tests, CAD pairs (`cad`, default
    $IMDB_CAD) and calibration side by side (`IMDb.robustness.run`)."""
    from IMDb.analysis import exploration, label_errors
    from IMDb.analysis.compare import compare
    from IMDb.analysis.report import ReportInputs, write_report

    check_settings(state, limit=limit)
    if a == b:
        raise AnalysisError(f"compare needs two different models, got {a!r} twice")
    models_dir = Path(models_dir)
    out = Path(out_dir) if out_dir is not None else Path("reports") / f"compare-{a}-{b}-{state}"
    check_out_dir(out, REPORT_MARKER, replace=overwrite, flag="--overwrite")
    cards = read_cards([a, b], models_dir)  # both models checked before the first table is built
    if robustness:
        from IMDb.robustness import run as checks

        checks.check_cad(cad)  # a missing or empty CAD file fails before any work too; none given: skipped
    log = StageLog(f"compare {a} {b}/{state}", COMPARE_STAGES, progress)
    table_a = log.run("table a", lambda: build_table(a, state, limit, models_dir, cfg or state_cfg(a, models_dir, data),
                                                baselines, progress, seed), lambda t: f"{a}: {len(t):,} reviews")
    table_b = log.run("table b", lambda: build_table(b, state, limit, models_dir, cfg or state_cfg(b, models_dir, data),
                                                False, progress, seed), lambda t: f"{b}: {len(t):,} reviews")
    result = log.run("comparison", lambda: compare(table_a, table_b, (a, b), worst=worst),
                     lambda r: f"{r['summary']['n']:,} shared reviews")
    if result["summary"]["n"] == 0:
        raise AnalysisError(f"{a} and {b} share no review of the {state} state: were they trained on "
                            f"different splits? (compare the seed/val_fraction in their model cards)")
    found_errors = log.run(
        "label errors", lambda: label_errors.from_tables([table_a, table_b])
        if table_a.frame["label"].notna().any() else None,
        lambda r: "no labels" if r is None else f"{r.attrs['count']:,} likely")
    curves = log.run("training curves",
                     lambda: {n: exploration.training_curves(n, models_dir) for n in (a, b)})
    behaviour = log.run("robustness", lambda: [checks.result(n, cad=cad, models_dir=models_dir, progress=progress)
                                               for n in (a, b)]) if robustness else None
    notes = [f"Loss change = loss({b}) − loss({a}); relative change = loss change / loss({a})."]
    if "training" in split_states(state):
        notes.append("The training state is in-sample for both models and for the TF-IDF baseline.")
    inputs = ReportInputs(
        model=f"{a} vs {b}", state=state, tables={a: table_a, b: table_b}, cards=cards,
        settings={"models": [a, b], "state": state, "limit": limit, "seed": seed, "worst": worst,
                  "models_dir": str(models_dir)},
        curves=curves, label_errors=found_errors, comparison=result, robustness=behaviour,
        timings=log.timings, started=log.started, notes=notes)
    path = log.run("report", lambda: write_report(out, inputs, overwrite=overwrite),
                   lambda p: str(p / "dashboard.html"))
    log.done("compare", path)
    return path
