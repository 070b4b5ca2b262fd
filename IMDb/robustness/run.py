"""`imdb-leap robustness`: how shipped models behave beyond accuracy, as a list of registered
analysis stages (`IMDb.analysis.stage`; the same stages ``imdb-leap compare --robustness`` adds to
its page): predictors -> behaviour -> counterfactual -> calibration.

- behaviour: the behavioural suite (`IMDb.behaviour`), each test's failure rate on short texts and
  inside a neutral carrier paragraph, per capability.
- counterfactual: accuracy on the CAD development originals and revisions, and both right; skipped,
  with the reason in robustness.json and on the page, when no folder of pairs is given.
- calibration: what the model's card holds (`IMDb.robustness.calibrate` fits and records it), so a
  BERT robustness run does not re-score 25,000 reviews.

robustness.json is a list, one document per model, made from the stages' results (`documents`).
"""
from __future__ import annotations

import sys
from pathlib import Path

from IMDb.analysis import stages  # noqa: F401  (registers the built-in stages)
from IMDb.analysis.run_state import Run
from IMDb.analysis.runner import execute
from IMDb.config.run import MODELS_DIR
from IMDb.output.folders import REPORT_MARKER, atomic_dir, check_out_dir
from IMDb.output.formats import json_file
from IMDb.robustness.measure import cad_pairs
from IMDb.robustness.settings import RobustnessSettings


def default_out_dir(names: list[str]) -> Path:
    """reports/robustness-<models>, under the current folder (as `imdb-leap analyze`'s)."""
    return Path("reports") / f"robustness-{'-'.join(names)}"


def documents(run: Run) -> list[dict]:
    """The robustness.json documents, one per model: its behaviour, CAD figures (or why they were
    skipped), the calibration its card records, and the seconds its checks took."""
    behaviour, cad, calibration = (run.results[n] for n in ("behaviour", "counterfactual", "calibration"))
    return [{"model": n, "seed": behaviour.seed, "behaviour": behaviour.models[n], "cad": cad.models[n],
             **calibration.models[n], "seconds": round(behaviour.seconds[n] + cad.seconds[n], 1)}
            for n in run.need("models")]


def run_robustness(names: list[str], settings: RobustnessSettings = RobustnessSettings(),
                   out_dir: str | Path | None = None, *, models_dir: str | Path = MODELS_DIR,
                   overwrite: bool = False, progress: bool = True) -> Path:
    """robustness.json (a list, one document per model) and dashboard.html with the models side
    by side, in `out_dir` (default reports/robustness-<models> under the current folder); returns
    the folder. `settings` name the CAD pairs and the suite's seed. Without CAD pairs the behavioural suite still runs, and both files say the pairs
    were skipped and why."""
    from IMDb.analysis.robustness_report import render
    from IMDb.analysis.runner import read_cards

    out = Path(out_dir) if out_dir is not None else default_out_dir(names)
    check_out_dir(out, REPORT_MARKER, replace=overwrite, flag="--overwrite")
    pairs, skipped = cad_pairs(settings.cad)  # a missing, empty or malformed file fails before any work
    cards = read_cards(names, Path(models_dir))  # a missing model fails before any work
    if skipped:
        print(f"robustness: counterfactual pairs skipped: {skipped}", file=sys.stderr, flush=True)
    inputs = dict(models=names, models_dir=Path(models_dir), cad_pairs=pairs, cad_skipped=skipped, seed=settings.seed,
                  progress=progress)
    run = Run("robustness", ", ".join(names), "", inputs, cards, {"models": names, "seed": settings.seed})
    log = execute(run, "robustness", progress)

    def write() -> Path:
        with atomic_dir(out, REPORT_MARKER, replace=overwrite, flag="--overwrite") as tmp:
            (tmp / "robustness.json").write_text(json_file(documents(run)), encoding="utf-8")
            shown = [s for s in (r.section(run) for r in run.results.values()) if s is not None]
            (tmp / "dashboard.html").write_text(render(shown, names), encoding="utf-8")
        return out

    path = log.run("report", write, lambda p: str(p / "dashboard.html"))
    log.done("robustness", path)
    return path
