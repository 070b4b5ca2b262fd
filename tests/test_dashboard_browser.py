"""The dashboard opened in headless Chromium (Debian's `chromium`): every plot renders, every
dropdown option of every plot applies, there is no console error, no network request leaves the
file, and a review holding ``<script>`` shows as text (in tables and in plotly's hover label)
without running.

Chromium is driven over the DevTools protocol on a pipe (``--remote-debugging-pipe``: commands on
fd 3, replies on fd 4, NUL-separated JSON), so no port, websocket library or driver is needed.
Skipped when chromium is absent, except under CI=true, where it must be installed (.ci/run).
"""
from __future__ import annotations

import fcntl
import json
import os
import select
import shutil
import subprocess
import time
from pathlib import Path

import pytest

from tests.test_analysis_report import PAYLOAD, make_inputs

BROWSERS = ("chromium", "chromium-browser", "google-chrome")
FLAGS = ("--headless", "--no-sandbox", "--disable-gpu", "--disable-quic", "--no-first-run",
         "--disable-background-networking", "--disable-component-update", "--disable-sync",
         "--disable-default-apps", "--disable-extensions", "--mute-audio", "--remote-debugging-pipe")
TIMEOUT = 90.0


def _browser() -> str:
    found = next((shutil.which(b) for b in BROWSERS if shutil.which(b)), None)
    if found is None:
        message = "headless Chromium not found (apt-get install -y chromium)"
        if os.environ.get("CI") == "true":
            pytest.fail(message + "; CI must install it")
        pytest.skip(message)
    return found


class DevTools:
    """A minimal DevTools-protocol client over Chromium's debugging pipe (flat sessions)."""

    def __init__(self, binary: str, profile: Path, log: Path):
        to_chrome_r, self._to_chrome = os.pipe()
        self._from_chrome, from_chrome_w = os.pipe()
        # Move the child's ends above fd 4 first, so putting them on 3 and 4 cannot clobber either.
        high = [fcntl.fcntl(fd, fcntl.F_DUPFD, 10) for fd in (to_chrome_r, from_chrome_w)]

        def child_fds() -> None:
            os.dup2(high[0], 3)
            os.dup2(high[1], 4)

        self._log = open(log, "wb")
        self.proc = subprocess.Popen([binary, *FLAGS, f"--user-data-dir={profile}", "about:blank"],
                                     stdin=subprocess.DEVNULL, stdout=self._log, stderr=self._log,
                                     preexec_fn=child_fds, pass_fds=(3, 4))
        for fd in (to_chrome_r, from_chrome_w, *high):
            os.close(fd)
        self._buffer = b""
        self._next_id = 0
        self.events: list[dict] = []
        self.session: str | None = None

    def _read(self, deadline: float) -> dict:
        while b"\0" not in self._buffer:
            left = deadline - time.monotonic()
            if left <= 0 or not select.select([self._from_chrome], [], [], left)[0]:
                raise TimeoutError("no reply from Chromium")
            chunk = os.read(self._from_chrome, 1 << 20)
            if not chunk:
                raise RuntimeError("Chromium closed the debugging pipe")
            self._buffer += chunk
        raw, self._buffer = self._buffer.split(b"\0", 1)
        return json.loads(raw)

    def send(self, method: str, params: dict | None = None, session: bool = True,
             timeout: float = 30.0) -> dict:
        self._next_id += 1
        message = {"id": self._next_id, "method": method, "params": params or {}}
        if session and self.session:
            message["sessionId"] = self.session
        os.write(self._to_chrome, json.dumps(message).encode() + b"\0")
        deadline = time.monotonic() + timeout
        while True:
            reply = self._read(deadline)
            if reply.get("id") == self._next_id:
                if "error" in reply:
                    raise RuntimeError(f"{method}: {reply['error']}")
                return reply.get("result", {})
            if "method" in reply:
                self._event(reply)

    def _event(self, event: dict) -> None:
        self.events.append(event)
        if event["method"] == "Page.javascriptDialogOpening":  # never leave a dialog blocking the page
            os.write(self._to_chrome, json.dumps({"id": 10**6 + len(self.events), "sessionId": self.session,
                                                  "method": "Page.handleJavaScriptDialog",
                                                  "params": {"accept": True}}).encode() + b"\0")

    def wait_event(self, method: str, timeout: float) -> dict:
        deadline = time.monotonic() + timeout
        while True:
            found = next((e for e in self.events if e["method"] == method), None)
            if found:
                return found
            event = self._read(deadline)
            if "method" in event:
                self._event(event)

    def evaluate(self, expression: str, timeout: float = 30.0):
        result = self.send("Runtime.evaluate", {"expression": expression, "returnByValue": True,
                                                "awaitPromise": True}, timeout=timeout)
        if "exceptionDetails" in result:
            raise RuntimeError(f"evaluation failed: {result['exceptionDetails']}")
        return result["result"].get("value")

    def close(self) -> None:
        try:
            self.send("Browser.close", session=False, timeout=5)
        except Exception:
            pass
        try:
            self.proc.wait(timeout=10)
        except subprocess.TimeoutExpired:
            self.proc.kill()
            self.proc.wait()
        os.close(self._to_chrome)
        os.close(self._from_chrome)
        self._log.close()


def load(path: Path, workdir: Path) -> DevTools:
    """Chromium with `path` loaded (load event fired), events recorded from before navigation."""
    tools = DevTools(_browser(), workdir / "profile", workdir / "chromium.log")
    try:
        target = tools.send("Target.createTarget", {"url": "about:blank"}, session=False)["targetId"]
        tools.session = tools.send("Target.attachToTarget", {"targetId": target, "flatten": True},
                                   session=False)["sessionId"]
        for domain in ("Runtime", "Log", "Page", "Network"):
            tools.send(f"{domain}.enable")
        tools.send("Page.navigate", {"url": path.resolve().as_uri()})
        tools.wait_event("Page.loadEventFired", TIMEOUT)
        return tools
    except BaseException:
        tools.close()
        raise


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


def problems(events: list[dict]) -> list[str]:
    """Console errors, uncaught exceptions, dialogs and network requests that left the file."""
    out = []
    for e in events:
        method, params = e["method"], e.get("params", {})
        if method == "Runtime.exceptionThrown":
            details = params["exceptionDetails"]
            out.append(f"uncaught: {details.get('exception', {}).get('description') or details.get('text')}")
        elif method == "Runtime.consoleAPICalled" and params.get("type") in ("error", "assert"):
            args = params.get("args", [])
            out.append("console.error: " + " ".join(str(a.get("value", a.get("description"))) for a in args))
        elif method == "Log.entryAdded" and params["entry"].get("level") == "error":
            out.append(f"log: {params['entry'].get('text')} ({params['entry'].get('url', '')})")
        elif method == "Page.javascriptDialogOpening":
            out.append(f"dialog: {params.get('type')} {params.get('message')}")
        elif method == "Network.requestWillBeSent":
            url = params["request"]["url"]
            if not url.startswith(("file:", "data:", "blob:", "about:")):
                out.append(f"network request: {url}")
    return out


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
    _browser()
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
    _browser()
    from tests.test_analysis_run import analysed

    report = analysed(tmp_path_factory)
    result = check_dashboard(report / "dashboard.html", tmp_path_factory.mktemp("browser_run"))
    sections = set(result["page"]["sections"])
    assert {"summary", "population", "clusters", "samples", "exploration", "training", "label-errors"} <= sections
