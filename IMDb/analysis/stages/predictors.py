"""The predictors stage of ``imdb-leap robustness`` and ``compare --robustness``: each model loaded
once for serving (`IMDb.predict.Predictor`: its ONNX file and card temperature), for the behaviour,
counterfactual and calibration stages after it. It shows nothing itself."""
from __future__ import annotations

from dataclasses import dataclass
from typing import Any

from IMDb.analysis.run_state import Run
from IMDb.analysis.stage import Result, Stage, register

COMMANDS = ("robustness", "compare")  # the commands the robustness stages are part of


def robustness_wanted(run: Run) -> bool:
    """The robustness stages always run in ``imdb-leap robustness``; in compare only with --robustness."""
    return run.command == "robustness" or bool(run.inputs.get("robustness"))


@dataclass
class PredictorsResult(Result):
    """Each model's `Predictor`, by name, in the order the models were given."""

    predictors: dict[str, Any]


def load(run: Run) -> PredictorsResult:
    from IMDb.predict import Predictor

    return PredictorsResult({n: Predictor.load(n, run.need("models_dir")) for n in run.need("models")})


register(Stage("predictors", COMMANDS, load, needs=("models", "models_dir"), wanted=robustness_wanted))
