"""What the analysis commands share (`IMDb.analysis.analyze`, `IMDb.analysis.compare_models`; their
settings, checked when made, are `IMDb.analysis.settings`): a model's table of one or several states
(`build_table`), its split settings on another dataset (`state_cfg`), `execute` (a command's
registered stages run in order, `IMDb.analysis.stage.plan`), and `StageLog`, which times each stage
and prints one line to stderr when it ends (wall seconds, peak RSS so far, what it found); the long
ones (inference, metadata, attribution) show their own tqdm bars. The timings go into summary.json.
Failed inputs raise `AnalysisError` (an `IMDbError`: the CLI prints one line).
"""
from __future__ import annotations

import sys
import time
from collections.abc import Callable
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

import numpy as np
import pandas as pd

from IMDb import console
from IMDb.analysis.run_state import Run, TableResult
from IMDb.analysis.settings import MIN_REVIEWS, split_states
from IMDb.analysis.stage import plan
from IMDb.config.run import Config
from IMDb.errors import AnalysisError


@dataclass
class StageLog:
    """Times the stages of a run and prints one line per stage; `timings` feeds summary.json."""

    title: str
    names: tuple[str, ...]
    progress: bool = True
    timings: list[dict] = field(default_factory=list)
    started: float = field(default_factory=time.perf_counter)

    def run(self, name: str, fn: Callable[[], Any], detail: Callable[[Any], str] | None = None) -> Any:
        """`fn()` timed as stage `name`. Errors pass through unchanged: bad input is refused before the
        first stage (or raised as an `IMDbError` where it is read), so anything else is a bug and keeps
        its traceback."""
        from IMDb.analysis.table import peak_rss_mib

        index = self.names.index(name) + 1 if name in self.names else len(self.timings) + 1
        prefix = f"{self.title}: [{index}/{len(self.names)}] {name}"
        if self.progress:
            print(f"{prefix} ...", file=sys.stderr, flush=True)
        t0 = time.perf_counter()
        result = fn()
        console.check_interrupt()  # a Ctrl-C that a library swallowed during the stage ends the run here
        seconds = time.perf_counter() - t0
        entry = {"stage": name, "seconds": round(seconds, 3), "peak_rss_mib": round(peak_rss_mib(), 1)}
        self.timings.append(entry)
        if self.progress:
            extra = f" ({detail(result)})" if detail else ""
            print(f"{prefix}: {seconds:.1f} s, peak RSS {entry['peak_rss_mib']:.0f} MiB{extra}",
                  file=sys.stderr, flush=True)
        return result

    def done(self, command: str, folder: Path) -> None:
        """The run's last line: its wall time and the dashboard it wrote."""
        if self.progress:
            print(f"{command}: done in {time.perf_counter() - self.started:.1f} s: {folder / 'dashboard.html'}",
                  file=sys.stderr, flush=True)


def execute(run: Run, title: str, progress: bool) -> StageLog:
    """Run the registered stages of `run.command` in order, each result kept in `run.results` and
    each timing in `run.timings` (a table's own steps with it); returns the log, whose last stage,
    "report", the caller runs."""
    stages = plan(run.command, run)
    log = StageLog(title, (*(s.name for s in stages), "report"), progress)
    run.timings, run.started = log.timings, log.started
    for stage in stages:
        result = log.run(stage.name, lambda: stage.run(run), stage.detail)
        if isinstance(result, TableResult):
            log.timings[-1]["steps"] = {k: round(v, 3) for k, v in result.table.timings.items()}
        run.results[stage.name] = result
    return log


def state_cfg(name: str, models_dir: Path, data: str | None) -> Config | None:
    """The model's own split settings (its card) with another data source; None keeps the default
    (IMDB_DATA)."""
    if data is None:
        return None
    from IMDb.bundle import Bundle

    return Bundle.read(name, models_dir).split_config(str(data))


def build_table(name: str, state: str, limit: int | None, models_dir: Path, cfg: Config | None,
           baselines: bool, progress: bool, seed: int):
    """The model's table of one state, or of several ("training+test", `limit` per state) stacked."""
    from IMDb.analysis.baselines import forget_tfidf
    from IMDb.analysis.table import AnalysisTable, build_table, peak_rss_mib

    tables = [build_table(name, part, limit, models_dir=models_dir, cfg=cfg, progress=progress,
                          baselines=baselines, seed=seed) for part in split_states(state)]
    forget_tfidf()  # every table scored with it is built
    table = tables[0]
    if len(tables) > 1:
        timings: dict[str, float] = {}
        for t in tables:
            for key, value in t.timings.items():
                timings[key] = max(timings.get(key, 0.0), value) if key == "peak_rss_mib" \
                    else timings.get(key, 0.0) + value
        timings["peak_rss_mib"] = peak_rss_mib()
        table = AnalysisTable(pd.concat([t.frame for t in tables], ignore_index=True),
                              np.concatenate([t.latent for t in tables]), name, timings)
    if len(table) < MIN_REVIEWS:
        raise AnalysisError(f"the {state} state holds {len(table)} review(s); an analysis needs at least "
                            f"{MIN_REVIEWS}: use a larger dataset (--data) or another --state")
    return table


def read_cards(names, models_dir: Path) -> dict[str, dict]:
    from IMDb.bundle import read_card

    return {n: read_card(n, models_dir) for n in names}
