"""The exploration stage: loss by each metadata field's bins, the fields' Spearman correlations
and the seeds' claims checked (`IMDb.analysis.exploration`); its section is "Data exploration"."""
from __future__ import annotations

from dataclasses import dataclass, field
from typing import Any

import pandas as pd

from IMDb.analysis.metric_plots import correlation_plot, metadata_loss_plot
from IMDb.analysis.run_state import Run
from IMDb.analysis.sections import Section, population_loss, text
from IMDb.analysis.stage import Result, Stage, register
from IMDb.analysis.templating import table


@dataclass
class ExplorationResult(Result):
    binned: dict[str, pd.DataFrame] = field(default_factory=dict)
    correlations: pd.DataFrame | None = None
    claims: list[dict] = field(default_factory=list)

    def summary(self) -> dict[str, Any]:
        return {"correlations": self.correlations, "seed_claims": self.claims, "metadata_vs_loss": self.binned}

    def section(self, run: Run) -> Section | None:
        corr = self.correlations if self.correlations is not None and not self.correlations.empty else None
        metadata = metadata_loss_plot(self.binned, population_loss(run.frame))
        if not self.claims and metadata is None and corr is None and not self.binned:
            return None  # nothing to show
        correlation = correlation_plot(corr) if corr is not None else None
        claims = table(self.claims, ["claim", "verdict", "field", "transform", "statistic", "value", "p_value", "n",
                                     "reason"], spans={"verdict": lambda v: f"verdict {str(v).replace(' ', '-')}"},
                       formats={"verdict": text}) if self.claims else None
        context = {"claims": claims, "metadata": metadata, "correlation": correlation,
                   "spearman": table(corr.reset_index() if corr.index.name else corr) if corr is not None else None,
                   "binned": [(name, table(b)) for name, b in self.binned.items()]}
        return Section("exploration", "Data exploration", context, (metadata, correlation))


def explore(run: Run) -> ExplorationResult:
    from IMDb.analysis import exploration

    tab = run.need("table").table
    frame, fields = tab.frame, tab.numeric_fields
    return ExplorationResult(exploration.metadata_vs_loss(frame, fields), exploration.correlations(frame, fields),
                             exploration.seed_claims(frame))


register(Stage("exploration", ("analyze",), explore, needs=("table",),
               detail=lambda r: ", ".join(f"{c['verdict']}" for c in r.claims),
               absent={"correlations": None, "seed_claims": [], "metadata_vs_loss": {}}))
