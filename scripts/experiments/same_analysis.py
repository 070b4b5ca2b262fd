#!/usr/bin/env python
"""Are two `imdb-leap analyze` report folders the same analysis? The redesign's equality check
(issue 21): code moved, so the figures must not.

    python scripts/experiments/same_analysis.py REFERENCE_DIR NEW_DIR [--tolerance 1e-5]

- ``table.parquet``: the same rows in the same order; every integer, boolean and text column
  (labels, predictions, clusters, ids) identical; every float column (probabilities, losses, map
  coordinates, metadata) within ``--tolerance`` (absolute).
- ``summary.json``: every number equal once rounded to 4 decimals, the precision the page prints;
  timings, peak memory, paths, versions and when it was generated are skipped (they are the run's, not the analysis's).
  Keys only one side has are listed, not failed: a restructured summary may move a figure, and the
  reader judges that.

Prints one line per difference and exits 1 when a shared value differs.
"""
from __future__ import annotations

import argparse
import json
import math
import sys
from pathlib import Path

import numpy as np
import pandas as pd

SKIPPED = ("timing", "seconds", "rss", "peak", "path", "version", "created", "generated", "out_dir", "models_dir",
           "elapsed")


def floats(column: pd.Series) -> np.ndarray | None:
    """A float column, or a column of equal-length float vectors (the latent layer), as a float
    array; None for any other column."""
    if pd.api.types.is_float_dtype(column):
        return column.to_numpy(float)
    first = column.iloc[0] if len(column) else None
    if isinstance(first, (list, np.ndarray)) and np.asarray(first).dtype.kind == "f":
        return np.stack([np.asarray(v, float) for v in column])
    return None


def compare_tables(a: pd.DataFrame, b: pd.DataFrame, tolerance: float) -> list[str]:
    problems = [f"table: only in reference: {c}" for c in a.columns.difference(b.columns)]
    problems += [f"table: only in new: {c}" for c in b.columns.difference(a.columns)]
    if len(a) != len(b):
        return problems + [f"table: {len(a)} rows vs {len(b)}"]
    for column in a.columns.intersection(b.columns):
        x, y = a[column], b[column]
        xa, ya = floats(x), floats(y)
        if xa is not None and ya is not None and xa.shape == ya.shape:
            if not np.array_equal(np.isnan(xa), np.isnan(ya)):
                problems.append(f"table: {column}: missing values differ")
                continue
            diff = np.nanmax(np.abs(xa - ya)) if len(xa) and not np.isnan(xa).all() else 0.0
            print(f"table: {column}: max |diff| {diff:.2e}")
            if diff > tolerance:
                problems.append(f"DIFF table: {column}: max |diff| {diff:.2e} > {tolerance:g}")
        elif not x.reset_index(drop=True).equals(y.reset_index(drop=True)):
            changed = int((x.astype(str).to_numpy() != y.astype(str).to_numpy()).sum())
            problems.append(f"DIFF table: {column}: {changed} of {len(x)} values differ")
    return problems


def _leaves(value, prefix: str = ""):
    if isinstance(value, dict):
        for k, v in value.items():
            if not any(s in str(k).lower() for s in SKIPPED):
                yield from _leaves(v, f"{prefix}.{k}" if prefix else str(k))
    elif isinstance(value, list):
        for i, v in enumerate(value):
            yield from _leaves(v, f"{prefix}[{i}]")
    else:
        yield prefix, value


def _same(x, y) -> bool:
    if isinstance(x, (int, float)) and isinstance(y, (int, float)) and not isinstance(x, bool):
        if math.isnan(x) or math.isnan(y):
            return math.isnan(x) and math.isnan(y)
        return round(float(x), 4) == round(float(y), 4)
    return x == y


def compare_summaries(a: dict, b: dict) -> list[str]:
    left, right = dict(_leaves(a)), dict(_leaves(b))
    problems = [f"summary: only in reference: {k} = {left[k]!r}" for k in left.keys() - right.keys()]
    problems += [f"summary: only in new: {k} = {right[k]!r}" for k in right.keys() - left.keys()]
    problems += [f"DIFF summary: {k}: {left[k]!r} vs {right[k]!r}"
                 for k in sorted(left.keys() & right.keys()) if not _same(left[k], right[k])]
    return sorted(problems)


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("reference", type=Path)
    parser.add_argument("new", type=Path)
    parser.add_argument("--tolerance", type=float, default=1e-5)
    args = parser.parse_args(argv)
    problems = compare_tables(pd.read_parquet(args.reference / "table.parquet"),
                              pd.read_parquet(args.new / "table.parquet"), args.tolerance)
    problems += compare_summaries(json.loads((args.reference / "summary.json").read_text(encoding="utf-8")),
                                  json.loads((args.new / "summary.json").read_text(encoding="utf-8")))
    for line in problems:
        print(line)
    failed = [p for p in problems if p.startswith("DIFF")]
    print(f"{len(failed)} differing values, {len(problems) - len(failed)} keys on one side only")
    return 1 if failed else 0


if __name__ == "__main__":
    sys.exit(main())
