"""The analysis stage contract, in one place (after cleanlab Datalab's `IssueManager` and LIT's
interpreters): a `Stage` has a name, says which commands run it and what it needs (the run's inputs
or other stages' results), and returns a `Result` that renders its own page section and its own
summary.json entries; the registry holds the stages by name, in the order they were registered.

A stage reads the settings the user chose from `run.settings` (always there) and everything else
through `run.need(name)`: a run input or another stage's result, each named in `needs`.
`imdb-leap analyze` and `compare` are the registered stages of their command, run in that order
with each stage moved after the stages it needs (`plan`); the page shows the run-level summary
section, then each result's section in run order, and summary.json holds the run's own keys, then
each result's entries (`IMDb.analysis.report`). A new view is one module: a `Result` subclass and
a `register(Stage(...))` call; its section may use the generic template
``sections/basic.html.j2`` (paragraphs, key-value pairs, tables and plots; autoescaped like the rest).
"""
from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass, field
from pathlib import Path
from typing import TYPE_CHECKING, Any

from IMDb.errors import AnalysisError

if TYPE_CHECKING:
    from IMDb.analysis.run_state import Run
    from IMDb.analysis.sections import Section


class Result:
    """What a stage returns. Each hook has a default, so a result states only what it shows."""

    def section(self, run: Run) -> Section | None:
        """The result's page section (None: the page has no section for it)."""
        return None

    def summary(self) -> dict[str, Any]:
        """The result's top-level entries in summary.json."""
        return {}

    def settings(self) -> dict[str, Any]:
        """What the stage chose for the run (e.g. k by silhouette), added to the run's settings."""
        return {}

    def write(self, folder: Path, run: Run) -> list[str]:
        """Files the result adds to the report folder; returns their paths relative to it."""
        return []


@dataclass(frozen=True)
class Stage:
    """One registered stage: `run(run)` returns its `Result`; `needs` names the run's inputs or the
    stages whose results it reads; `detail(result)` is the end of its progress line; `wanted(run)`
    leaves it out of a run (e.g. robustness without ``--robustness``); `absent` are its summary
    entries when a command does not run it (format /1 keeps every key)."""

    name: str
    commands: tuple[str, ...]
    run: Callable[[Run], Result]
    needs: tuple[str, ...] = ()
    detail: Callable[[Any], str] | None = None
    wanted: Callable[[Run], bool] = field(default=lambda run: True)
    absent: dict[str, Any] = field(default_factory=dict)


REGISTRY: dict[str, Stage] = {}


def register(stage: Stage) -> Stage:
    """Add `stage` to the registry (a name registered twice is refused: one module per view)."""
    if stage.name in REGISTRY:
        raise ValueError(f"analysis stage {stage.name!r} is registered twice")
    REGISTRY[stage.name] = stage
    return stage


def unregister(name: str) -> None:
    """Take stage `name` out of the registry (a view added for one run, e.g. by a test)."""
    REGISTRY.pop(name, None)


def registered() -> dict[str, Stage]:
    """Every stage, in registration order (the built-in ones are registered by importing
    `IMDb.analysis.stages`, as the commands do)."""
    return REGISTRY


def names(command: str) -> tuple[str, ...]:
    """The names of `command`'s registered stages, in registration order (all of them, wanted or not)."""
    return tuple(name for name, stage in registered().items() if command in stage.commands)


def plan(command: str, run: Run) -> list[Stage]:
    """The stages of `command` that `run` wants, in registration order, each moved after the stages
    it needs. A need that is neither a run input nor a stage of the plan is refused, as is a cycle."""
    todo = [s for s in registered().values() if command in s.commands and s.wanted(run)]
    names = {s.name for s in todo}
    for stage in todo:
        missing = [n for n in stage.needs if n not in names and n not in run.inputs]
        if missing:
            raise AnalysisError(f"analysis stage {stage.name!r} needs {', '.join(missing)}, "
                                f"which {command} neither runs nor is given")
    order: list[Stage] = []
    while todo:
        ready = next((s for s in todo if all(n in run.inputs or n in {o.name for o in order} for n in s.needs)),
                     None)
        if ready is None:
            raise AnalysisError(f"analysis stages {', '.join(s.name for s in todo)} need each other")
        order.append(ready)
        todo.remove(ready)
    return order
