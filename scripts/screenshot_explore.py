"""Take docs/explore.png, the explorer's screenshot that the README and docs/explore.md show.

The real app, as a user starts it (``imdb-leap explore --model dense,cnn --state test --no-browser``,
the whole test state, on a fresh ``--out``), is loaded in headless Chromium through the repository's
DevTools driver (tests/browser.py, software WebGL), in a 1400x900 window. Once the map is drawn, the
script clicks the map point of one review so that the review opens with its per-word heat maps, and
captures the page (``Page.captureScreenshot``). The review is, unless ``--review`` names one, the
shortest of the 20 the two models' comparison ranks by loss difference (of those the two models
classify differently, if any): short enough that its text and heat maps fill the window. The PNG
is reduced to a 256-colour palette to stay small (about 200 KiB).

Starting the server and waiting for it are the explorer benchmark's (scripts/benchmarks/
benchmark_explore.py); with warm analysis caches (a previous ``explore`` or ``analyze`` of the same
models and state) the server is ready in about a minute.

Usage (the dataset from IMDB_DATA; the models from models/):

    python scripts/screenshot_explore.py                      # writes docs/explore.png
    python scripts/screenshot_explore.py --review 123 --output /tmp/explore.png
"""
from __future__ import annotations

import argparse
import base64
import io
import json
import sys
import tempfile
import time
import urllib.request
from pathlib import Path

from PIL import Image

REPO = Path(__file__).resolve().parents[1]
sys.path[:0] = [str(REPO), str(REPO / "scripts" / "benchmarks")]

from benchmark_explore import WEBGL, start, wait_ready  # noqa: E402  (the benchmark's server start)
from tests.browser import TIMEOUT, click_map_point, load  # noqa: E402  (the repository's headless-Chromium driver)

WIDTH, HEIGHT = 1400, 900


def shortest_disputed(url: str, models: list[str]) -> int:
    """The shortest review among those whose loss differs most between the first two models, and
    among them those the two models put in different classes when there are any."""
    query = f"api/compare?a={models[0]}&b={models[1]}"
    largest = json.loads(urllib.request.urlopen(url + query).read())["largest"]
    disagree = [x for x in largest if x["prediction_a"] != x["prediction_b"]] or largest
    texts = {x["id"]: json.loads(urllib.request.urlopen(url + f"api/review/{x['id']}").read())["text"]
             for x in disagree}
    return min(texts, key=lambda i: (len(texts[i]), i))


def wait_for(tools, expression: str, what: str) -> None:
    deadline = time.monotonic() + TIMEOUT
    while not tools.evaluate(expression):
        if time.monotonic() > deadline:
            raise SystemExit(f"screenshot: {what}")
        time.sleep(0.2)


def open_by_click(tools, review: int) -> None:
    """Click review `review`'s point on the map; if another point lies on top of it, the click
    opens that one, so the review is then opened as its neighbour list would open it."""
    click_map_point(tools, review)
    tools.send("Input.dispatchMouseEvent", {"type": "mouseMoved", "x": 1, "y": 1})  # no hover label
    wait_for(tools, "document.getElementById('heatmaps').dataset.id !== ''", "no review opened")
    if tools.evaluate("document.getElementById('review').dataset.id") != str(review):
        tools.evaluate(f"window.imdbExplore.openReview({review})")
    wait_for(tools, f"document.getElementById('heatmaps').dataset.id === '{review}'",
             f"review {review}'s heat maps did not show")


def capture(url: str, workdir: Path, review: int | None, models: list[str]) -> bytes:
    """The page at `url` with `review` (or the shortest disputed one) open, as PNG bytes."""
    tools = load(url, workdir, flags=(*WEBGL, f"--window-size={WIDTH},{HEIGHT}"))
    try:
        tools.send("Emulation.setDeviceMetricsOverride", {"width": WIDTH, "height": HEIGHT,
                                                          "deviceScaleFactor": 1, "mobile": False})
        wait_for(tools, "document.body.dataset.render === 'done'", "the map did not load")
        chosen = review if review is not None else shortest_disputed(url, models)
        open_by_click(tools, chosen)
        tools.evaluate("window.scrollTo(0, 0)")
        time.sleep(1.0)  # let plotly finish redrawing after the resize
        shot = tools.send("Page.captureScreenshot", {"format": "png"}, timeout=60)
        print(f"review {chosen} opened", flush=True)
        return base64.b64decode(shot["data"])
    finally:
        tools.close()


def palette_png(raw: bytes) -> bytes:
    """`raw` PNG as a 256-colour palette PNG (a screenshot has few colours; the file shrinks)."""
    out = io.BytesIO()
    Image.open(io.BytesIO(raw)).convert("RGB").quantize(colors=256).save(out, format="PNG", optimize=True)
    return out.getvalue()


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--model", default="dense,cnn",
                        help="the explorer's --model (two, for the comparison)")
    parser.add_argument("--state", default="test")
    parser.add_argument("--review", type=int, help="the review (row) to open; default: chosen as above")
    parser.add_argument("--output", type=Path, default=REPO / "docs" / "explore.png")
    args = parser.parse_args()
    models = args.model.split(",")
    if args.review is None and len(models) < 2:
        parser.error("name a --review when one model is loaded (the default choice compares two)")
    with tempfile.TemporaryDirectory(prefix="screenshot-explore-") as tmp:
        served = argparse.Namespace(model=args.model, state=args.state, limit=None)
        proc, url = start(served, Path(tmp) / "out")
        try:
            print(f"ready after {wait_ready(url):.0f} s", flush=True)
            png = palette_png(capture(url, Path(tmp), args.review, models))
        finally:
            proc.terminate()
            proc.wait()
    args.output.write_bytes(png)
    print(f"wrote {args.output} ({len(png) / 1024:.0f} KiB)", flush=True)


if __name__ == "__main__":
    main()
