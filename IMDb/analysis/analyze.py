"""`imdb-leap analyze` as one call, `run_analysis`: its settings (`IMDb.analysis.settings`, checked
when made) and every input read before any work, then the registered stages of "analyze"
(`IMDb.analysis.stages`: table -> projection -> clusters -> insights -> attribution -> exploration
-> training curves -> label errors), each timed (`IMDb.analysis.runner.StageLog`), then the report
folder.
"""
from __future__ import annotations

from pathlib import Path

from IMDb import families
from IMDb.analysis.label_decisions import read_relabels
from IMDb.analysis import stages  # noqa: F401  (registers the built-in stages)
from IMDb.analysis.run_state import Run
from IMDb.analysis.runner import execute, read_cards, state_cfg
from IMDb.analysis.settings import AnalyzeSettings, split_states
from IMDb.config.run import MODELS_DIR, Config
from IMDb.output.folders import REPORT_MARKER, check_out_dir


def default_out_dir(name: str, state: str) -> Path:
    """reports/<model>-<state>, under the current folder."""
    return Path("reports") / f"{name}-{state}"


def run_analysis(name: str, settings: AnalyzeSettings = AnalyzeSettings(), out_dir: str | Path | None = None, *,
                 progress: bool = True, models_dir: str | Path = MODELS_DIR, overwrite: bool = False,
                 cfg: Config | None = None, baselines: bool = True) -> Path:
    """The full analysis of model `name` with `settings` (what the user chose: the state, a sample,
    the map, the reviews explained, the label-error models, the label decisions...), written to
    `out_dir` (default reports/<model>-<state>); returns the folder. A whole `cfg` names another
    dataset as `settings.data` does. `overwrite` replaces an earlier report in `out_dir`; a folder
    holding anything else is refused before any work starts."""
    from IMDb.analysis.report import write_report

    models_dir = Path(models_dir)
    out = Path(out_dir) if out_dir is not None else default_out_dir(name, settings.state)
    check_out_dir(out, REPORT_MARKER, replace=overwrite, flag="--overwrite")
    error_models = list(settings.label_error_models or [name])
    decisions = settings.label_decisions
    relabels = read_relabels(decisions) if decisions is not None else None  # a bad file fails first
    cards = read_cards(dict.fromkeys([name, *error_models]), models_dir)  # a missing model fails before any work
    cfg = cfg or state_cfg(name, models_dir, settings.data)
    recorded = settings.recorded(cfg)
    del recorded["label_decisions"]  # the table stage records it, with the labels it changed
    record = {"model": name, **recorded, "models_dir": str(models_dir), "label_error_models": error_models}
    inputs = dict(models=[name], error_models=error_models, models_dir=models_dir, cfg=cfg, data=settings.data,
                  baselines=baselines, progress=progress, relabels=relabels, label_decisions=decisions)
    run = Run("analyze", name, settings.state, inputs, cards, record, _notes(name, settings.state, baselines))
    log = execute(run, f"analyze {name}/{settings.state}", progress)
    path = log.run("report", lambda: write_report(out, run, overwrite=overwrite), lambda p: str(p / "dashboard.html"))
    log.done("analyze", path)
    return path


def _notes(name: str, state: str, baselines: bool) -> list[str]:
    """What the report says about how to read it: in-sample figures, the baselines, a model
    explained by another, reviews without labels."""
    notes = []
    if "training" in split_states(state):
        notes.append("The training state is in-sample for the model and for the TF-IDF baseline (fitted "
                     "on it): accuracy is optimistic and few label errors are found.")
    elif baselines:
        notes.append("Baselines: TextBlob polarity needs no fit; TF-IDF + logistic regression is fitted "
                     "on the training state.")
    if (source := families.get(name).explained_by) != name:
        notes.append(f"{name} ships only an ONNX file, without gradients: its table is its own, its sample "
                     f"attributions are those of {source}, the model it is made from.")
    if "unlabeled" in split_states(state):
        notes.append("The unlabeled state has no ground truth: its reviews have no loss and take no part "
                     "in the insights, claims or label errors.")
    return notes
