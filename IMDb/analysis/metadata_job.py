"""The binder's metadata as analysis-table columns, computed beside inference.

Every metadata field of the Tensorleap binder (`IMDb.measures.metadata`, the same numbers the platform
shows) becomes a column ``<function>_<key>``, or the function's name for a single value (the
binder's ``label`` field is ``label_name``, as ``label`` is the numeric ground truth). `MetadataJob`
fills them from the per-review cache (`IMDb.analysis.cache`) and computes what it lacks on worker processes
while the caller runs the model.
"""
from __future__ import annotations

import importlib.metadata
import multiprocessing
import os
import signal
import sys
import warnings
from concurrent.futures import ProcessPoolExecutor
from concurrent.futures.process import BrokenProcessPool

import numpy as np
import pandas as pd

from IMDb.analysis import cache
from IMDb.measures import metadata
from IMDb.text import tokenizer as tokenizer_module
from IMDb.text import word_tokenizer as text_module
from IMDb.text.tokenizer import Tokenizer

RENAMED = {"label": "label_name"}  # metadata function -> column, where its name is taken


def _flat_types() -> dict[str, object]:
    out = {}
    for name, kind in metadata.TYPES.items():
        if isinstance(kind, dict):
            out.update({f"{name}_{key}": k for key, k in kind.items()})
        else:
            out[RENAMED.get(name, name)] = kind
    return out


# metadata column -> its declared DatasetMetadataType, in the binder's order
METADATA_TYPES: dict[str, object] = _flat_types()
METADATA_COLUMNS: tuple[str, ...] = tuple(METADATA_TYPES)
NUMERIC_METADATA: tuple[str, ...] = tuple(c for c, k in METADATA_TYPES.items()
                                          if getattr(k, "name", "") in ("int", "float", "boolean"))


CHUNK = 1000  # reviews per worker task; no more missing reviews than this are computed in this process


def metadata_frame(frame: pd.DataFrame, tokenizer: Tokenizer, progress: bool = False) -> pd.DataFrame:
    """One column per binder metadata field for each review of `frame` (text, label, rating).

    Missing values (label-dependent fields without a label, the OOV ratio of an empty review) are
    NaN/None; an int field with a missing value becomes float. See `MetadataJob` for the cache.
    """
    with MetadataJob(frame, tokenizer, progress) as job:
        return job.result().set_axis(frame.index)


class MetadataJob:
    """The metadata columns of a frame's reviews, started on creation and collected by `result`.

    The text fields (`IMDb.measures.metadata.text_fields`) and the tokenizer's (`tokenizer_fields`) come from
    the per-review cache (`IMDb.analysis.cache`); the reviews it lacks are computed on worker processes, one
    per core but this process's, while this process loads the model, runs it and scores the TF-IDF
    baseline: TextBlob (about 1,500 reviews a second on one core) is the slowest part of a first
    table. The label fields are computed in `result`.
    """

    def __init__(self, frame: pd.DataFrame, tokenizer: Tokenizer, progress: bool = False):
        texts = frame["text"].tolist()
        self.frame, self.progress = frame, progress
        self.parts = [(cache.lookup("metadata-text", _text_version(), texts), None),
                      (cache.lookup("metadata-tokens", _tokenizer_version(tokenizer), texts), tokenizer)]
        self.tasks = [(part, lookup.missing[i:i + CHUNK], tok)
                      for part, (lookup, tok) in enumerate(self.parts)
                      for i in range(0, len(lookup.missing), CHUNK)]
        missing = sum(len(lookup.missing) for lookup, _ in self.parts)
        # one core stays with this process (the model, the TF-IDF baseline): on 2 cores a second
        # worker gained no time and held 250 MB more
        workers = min(len(self.tasks), len(os.sched_getaffinity(0)) - 1) if missing > CHUNK else 0
        self.pool, self.broken = None, False
        if workers > 0:  # spawned, not forked: this process may hold TensorFlow's threads
            # Ctrl-C reaches the whole process group: the workers leave it to this process, which
            # cancels what has not started, instead of each printing its own traceback
            self.pool = ProcessPoolExecutor(workers, mp_context=multiprocessing.get_context("spawn"),
                                            initializer=signal.signal, initargs=(signal.SIGINT, signal.SIG_IGN))
        self.futures = [self.pool.submit(_field_columns, chunk, tok) for _, chunk, tok in self.tasks] \
            if self.pool else []

    def __enter__(self) -> "MetadataJob":
        return self

    def __exit__(self, *exc) -> None:
        if self.pool is not None:
            self.pool.shutdown(wait=True, cancel_futures=True)

    def result(self) -> pd.DataFrame:
        """The metadata frame, index 0..n-1, columns in the binder's order."""
        n = len(self.frame)
        if n == 0:
            return pd.DataFrame(index=pd.RangeIndex(0), columns=list(METADATA_COLUMNS))
        computed: list[dict[str, list]] = [{} for _ in self.parts]
        from tqdm.auto import tqdm

        with tqdm(total=sum(len(chunk) for _, chunk, _ in self.tasks), desc="metadata", unit="review",
                  disable=not self.progress or not self.tasks) as bar:
            for i, (part, chunk, tok) in enumerate(self.tasks):
                columns = self._worker_result(i) if self.futures else None
                columns = columns if columns is not None else _field_columns(chunk, tok)
                for column, values in columns.items():
                    computed[part].setdefault(column, []).extend(values)
                bar.update(len(chunk))
        columns = dict(self._label_columns())
        for (lookup, _), values in zip(self.parts, computed):
            fresh = pd.DataFrame({c: _typed(v, METADATA_TYPES.get(c)) for c, v in values.items()})
            columns.update(lookup.fill(fresh if lookup.missing else None).items())
        return pd.DataFrame({c: columns[c] for c in METADATA_COLUMNS if c in columns})

    def _worker_result(self, i: int) -> dict[str, list] | None:
        """Task `i`'s columns from its worker; None if the workers died, e.g. because the calling
        script lacks ``if __name__ == "__main__":`` (a spawned worker imports it again)."""
        try:
            return self.futures[i].result()
        except BrokenProcessPool:
            if not self.broken:
                warnings.warn("the metadata workers failed; computing the metadata in this process "
                              "(guard the calling script with `if __name__ == \"__main__\":`)",
                              RuntimeWarning, stacklevel=4)
            self.broken = True
            return None

    def _label_columns(self) -> dict[str, pd.Series]:
        frame, n = self.frame, len(self.frame)
        labels = frame["label"].tolist() if "label" in frame else [None] * n
        ratings = frame["rating"].tolist() if "rating" in frame else [None] * n
        columns: dict[str, list] = {}
        for label, rating in zip(labels, ratings):
            label = None if label is None or pd.isna(label) else int(label)
            rating = None if rating is None or pd.isna(rating) else int(rating)
            _flatten({"label": metadata.label(label), "rating": metadata.rating(rating)}, columns)
        return {c: _typed(v, METADATA_TYPES.get(c)) for c, v in columns.items()}


def _field_columns(texts: list[str], tokenizer: Tokenizer | None = None) -> dict[str, list]:
    """The text fields of each review or, given the model's tokenizer, its tokenizer fields, as lists
    by column (a worker process runs this)."""
    columns: dict[str, list] = {}
    for text in texts:
        _flatten(metadata.text_fields(text) if tokenizer is None else metadata.tokenizer_fields(text, tokenizer),
                 columns)
    return columns


def _flatten(fields: dict[str, object], columns: dict[str, list]) -> None:
    """Append one review's fields to `columns` as ``<function>_<key>`` (or the renamed function)."""
    for name, value in fields.items():
        if isinstance(value, dict):
            for key, v in value.items():
                columns.setdefault(f"{name}_{key}", []).append(v)
        else:
            columns.setdefault(RENAMED.get(name, name), []).append(value)


def _text_version() -> str:
    """What the text fields depend on: their code and TextBlob's lexicon."""
    return cache.version(importlib.metadata.version("textblob"), modules=(metadata, text_module))


def _tokenizer_version(tokenizer: Tokenizer) -> str:
    """What the tokenizer fields depend on: their code, the tokenizer's code, vocabulary and length."""
    return cache.version(type(tokenizer).__name__, tokenizer.fingerprint, importlib.metadata.version("tokenizers"),
                         modules=(metadata, tokenizer_module, sys.modules[type(tokenizer).__module__]))


def _typed(values: list, kind) -> pd.Series:
    kind = getattr(kind, "name", None)
    missing = any(v is None for v in values)
    if kind == "int":
        return pd.Series(values, dtype="float64" if missing else "int64")
    if kind == "float":
        return pd.Series([np.nan if v is None else v for v in values], dtype="float64")
    if kind == "boolean" and not missing:
        return pd.Series(values, dtype="bool")
    return pd.Series(values, dtype="object" if missing or kind != "string" else "str")
