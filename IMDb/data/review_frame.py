"""The frame every source returns, and the checks the parquet and folder readers share.

`LABELED_COLUMNS` / `UNLABELED_COLUMNS` give its columns and dtypes, `SPLIT_ORDER` its row order;
`validate` checks a frame's values row by row, `check_unique` that no review id repeats within a
split and label, and `finalize` casts and sorts it, so every source gives the same frame. Each
problem is one ``DataError`` naming the file and the first bad row.
"""

from __future__ import annotations

from pathlib import Path

import numpy as np
import pandas as pd

from IMDb.errors import DataError

# Column -> dtype of the frames we return (and of /work/shared/data/imdb/*.parquet).
LABELED_COLUMNS = {"split": "str", "label": "int8", "rating": "int8", "id": "int32", "movie": "str", "text": "str"}
UNLABELED_COLUMNS = {"split": "str", "id": "int32", "movie": "str", "text": "str"}
# Rows are sorted by split in this order (train before test, as in the shipped parquet), then label, id.
SPLIT_ORDER = {"train": 0, "test": 1, "unsup": 2}

LABEL_DIRS = (("neg", 0), ("pos", 1))


def check_unique(df: pd.DataFrame, source: Path) -> None:
    """Each review once per split and label: sample ids (``train/pos/12``) are built from them, and a
    repeated one would mix two reviews in every table and in the platform's sample list."""
    keys = [c for c in ("split", "label", "id") if c in df]
    repeated = df[df.duplicated(keys, keep=False)].drop_duplicates(keys)
    if len(repeated):
        ids = ["/".join([row.split, *([LABEL_DIRS[int(row.label)][0]] if "label" in keys else []), str(row.id)])
               for row in repeated.head(5).itertuples()]
        raise DataError(f"{source}: review ids repeated within a split and label: {', '.join(ids)}"
                        f"{', ...' if len(repeated) > 5 else ''}. Keep one review per id (in a folder, files "
                        f"<id>_<rating>.txt must not share an id) and drop the others.")


def validate(df: pd.DataFrame, path: Path, labeled: bool) -> None:
    """Raise a DataError naming the first bad row; convert numeric columns in place when they are valid."""

    def first_bad(ok: pd.Series, column: str, rule: str, fix: str = "Fix or drop the row.") -> None:
        bad = np.flatnonzero(~ok.to_numpy(dtype=bool, na_value=False))
        if len(bad):
            i = int(bad[0])
            row_id, value = (v.item() if isinstance(v, np.generic) else v for v in (df["id"].iat[i], df[column].iat[i]))
            raise DataError(f"{path}: row {i} (id={row_id!r}): {column} must be {rule}, got {value!r}. {fix}")

    splits = ("train", "test") if labeled else ("unsup",)
    first_bad(df["split"].isin(splits), "split", " or ".join(map(repr, splits)))
    ranges = {"id": (0, 2**31 - 1, "an integer >= 0")}
    if labeled:
        ranges |= {"label": (0, 1, "0 (negative) or 1 (positive)"), "rating": (1, 10, "an integer in 1..10")}
    for column, (lo, hi, rule) in ranges.items():
        values = pd.to_numeric(df[column], errors="coerce")
        first_bad(values.between(lo, hi) & (values % 1 == 0), column, rule)
        df[column] = values
    text = df["text"]
    first_bad(text.notna() & text.astype("str").str.strip().ne(""), "text", "non-empty",
              "Restore the review text or drop the row.")


def finalize(df: pd.DataFrame, columns: dict[str, str]) -> pd.DataFrame:
    """Cast to the public dtypes and sort by (split, label, id) so every source gives the same frame."""
    df = df[list(columns)].assign(movie=df["movie"].fillna("")).astype(columns)
    keys = ["label", "id"] if "label" in columns else ["id"]
    df = df.assign(_order=df["split"].map(SPLIT_ORDER)).sort_values(["_order", *keys], kind="stable")
    return df.drop(columns="_order").reset_index(drop=True)
