"""Untrusted text made safe for the report: HTML text, plotly labels and ``<script>`` JSON.

Review text is untrusted input. The dashboard's templates escape every value they print
(`IMDb.analysis.templating`: Jinja2 with autoescaping; `plain` formats numbers for them); a string
built into HTML by hand goes through `esc` (`html.escape`), a plotly label through `ptext`; figure
data that sits in ``<script type="application/json">`` blocks through `script_json`, which writes
``<``, ``>`` and ``&`` as ``\\u003c`` etc., so no review can close the block. Strict JSON (no NaN tokens) is
`IMDb.output.formats.dumps`, the package's one JSON writer.
"""
from __future__ import annotations

import html
import math
import textwrap
from typing import Any

import numpy as np

SNIPPET_CHARS = 220


def esc(value: Any) -> str:
    """Text for HTML (element content or a quoted attribute): every value goes through here."""
    return html.escape("" if value is None else str(value), quote=True)


_SCRIPT_SAFE = str.maketrans({"<": "\\u003c", ">": "\\u003e", "&": "\\u0026",
                              "\u2028": "\\u2028", "\u2029": "\\u2029"})


def ptext(value: Any) -> str:
    """Text for a plotly label (title, tick, hover, button): `<`, `>`, `&` escaped. Plotly splits a
    label on its own few tags before decoding entities, so escaped text shows literally; it does
    not decode ``&quot;``, hence quotes stay as they are (a label is never an HTML attribute)."""
    return html.escape("" if value is None else str(value), quote=False)


def script_json(text: str) -> str:
    """JSON text made safe inside a ``<script>`` element: ``<``, ``>``, ``&`` (and the JS line
    separators) only occur inside JSON strings, where their \\u escapes mean the same characters, so
    a review holding ``</script>`` can neither end the element nor open a comment."""
    return text.translate(_SCRIPT_SAFE)


def snippet(text: Any, chars: int = SNIPPET_CHARS) -> str:
    """The start of a review, whitespace collapsed (raw: escape it where it is shown)."""
    text = " ".join(str(text or "").split())
    return text if len(text) <= chars else text[: chars - 1].rstrip() + "…"


def hover_snippet(text: Any, chars: int = 160, width: int = 60) -> str:
    """An escaped snippet wrapped with ``<br>`` for a plotly hover label. The raw text is wrapped
    first and each line escaped, so no entity is cut; plotly splits the label on its own tags
    before decoding entities, so an escaped ``<script>`` shows as text."""
    return "<br>".join(ptext(line) for line in textwrap.wrap(snippet(text, chars), width) or [""])


def plain(value: Any, digits: int = 4) -> str:
    """A number as a person reads it, as plain (unescaped) text for an autoescaping template;
    '–' when missing, yes/no for booleans, any other value as its text."""
    if value is None or (isinstance(value, float) and not math.isfinite(value)):
        return "–"
    if isinstance(value, (bool, np.bool_)):
        return "yes" if value else "no"
    if isinstance(value, (int, np.integer)):
        return f"{int(value):,}"
    if isinstance(value, (float, np.floating)):
        v = float(value)
        if not math.isfinite(v):
            return "–"
        if v != 0 and (abs(v) < 1e-3 or abs(v) >= 1e6):
            return f"{v:.{digits - 1}e}"
        return f"{v:.{digits}g}"
    return str(value)


def fmt(value: Any, digits: int = 4) -> str:
    """`plain`, escaped for HTML (plotly labels and hand-built HTML)."""
    return esc(plain(value, digits))
