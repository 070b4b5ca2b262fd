"""The map's answers as JSON bytes, built once when the state is loaded (`MapData`), not on each
request: building them for 25,000 reviews took over a second a request (the hover labels most).

- `first` (``/api/map``): what the first paint needs and no more: the coordinates in plotly.js's
  typed-array form (``{"dtype": "f4", "bdata": <base64 of little-endian float32>}``: 270 KB for
  25,000 points where JSON numbers took 1 MB, and no 50,000 numbers for the page to parse), the
  fields' names and kinds, and the first field's values, so the map is drawn coloured in one render;
- `hover` (``/api/hover``): each point's hover label, ``#id · snippet`` escaped for plotly
  (`IMDb.analysis.escape.hover_snippet`), about 3 MB for 25,000 reviews, which the page asks for
  once the map is drawn;
- `field` (``/api/field``): one field's values, built on its first request and kept.
"""
from __future__ import annotations

import base64
import threading

import numpy as np

from IMDb.analysis.escape import hover_snippet
from IMDb.explore.tables import Explored
from IMDb.output.formats import dumps


def typed(values: np.ndarray) -> dict:
    """`values` as plotly.js's typed-array spec: little-endian float32, base64-encoded."""
    return {"dtype": "f4", "bdata": base64.b64encode(np.asarray(values, dtype="<f4").tobytes()).decode("ascii")}


class MapData:
    """The map's answers over one loaded state."""

    def __init__(self, explored: Explored):
        self.explored = explored
        self._fields: dict[str, bytes] = {}
        self._lock = threading.Lock()
        options = [{"name": name, "kind": o["kind"], "categories": o.get("categories")}
                   for name, o in explored.options.items()]
        self.first = dumps({"n": len(explored), "models": explored.models, "x": typed(explored.xy[:, 0]),
                            "y": typed(explored.xy[:, 1]), "options": options,
                            "color": self._field(next(iter(explored.options)))}).encode()
        self.hover = dumps([f"#{i} · {hover_snippet(t, 100, 50)}"
                            for i, t in enumerate(explored.frame["text"])]).encode()

    def _field(self, name: str) -> dict:
        option = self.explored.options[name]
        return {"name": name, "kind": option["kind"], "values": np.asarray(option["values"]),
                "categories": option.get("categories")}

    def field(self, name: str) -> bytes | None:
        """The values of field `name` (None when the map has no such field)."""
        if name not in self.explored.options:
            return None
        with self._lock:
            if name not in self._fields:
                self._fields[name] = dumps(self._field(name)).encode()
            return self._fields[name]
