"""The two formats imdb-leap writes for other programs to read, each written in one place.

- JSON (`dumps`): every JSON file the tool writes (``robustness.json``, ``summary.json``, model
  cards, tokenizers, training state) is strict JSON: numpy and pandas values are unwrapped, and a
  value that is not a finite number (NaN: undefined, such as a loss without a label; ±inf) is
  written as ``null``, never as the ``NaN``/``Infinity`` tokens that other JSON readers refuse.
  Where a whole figure is undefined the writer of that figure says why beside it (``"cad":
  {"skipped": "<reason>"}`` in ``robustness.json``); an input with nothing to measure is an error.
- CSV (`write_csv`, `csv_cell`): a text cell that a spreadsheet would run as a formula (it starts
  with ``=``, ``+``, ``-``, ``@``, a tab or a carriage return, as a review may: ``=HYPERLINK(...)``)
  is written with a leading ``'``, which spreadsheets show as text; numbers are left alone.
  ``IMDB_RAW_CSV=1`` (`IMDb.config.environment`) writes every cell as it is, for a program that needs the raw
  text.
"""
from __future__ import annotations

import csv
import json
import math
import sys
from pathlib import Path
from typing import TYPE_CHECKING, Any

import numpy as np

from IMDb.config import environment

if TYPE_CHECKING:
    import pandas as pd

FORMULA_STARTS = ("=", "+", "-", "@", "\t", "\r")


def jsonable(obj: Any) -> Any:
    """Plain JSON values: numpy and pandas scalars unwrapped, NaN/inf -> None, frames -> records."""
    if obj is None or isinstance(obj, (str, bool)):
        return obj
    if isinstance(obj, (np.bool_,)):
        return bool(obj)
    if isinstance(obj, (int, np.integer)):
        return int(obj)
    if isinstance(obj, (float, np.floating)):
        return float(obj) if math.isfinite(float(obj)) else None
    if isinstance(obj, dict):
        return {str(k): jsonable(v) for k, v in obj.items()}
    if isinstance(obj, (list, tuple, set)):
        return [jsonable(v) for v in obj]
    if isinstance(obj, np.ndarray):
        return [jsonable(v) for v in obj.tolist()]
    if isinstance(obj, Path):
        return str(obj)
    # a pandas object exists only once pandas is imported: JSON of plain values (a card, a
    # tokenizer's vocabulary, `imdb-leap predict`) does not import it
    pd = sys.modules.get("pandas")
    if pd is not None and isinstance(obj, pd.DataFrame):
        frame = obj.reset_index() if obj.index.name is not None else obj
        return [jsonable(r) for r in frame.to_dict("records")]
    if pd is not None and isinstance(obj, pd.Series):
        return jsonable(obj.to_dict())
    if pd is not None and (obj is pd.NA or obj is pd.NaT):
        return None
    if hasattr(obj, "item"):
        return jsonable(obj.item())
    return str(obj)


def dumps(obj: Any, indent: int | None = None, **kwargs: Any) -> str:
    """Strict JSON of `jsonable(obj)`: ``allow_nan=False`` holds it to that (no NaN tokens)."""
    kwargs.setdefault("ensure_ascii", False)
    return json.dumps(jsonable(obj), indent=indent, allow_nan=False, **kwargs)


def json_file(obj: Any) -> str:
    """The text of a JSON file the tool writes: `dumps` with an indent of 2 and a final newline."""
    return dumps(obj, indent=2) + "\n"


def csv_cell(value: Any) -> Any:
    """`value` as a spreadsheet will show it: text that would start a formula gets a leading ``'``
    (unless ``IMDB_RAW_CSV=1``); anything else is returned as it is."""
    if isinstance(value, str) and value.startswith(FORMULA_STARTS) and not environment.raw_csv():
        return "'" + value
    return value


def spreadsheet_safe(frame: pd.DataFrame) -> pd.DataFrame:
    """A copy of `frame` with every text cell through `csv_cell` (numbers and booleans untouched)."""
    import pandas as pd

    if environment.raw_csv():
        return frame
    out = frame.copy()
    for column in out.columns:
        if out[column].dtype == object or pd.api.types.is_string_dtype(out[column].dtype):
            out[column] = out[column].map(csv_cell)
    return out


def write_csv(frame: pd.DataFrame, path: str | Path, *, quote_text: bool = False) -> None:
    """`frame` as UTF-8 CSV at `path` (no index), its text cells made `spreadsheet_safe`;
    `quote_text` quotes every non-number (``csv.QUOTE_NONNUMERIC``)."""
    spreadsheet_safe(frame).to_csv(path, index=False, encoding="utf-8",
                                   quoting=csv.QUOTE_NONNUMERIC if quote_text else csv.QUOTE_MINIMAL)
