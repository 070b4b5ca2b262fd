"""The analysis stage contract (`IMDb.analysis.stage`): a view added from outside the package is one
registered stage whose section lands on the page and whose entry lands in summary.json; the plan
runs each stage after the ones it needs and refuses what cannot run."""
from __future__ import annotations

import json
from dataclasses import dataclass

import numpy as np
import pytest

from IMDb.analysis.analyze import run_analysis
from IMDb.analysis.settings import AnalyzeSettings
from IMDb.analysis.escape import plain
from IMDb.analysis.run_state import Run
from IMDb.analysis.sections import BASIC, Section
from IMDb.analysis.stage import Result, Stage, names, plan, register, registered, unregister
from IMDb.analysis.templating import table
from IMDb.errors import AnalysisError
from tests.test_analysis_report import PAYLOAD
from tests.test_analysis_run import tiny_models


@dataclass
class LengthByCluster(Result):
    """A new view: the mean review length of each cluster, with a hostile title to show it is escaped."""

    rows: list[dict]

    def section(self, run: Run) -> Section:
        return Section("length-by-cluster", f"Length by cluster {PAYLOAD}",
                       {"paragraphs": [f"{len(self.rows)} clusters; longest first {PAYLOAD}"],
                        "tables": [("", table(self.rows, ["cluster", "mean_words"]))]}, template=BASIC)

    def summary(self) -> dict:
        return {"length_by_cluster": self.rows}


def _lengths(run: Run) -> LengthByCluster:
    frame, labels = run.need("table").table.frame, run.need("clusters").labels
    words = frame["text"].str.split().str.len().to_numpy()
    rows = [{"cluster": int(c), "mean_words": float(words[labels == c].mean())} for c in np.unique(labels)]
    return LengthByCluster(sorted(rows, key=lambda r: -r["mean_words"]))


@pytest.fixture
def length_view():
    stage = register(Stage("length by cluster", ("analyze",), _lengths, needs=("table", "clusters"),
                           detail=lambda r: f"{len(r.rows)} clusters"))
    yield stage
    unregister(stage.name)


@pytest.mark.slow
def test_a_stage_registered_here_is_on_the_page_and_in_the_summary(length_view, tmp_path_factory, tmp_path):
    root, data = tiny_models(tmp_path_factory)
    settings = AnalyzeSettings(state="test", projection="pca", k=2, samples=0, data=str(data))
    out = run_analysis("cnn", settings, tmp_path / "r", models_dir=root / "models", progress=False)
    summary = json.loads((out / "summary.json").read_text())
    rows = summary["length_by_cluster"]
    assert [r["cluster"] for r in rows] and sorted(r["cluster"] for r in rows) == [0, 1]
    assert [s["stage"] for s in summary["timings"]["stages"]][-2:] == ["length by cluster", "report"]
    page = (out / "dashboard.html").read_text(encoding="utf-8")
    sections = page.split('<section id="')
    assert [s.split('"')[0] for s in sections[1:]][-2:] == ["label-errors", "length-by-cluster"]
    mine = sections[-1]
    assert f"{len(rows)} clusters; longest first" in mine and "&lt;script&gt;alert(1)" in mine
    assert PAYLOAD not in page and 'href="#length-by-cluster"' in page
    assert f">{plain(rows[0]['mean_words'])}<" in mine  # the table's first figure is shown
    unregister(length_view.name)
    assert "length by cluster" not in names("analyze")


def _stage(name: str, needs: tuple[str, ...] = ()) -> Stage:
    return Stage(name, ("test-command",), lambda run: Result(), needs=needs)


@pytest.fixture
def scratch():
    """Stages of a command of their own, taken out again after the test."""
    added: list[str] = []
    yield lambda *a, **k: added.append(register(_stage(*a, **k)).name)
    for name in added:
        unregister(name)


def test_the_plan_runs_a_stage_after_what_it_needs(scratch):
    scratch("late", ("early", "given"))
    scratch("early")
    run = Run("test-command", "m", "test", inputs={"given": 1})
    assert [s.name for s in plan("test-command", run)] == ["early", "late"]


def test_a_need_nobody_provides_or_a_cycle_is_one_line(scratch):
    scratch("a", ("nowhere",))
    with pytest.raises(AnalysisError, match="needs nowhere"):
        plan("test-command", Run("test-command", "m", "test"))
    unregister("a")
    scratch("b", ("c",))
    scratch("c", ("b",))
    with pytest.raises(AnalysisError, match="need each other"):
        plan("test-command", Run("test-command", "m", "test"))


def test_a_name_is_registered_once():
    with pytest.raises(ValueError, match="twice"):
        register(_stage("table"))
    assert registered()["table"].commands == ("analyze",)
