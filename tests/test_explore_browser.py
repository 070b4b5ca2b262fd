"""The explorer in headless Chromium (`tests.browser`): the real app served by uvicorn on a free
loopback port, over the report tests' small synthetic state (a hostile review among its 120). The
WebGL map loads, a selection is summarised against the rest, a click on a point opens that review
with each model's heat map, the hostile review shows as text without running anything; an edited
review is predicted again (its class changes), shown as a diff of the original and saved as a
counterfactual pair the CAD reader reads back; with two models, the comparison panel selects a cell
of the agreement matrix on the map and opens a review from its ranked list; a likely label error is
relabelled with the queue's keyboard shortcuts and the decision is in the CSV a restarted server
exports; a behaviour case opens as free text with its heat maps. No console error, no request
leaves the server."""
from __future__ import annotations

import contextlib
import json
import threading
import time

import pytest

from IMDb.config.run import MODELS_DIR
from IMDb.data.counterfactual import read_pairs
from IMDb.explore import server
from IMDb.explore.app import create_app
from IMDb.explore.behaviour import read_behaviour
from IMDb.explore.pairs import EXPORT
from IMDb.explore.session import Session
from IMDb.explore.workspace import open_workspace
from IMDb.output.folders import release
from tests.browser import TIMEOUT, click_map_point, load, problems, require_browser
from IMDb.explore.tables import explored
from tests.test_analysis_report import PAYLOAD, make_inputs
from tests.test_explore_app import hostile_state, negative_row
from tests.test_explore_panels import robustness_json

# Chromium's software WebGL (SwiftShader), which headless Chromium without a GPU needs for scattergl
WEBGL = ("--use-angle=swiftshader", "--enable-unsafe-swiftshader")


@contextlib.contextmanager
def serving(state, root, behaviour: dict | None = None):
    """The app over `state` (and a robustness report's `behaviour`) served by uvicorn on a free
    loopback port: its URL and output folder."""
    import uvicorn

    out = open_workspace(root / "out")
    sock = server.bind("127.0.0.1", 0)
    app = create_app(Session.ready(state, out, MODELS_DIR), "browser-token", server.allowed_hosts("127.0.0.1"),
                     behaviour=behaviour)
    uv = uvicorn.Server(uvicorn.Config(app, log_level="warning", access_log=False, lifespan="off"))
    uv.install_signal_handlers = lambda: None  # not the main thread
    thread = threading.Thread(target=uv.run, kwargs={"sockets": [sock]}, daemon=True)
    thread.start()
    while not uv.started:
        time.sleep(0.05)
    try:
        yield server.url("127.0.0.1", sock), out
    finally:
        uv.should_exit = True
        thread.join(10)
        release(out)


@pytest.fixture(scope="module")
def app_url(tmp_path_factory):
    require_browser()
    state, hostile = hostile_state()
    root = tmp_path_factory.mktemp("explore_browser")
    with serving(state, root) as (url, out):
        yield url, hostile, root, state, out


STATUS = "document.getElementById('status').textContent"


def wait_for(tools, expression: str, what: str) -> None:
    deadline = time.monotonic() + TIMEOUT
    while not tools.evaluate(expression):
        if time.monotonic() > deadline:
            raise TimeoutError(f"{what}: {tools.evaluate(STATUS)}")
        time.sleep(0.2)



PAGE = """
(() => {
  const div = document.getElementById("map"), review = document.getElementById("review");
  return {render: document.body.dataset.render, status: document.getElementById("status").textContent,
          type: div.data[0].type, points: div.data[0].x.length, canvases: div.querySelectorAll("canvas").length,
          review_id: review.dataset.id, text: document.getElementById("review-text").textContent,
          heat_id: document.getElementById("heatmaps").dataset.id,
          heat_words: document.querySelectorAll("#heatmaps .heat span").length,
          heat_maps: Array.from(document.querySelectorAll("#heatmaps .heat"))
            .map(h => h.dataset.model + ":" + h.dataset.target),
          neighbours: document.querySelectorAll("#neighbours button").length,
          injected: document.querySelectorAll("main script, main img, main iframe").length,
          pwned: window.__pwned === undefined ? null : window.__pwned};
})()
"""


# the first model's row of the predictions table: its name and class
PREDICTED = ("Array.from(document.querySelectorAll('#predictions tr:nth-child(2) td')).slice(0, 2)"
             ".map(t => t.textContent)")
DIFF = """
(() => {
  const box = document.getElementById("edit-diff");
  return {deleted: Array.from(box.querySelectorAll("del")).map(d => d.textContent),
          inserted: Array.from(box.querySelectorAll("ins")).map(d => d.textContent),
          markup: box.querySelectorAll("script, img, b").length, text: box.textContent};
})()
"""


def test_the_map_loads_and_a_click_opens_the_review_with_its_heat_map(app_url):
    url, hostile, root, state, out = app_url
    row = negative_row(state)
    assert state.frame["prediction"].iat[row] == 0
    original = state.frame["text"].iat[row]
    edited_text = original.replace("dull", "<b>wonderful</b>")  # markup typed in stays text in the diff
    tools = load(url, root, flags=WEBGL)
    try:
        wait_for(tools, "document.body.dataset.render !== 'pending'", "the map did not load")
        click_map_point(tools, hostile)
        wait_for(tools, f"document.getElementById('heatmaps').dataset.id === '{hostile}'",
                 "the clicked review's heat map did not show")
        page = tools.evaluate(PAGE)
        tools.evaluate("document.getElementById('map').emit('plotly_selected',"
                       " {points: Array.from({length: 30}, (_, i) => ({pointIndex: i}))}); 1")
        wait_for(tools, "document.getElementById('selection').dataset.n === '30'", "the selection was not summarised")
        summary = tools.evaluate("document.getElementById('selection-stats').textContent")
        tools.evaluate(f"window.imdbExplore.openReview({row}); 1")  # a negative review the table predicts so
        wait_for(tools, f"document.getElementById('heatmaps').dataset.id === '{row}'", "the review did not open")
        before = tools.evaluate(PREDICTED)
        tools.evaluate(f"document.getElementById('edit-text').value = {json.dumps(edited_text)};"
                       "document.getElementById('repredict').click(); 1")
        wait_for(tools, "document.getElementById('heatmaps').dataset.id === 'edited'", "the edit was not predicted")
        edited = tools.evaluate("Array.from(document.querySelectorAll('#heatmaps .heat span')).map(s => s.textContent)")
        after = tools.evaluate(PREDICTED)
        diff = tools.evaluate(DIFF)
        tools.evaluate("document.getElementById('save-pair').click(); 1")
        wait_for(tools, "document.getElementById('pairs').dataset.n === '1'", "the pair was not saved")
        saved = tools.evaluate("[document.getElementById('pairs-status').textContent,"
                               " document.getElementById('pairs').hidden,"
                               " document.querySelector('#pairs-list button').textContent]")
        time.sleep(0.3)
        tools.evaluate("1")  # drain late events
        found = problems(tools.events, allowed=(url, "data:", "blob:", "about:"))
    finally:
        tools.close()
    assert page["render"] == "done", page
    assert page["type"] == "scattergl" and page["points"] == 120 and page["canvases"] >= 1
    assert page["review_id"] == str(hostile) and page["heat_words"] > 10
    assert page["heat_maps"] == ["dense:positive", "dense:negative"]
    assert page["neighbours"] == 8
    assert PAYLOAD in page["text"]  # the hostile review, shown as text
    assert page["injected"] == 0 and page["pwned"] is None
    assert "30 reviews selected; 90 in the rest" in summary and "ECE (selection)" in summary
    assert before == ["dense", "negative"] and after == ["dense (edited)", "positive"]
    assert "wonderful" in edited and "dull" not in edited  # the heat maps are the edit's
    assert diff["deleted"] == ["dull"] and diff["inserted"] == ["<b>wonderful</b>"] and diff["markup"] == 0
    assert diff["text"] == original.replace("dull", "dull<b>wonderful</b>")
    assert "saved pair 1" in saved[0] and saved[1] is False
    assert saved[2].startswith(f"1: negative → positive, #{row}: ")
    (pair,) = read_pairs(out / EXPORT).to_dict("records")
    assert (pair["original"], pair["revised"], pair["revised_label"]) == (original, edited_text, 1)
    assert not found, found


def test_the_page_policy_blocks_injected_scripts(app_url):
    """Defence in depth: were a script element ever injected, the app's CSP (this server's script
    files only) would refuse to run it."""
    url, _, root, _, _ = app_url
    tools = load(url, root, flags=WEBGL)
    try:
        wait_for(tools, "document.body.dataset.render !== 'pending'", "the map did not load")
        tools.evaluate("var s = document.createElement('script'); s.textContent = 'window.__ran = 1';"
                       "document.body.appendChild(s); 1")
        ran = tools.evaluate("window.__ran === 1")
        found = problems(tools.events, allowed=(url, "data:", "blob:", "about:"))
    finally:
        tools.close()
    assert not ran
    assert any("Content Security Policy" in p for p in found)


def test_two_models_side_by_side(tmp_path):
    """With two models: the comparison panel; a cell of the agreement matrix selects its reviews on
    the map, a row of the largest loss differences opens that review."""
    require_browser()
    tables = make_inputs(with_comparison=True).tables
    state = explored({"dense": tables["dense"], "cnn": tables["cnn"]}, projection="pca", k=3)
    with serving(state, tmp_path) as (url, _):
        tools = load(url, tmp_path, flags=WEBGL)
        try:
            wait_for(tools, "document.getElementById('compare').dataset.pair === 'dense:cnn'",
                     "the comparison did not show")
            tools.evaluate("document.querySelectorAll('#compare-matrix button')[2].click(); 1")  # dense +, cnn -
            wait_for(tools, "document.getElementById('selection').dataset.n !== undefined", "no selection")
            selected = tools.evaluate("[document.getElementById('selection').dataset.n,"
                                      " document.getElementById('map').data[0].selectedpoints.length,"
                                      " document.querySelectorAll('#compare-matrix button')[2].textContent]")
            tools.evaluate("document.querySelector('#compare-largest button').click(); 1")
            wait_for(tools, "document.getElementById('review').dataset.id !== undefined", "the review did not open")
            opened = tools.evaluate("document.getElementById('review').dataset.id")
            rows = tools.evaluate("document.querySelectorAll('#predictions tr').length")
            found = problems(tools.events, allowed=(url, "data:", "blob:", "about:"))
        finally:
            tools.close()
    pa, pb = state.frame["prediction (dense)"], state.frame["prediction (cnn)"]
    n = int(((pa == 1) & (pb == 0)).sum())
    assert selected == [str(n), n, str(n)] and n > 0
    loss = (state.frame["loss (cnn)"] - state.frame["loss (dense)"]).abs()
    assert opened == str(int(loss.idxmax())) and rows == 3  # a header and both models
    assert not found, found


def press(tools, key: str) -> None:
    for kind in ("keyDown", "keyUp"):
        tools.send("Input.dispatchKeyEvent", {"type": kind, "key": key, "text": key if kind == "keyDown" else ""})


def test_a_label_error_is_relabelled_by_keyboard_and_kept_over_a_restart(tmp_path):
    """j opens the queue's first likely label error, r relabels it (and moves on); after a restart
    the exported CSV holds the decision; a behaviour case opens as free text with its heat maps."""
    require_browser()
    state, _ = hostile_state()
    behaviour = read_behaviour(robustness_json(tmp_path / "robustness"))
    with serving(state, tmp_path, behaviour) as (url, _):
        tools = load(url, tmp_path, flags=WEBGL)
        try:
            wait_for(tools, "document.body.dataset.render === 'done'", "the page did not load")
            first = tools.evaluate("document.querySelector('#queue-list button').dataset.id")
            press(tools, "j")
            wait_for(tools, f"document.getElementById('heatmaps').dataset.id === '{first}'", "j did not open it")
            press(tools, "r")
            wait_for(tools, "document.getElementById('queue').dataset.last !== undefined", "r decided nothing")
            last = tools.evaluate("document.getElementById('queue').dataset.last")
            tools.evaluate("document.querySelector('#behaviour-list button').click(); 1")
            wait_for(tools, "document.getElementById('heatmaps').dataset.id === 'text'", "the case did not open")
            case = tools.evaluate("[document.getElementById('review-title').textContent,"
                                  " document.getElementById('review-text').textContent,"
                                  " document.querySelectorAll('#heatmaps .heat').length]")
            found = problems(tools.events, allowed=(url, "data:", "blob:", "about:"))
        finally:
            tools.close()
    with serving(state, tmp_path) as (url, _):  # a new server over the same folder
        tools = load(url, tmp_path, flags=WEBGL)
        try:
            csv = tools.evaluate("fetch('/api/decisions.csv').then(r => r.text())")
            wait_for(tools, "document.body.dataset.render === 'done'", "the page did not load again")
            shown = tools.evaluate("document.querySelector('#queue-list button').dataset.decision")
        finally:
            tools.close()
    sample_id = state.frame["sample_id"].iat[int(first)]
    assert last == f"{first}:relabel" and shown == "relabel"
    assert f"{sample_id},negative,relabel,positive," in csv or f"{sample_id},positive,relabel,negative," in csv
    assert case[0].startswith("Behaviour case") and case[1] == "a good film!" and case[2] == 2
    assert not found, found
