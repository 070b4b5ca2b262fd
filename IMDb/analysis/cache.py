"""Results kept on disk between runs, so a second analysis of the same reviews skips its slow parts:
per review, the TextBlob metadata (about a millisecond a review) and the TF-IDF baseline (a fit of
tens of seconds); per input, the UMAP map of a model's latent vectors (`stored_array`). They live
under IMDB_CACHE (default ~/.cache/imdb-leap), beside the dataset cache.

A store is one folder per kind of result and version, ``<cache>/reviews/<kind>-<version>/``, of
parquet files whose rows are keyed by a hash of the review text. A run reads every file of its
store, computes only the reviews none of them holds and adds those as one new file. A file is
written under a temp name and renamed (`IMDb.output.atomic.atomic_path`), and never rewritten, so two
processes at once never read a half-written file: at worst both compute the same reviews. The
version is a hash of everything the values depend on (the code's source, library versions, the
tokenizer's fingerprint): a change starts a new store, so a stale value is never read.
"""
from __future__ import annotations

import hashlib
import secrets
from collections.abc import Callable, Sequence
from dataclasses import dataclass
from pathlib import Path
from types import ModuleType

import numpy as np
import pandas as pd

from IMDb.config import environment
from IMDb.output.atomic import atomic_path

KEY = "key"
MAX_FILES = 16  # a store with more files is merged into one when next read, so reads stay fast


def version(*parts: object, modules: Sequence[ModuleType] = ()) -> str:
    """A short hash of `parts` (settings, library versions, fingerprints) and of the source files of
    `modules` (the code that computes the values): any change gives another store."""
    digest = hashlib.sha256()
    for module in modules:
        digest.update(Path(module.__file__).read_bytes())
    for part in parts:
        digest.update(repr(part).encode() + b"\0")
    return digest.hexdigest()[:16]


def text_keys(texts: Sequence[str]) -> list[str]:
    """The key of each review: a 128-bit hash of its text."""
    return [hashlib.blake2b(t.encode("utf-8", "surrogatepass"), digest_size=16).hexdigest() for t in texts]


def store_dir(kind: str, version_: str) -> Path:
    return environment.cache_dir() / "reviews" / f"{kind}-{version_}"


@dataclass
class Lookup:
    """What a store holds for some reviews: `rows` (one per stored review, with its key) and the
    `missing` texts (each once, in order of first appearance), which `fill` adds."""

    folder: Path
    keys: pd.Index
    rows: pd.DataFrame | None
    missing: list[str]

    def fill(self, computed: pd.DataFrame | None = None) -> pd.DataFrame:
        """The values of every review in the order asked, index 0..n-1: the stored rows and
        `computed` (one row per `missing` text, in order), which is stored for the next run."""
        rows = self.rows
        if self.missing:
            if computed is None or len(computed) != len(self.missing):
                raise ValueError(f"expected {len(self.missing)} computed rows, got "
                                 f"{None if computed is None else len(computed)}")
            fresh = computed.reset_index(drop=True).assign(**{KEY: text_keys(self.missing)})
            _write(self.folder, fresh)
            rows = fresh if rows is None else pd.concat([rows, fresh], ignore_index=True)
        if rows is None:  # no review asked
            return pd.DataFrame(index=pd.RangeIndex(0))
        positions = pd.Index(rows[KEY]).get_indexer(self.keys)
        return rows.drop(columns=KEY).take(positions).reset_index(drop=True)


def lookup(kind: str, version_: str, texts: Sequence[str]) -> Lookup:
    """The store's rows for `texts` (see `Lookup`); a missing, unreadable or foreign file is
    treated as holding nothing."""
    folder = store_dir(kind, version_)
    keys = pd.Index(text_keys(texts))
    rows = _read(folder)
    known = np.zeros(len(keys), dtype=bool) if rows is None else pd.Index(rows[KEY]).get_indexer(keys) >= 0
    first = ~keys.duplicated()
    missing = [texts[i] for i in np.flatnonzero(~known & first)]
    return Lookup(folder, keys, rows, missing)


def _read(folder: Path) -> pd.DataFrame | None:
    import pyarrow as pa

    files = sorted(folder.glob("*.parquet")) if folder.is_dir() else []
    frames = []
    for path in files:
        try:
            frames.append(pd.read_parquet(path))
        except (OSError, pa.ArrowException):
            continue  # removed by a concurrent merge, or damaged: its reviews are computed again
    frames = [f for f in frames if KEY in f]
    if not frames:
        return None
    rows = pd.concat(frames, ignore_index=True).drop_duplicates(KEY, ignore_index=True)
    if len(files) > MAX_FILES and _write(folder, rows):
        for path in files:
            path.unlink(missing_ok=True)
    return rows


def _write(folder: Path, rows: pd.DataFrame) -> bool:
    """Add `rows` as a new file of the store; False if the cache folder is not writable (the cache
    only saves time: an analysis must not fail on it)."""
    try:
        with atomic_path(folder / f"{secrets.token_hex(8)}.parquet") as tmp:
            rows.to_parquet(tmp, index=False)
    except OSError:
        return False
    return True


def stored_array(kind: str, version_: str, compute: Callable[[], np.ndarray]) -> np.ndarray:
    """`compute()`, or the array a previous run stored for the same `version_` (a hash of every
    input, see `version`) in ``<cache>/<kind>/``; a missing or damaged file (empty or cut short by a
    power loss, or not an array at all) is computed again and replaced."""
    path = environment.cache_dir() / kind / f"{version_}.npy"
    try:
        return np.load(path, allow_pickle=False)
    except (OSError, ValueError, EOFError):  # EOFError: a 0-byte file
        pass
    out = compute()
    try:
        with atomic_path(path) as tmp, open(tmp, "wb") as f:
            np.save(f, out, allow_pickle=False)
    except OSError:
        pass  # the cache only saves time
    return out
