"""`Run`: one analysis run as the stages and the report see it: what the command was given
(`inputs`, the models' `cards`, the `settings` it records), the stages' results by name, and their
timings. The report (`IMDb.analysis.report`) reads a `Run` and nothing else, so the page and
summary.json are both made from the results and cannot drift apart.
"""
from __future__ import annotations

from dataclasses import dataclass, field
from typing import Any

import pandas as pd

from IMDb.analysis.stage import Result


@dataclass
class TableResult(Result):
    """A model's per-review table (`IMDb.analysis.table.AnalysisTable`); what it chose for the run
    (relabelled reviews) is in `chosen`."""

    model: str
    table: Any
    chosen: dict[str, Any] = field(default_factory=dict)

    def settings(self) -> dict[str, Any]:
        return dict(self.chosen)


@dataclass
class Run:
    """The run: `title` heads the page (``cnn`` or ``cnn vs dense``); `inputs` holds what stages may
    need besides other stages' results; `results` maps a stage's name to its `Result`, in run order;
    `timings` one dict per stage (stage, seconds, peak_rss_mib); `started` (time.perf_counter at the
    start) lets the summary record the total wall time, the report included."""

    command: str
    title: str
    state: str
    inputs: dict[str, Any] = field(default_factory=dict)
    cards: dict[str, dict] = field(default_factory=dict)
    settings: dict[str, Any] = field(default_factory=dict)
    notes: list[str] = field(default_factory=list)
    results: dict[str, Result] = field(default_factory=dict)
    timings: list[dict] = field(default_factory=list)
    started: float | None = None

    def need(self, name: str) -> Any:
        """A stage's result or, when no stage has that name, the run input."""
        return self.results[name] if name in self.results else self.inputs[name]

    @property
    def tables(self) -> dict[str, Any]:
        """Each model's table, in run order (analyze: one; compare: two)."""
        return {r.model: r.table for r in self.results.values() if isinstance(r, TableResult)}

    @property
    def frame(self) -> pd.DataFrame | None:
        """The first model's table: the one the population, cluster and exploration views read."""
        return next(iter(self.tables.values())).frame if self.tables else None

    def all_settings(self) -> dict[str, Any]:
        """The run's settings followed by what each stage chose, in run order."""
        out = dict(self.settings)
        for result in self.results.values():
            out.update(result.settings())
        return out
