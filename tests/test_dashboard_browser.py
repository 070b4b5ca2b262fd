"""The dashboard opened in headless Chromium (Debian's `chromium`, driven by `tests.browser`): every
plot renders, every dropdown option of every plot applies, there is no console error, no network
request leaves the file, and a review holding ``<script>`` shows as text (in tables and in plotly's
hover label) without running."""
from __future__ import annotations

import json
import time
from pathlib import Path

import pytest

from tests.browser import TIMEOUT, DevTools, require_browser, load, problems
from tests.test_analysis_report import PAYLOAD, make_inputs


def open_dashboard(path: Path, workdir: Path) -> tuple[DevTools, dict]:
    """Load `path`, wait until the page's render script reports, and return the client and a
    description of the page (render state, plots, dropdown results, text checks)."""
    tools = load(path, workdir)
    try:
        deadline = time.monotonic() + TIMEOUT
        while tools.evaluate("document.body.getAttribute('data-render')") == "pending":
            if time.monotonic() > deadline:
                raise TimeoutError("the dashboard's plots did not finish rendering")
            time.sleep(0.2)
        return tools, tools.evaluate(PAGE_PROBE, timeout=TIMEOUT)
    except BaseException:
        tools.close()
        raise


# Runs in the page: per plot, whether plotly drew it (its `main-svg` layers); then every dropdown
# option of every plot is applied (restyle/update with the button's own args) and the plot checked
# again; then the text the reader sees.
PAGE_PROBE = """
(async () => {
  const plots = [];
  for (const div of document.querySelectorAll("div.plot")) {
    const info = {id: div.id, svg: div.querySelectorAll(".main-svg").length,
                  traces: (div.data || []).length, buttons: 0, button_errors: []};
    for (const menu of ((div.layout || {}).updatemenus || [])) {
      for (const b of (menu.buttons || [])) {
        info.buttons += 1;
        try { await Plotly[b.method](div, ...b.args); }
        catch (e) { info.button_errors.push(b.label + ": " + e.message); }
      }
    }
    info.svg_after = div.querySelectorAll(".main-svg").length;
    plots.push(info);
  }
  return {render: document.body.getAttribute("data-render"),
          rendered: Number(document.body.getAttribute("data-plots-rendered")),
          errors_text: document.getElementById("render-errors").textContent,
          plots: plots,
          text_has_payload: document.body.innerText.includes(%(payload)s),
          scripts: document.querySelectorAll("script").length,
          pwned: window.__pwned === undefined ? null : window.__pwned,
          injected: document.querySelectorAll("main script, main img, main iframe, header script").length,
          sections: Array.from(document.querySelectorAll("section")).map(s => s.id)};
})()
""" % {"payload": json.dumps(PAYLOAD)}

HOVER_PROBE = """
(async () => {
  const div = document.getElementById("plot-population");
  Plotly.Fx.hover(div, [{curveNumber: 0, pointNumber: %d}]);
  await new Promise(r => setTimeout(r, 300));
  const layer = div.querySelector(".hoverlayer");
  return {text: layer ? layer.textContent : null,
          elements: layer ? Array.from(layer.querySelectorAll("*")).map(e => e.tagName.toLowerCase()) : []};
})()
"""


def check_dashboard(path: Path, workdir: Path, hostile_point: int | None = None) -> dict:
    tools, page = open_dashboard(path, workdir)
    try:
        hover = tools.evaluate(HOVER_PROBE % hostile_point) if hostile_point is not None else None
        time.sleep(0.3)
        tools.evaluate("1")  # drain late events
        found = problems(tools.events)
    finally:
        tools.close()
    assert page["render"] == "done" and not page["errors_text"], page
    assert page["plots"] and page["rendered"] == len(page["plots"])
    for plot in page["plots"]:
        assert plot["svg"] >= 1 and plot["traces"] >= 1, plot
        assert not plot["button_errors"] and plot["svg_after"] >= 1, plot
    assert not found, found
    assert page["pwned"] is None and page["injected"] == 0
    assert page["scripts"] == 2 + len(page["plots"])  # plotly.js, render script, one JSON block per plot
    return {"page": page, "hover": hover}


@pytest.fixture(scope="module")
def dashboard(tmp_path_factory):
    require_browser()
    from IMDb.analysis.report import write_report

    root = tmp_path_factory.mktemp("browser")
    inputs = make_inputs(with_comparison=True)
    hostile = int(inputs.frame["loss"].to_numpy().argmax())  # the hostile review's row = its map point
    return write_report(root / "report", inputs), hostile, root


def test_every_plot_renders_without_console_errors(dashboard):
    path, hostile, root = dashboard
    result = check_dashboard(path / "dashboard.html", root, hostile)
    page = result["page"]
    assert {"population", "clusters", "samples", "exploration", "training", "label-errors",
            "comparison"} <= set(page["sections"])
    by_id = {p["id"]: p for p in page["plots"]}
    assert by_id["plot-population"]["buttons"] >= 5  # colour-by and size-by options all applied


def test_script_in_a_review_renders_as_text(dashboard):
    path, hostile, root = dashboard
    result = check_dashboard(path / "dashboard.html", root, hostile)
    assert result["page"]["text_has_payload"]  # shown literally in tables and lists
    hover = result["hover"]
    assert hover["text"] and PAYLOAD in hover["text"]  # plotly's hover label shows it as text
    assert '"quotes"' in hover["text"] and "&quot;" not in hover["text"]  # shown as written
    assert not {"script", "img", "iframe"} & set(hover["elements"])


def test_the_checker_catches_errors_and_requests(tmp_path):
    """The checker itself works: a console error, an uncaught exception and a remote request are
    all flagged (the request is refused here anyway: no network)."""
    page = tmp_path / "bad.html"
    page.write_text('<!DOCTYPE html><html><body><script>console.error("boom");'
                    'fetch("https://example.invalid/x").catch(function () {});'
                    'undefinedFunction();</script></body></html>')
    tools = load(page, tmp_path)
    try:
        time.sleep(0.5)
        tools.evaluate("1")
        found = problems(tools.events)
    finally:
        tools.close()
    assert any("boom" in p for p in found) and any("undefinedFunction" in p for p in found)
    assert any("example.invalid" in p for p in found)


def test_the_dashboard_policy_blocks_injected_scripts(dashboard):
    """Defence in depth: were a script element ever injected, the page's CSP (per-report nonce)
    would refuse to run it."""
    path, _, root = dashboard
    tools, _ = open_dashboard(path / "dashboard.html", root)
    try:
        tools.evaluate("var s = document.createElement('script'); s.textContent = 'window.__ran = 1';"
                       "document.body.appendChild(s); 1")
        ran = tools.evaluate("window.__ran === 1")
        found = problems(tools.events)
    finally:
        tools.close()
    assert not ran
    assert any("Content Security Policy" in p for p in found)


@pytest.mark.slow
def test_a_real_run_dashboard_renders(tmp_path_factory):
    """The dashboard of an end-to-end run (tiny trained CNN, every stage's real output) renders
    every plot and every dropdown option with no console error."""
    require_browser()
    from tests.test_analysis_run import analysed

    report = analysed(tmp_path_factory)
    result = check_dashboard(report / "dashboard.html", tmp_path_factory.mktemp("browser_run"))
    sections = set(result["page"]["sections"])
    assert {"summary", "population", "clusters", "samples", "exploration", "training", "label-errors"} <= sections
