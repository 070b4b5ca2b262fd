"""`imdb-leap compare` as one call, `run_compare`: the settings checked and both models read before
any work, then the registered stages of "compare" (`IMDb.analysis.stages`: table a -> table b ->
training curves -> label errors -> comparison, and with --robustness predictors -> behaviour ->
counterfactual -> calibration), each timed (`IMDb.analysis.runner.StageLog`), then the report folder.
"""
from __future__ import annotations

from pathlib import Path

from IMDb.analysis import stages  # noqa: F401  (registers the built-in stages)
from IMDb.analysis.run_state import Run
from IMDb.analysis.runner import check_settings, execute, read_cards, split_states
from IMDb.config.run import MODELS_DIR, Config
from IMDb.errors import AnalysisError
from IMDb.output.folders import REPORT_MARKER, check_out_dir


def run_compare(a: str, b: str, state: str = "test", out_dir: str | Path | None = None, *,
                limit: int | None = None, progress: bool = True, models_dir: str | Path = MODELS_DIR,
                cfg: Config | None = None, data: str | None = None, baselines: bool = True,
                seed: int = 0, worst: int = 20, overwrite: bool = False, robustness: bool = False,
                cad: str | Path | None = None) -> Path:
    """Model `a` against model `b` on the same reviews of one state (default: test), written to
    `out_dir` (default reports/compare-<a>-<b>-<state>); returns the folder. `overwrite` as in
    `run_analysis`; `robustness` adds both models' behavioural tests, CAD pairs (`cad`, default
    $IMDB_CAD) and calibration side by side (the robustness stages, as `imdb-leap robustness`)."""
    from IMDb.analysis.report import write_report

    check_settings(state, limit=limit)
    if a == b:
        raise AnalysisError(f"compare needs two different models, got {a!r} twice")
    models_dir = Path(models_dir)
    out = Path(out_dir) if out_dir is not None else Path("reports") / f"compare-{a}-{b}-{state}"
    check_out_dir(out, REPORT_MARKER, replace=overwrite, flag="--overwrite")
    cards = read_cards([a, b], models_dir)  # both models checked before the first table is built
    if robustness:
        from IMDb.robustness.measure import check_cad

        check_cad(cad)  # a missing or empty CAD file fails before any work too; none given: skipped
    notes = [f"Loss change = loss({b}) − loss({a}); relative change = loss change / loss({a})."]
    if "training" in split_states(state):
        notes.append("The training state is in-sample for both models and for the TF-IDF baseline.")
    settings = {"models": [a, b], "state": state, "limit": limit, "seed": seed, "worst": worst,
                "models_dir": str(models_dir)}
    inputs = dict(models=[a, b], error_models=[a, b], models_dir=models_dir, cfg=cfg, data=data,
                  baselines=baselines, progress=progress, robustness=robustness, cad=cad, seed=seed)
    run = Run("compare", f"{a} vs {b}", state, inputs, cards, settings, notes)
    log = execute(run, f"compare {a} {b}/{state}", progress)
    path = log.run("report", lambda: write_report(out, run, overwrite=overwrite), lambda p: str(p / "dashboard.html"))
    log.done("compare", path)
    return path
