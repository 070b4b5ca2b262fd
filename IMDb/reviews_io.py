"""Files of reviews in, files of predictions out, for `imdb-leap predict --input/--output`.

Inputs, by extension: ``.csv`` and ``.jsonl``/``.ndjson`` (the review in `--text-column`, default
``text``); anything else, or ``-`` for stdin, is plain text with one review per line (an empty line
is a review too, flagged as word-less, so N lines in always give N predictions). Bytes that are not
UTF-8 become U+FFFD, as everywhere else in `predict`.

Outputs, by extension: ``.csv`` or ``.jsonl``, one row per review in input order: ``row``
(1-based), ``text``, ``no_words`` (no letter or digit: the label means nothing), then for each model
``<model>_p_positive`` and ``<model>_label``; a CSV text cell a spreadsheet would run as a formula
(``=HYPERLINK(...)``) starts with ``'`` (`IMDb.writers`). A file that exists is replaced only when it is an
earlier predictions file (`is_predictions_file`) and the caller passes ``overwrite``, never when it
is the input; the file is written to a temp file and takes the name at the end (`IMDb.io`), so a
crash leaves nothing half-written and a file that appeared meanwhile is kept.
"""
from __future__ import annotations

import io
import json
import sys
from collections.abc import Callable
from pathlib import Path

import numpy as np
import pandas as pd

from IMDb.config import LABELS
from IMDb.errors import DataError, OutputError
from IMDb.io import check_out_file, output_file
from IMDb.text import has_words
from IMDb.writers import write_csv

TABLE_FORMATS = {".csv": "csv", ".jsonl": "jsonl", ".ndjson": "jsonl"}
OUTPUT_FORMATS = (".csv", ".jsonl")
PREDICTION_COLUMNS = ("row", "text", "no_words")  # the first columns of every predictions file
STDIN = "-"


def input_format(path: str) -> str:
    """"csv", "jsonl" or "lines" (plain text, stdin), from the extension."""
    return "lines" if path == STDIN else TABLE_FORMATS.get(Path(path).suffix.lower(), "lines")


def _read_bytes(path: str) -> bytes:
    if path == STDIN:
        return sys.stdin.buffer.read()
    try:
        return Path(path).read_bytes()
    except FileNotFoundError:
        raise DataError(f"--input {path}: no such file") from None
    except IsADirectoryError:
        raise DataError(f"--input {path} is a folder; give a .csv, .jsonl or text file") from None
    except OSError as e:
        raise DataError(f"--input {path}: {e.strerror}") from e


def read_reviews(path: str, text_column: str = "text") -> list[str]:
    """The reviews of `path` (``-``: stdin), in order; one clear DataError on a missing file, a
    missing column, a malformed JSON line or a value that is not text."""
    kind, raw = input_format(path), _read_bytes(path)
    text = raw.decode("utf-8", "replace").removeprefix("\ufeff")
    if kind == "lines":
        lines = text.split("\n")
        if lines and lines[-1] == "":
            lines.pop()  # the newline that ends the last line starts no review
        return [line.removesuffix("\r") for line in lines]
    if kind == "csv":
        try:
            frame = pd.read_csv(io.StringIO(text), dtype=str, keep_default_na=False)
        except (pd.errors.ParserError, pd.errors.EmptyDataError) as e:
            raise DataError(f"--input {path} is not a readable CSV file: {str(e).strip()}") from e
        if text_column not in frame.columns:
            raise DataError(f"--input {path} has no column {text_column!r} (columns: "
                            f"{', '.join(map(str, frame.columns))}); name the review column with --text-column")
        return frame[text_column].tolist()
    reviews = []
    for number, line in enumerate(text.split("\n"), start=1):
        if not line.strip():
            continue
        try:
            record = json.loads(line)
        except json.JSONDecodeError as e:
            raise DataError(f"--input {path}, line {number}: not valid JSON ({e.msg})") from e
        if not isinstance(record, dict) or text_column not in record:
            raise DataError(f"--input {path}, line {number}: no {text_column!r} key; name the review key "
                            f"with --text-column")
        if not isinstance(record[text_column], str):
            raise DataError(f"--input {path}, line {number}: {text_column!r} is "
                            f"{type(record[text_column]).__name__}, not text")
        reviews.append(record[text_column])
    return reviews


def check_output(path: str, overwrite: bool, input_path: str | None = None) -> Path:
    """Refuse, before any scoring, an output whose format is unknown, the command's own input, or a
    file that exists unless it is an earlier ``predict`` output and `overwrite` asks to replace it
    (`IMDb.io.check_out_file`): a user's file is never replaced."""
    out = Path(path)
    if out.suffix.lower() not in OUTPUT_FORMATS:
        raise OutputError(f"--output {path}: write .csv or .jsonl (or leave --output out to print lines)")
    if out.is_dir():
        raise OutputError(f"--output {path} is a folder; name a .csv or .jsonl file")
    if not out.parent.is_dir():
        raise OutputError(f"--output {path}: folder {out.parent} does not exist")
    return check_out_file(out, is_predictions_file, replace=overwrite, inputs=(input_path,))


def is_predictions_file(path: Path) -> bool:
    """Whether `path` is what ``predict --output`` writes: its first line is the predictions' CSV
    header, or a JSON record whose first keys are theirs. Only such a file is ever replaced."""
    try:
        with open(path, "rb") as f:
            first = f.readline(1 << 20).decode("utf-8")
    except (OSError, UnicodeDecodeError):
        return False
    if path.suffix.lower() == ".csv":
        return first.startswith(",".join(f'"{c}"' for c in PREDICTION_COLUMNS))
    try:
        return list(json.loads(first))[:len(PREDICTION_COLUMNS)] == list(PREDICTION_COLUMNS)
    except (ValueError, TypeError):
        return False


def predictions_frame(texts: list[str], probabilities: dict[str, np.ndarray]) -> pd.DataFrame:
    """One row per review: row, text, no_words, and per model <model>_p_positive, <model>_label."""
    row, text, no_words = PREDICTION_COLUMNS
    frame = pd.DataFrame({row: np.arange(1, len(texts) + 1), text: texts,
                          no_words: [not has_words(t) for t in texts]})
    for name, probs in probabilities.items():
        frame[f"{name}_p_positive"] = probs[:, 1].round(6)
        frame[f"{name}_label"] = np.array(LABELS, dtype=object)[np.argmax(probs, axis=1)]
    return frame


def write_predictions(frame: pd.DataFrame, path: Path, overwrite: bool) -> None:
    """`frame` as CSV (spreadsheet-safe cells, `IMDb.writers`) or JSON Lines at `path`, through a temp file that takes the name only if it is
    still free, or replaces an earlier output when `overwrite` (re-checked at the swap)."""
    with output_file(path, is_predictions_file, replace=overwrite) as tmp:
        if path.suffix.lower() == ".csv":
            write_csv(frame, tmp, quote_text=True)
        else:
            frame.to_json(tmp, orient="records", lines=True, force_ascii=False)


def score(texts: list[str], predict: Callable[[list[str]], np.ndarray], batch_size: int = 256,
          desc: str = "", progress: bool = False) -> np.ndarray:
    """[n, 2] probabilities of `texts` by `predict`, `batch_size` reviews at a time (memory stays
    flat on a large file) with a progress bar."""
    from tqdm.auto import tqdm

    starts = range(0, len(texts), batch_size)
    parts = [predict(texts[i:i + batch_size])
             for i in tqdm(starts, desc=desc, unit="batch", disable=not progress)]
    return np.concatenate(parts) if parts else np.zeros((0, 2))
