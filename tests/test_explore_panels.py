"""`imdb-leap explore`'s label-error queue and behaviour browser: the queue is the analysis's ranking,
a decision is kept in SQLite under --out (listed in the manifest), survives a new app over the same
folder and is exported as CSV, every bad request is one 4xx line; a robustness report's failing cases
by capability (or how to make one); ``analyze --label-decisions`` scores with the new labels and
refuses a file that is not such an export."""
from __future__ import annotations

import json
from pathlib import Path

import pandas as pd
import pytest
from starlette.testclient import TestClient

from IMDb.analysis.table import AnalysisTable
from IMDb.cli.imdb_leap import main
from IMDb.config.run import MODELS_DIR
from IMDb.errors import DataError, UsageError
from IMDb.explore.app import create_app
from IMDb.explore.behaviour import find_report, read_behaviour
from IMDb.analysis.label_decisions import COLUMNS, EXPORT, read_relabels
from IMDb.explore.decisions import DB
from IMDb.explore.session import Session
from IMDb.explore.workspace import open_workspace
from IMDb.output.folders import MANIFEST, release
from tests.test_explore_app import TOKEN, hostile_state, post


def serve(state, out: Path, behaviour: dict | None = None) -> TestClient:
    return TestClient(create_app(Session.ready(state, out, MODELS_DIR), TOKEN, ["testserver"], behaviour=behaviour),
                      raise_server_exceptions=False)


@pytest.fixture(scope="module")
def state():
    return hostile_state()[0]


def test_a_decision_is_kept_survives_a_restart_and_is_exported(state, tmp_path):
    out = open_workspace(tmp_path / "out")
    client = serve(state, out)
    assert client.get("/api/decisions.csv").status_code == 404  # nothing decided yet
    queue = client.get("/api/label-errors").json()
    assert queue["n"] >= 1 and queue["decided"] == 0 and [i["rank"] for i in queue["items"]] == list(
        range(1, queue["n"] + 1))
    first = queue["items"][0]
    assert first["label"] != first["suggested"] and state.frame["sample_id"].iat[first["id"]] == first["sample_id"]
    assert post(client, "/api/decisions", {"id": first["id"], "decision": "keep"}).status_code == 200
    answer = post(client, "/api/decisions", {"id": first["id"], "decision": "relabel"}).json()  # replaces "keep"
    assert answer["new_label"] == first["suggested"] and answer["export"] == EXPORT
    assert {DB, EXPORT} <= set(json.loads((out / MANIFEST).read_text())["files"])
    release(out)

    client = serve(state, open_workspace(tmp_path / "out"))  # a new app over the same folder
    again = client.get("/api/label-errors").json()
    assert again["decided"] == 1 and again["items"][0]["decision"] == "relabel"
    csv = client.get("/api/decisions.csv")
    assert csv.status_code == 200 and csv.headers["content-type"].startswith("text/csv")
    rows = pd.read_csv(out / EXPORT, dtype=str)
    assert list(rows.columns) == list(COLUMNS) and len(rows) == 1
    assert rows.iloc[0][["sample_id", "original_label", "decision", "new_label"]].tolist() == [
        first["sample_id"], first["label"], "relabel", first["suggested"]]
    assert read_relabels(out / EXPORT) == {first["sample_id"]: 1 if first["suggested"] == "positive" else 0}
    release(out)


@pytest.mark.parametrize("body, token, status", [
    ({"id": 0, "decision": "keep"}, None, 403),
    ({"id": 0, "decision": "keep"}, "wrong", 403),
    ({"id": 99999, "decision": "keep"}, TOKEN, 404),
    ({"id": "../x", "decision": "keep"}, TOKEN, 404),
    ({"id": 0, "decision": "delete"}, TOKEN, 400),
    ({"id": 0, "decision": ["keep"]}, TOKEN, 400),
    ({"id": 0}, TOKEN, 400),
    ("not json", TOKEN, 400),
])
def test_a_bad_decision_is_one_line(state, tmp_path, body, token, status):
    out = open_workspace(tmp_path / "out")
    client = serve(state, out)
    response = post(client, "/api/decisions", body, token=token)
    assert response.status_code == status and "\n" not in response.text.strip() and "Traceback" not in response.text
    assert not (out / DB).exists() and client.get("/api/status").status_code == 200
    release(out)


def robustness_json(folder: Path) -> Path:
    folder.mkdir()
    case = {"texts": ["a <b>good</b> film", "a good film!"], "p_positive": [0.9, 0.2], "expected": 0}
    test = {"name": "punctuation", "capability": "Robustness", "type": "INV", "description": "", "cases": 10,
            "failure_rate": 0.1, "failures": 1, "examples": [case]}
    behaviour = {form: {"tests": [test], "by_capability": {"Robustness": 0.1}} for form in ("short", "carrier")}
    (folder / "robustness.json").write_text(json.dumps([{"model": "dense", "behaviour": behaviour}]))
    return folder


def test_the_behaviour_browser_lists_failing_cases_by_capability(state, tmp_path):
    folder = robustness_json(tmp_path / "rob")
    assert find_report(None, str(folder)) == folder and find_report(None, str(tmp_path)) is None
    out = open_workspace(tmp_path / "out")
    data = serve(state, out, read_behaviour(folder)).get("/api/behaviour").json()
    (group,) = data["capabilities"]
    assert data["models"] == ["dense"] and group["failure_rate"] == {"dense": 0.1}
    assert [c["form"] for c in group["cases"]] == ["short", "carrier"] and group["cases"][0]["texts"][0].startswith(
        "a <b>")
    assert "imdb-leap robustness" in serve(state, out).get("/api/behaviour").json()["missing"]
    release(out)


def test_a_folder_without_a_robustness_report_is_one_line(tmp_path):
    with pytest.raises(UsageError, match=r"^--robustness .*not an imdb-leap robustness report") as e:
        read_behaviour(tmp_path)
    assert "\n" not in str(e.value)


@pytest.mark.parametrize("text", ["a,b\n1,2\n", "sample_id,original_label,decision,new_label,time\nx,negative,flip,,t\n",
                                  "\x00\xff"])
def test_a_file_that_is_not_a_decisions_export_is_refused(tmp_path, text):
    path = tmp_path / "d.csv"
    path.write_text(text, encoding="latin-1")
    with pytest.raises(DataError, match="--label-decisions") as e:
        read_relabels(path)
    assert "\n" not in str(e.value)


@pytest.mark.slow
def test_analyze_scores_with_the_decisions(tmp_path_factory, tmp_path, capsys):
    from tests.test_analysis_run import analysed, tiny_models

    root, data = tiny_models(tmp_path_factory)
    before = AnalysisTable.load(analysed(tmp_path_factory) / "table.parquet").frame
    chosen = before.iloc[:3]
    rows = [(s, "positive" if y else "negative", "relabel", "negative" if y else "positive", "t")
            for s, y in zip(chosen["sample_id"], chosen["label"])]
    decisions = tmp_path / EXPORT
    pd.DataFrame(rows + [(before["sample_id"].iat[3], "negative", "unsure", "", "t")], columns=COLUMNS).to_csv(
        decisions, index=False)
    args = ["analyze", "--model", "cnn", "--state", "test", "--models-dir", str(root / "models"), "--data", str(data),
            "--projection", "pca", "--samples", "0", "--quiet"]
    assert main([*args, "--out", str(tmp_path / "a"), "--label-decisions", str(decisions)]) == 0
    assert "3 label(s) changed" in capsys.readouterr().err
    after = AnalysisTable.load(tmp_path / "a" / "table.parquet").frame.set_index("sample_id")
    flipped = after.loc[chosen["sample_id"]]
    assert (flipped["label"].to_numpy() == 1 - chosen["label"].to_numpy()).all()
    assert (flipped["correct"].to_numpy() != before.iloc[:3]["correct"].to_numpy().astype(bool)).all()
    rest = before.iloc[3:].set_index("sample_id")
    assert (after.loc[rest.index, "label"] == rest["label"]).all()
    summary = json.loads((tmp_path / "a" / "summary.json").read_text())
    assert summary["settings"]["label_decisions"]["changed"] == 3

    bad = tmp_path / "bad.csv"
    bad.write_text("review,label\n1,2\n")
    assert main([*args, "--out", str(tmp_path / "b"), "--label-decisions", str(bad)]) == 2
    err = capsys.readouterr().err
    assert err.count("\n") == 1 and "not a label-decisions export" in err and not (tmp_path / "b").exists()
