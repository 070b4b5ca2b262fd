"""`imdb-leap compare` as one call, `run_compare`: its settings (`IMDb.analysis.settings`, checked
when made) and both models read before any work, then the registered stages of "compare"
(`IMDb.analysis.stages`: table a -> table b -> training curves -> label errors -> comparison, and
with --robustness predictors -> behaviour -> counterfactual -> calibration), each timed
(`IMDb.analysis.runner.StageLog`), then the report folder.
"""
from __future__ import annotations

from pathlib import Path

from IMDb.analysis import stages  # noqa: F401  (registers the built-in stages)
from IMDb.analysis.run_state import Run
from IMDb.analysis.runner import execute, read_cards
from IMDb.analysis.settings import CompareSettings, split_states
from IMDb.config.run import MODELS_DIR, Config
from IMDb.errors import AnalysisError
from IMDb.output.folders import REPORT_MARKER, check_out_dir


def run_compare(a: str, b: str, settings: CompareSettings = CompareSettings(), out_dir: str | Path | None = None, *,
                progress: bool = True, models_dir: str | Path = MODELS_DIR, overwrite: bool = False,
                cfg: Config | None = None, baselines: bool = True) -> Path:
    """Model `a` against model `b` on the same reviews with `settings` (default: the test state),
    written to `out_dir` (default reports/compare-<a>-<b>-<state>); returns the folder. `overwrite`
    and `cfg` as in `run_analysis`; `settings.robustness` adds both models' behavioural tests, CAD
    pairs (`settings.cad`, default $IMDB_CAD) and calibration side by side (the robustness stages,
    as `imdb-leap robustness` runs them)."""
    from IMDb.analysis.report import write_report

    if a == b:
        raise AnalysisError(f"compare needs two different models, got {a!r} twice")
    models_dir = Path(models_dir)
    out = Path(out_dir) if out_dir is not None else Path("reports") / f"compare-{a}-{b}-{settings.state}"
    check_out_dir(out, REPORT_MARKER, replace=overwrite, flag="--overwrite")
    cards = read_cards([a, b], models_dir)  # both models checked before the first table is built
    pairs = skipped = None
    if settings.robustness:
        from IMDb.robustness.measure import cad_pairs

        pairs, skipped = cad_pairs(settings.cad)  # a missing or empty CAD file fails before any work too
    notes = [f"Loss change = loss({b}) − loss({a}); relative change = loss change / loss({a})."]
    if "training" in split_states(settings.state):
        notes.append("The training state is in-sample for both models and for the TF-IDF baseline.")
    record = {"models": [a, b], **settings.recorded(cfg), "models_dir": str(models_dir)}
    inputs = dict(models=[a, b], error_models=[a, b], models_dir=models_dir, cfg=cfg, data=settings.data,
                  baselines=baselines, progress=progress, robustness=settings.robustness,
                  cad_pairs=pairs, cad_skipped=skipped, seed=settings.seed)
    run = Run("compare", f"{a} vs {b}", settings.state, inputs, cards, record, notes)
    log = execute(run, f"compare {a} {b}/{settings.state}", progress)
    path = log.run("report", lambda: write_report(out, run, overwrite=overwrite), lambda p: str(p / "dashboard.html"))
    log.done("compare", path)
    return path
