"""The robustness stage of ``imdb-leap compare --robustness``: both models' behavioural tests,
counterfactual pairs and calibration side by side (`IMDb.robustness.run.result`); its section is
"Behaviour and robustness" (`IMDb.analysis.robustness_report`)."""
from __future__ import annotations

from dataclasses import dataclass
from typing import Any

from IMDb.analysis import robustness_report
from IMDb.analysis.run_state import Run
from IMDb.analysis.sections import Section
from IMDb.analysis.stage import Result, Stage, register


@dataclass
class RobustnessResult(Result):
    """robustness.json documents, one per model."""

    results: list[dict]

    def summary(self) -> dict[str, Any]:
        return {"robustness": self.results}

    def section(self, run: Run) -> Section | None:
        if not self.results:
            return None
        return Section("robustness", "Behaviour and robustness", robustness_report.context(self.results))


def check(run: Run) -> RobustnessResult:
    from IMDb.robustness import run as checks

    return RobustnessResult([checks.result(n, cad=run.need("cad"), models_dir=run.need("models_dir"),
                                           progress=run.need("progress")) for n in run.need("models")])


register(Stage("robustness", ("compare",), check, needs=("models", "cad", "models_dir", "progress"),
               wanted=lambda run: bool(run.inputs.get("robustness")), absent={"robustness": None}))
