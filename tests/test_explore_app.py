"""`imdb-leap explore`'s server: its routes on a small synthetic state (a hostile review among its
120), every bad request answered with a 4xx and one line (the server going on), the session token
on every state-changing request, the Host check, heat maps cached under --out by the output policy,
selections and their CSV, and the command line's checks."""
from __future__ import annotations

import base64
import json
import os
import subprocess
import sys
import time
import urllib.request
from pathlib import Path

import numpy as np
import pandas as pd
import pytest
from starlette.testclient import TestClient

from IMDb.config.run import MODELS_DIR
from IMDb.errors import OutputError
from IMDb.explore.app import TOKEN_HEADER, create_app
from IMDb.explore.session import Session
from IMDb.explore.tables import Source, explored
from IMDb.explore.workspace import MARKER, open_workspace
from IMDb.output.folders import MANIFEST, release
from tests.test_analysis_report import HOSTILE, make_inputs

TOKEN = "test-token"
ROOT = Path(__file__).resolve().parent.parent


def hostile_state():
    """The report tests' synthetic table, as the dense model's (its heat maps are the real model's)
    and the row of its hostile review."""
    table = make_inputs().tables["cnn"]
    table.model = "dense"
    state = explored({"dense": table}, projection="pca", k=3)
    return state, int(np.flatnonzero(state.frame["text"].to_numpy() == HOSTILE)[0])


@pytest.fixture(scope="module")
def served(tmp_path_factory):
    state, hostile = hostile_state()
    out = open_workspace(tmp_path_factory.mktemp("explore") / "out")
    client = TestClient(create_app(Session.ready(state, out, MODELS_DIR), TOKEN, ["testserver", "127.0.0.1"]),
                        raise_server_exceptions=False)
    yield client, state, hostile, out
    release(out)


def post(client, url: str, value, token: str | None = TOKEN, **kw):
    headers = {TOKEN_HEADER: token} if token is not None else {}
    return client.post(url, content=value if isinstance(value, (bytes, str)) else json.dumps(value),
                       headers=headers, **kw)


def test_the_page_needs_no_token_and_carries_its_policy(served):
    client, *_ = served
    page = client.get("/")
    assert page.status_code == 200
    policy = page.headers["content-security-policy"]
    assert "script-src 'self'" in policy and "connect-src 'self'" in policy and "default-src 'none'" in policy
    assert f'content="{TOKEN}"' in page.text
    assert 'src="/static/plotly.min.js"' in page.text and "cdn" not in page.text.lower()
    for name in ("plotly.min.js", "explore.js"):
        script = client.get(f"/static/{name}")
        assert script.status_code == 200 and script.headers["content-type"].startswith("text/javascript")


def test_the_map_lists_every_review_and_field(served):
    client, state, hostile, _ = served
    data = client.get("/api/map").json()
    x = np.frombuffer(base64.b64decode(data["x"]["bdata"]), dtype="<f4")
    assert data["x"]["dtype"] == "f4" and np.allclose(x, state.xy[:, 0])
    assert data["n"] == len(state) == len(data["color"]["values"])
    names = {o["name"] for o in data["options"]}
    assert {"ground truth", "prediction", "loss", "cluster"} <= names
    assert data["color"]["name"] == data["options"][0]["name"]
    hover = client.get("/api/hover").json()
    assert len(hover) == len(state) and hover[hostile].startswith(f"#{hostile} ")
    assert "<script>" not in hover[hostile] and "&lt;script&gt;" in hover[hostile]
    values = client.get("/api/field", params={"name": "loss"}).json()["values"]
    assert len(values) == len(state)


def test_a_review_shows_its_predictions_metadata_and_neighbours(served):
    client, state, hostile, _ = served
    data = client.get(f"/api/review/{hostile}").json()
    assert data["text"] == HOSTILE  # JSON: the page puts it in as text
    assert data["predictions"][0]["model"] == "dense" and "length_chars" in data["metadata"]
    assert len(data["neighbours"]) == 8 and hostile not in [n["id"] for n in data["neighbours"]]


def test_heat_maps_are_computed_once_and_cached_under_out(served):
    client, state, hostile, out = served
    first = post(client, "/api/heatmap", {"id": hostile})
    assert first.status_code == 200, first.text
    (heat,) = first.json()["heatmaps"]
    assert heat["model"] == "dense" and len(heat["positive"]) == len(heat["negative"]) > 5
    assert [w["word"] for w in heat["positive"][:2]] == ["terrible", "alert"]  # the words the model reads
    cached = list((out / "heatmaps").rglob("*.json"))
    assert len(cached) == 1
    listed = json.loads((out / MANIFEST).read_text())["files"]
    assert cached[0].relative_to(out).as_posix() in listed
    assert post(client, "/api/heatmap", {"id": hostile}).json() == first.json()
    assert len(list((out / "heatmaps").rglob("*.json"))) == 1


def test_a_selection_against_the_rest_and_its_csv(served):
    client, state, _, out = served
    ids = list(range(0, 40))
    stats = post(client, "/api/selection", {"ids": ids}).json()
    assert stats["n"] == 40 and stats["n_rest"] == len(state) - 40
    model = stats["models"][0]
    assert model["model"] == "dense" and 0 <= model["selection"]["accuracy"] <= 1
    assert model["selection"]["ece"] is not None and stats["fields"]
    exported = post(client, "/api/export", {"ids": ids})
    assert exported.status_code == 200 and "attachment" in exported.headers["content-disposition"]
    lines = exported.text.splitlines()
    assert lines[0].startswith("id,sample_id,")
    (written,) = (out / "exports").iterdir()
    assert written.read_text(encoding="utf-8") == exported.text
    assert f"exports/{written.name}" in json.loads((out / MANIFEST).read_text())["files"]


@pytest.mark.parametrize("method, url, body, token, status", [
    ("get", "/api/review/99999", None, None, 404),
    ("get", "/api/review/-1", None, None, 404),
    ("get", "/api/review/abc", None, None, 404),
    ("get", "/api/field?name=%3Cscript%3E", None, None, 404),
    ("get", "/static/..%2F..%2Fio.py", None, None, 404),
    ("get", "/nowhere", None, None, 404),
    ("post", "/api/heatmap", {"id": 10 ** 9}, TOKEN, 404),
    ("post", "/api/heatmap", {"id": "1; rm -rf /"}, TOKEN, 404),
    ("post", "/api/heatmap", {"id": "\u00b2"}, TOKEN, 404),
    ("post", "/api/heatmap", {"id": "9" * 5000}, TOKEN, 404),
    ("post", "/api/heatmap", {"id": True}, TOKEN, 404),
    ("post", "/api/heatmap", {"id": 1}, None, 403),
    ("post", "/api/heatmap", {"text": "word " * 5000}, TOKEN, 413),
    ("post", "/api/heatmap", {"text": "  "}, TOKEN, 400),
    ("post", "/api/heatmap", {"text": ["a"]}, TOKEN, 400),
    ("post", "/api/heatmap", {"text": "fine"}, None, 403),
    ("post", "/api/heatmap", {"id": 1}, "t\u00e9st".encode(), 403),
    ("post", "/api/selection", "[" * 100_000, TOKEN, 400),
    ("post", "/api/heatmap", {"id": 1}, "wrong", 403),
    ("post", "/api/export", {"ids": [1, 2]}, None, 403),
    ("post", "/api/selection", {"ids": [1, 2]}, None, 403),
    ("post", "/api/selection", "not json", TOKEN, 400),
    ("post", "/api/selection", {"ids": "all"}, TOKEN, 400),
    ("post", "/api/selection", {"ids": []}, TOKEN, 400),
    ("post", "/api/selection", "x" * (1 << 20), TOKEN, 413),
    ("get", "/api/heatmap", None, None, 405),
])
def test_a_bad_request_is_one_line_and_the_server_goes_on(served, method, url, body, token, status):
    client, *_ = served
    response = post(client, url, body, token) if method == "post" else client.get(url)
    assert response.status_code == status, response.text
    assert len(response.text.strip().splitlines()) == 1 and "Traceback" not in response.text
    assert client.get("/").status_code == 200


def test_another_host_name_is_refused(served):
    """A page elsewhere whose DNS name was rebound to 127.0.0.1 sends its own Host: refused."""
    client, *_ = served
    for host in ("evil.example", "127.0.0.1.evil.example"):
        response = client.get("/", headers={"Host": host})
        assert response.status_code == 400 and len(response.text.splitlines()) == 1
    assert client.get("/", headers={"Host": "127.0.0.1:8765"}).status_code == 200


def test_the_page_answers_while_loading(tmp_path):
    """GET / and the status answer at once; the data routes say what is left, in one line."""
    import threading

    release_load = threading.Event()

    def slow(source, note, progress):
        note("scoring")
        release_load.wait(30)
        return hostile_state()[0]

    session = Session(tmp_path, MODELS_DIR)
    from IMDb.cli import library_noise

    original, library_noise.import_tensorflow = library_noise.import_tensorflow, lambda verbose=False: None
    try:
        thread = session.start(Source(models=["dense"]), loader=slow)
        client = TestClient(create_app(session, TOKEN, ["testserver"]), raise_server_exceptions=False)
        assert client.get("/").status_code == 200
        for _ in range(100):
            if client.get("/api/status").json()["stage"] == "scoring":
                break
            time.sleep(0.05)
        response = client.get("/api/map")
        assert response.status_code == 503 and "still loading (scoring)" in response.text
        release_load.set()
        thread.join(60)
        assert client.get("/api/status").json()["ready"] and client.get("/api/map").status_code == 200
    finally:
        library_noise.import_tensorflow = original
        release_load.set()


# ------------------------------------------------------------------ the output folder


def test_the_output_folder_follows_the_policy(tmp_path):
    out = open_workspace(tmp_path / "out")
    assert (out / MARKER).is_file()
    release(out)
    (out / "heatmaps").mkdir()
    (out / "heatmaps" / "mine.txt").write_text("a user's file")
    with pytest.raises(OutputError, match="did not write"):
        open_workspace(out, overwrite=True)
    (out / "heatmaps" / "mine.txt").unlink()
    release(out)
    user = tmp_path / "user"
    user.mkdir()
    (user / "notes.txt").write_text("x")
    with pytest.raises(OutputError):
        open_workspace(user)


def test_a_reopened_folder_keeps_its_cache_and_overwrite_starts_afresh(tmp_path):
    from IMDb.output.folders import folder_file

    out = open_workspace(tmp_path / "out")
    with folder_file(out, "heatmaps/x/y.json") as tmp:
        tmp.write_text("{}")
    release(out)
    assert (open_workspace(out) / "heatmaps/x/y.json").is_file()
    release(out)
    assert not (open_workspace(out, overwrite=True) / "heatmaps").exists()
    release(out)


# ------------------------------------------------------------------ the command


def run_cli(*args: str, env: dict | None = None) -> subprocess.CompletedProcess:
    return subprocess.run([sys.executable, "-m", "IMDb.cli.imdb_leap", "explore", *args], capture_output=True, text=True,
                          cwd=ROOT, env={**os.environ, **(env or {})}, timeout=120)


@pytest.mark.parametrize("args, message", [
    (("--model", "dense", "--from", "/nonexistent/report"), "not an imdb-leap analyze or compare report"),
    (("--model", "dense", "--state", "nope"), "unknown or repeated state"),
    (("--model", "dense", "--limit", "3"), "--limit must be at least"),
    (("--model", "dense", "--port", "70000"), "--port must be 0 to 65535"),
    (("--model", "nope"), "name models from"),
    (("--model", "dense", "--robustness", "/nonexistent/robustness"), "not an imdb-leap robustness report"),
])
def test_bad_input_is_one_line(args, message, tmp_path):
    result = run_cli(*args, "--out", str(tmp_path / "out"), "--no-browser")
    assert result.returncode == 2, result.stderr
    assert message in result.stderr and len(result.stderr.strip().splitlines()) == 1, result.stderr


def test_the_command_serves_the_page_at_once(imdb_data, tmp_path):
    """The real command on a small sample of the real data: the URL is printed and GET / answers
    200 within 10 s of the start, while the tables are still being built; Ctrl-C ends it."""
    import signal

    started = time.monotonic()
    proc = subprocess.Popen([sys.executable, "-m", "IMDb.cli.imdb_leap", "explore", "--model", "dense", "--limit", "20",
                             "--projection", "pca", "--port", "0", "--no-browser", "--quiet",
                             "--out", str(tmp_path / "out")], cwd=ROOT, stdout=subprocess.PIPE,
                            stderr=subprocess.PIPE, text=True, env={**os.environ, "IMDB_DATA": str(imdb_data)})
    try:
        url = proc.stdout.readline().strip()
        assert url.startswith("http://127.0.0.1:"), proc.stderr.read() if proc.poll() is not None else url
        with urllib.request.urlopen(url, timeout=10) as page:
            assert page.status == 200
        assert time.monotonic() - started < 10
    finally:
        proc.send_signal(signal.SIGINT)
        try:
            proc.wait(30)
        except subprocess.TimeoutExpired:
            proc.kill()
            proc.wait()
    assert (tmp_path / "out" / MARKER).is_file()
    assert "Traceback" not in proc.stderr.read()


def test_from_a_report_its_table_is_reused(tmp_path):
    """--from: the report's own table (its reviews and latent vectors), not a new scoring."""
    from IMDb.analysis.report import write_report
    from IMDb.explore.tables import load, read_report

    inputs = make_inputs()
    inputs.settings.update(model="cnn", limit=None, seed=0)
    report = write_report(tmp_path / "report", inputs)
    settings = read_report(report)
    assert settings["state"] == "test" and settings["models"] == ["cnn"]
    stages = []
    state = load(Source(models=["cnn"], state="test", projection="pca", report=report), stages.append)
    assert not any("scoring" in s for s in stages)
    assert state.frame["sample_id"].tolist() == inputs.frame["sample_id"].tolist()
    assert np.allclose(state.latent, inputs.tables["cnn"].latent)


def test_an_edited_text_is_predicted_then_explained_by_every_model(served):
    client, *_ = served
    text = "A wonderful, moving film. Superb acting!"
    response = post(client, "/api/edit", {"text": text})
    assert response.status_code == 200, response.text
    data = response.json()
    (prediction,) = data["predictions"]
    assert prediction["model"] == "dense" and prediction["label"] == "positive" and prediction["p_positive"] > 0.5
    assert "heatmaps" not in data  # the edit answers with its predictions alone: the heat maps are asked after
    explained = post(client, "/api/heatmap", {"text": text})
    assert explained.status_code == 200, explained.text
    words = [w["word"] for w in explained.json()["heatmaps"][0]["positive"]]
    assert "wonderful" in words and "superb" in words


@pytest.mark.parametrize("body, token, status", [
    ({"text": "fine"}, None, 403),
    ({"text": "word " * 5000}, TOKEN, 413),
    ({"text": "   "}, TOKEN, 400),
    ({"text": 42}, TOKEN, 400),
])
def test_a_bad_edit_is_one_line(served, body, token, status):
    client, *_ = served
    response = post(client, "/api/edit", body, token)
    assert response.status_code == status and len(response.text.strip().splitlines()) == 1, response.text


def test_a_busy_port_is_one_line(tmp_path):
    from IMDb.explore import server

    taken = server.bind("127.0.0.1", 0)
    try:
        port = str(taken.getsockname()[1])
        result = run_cli("--model", "dense", "--limit", "20", "--port", port, "--out", str(tmp_path / "o"),
                         "--no-browser")
    finally:
        taken.close()
    assert result.returncode == 2 and "cannot listen there" in result.stderr and "--port" in result.stderr
    assert len(result.stderr.strip().splitlines()) == 1, result.stderr
    assert not (tmp_path / "o").exists()


def test_another_host_warns_and_answers_only_to_this_machines_names(capsys):
    from IMDb.explore import server

    server.warn_if_exposed("127.0.0.1")
    assert capsys.readouterr().err == ""
    server.warn_if_exposed("0.0.0.0")
    assert "warning: serving on 0.0.0.0" in capsys.readouterr().err
    assert server.allowed_hosts("127.0.0.1") == ["127.0.0.1", "[::1]", "localhost"]
    wide = server.allowed_hosts("0.0.0.0")
    assert {"127.0.0.1", "localhost"} <= set(wide) and "evil.example" not in wide


# ------------------------------------------------------------------ edits, counterfactual pairs


def negative_row(state) -> int:
    """A labeled negative review other than the hostile one."""
    return int(np.flatnonzero((state.frame["label"] == 0) & ~state.frame["text"].str.contains("<"))[0])


def test_an_edit_of_a_review_comes_with_its_diff(served):
    client, state, *_ = served
    row = negative_row(state)
    original = state.frame["text"].iat[row]
    edited = original.replace("dull", "<b>great</b>") + " Loved it."
    data = post(client, "/api/edit", {"id": row, "text": edited}).json()
    pieces = data["diff"]
    assert "".join(p["text"] for p in pieces if p["op"] != "insert") == original
    assert "".join(p["text"] for p in pieces if p["op"] != "delete") == edited
    assert {"op": "delete", "text": "dull"} in pieces and {"op": "insert", "text": "<b>great</b>"} in pieces
    assert "diff" not in post(client, "/api/edit", {"text": edited}).json()


def test_a_long_edit_diffs_back_to_both_texts():
    from IMDb.explore.diff import word_diff

    words = [f"word{i % 50}" for i in range(3000)]
    original = " ".join(words)
    words[10:12] = ["new", "words"]
    edited = " ".join(words).replace("word7 ", "word7\n\t", 3)
    pieces = word_diff(original, edited)
    assert "".join(p["text"] for p in pieces if p["op"] != "insert") == original
    assert "".join(p["text"] for p in pieces if p["op"] != "delete") == edited
    assert sum(p["op"] == "insert" for p in pieces) <= 6


# a revision that a TSV writer must quote: a tab, newlines, a carriage return, quotes, a formula start
AWKWARD = '=SUM(1)\tThe film was "great",\nthe story\r\nmoved; I\'d watch it again.'


def test_a_pair_is_saved_under_out_and_exported_as_cad_pairs(served, monkeypatch):
    """Saved pairs survive a restart (a new session on the same folder) and their export is the CAD
    TSV that `imdb-leap train --counterfactual` reads from $IMDB_CAD, texts exactly as typed."""
    from IMDb.config.run import Config
    from IMDb.data.counterfactual import cad_file, read_pairs
    from IMDb.data.training_set import with_extra_training
    from IMDb.explore.pairs import EXPORT

    client, state, hostile, out = served
    row = negative_row(state)
    original = state.frame["text"].iat[row]
    assert client.get("/api/pairs.tsv").status_code == 404
    first = post(client, "/api/pairs", {"id": row, "text": original.replace("dull", "great"), "label": "positive"})
    assert first.status_code == 200, first.text
    assert first.json() == {"batch_id": 1, "export": EXPORT}
    second = post(client, "/api/pairs", {"id": hostile, "text": AWKWARD, "label": "positive"})
    assert second.json()["batch_id"] == 2, second.text

    restarted = TestClient(create_app(Session.ready(state, out, MODELS_DIR), TOKEN, ["testserver"]))
    listed = restarted.get("/api/pairs").json()
    assert listed["n"] == 2 and [p["id"] for p in listed["pairs"]] == [row, hostile]
    assert listed["pairs"][0]["original_label"] == "negative" and listed["pairs"][0]["revised_label"] == "positive"
    download = restarted.get("/api/pairs.tsv")
    assert download.status_code == 200 and download.content == (out / EXPORT).read_bytes()
    assert download.text.startswith("Sentiment\tText\tbatch_id\n")
    manifest = json.loads((out / MANIFEST).read_text())["files"]
    assert {"pairs/1.json", "pairs/2.json", EXPORT} <= set(manifest)

    monkeypatch.setenv("IMDB_CAD", str(out / "counterfactuals"))
    pairs = read_pairs(cad_file("train_paired.tsv"))  # as train --counterfactual finds and reads them
    assert pairs["batch_id"].tolist() == [1, 2]
    assert pairs["original"].tolist() == [original, HOSTILE]
    assert pairs["revised"].tolist() == [original.replace("dull", "great"), AWKWARD]
    assert pairs["original_label"].tolist() == [0, 0] and pairs["revised_label"].tolist() == [1, 1]
    states = {"training": pd.DataFrame({"text": ["another review"], "label": [1]}),
              "validation": pd.DataFrame({"text": ["v"], "label": [0]}),
              "test": pd.DataFrame({"text": [original], "label": [0]})}
    training, _ = with_extra_training(Config(model="cnn", counterfactual=True), states)
    assert AWKWARD in training["text"].tolist() and HOSTILE in training["text"].tolist()
    assert original.replace("dull", "great") not in training["text"].tolist()  # its original is a test review


@pytest.mark.parametrize("body, token, status, message", [
    ({"id": 1, "text": "A fine film.", "label": "positive"}, None, 403, "X-Explore-Token"),
    ({"id": 10 ** 6, "text": "A fine film.", "label": "positive"}, TOKEN, 404, "no review with id"),
    ({"id": 1, "text": "word " * 5000, "label": "positive"}, TOKEN, 413, "at most"),
    ({"id": 1, "text": "A fine film.", "label": "neutral"}, TOKEN, 400, "negative or positive"),
    ({"id": 1, "text": "A fine film.", "label": ["positive"]}, TOKEN, 400, "negative or positive"),
    ({"id": 1, "text": "A fine film."}, TOKEN, 400, "must be"),
    ({"text": "A fine film.", "label": "positive"}, TOKEN, 400, "must be"),
    ({"id": 1, "text": " ", "label": "positive"}, TOKEN, 400, "empty"),
])
def test_a_bad_pair_is_one_line(served, body, token, status, message):
    client, *_ = served
    response = post(client, "/api/pairs", body, token)
    assert response.status_code == status and message in response.text, response.text
    assert len(response.text.strip().splitlines()) == 1


def test_a_pair_must_flip_the_sentiment_and_change_the_text(served):
    client, state, *_ = served
    row = negative_row(state)
    text = state.frame["text"].iat[row]
    same = post(client, "/api/pairs", {"id": row, "text": text + " Yes.", "label": "negative"})
    assert same.status_code == 400 and "already negative" in same.text
    unchanged = post(client, "/api/pairs", {"id": row, "text": text, "label": "positive"})
    assert unchanged.status_code == 400 and "edit it first" in unchanged.text


# ------------------------------------------------------------------ two models side by side


@pytest.fixture(scope="module")
def two_models(tmp_path_factory):
    """The synthetic state scored by dense and cnn (two different synthetic tables)."""
    tables = make_inputs(with_comparison=True).tables
    state = explored({"dense": tables["dense"], "cnn": tables["cnn"]}, projection="pca", k=3)
    out = open_workspace(tmp_path_factory.mktemp("compare") / "out")
    yield TestClient(create_app(Session.ready(state, out, MODELS_DIR), TOKEN, ["testserver"]),
                     raise_server_exceptions=False), state
    release(out)


def test_two_models_side_by_side(two_models):
    client, state = two_models
    data = client.get("/api/compare").json()
    assert (data["a"], data["b"], data["n"]) == ("dense", "cnn", len(state))
    pa = state.frame["prediction (dense)"].to_numpy()
    pb = state.frame["prediction (cnn)"].to_numpy()
    assert data["matrix"] == [[int(((pa == i) & (pb == j)).sum()) for j in (0, 1)] for i in (0, 1)]
    assert data["disagree"] == np.flatnonzero(pa != pb).tolist() and data["disagree"]
    assert sorted(data["cells"][0][1] + data["cells"][1][0]) == data["disagree"]
    assert sum(map(sum, data["right_wrong"]["counts"])) == len(state) and 0 <= data["mcnemar_p"] <= 1
    differences = [abs(r["difference"]) for r in data["largest"]]
    assert len(differences) == 20 and differences == sorted(differences, reverse=True)
    top = data["largest"][0]
    loss = state.frame["loss (cnn)"] - state.frame["loss (dense)"]
    assert abs(top["difference"]) == pytest.approx(loss.abs().max())
    assert loss.iat[top["id"]] == pytest.approx(top["difference"])
    review = client.get(f"/api/review/{top['id']}").json()  # each row opens the same review view
    assert [p["model"] for p in review["predictions"]] == ["dense", "cnn"]
    swapped = client.get("/api/compare", params={"a": "cnn", "b": "dense"}).json()
    assert swapped["matrix"] == [list(r) for r in zip(*data["matrix"])]


@pytest.mark.parametrize("params, status", [({"a": "rnn"}, 404), ({"b": "<script>"}, 404),
                                            ({"a": "cnn", "b": "cnn"}, 400)])
def test_a_bad_comparison_is_one_line(two_models, params, status):
    client, _ = two_models
    response = client.get("/api/compare", params=params)
    assert response.status_code == status and len(response.text.strip().splitlines()) == 1, response.text


def test_one_model_has_nothing_to_compare(served):
    client, *_ = served
    response = client.get("/api/compare")
    assert response.status_code == 400 and "two or more" in response.text
