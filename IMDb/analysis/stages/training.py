"""The training-curves stage: each model's logged batches and epoch history
(`IMDb.analysis.exploration.training_curves`); its section is "Training curves"."""
from __future__ import annotations

from dataclasses import dataclass, field
from typing import Any

import pandas as pd

from IMDb.analysis.metric_plots import training_plot
from IMDb.analysis.run_state import Run
from IMDb.analysis.sections import Section
from IMDb.analysis.stage import Result, Stage, register


@dataclass
class TrainingResult(Result):
    """`curves` maps a model name to `exploration.training_curves`' dict."""

    curves: dict[str, dict[str, pd.DataFrame]] = field(default_factory=dict)

    def summary(self) -> dict[str, Any]:
        return {"training": {m: {"history": c.get("history")} for m, c in self.curves.items()}}

    def section(self, run: Run) -> Section | None:
        plot = training_plot(self.curves)
        return None if plot is None else Section("training", "Training curves", {"plot": plot}, (plot,))


def curves(run: Run) -> TrainingResult:
    from IMDb.analysis import exploration

    return TrainingResult({n: exploration.training_curves(n, run.need("models_dir")) for n in run.need("models")})


register(Stage("training curves", ("analyze", "compare"), curves, needs=("models", "models_dir"),
               detail=lambda r: f"{sum(len(c.get('batches', [])) for c in r.curves.values()):,} batches logged",
               absent={"training": {}}))
