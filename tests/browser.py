"""Headless Chromium driven over the DevTools protocol on a pipe, shared by the browser tests
(the report's dashboard, the explorer).

Chromium is started with ``--remote-debugging-pipe``: commands on fd 3, replies on fd 4,
NUL-separated JSON, so no port, websocket library or driver is needed. Skipped when chromium is
absent, except under CI=true, where it must be installed (.ci/run).
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

BROWSERS = ("chromium", "chromium-browser", "google-chrome")
FLAGS = ("--headless", "--no-sandbox", "--disable-gpu", "--disable-quic", "--no-first-run",
         "--disable-background-networking", "--disable-component-update", "--disable-sync",
         "--disable-default-apps", "--disable-extensions", "--mute-audio", "--remote-debugging-pipe")
TIMEOUT = 90.0


def require_browser() -> str:
    found = next((shutil.which(b) for b in BROWSERS if shutil.which(b)), None)
    if found is None:
        message = "headless Chromium not found (apt-get install -y chromium)"
        if os.environ.get("CI") == "true":
            pytest.fail(message + "; CI must install it")
        pytest.skip(message)
    return found


class DevTools:
    """A minimal DevTools-protocol client over Chromium's debugging pipe (flat sessions)."""

    def __init__(self, binary: str, profile: Path, log: Path, flags: tuple[str, ...] = ()):
        to_chrome_r, self._to_chrome = os.pipe()
        self._from_chrome, from_chrome_w = os.pipe()
        # Move the child's ends above fd 4 first, so putting them on 3 and 4 cannot clobber either.
        high = [fcntl.fcntl(fd, fcntl.F_DUPFD, 10) for fd in (to_chrome_r, from_chrome_w)]

        def child_fds() -> None:
            os.dup2(high[0], 3)
            os.dup2(high[1], 4)

        self._log = open(log, "wb")
        self.proc = subprocess.Popen([binary, *FLAGS, *flags, f"--user-data-dir={profile}", "about:blank"],
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


def load(path: Path | str, workdir: Path, flags: tuple[str, ...] = ()) -> DevTools:
    """Chromium with `path` (a file, or a URL) loaded (load event fired), events recorded from
    before navigation; `flags` are Chromium's, added to `FLAGS`."""
    tools = DevTools(require_browser(), workdir / "profile", workdir / "chromium.log", flags)
    try:
        target = tools.send("Target.createTarget", {"url": "about:blank"}, session=False)["targetId"]
        tools.session = tools.send("Target.attachToTarget", {"targetId": target, "flatten": True},
                                   session=False)["sessionId"]
        for domain in ("Runtime", "Log", "Page", "Network"):
            tools.send(f"{domain}.enable")
        url = path if isinstance(path, str) else path.resolve().as_uri()
        tools.send("Page.navigate", {"url": url})
        tools.wait_event("Page.loadEventFired", TIMEOUT)
        return tools
    except BaseException:
        tools.close()
        raise


# the page coordinates of point `row` of the explorer's map (div#map, a plotly scatter), from plotly's own axes
MAP_POINT = """
(() => {
  const div = document.getElementById("map"), full = div._fullLayout, box = div.getBoundingClientRect();
  const trace = div.data[0];
  return {x: box.left + full._size.l + full.xaxis.l2p(trace.x[%d]),
          y: box.top + full._size.t + full.yaxis.l2p(trace.y[%d])};
})()
"""


def click_map_point(tools: DevTools, row: int) -> None:
    """A real mouse click where plotly draws point `row` of the explorer's map (what a user does;
    the point on top there gets it)."""
    point = tools.evaluate(MAP_POINT % (row, row))
    for kind in ("mouseMoved", "mousePressed", "mouseReleased"):
        tools.send("Input.dispatchMouseEvent", {"type": kind, "x": point["x"], "y": point["y"],
                                                "button": "left", "clickCount": 1})


def problems(events: list[dict], allowed: tuple[str, ...] = ("file:", "data:", "blob:", "about:")) -> list[str]:
    """Console errors, uncaught exceptions, dialogs and network requests to anywhere but the
    `allowed` URL prefixes (default: nowhere but the file itself)."""
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
            if not url.startswith(allowed):
                out.append(f"network request: {url}")
    return out
