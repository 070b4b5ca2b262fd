"""The counterfactual stage: each model scored on the CAD development pairs (accuracy on the
originals and the revisions, both right, the mean move of p(positive) toward the revision;
`IMDb.data.counterfactual`). Without a folder of pairs it is skipped, with the reason on the page
and in the results."""
from __future__ import annotations

import time
from dataclasses import dataclass
from typing import Any

from IMDb.analysis import robustness_report
from IMDb.analysis.run_state import Run
from IMDb.analysis.sections import Section
from IMDb.analysis.stage import Result, Stage, register
from IMDb.analysis.stages.predictors import COMMANDS, robustness_wanted


@dataclass
class CounterfactualResult(Result):
    """Per model: its figures with the file's name, or ``{"skipped": <reason>}``; the seconds it took."""

    models: dict[str, dict]
    seconds: dict[str, float]

    def summary(self) -> dict[str, Any]:
        return {"counterfactual": self.models}

    def section(self, run: Run) -> Section | None:
        return Section("counterfactual", "Counterfactual pairs (CAD development set)",
                       robustness_report.counterfactual_context(self.models))


def check(run: Run) -> CounterfactualResult:
    from IMDb.data.counterfactual import evaluate_pairs
    from IMDb.robustness.measure import CAD_FILE

    pairs, skipped = run.need("cad_pairs"), run.need("cad_skipped")  # read by the command before any work
    models, seconds = {}, {}
    for name, predictor in run.need("predictors").predictors.items():
        started = time.perf_counter()
        models[name] = {"skipped": skipped} if skipped else {"file": CAD_FILE, **evaluate_pairs(predictor.predict, pairs)}
        seconds[name] = time.perf_counter() - started
    return CounterfactualResult(models, seconds)


def _detail(result: CounterfactualResult) -> str:
    first = next(iter(result.models.values()))
    return "skipped" if "skipped" in first else f"{first['pairs']:,} pairs"


register(Stage("counterfactual", COMMANDS, check, needs=("predictors", "cad_pairs", "cad_skipped"), detail=_detail,
               wanted=robustness_wanted, absent={"counterfactual": None}))
