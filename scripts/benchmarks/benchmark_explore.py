"""Benchmark of `imdb-leap explore`: the issue's goal figures, printed (never asserted).

The explorer runs as a user starts it (``imdb-leap explore --model dense,cnn --state test``, the whole
test state: 25,000 points), in its own process on a free port, with a fresh ``--out`` (so no heat map
is cached). With the default ``--warm-up``, a first server fills the analysis caches (metadata, the
map) and is stopped; the measured server then starts on a warm cache. Printed:

    ready      seconds from the start to the tables being loaded (/api/status)
    paint      headless Chromium (tests/browser.py, software WebGL, a fresh profile: nothing cached):
               navigation to the map's 25,000 points drawn and coloured (the page's ``map-painted``
               performance mark), and the wall time from starting Chromium to that paint and to the
               whole page done (hover labels, the comparison, the other panels: ``data-render="done"``)
    heat map   a click's POST /api/heatmap for a review, uncached then cached (every loaded model's
               heat maps in one request: run with --model dense, then cnn, for each alone)
    edit       POST /api/edit of that review with a word changed: every model's prediction and the
               diff (the page asks for the edit's heat maps in a second request, as a click's)
    peak RSS   the server's process tree (it and its children), sampled every 0.2 s

Usage (the dataset from IMDB_DATA; the models from models/):

    python scripts/benchmarks/benchmark_explore.py                          # dense,cnn on the test state
    python scripts/benchmarks/benchmark_explore.py --model cnn --limit 2000 --no-warm-up
"""
from __future__ import annotations

import argparse
import json
import re
import subprocess
import sys
import tempfile
import threading
import time
import urllib.request
from pathlib import Path

import psutil

REPO = Path(__file__).resolve().parents[2]
sys.path.insert(0, str(REPO))

from tests.browser import load  # noqa: E402  (the repository's headless-Chromium driver)

WEBGL = ("--use-angle=swiftshader", "--enable-unsafe-swiftshader")  # as tests/test_explore_browser.py


class PeakRSS(threading.Thread):
    """The peak summed RSS (MiB) of process `pid` and its descendants, sampled until `stop`."""

    def __init__(self, pid: int):
        super().__init__(daemon=True)
        self.root, self.peak, self.done = psutil.Process(pid), 0.0, threading.Event()

    def run(self) -> None:
        while not self.done.wait(0.2):
            try:
                tree = [self.root, *self.root.children(recursive=True)]
                self.peak = max(self.peak, sum(p.memory_info().rss for p in tree if p.is_running()) / 2**20)
            except psutil.Error:  # a child ended between listing and reading
                pass


def start(args: argparse.Namespace, out: Path) -> tuple[subprocess.Popen, str]:
    """The explorer in its own process; its URL once it prints it."""
    cmd = [str(REPO / ".venv" / "bin" / "imdb-leap"), "explore", "--model", args.model, "--state", args.state,
           "--port", "0", "--no-browser", "--quiet", "--out", str(out)]
    cmd += ["--limit", str(args.limit)] if args.limit else []
    proc = subprocess.Popen(cmd, stdout=subprocess.PIPE, text=True, cwd=REPO)
    line = proc.stdout.readline().strip()
    if not line.startswith("http://"):
        proc.kill()
        raise SystemExit(f"explore did not start: {line!r} (exit {proc.wait()})")
    return proc, line


def wait_ready(url: str) -> float:
    started = time.perf_counter()
    while True:
        status = json.loads(urllib.request.urlopen(url + "api/status").read())
        if status["error"]:
            raise SystemExit(f"explore failed to load: {status['error']}")
        if status["ready"]:
            return time.perf_counter() - started
        time.sleep(0.5)


def timed_post(url: str, token: str, path: str, value: dict) -> tuple[float, dict]:
    request = urllib.request.Request(url + path, data=json.dumps(value).encode(), method="POST",
                                     headers={"X-Explore-Token": token, "Content-Type": "application/json"})
    t = time.perf_counter()
    answer = json.loads(urllib.request.urlopen(request, timeout=600).read())
    return time.perf_counter() - t, answer


def paint(url: str, workdir: Path) -> tuple[float, float, float]:
    """Seconds from navigation to the map painted (the page's own clock), and from starting Chromium
    to the map painted and to the whole page done."""
    t = time.perf_counter()
    tools = load(url, workdir, flags=WEBGL)
    try:
        times = []
        for done in ("document.body.dataset.map === 'painted'", "document.body.dataset.render !== 'pending'"):
            while not tools.evaluate(f"{done} || document.body.dataset.render === 'failed'"):
                time.sleep(0.05)
            times.append(time.perf_counter() - t)
        if tools.evaluate("document.body.dataset.render") == "failed":
            raise SystemExit("the page failed: " + tools.evaluate("document.getElementById('status').textContent"))
        navigated = tools.evaluate("performance.getEntriesByName('map-painted')[0].startTime") / 1000
        return navigated, times[0], times[1]
    finally:
        tools.close()


def measure(args: argparse.Namespace, root: Path) -> None:
    if args.warm_up:
        proc, url = start(args, root / "warm-up")
        print(f"warm-up: ready after {wait_ready(url):.1f} s (fills the analysis caches)", flush=True)
        proc.terminate()
        proc.wait()
    proc, url = start(args, root / "out")
    rss = PeakRSS(proc.pid)
    rss.start()
    try:
        print(f"ready:                {wait_ready(url):8.1f} s", flush=True)
        token = re.search(r'name="explore-token" content="([^"]+)"',
                          urllib.request.urlopen(url).read().decode()).group(1)
        navigated, painted, done = paint(url, root)
        print(f"first paint (map):    {navigated:8.1f} s from navigation ({painted:.1f} s from starting Chromium)",
              flush=True)
        print(f"page done (panels):   {done:8.1f} s from starting Chromium", flush=True)
        review = json.loads(urllib.request.urlopen(url + f"api/review/{args.review}").read())
        for kind in ("uncached", "cached"):
            seconds, _ = timed_post(url, token, "api/heatmap", {"id": args.review})
            print(f"heat map, {kind + ':':<10} {seconds:8.2f} s ({args.model})", flush=True)
        words = review["text"].split()
        edited = " ".join(["wonderful" if i == len(words) // 2 else w for i, w in enumerate(words)])
        seconds, answer = timed_post(url, token, "api/edit", {"id": args.review, "text": edited})
        predicted = ", ".join(f"{p['model']} p(positive) {p['p_positive']:.3f}" for p in answer["predictions"])
        print(f"edit -> predictions:  {seconds:8.2f} s ({predicted})", flush=True)
    finally:
        proc.terminate()
        proc.wait()
        rss.done.set()
        rss.join()
    print(f"server peak RSS:      {rss.peak:8.0f} MiB (process tree)", flush=True)


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--model", default="dense,cnn")
    parser.add_argument("--state", default="test")
    parser.add_argument("--limit", type=int, help="a sample instead of the whole state (a quick check)")
    parser.add_argument("--review", type=int, default=0, help="the review id clicked and edited")
    parser.add_argument("--no-warm-up", dest="warm_up", action="store_false",
                        help="skip the first server that fills the caches (they are warm already)")
    args = parser.parse_args()
    print(f"imdb-leap explore --model {args.model} --state {args.state}"
          + (f" --limit {args.limit}" if args.limit else "") + f"; {psutil.cpu_count()} CPUs, load average "
          + ", ".join(f"{x:.1f}" for x in psutil.getloadavg()), flush=True)
    with tempfile.TemporaryDirectory(prefix="benchmark-explore-") as tmp:
        measure(args, Path(tmp))


if __name__ == "__main__":
    main()
