"""The Jinja2 environment the offline pages are rendered with, and the only values it prints unescaped.

The templates, the style sheet and the render script are package data in
``IMDb/analysis/templates/`` (read with `importlib.resources`): ``base.html.j2`` (the page shell),
``dashboard.html.j2`` and ``robustness.html.j2`` (the two pages), ``macros.html.j2`` (table, key-value
list, plot placeholder, heat map, reliability diagram) and one template per section in ``sections/``.

Autoescaping is on for every template, whatever its name, so any value a template prints is
HTML-escaped: review text cannot become markup through a forgotten escape. Only a
`markupsafe.Markup` is printed as it is, and exactly three kinds exist, each made in one function
below: `asset` (our own CSS and JavaScript), `inline_script` (the plotly.js bundle) and
`figure_json` (a plot's data inside ``<script type="application/json">``). Numbers reach templates
through the `fmt` filter (`IMDb.analysis.escape.plain`: plain text, escaped on output like the rest).
"""
from __future__ import annotations

import json
import math
from collections.abc import Callable, Sequence
from functools import lru_cache
from importlib import resources
from typing import Any

import jinja2
import numpy as np
import pandas as pd
from markupsafe import Markup

from IMDb.analysis.escape import plain, script_json
from IMDb.output.formats import dumps

TEMPLATES = "templates"  # the package-data folder beside this module
ASSETS = ("report.css", "report.js")  # inlined by `asset`, unescaped
POSITIVE_RGB, NEGATIVE_RGB = (26, 150, 65), (215, 48, 39)


def _resource(name: str) -> str | None:
    """The text of the package-data file `name` (``/``-separated, inside the templates folder)."""
    path = resources.files("IMDb.analysis").joinpath(TEMPLATES, *name.split("/"))
    return path.read_text(encoding="utf-8") if path.is_file() else None


def _template(name: str) -> tuple[str, str, Callable[[], bool]] | None:
    """A template's source for the loader, named by its package path (for error messages)."""
    source = _resource(name)
    return None if source is None else (source, f"IMDb/analysis/{TEMPLATES}/{name}", lambda: True)


@lru_cache(maxsize=1)
def environment() -> jinja2.Environment:
    """The one environment: autoescaping for every template, undefined names are errors."""
    env = jinja2.Environment(loader=jinja2.FunctionLoader(_template), autoescape=True,
                             undefined=jinja2.StrictUndefined, trim_blocks=True, lstrip_blocks=True)
    env.filters["fmt"] = plain
    env.globals["asset"] = asset
    return env


def render(template: str, **context: Any) -> str:
    """The page `template` rendered with `context`."""
    return environment().get_template(template).render(**context)


# --------------------------------------------------------------------------- the audited Markup


def asset(name: str) -> Markup:
    """Our own style sheet or script (one of `ASSETS`) for a ``<style>``/``<script>`` element.
    SAFE: a file shipped in this package, not data; refused if it holds ``</`` (so it cannot end
    its element). It must not be escaped: entities are not decoded inside those elements."""
    if name not in ASSETS:
        raise ValueError(f"{name!r} is not one of the page assets {ASSETS}")
    text = _resource(name)
    if text is None:
        raise FileNotFoundError(f"package data {TEMPLATES}/{name} is missing")
    if "</" in text:
        raise ValueError(f"{name} holds '</': it cannot be inlined safely")
    return Markup(text)


def inline_script(code: str) -> Markup:
    """The plotly.js bundle for the page's first ``<script>``. SAFE: the library's own code (the
    plotly package), refused if it holds ``</script`` (so it cannot end its element early)."""
    if "</script" in code.lower():
        raise ValueError("the plotly.js bundle holds '</script': it cannot be inlined safely")
    return Markup(code)


def figure_json(figure: Any) -> Markup:
    """A plotly figure's data and layout as JSON for a ``<script type="application/json">`` block.
    SAFE: strict JSON passed through `script_json`, so it holds no ``<``, ``>`` or ``&`` at all (review
    text inside is written ``\\u003c`` etc.): it cannot close the element or open a comment."""
    import plotly.io as pio

    spec = json.loads(pio.to_json(figure, validate=False, engine="json"))
    data = dumps({"data": spec.get("data", []), "layout": spec.get("layout", {})}, separators=(",", ":"))
    return Markup(script_json(data))


# --------------------------------------------------------------------------- views for the macros


def table(frame: pd.DataFrame | list[dict], columns: Sequence[str] | None = None,
          headers: dict[str, str] | None = None, formats: dict[str, Callable[[Any], str]] | None = None,
          limit: int | None = None, spans: dict[str, Callable[[Any], str]] | None = None) -> dict:
    """A table for the ``table`` macro: its headers and rows of cells, all plain text (the template
    escapes them). A cell's text is ``formats[column](value)`` or `plain(value)`; ``spans[column](value)``
    names a CSS class to wrap the cell's text in; numbers are right-aligned."""
    frame = pd.DataFrame(frame) if not isinstance(frame, pd.DataFrame) else frame
    columns = [c for c in (columns or list(frame.columns)) if c in frame.columns]
    headers, formats, spans = headers or {}, formats or {}, spans or {}
    rows = frame.head(limit) if limit else frame
    body = []
    for record in rows[columns].itertuples(index=False, name=None):
        body.append([{"text": formats[c](v) if c in formats else plain(v),
                      "num": isinstance(v, (int, float, np.integer, np.floating)) and not isinstance(v, bool),
                      "span": spans[c](v) if c in spans else None} for c, v in zip(columns, record)])
    return {"headers": [headers.get(c, c) for c in columns], "rows": body}


def heat(words: Sequence[str], scores: Sequence[float], oov: Sequence[bool] | None = None) -> list[dict]:
    """Words for the ``heat`` macro: green pushes toward the output, red against; opacity ~ |score|
    over the review's largest; the score goes in the title (a number), the word as text."""
    scores = np.asarray(scores, dtype=float)
    top = float(np.nanmax(np.abs(scores))) if len(scores) else 0.0
    out = []
    for i, (word, score) in enumerate(zip(words, scores)):
        alpha = 0.0 if not top or not math.isfinite(score) else min(1.0, abs(score) / top) * 0.85
        rgb = POSITIVE_RGB if score >= 0 else NEGATIVE_RGB
        out.append({"word": word, "oov": bool(oov is not None and i < len(oov) and oov[i]),
                    "background": f"rgba({rgb[0]},{rgb[1]},{rgb[2]},{alpha:.3f})", "title": f"{score:+.4f}"})
    return out
