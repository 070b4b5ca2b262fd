"""The calibration stage: what each model's card records of its calibration (`imdb-leap calibrate`,
`IMDb.robustness.calibrate`: the temperature, ECE and NLL before and after, reliability diagrams)
and whether its predictor applies the temperature; read, not re-measured, so a BERT run does not
re-score 25,000 reviews."""
from __future__ import annotations

from dataclasses import dataclass
from typing import Any

from IMDb.analysis import robustness_report
from IMDb.analysis.run_state import Run
from IMDb.analysis.sections import Section
from IMDb.analysis.stage import Result, Stage, register
from IMDb.analysis.stages.predictors import COMMANDS, robustness_wanted


@dataclass
class CalibrationResult(Result):
    """Per model: ``calibration`` (the card's record, or None) and ``temperature_applied``."""

    models: dict[str, dict]

    def summary(self) -> dict[str, Any]:
        return {"calibration": self.models}

    def section(self, run: Run) -> Section | None:
        return Section("calibration", "Calibration (test split, 15 bins)",
                       robustness_report.calibration_context(self.models))


def read(run: Run) -> CalibrationResult:
    return CalibrationResult({name: {"calibration": p.card.get("calibration"), "temperature_applied": p.temperature}
                              for name, p in run.need("predictors").predictors.items()})


register(Stage("calibration", COMMANDS, read, needs=("predictors",), wanted=robustness_wanted,
               absent={"calibration": None}))
