"""The behaviour stage: each model's behavioural suite (`IMDb.behaviour`), every test scored short
and inside a neutral carrier paragraph (`IMDb.robustness.measure.behaviour`); its section is the
failure rates by capability and by test, and a failing case per test."""
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
class BehaviourResult(Result):
    """Per model: the suite's results (``short``, ``carrier``, ``cases``) and the seconds it took."""

    seed: int
    models: dict[str, dict]
    seconds: dict[str, float]

    def summary(self) -> dict[str, Any]:
        return {"behaviour": self.models}

    def section(self, run: Run) -> Section | None:
        return Section("behaviour", "Behavioural tests", robustness_report.behaviour_context(self.models))


def check(run: Run) -> BehaviourResult:
    from IMDb.robustness.measure import behaviour

    seed, models, seconds = run.need("seed"), {}, {}
    for name, predictor in run.need("predictors").predictors.items():
        started = time.perf_counter()
        models[name] = behaviour(predictor.predict, seed, run.need("progress"))
        seconds[name] = time.perf_counter() - started
    return BehaviourResult(seed, models, seconds)


def _detail(result: BehaviourResult) -> str:
    return f"{next(iter(result.models.values()))['cases']:,} cases per model and form"


register(Stage("behaviour", COMMANDS, check, needs=("predictors", "seed", "progress"), detail=_detail,
               wanted=robustness_wanted, absent={"behaviour": None}))
