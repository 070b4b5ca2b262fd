"""Files of predictions out, for `imdb-leap predict --output` (what goes in: `IMDb.cli.review_files`).

Outputs, by extension: ``.csv`` or ``.jsonl``, one row per review in input order: ``row``
(1-based), ``text``, ``no_words`` (no letter or digit: the label means nothing), then for each model
``<model>_p_positive`` and ``<model>_label``; a CSV text cell a spreadsheet would run as a formula
(``=HYPERLINK(...)``) starts with ``'`` (`IMDb.output.formats`). A file that exists is replaced only when it is an
earlier predictions file (`is_predictions_file`) and the caller passes ``overwrite``, never when it
is the input; the file is written to a temp file and takes the name at the end (`IMDb.output.atomic`), so a
crash leaves nothing half-written and a file that appeared meanwhile is kept.
"""
from __future__ import annotations

import json
from collections.abc import Callable
from pathlib import Path
from typing import TYPE_CHECKING

import numpy as np

from IMDb.config.run import LABELS
from IMDb.errors import OutputError
from IMDb.output.atomic import check_out_file, output_file
from IMDb.output.formats import write_csv
from IMDb.text.word_tokenizer import has_words

if TYPE_CHECKING:  # imported where a frame is made: predictions on stdout need no pandas
    import pandas as pd

OUTPUT_FORMATS = (".csv", ".jsonl")
PREDICTION_COLUMNS = ("row", "text", "no_words")  # the first columns of every predictions file


def check_output(path: str, overwrite: bool, input_path: str | None = None) -> Path:
    """Refuse, before any scoring, an output whose format is unknown, the command's own input, or a
    file that exists unless it is an earlier ``predict`` output and `overwrite` asks to replace it
    (`IMDb.output.atomic.check_out_file`): a user's file is never replaced."""
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
    import pandas as pd

    row, text, no_words = PREDICTION_COLUMNS
    frame = pd.DataFrame({row: np.arange(1, len(texts) + 1), text: texts,
                          no_words: [not has_words(t) for t in texts]})
    for name, probs in probabilities.items():
        frame[f"{name}_p_positive"] = probs[:, 1].round(6)
        frame[f"{name}_label"] = np.array(LABELS, dtype=object)[np.argmax(probs, axis=1)]
    return frame


def write_predictions(frame: pd.DataFrame, path: Path, overwrite: bool) -> None:
    """`frame` as CSV (spreadsheet-safe cells, `IMDb.output.formats`) or JSON Lines at `path`, through a temp file that takes the name only if it is
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
