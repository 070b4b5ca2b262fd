"""Load the IMDb Large Movie Review Dataset (Maas et al., 2011) from whichever copy the user has.

Three sources give the same DataFrame: a parquet file (fast; what the project ships), an extracted
``aclImdb/`` folder, or the official ``aclImdb_v1.tar.gz`` (extracted safely into the cache once).
Every problem with the input is raised as one ``DataError`` that names the file (and row or id) and
says how to fix it, so users never have to decode a pyarrow, tarfile or unicode traceback. The
archive's download and extraction are in `IMDb.data.aclimdb_archive`; the frame's columns and the checks
both readers share are in `IMDb.data.review_frame`.
"""

from __future__ import annotations

import hashlib
import os
import re
from pathlib import Path

import pandas as pd
import pyarrow as pa
import pyarrow.parquet as pq
from tqdm.auto import tqdm

from IMDb.config import environment
from IMDb.data import data_source
from IMDb.data.aclimdb_archive import ARCHIVE_NAME, ARCHIVE_URL, archive_cache, download_archive, extract_archive
from IMDb.data.review_frame import LABELED_COLUMNS, UNLABELED_COLUMNS, LABEL_DIRS, check_unique, finalize, validate
from IMDb.errors import DataError
from IMDb.output.atomic import atomic_path

UNSUP_NAME = "imdb_unsup.parquet"

_FILE_RE = re.compile(r"(\d+)_(\d+)\.txt")
_MOVIE_RE = re.compile(r"tt\d+")
_CACHE_VERSION = 1  # bump when the parsed-folder cache format changes


def resolve_source(source: str | os.PathLike | None = None, *, cache_dir=None, progress: bool = True) -> Path:
    """Turn the user's choice into an existing path, downloading if asked: the source
    `IMDb.data.data_source.choose` picks (`source`, else IMDB_DATA, else project_config.yaml's
    data_path), else an archive already downloaded into the cache; otherwise one DataError lists
    every way to provide the data. ``"download"`` fetches the official archive into the cache.
    """
    chosen = data_source.choose(source)
    if chosen is None:
        cached = archive_cache(cache_dir) / ARCHIVE_NAME
        if cached.is_file():
            return cached
        raise DataError(
            "No IMDb data source given. Set IMDB_DATA to a parquet file (columns split,label,rating,id,movie,text), "
            f"an extracted aclImdb/ folder (or the folder containing it), or the archive {ARCHIVE_NAME}; "
            f"or pass source='download' (or IMDB_DATA=download) to fetch {ARCHIVE_URL} into {archive_cache(cache_dir)}. "
            f"({data_source.placeholder_note()})"
        )
    if chosen == "download":
        return download_archive(ARCHIVE_URL, cache_dir, progress)
    path = Path(chosen).expanduser()
    if not path.exists():
        raise DataError(f"{path} (from {data_source.origin(chosen)}) does not exist. Fix the path, or use 'download' "
                        f"to fetch the dataset.")
    return path


def load_labeled(source: str | os.PathLike | None = None, *, cache_dir=None, progress: bool = True) -> pd.DataFrame:
    """The 50k labeled reviews as columns split,label,rating,id,movie,text sorted by (split, label, id)."""
    path = resolve_source(source, cache_dir=cache_dir, progress=progress)
    if _kind(path) == "parquet":
        return _read_parquet(path, LABELED_COLUMNS)
    return _load_folder(_folder_of(path, cache_dir, progress), False, cache_dir, progress)


def load_unlabeled(source: str | os.PathLike | None = None, *, cache_dir=None, progress: bool = True) -> pd.DataFrame:
    """The 50k unlabeled reviews (split "unsup") as columns split,id,movie,text sorted by id.

    For a parquet source they come from ``imdb_unsup.parquet`` next to it, or env IMDB_UNSUP_DATA.
    """
    path = resolve_source(source, cache_dir=cache_dir, progress=progress)
    if _kind(path) == "parquet":
        return _read_parquet(_unsup_parquet(path), UNLABELED_COLUMNS)
    return _load_folder(_folder_of(path, cache_dir, progress), True, cache_dir, progress)

# --------------------------------------------------------------------------- source kinds


def _kind(path: Path) -> str:
    """"parquet", "folder" or "archive", by suffix first and magic bytes second."""
    if path.is_dir():
        return "folder"
    name = path.name.lower()
    if name.endswith(".parquet"):
        return "parquet"
    if name.endswith((".tar.gz", ".tgz", ".tar")):
        return "archive"
    with open(path, "rb") as f:
        head = f.read(4)
    if head == b"PAR1":
        return "parquet"
    if head[:2] == b"\x1f\x8b":
        return "archive"
    raise DataError(f"{path}: not a parquet file, an aclImdb folder or a tar.gz archive. "
                    f"Set IMDB_DATA to imdb.parquet, the extracted aclImdb folder or {ARCHIVE_NAME}.")


def _unsup_parquet(path: Path) -> Path:
    unsup = environment.unsup_data()
    if unsup:
        if not unsup.is_file():
            raise DataError(f"{unsup} (from IMDB_UNSUP_DATA) does not exist. Fix the path or unset it.")
        return unsup
    if path.name == UNSUP_NAME:  # the source already is the unlabeled file
        return path
    unsup = path.parent / UNSUP_NAME
    if unsup.is_file():
        return unsup
    raise DataError(f"{unsup} does not exist: unlabeled reviews are read from {UNSUP_NAME} next to {path.name}. "
                    "Put it there, set IMDB_UNSUP_DATA to it, or use an aclImdb folder or archive as the source.")


def _folder_of(path: Path, cache_dir, progress: bool) -> Path:
    """The aclImdb folder for a folder source, or for an archive after extracting it into the cache once."""
    if path.is_dir():
        return _find_root(path)
    stat = path.stat()
    key = hashlib.sha1(f"{path.resolve()}|{stat.st_size}|{stat.st_mtime_ns}".encode()).hexdigest()[:16]
    return _find_root(extract_archive(path, archive_cache(cache_dir) / "extracted" / key, progress=progress))


def _find_root(path: Path) -> Path:
    for candidate in (path, path / "aclImdb"):
        if (candidate / "train").is_dir() and (candidate / "test").is_dir():
            return candidate
    raise DataError(f"{path}: not an aclImdb folder: expected train/pos, train/neg, train/unsup, test/pos and "
                    "test/neg holding <id>_<rating>.txt files (the extracted aclImdb_v1.tar.gz), "
                    "either in this folder or in an aclImdb/ folder inside it.")


# --------------------------------------------------------------------------- parquet


def _read_parquet(path: Path, columns: dict[str, str]) -> pd.DataFrame:
    """Read only ``columns`` from a parquet file, validate them and return them typed and sorted."""
    try:
        with pq.ParquetFile(path) as pf:
            missing = [c for c in columns if c not in pf.schema_arrow.names]
            if missing:
                expected = ", ".join(f"{c}: {t}" for c, t in columns.items())
                raise DataError(f"{path}: missing column(s) {', '.join(missing)}. Expected schema: {expected}. "
                                "Re-create the file with these columns.")
            table = pf.read(columns=list(columns))
    except (pa.ArrowException, OSError) as e:
        raise DataError(f"{path}: cannot read parquet ({e}). The file is truncated or corrupt: re-create it "
                        "or download it again.") from e
    _check_strings(table, path)
    df = table.to_pandas()
    validate(df, path, labeled="label" in columns)
    check_unique(df, path)
    return finalize(df, columns)


def _check_strings(table: pa.Table, path: Path) -> None:
    """movie and text must be string columns of valid UTF-8: a column of numbers would be read as
    their digits, and bad bytes would fail later, far from the file, without a row."""
    for name in ("movie", "text"):
        column = table.column(name)
        kind = column.type.value_type if pa.types.is_dictionary(column.type) else column.type
        if not (pa.types.is_string(kind) or pa.types.is_large_string(kind) or pa.types.is_string_view(kind)):
            raise DataError(f"{path}: column {name} holds {kind}, expected strings. Re-create the file with "
                            f"{name} as a string column.")
        try:
            column.validate(full=True)
        except pa.ArrowInvalid as e:
            raise DataError(f"{path}: {_bad_utf8(column.cast(kind).cast(pa.binary()), table, name) or e}. "
                            "Re-save the text as UTF-8 or drop the row.") from e


def _bad_utf8(values: pa.ChunkedArray, table: pa.Table, name: str) -> str | None:
    """"row 3 (id=12): text is not valid UTF-8 at byte 4 (b'\\xff')" for the first bad value, if any."""
    for i, value in enumerate(values.to_pylist()):
        try:
            (value or b"").decode("utf-8")
        except UnicodeDecodeError as e:
            return (f"row {i} (id={table.column('id')[i].as_py()!r}): {name} is not valid UTF-8 at byte "
                    f"{e.start} ({value[e.start:e.start + 4]!r})")
    return None


# --------------------------------------------------------------------------- aclImdb folder


def _load_folder(root: Path, unlabeled: bool, cache_dir, progress: bool) -> pd.DataFrame:
    """Parse the folder, or reuse the parquet cached from a previous parse of the same unchanged folder."""
    root = root.resolve()
    groups = [("train", "unsup", -1)] if unlabeled else [(s, d, lab) for s in ("train", "test") for d, lab in LABEL_DIRS]
    missing = [f"{s}/{d}" for s, d, _ in groups if not (root / s / d).is_dir()]
    if missing:
        raise DataError(f"{root}: not a complete aclImdb folder, missing {', '.join(missing)}. Re-extract "
                        f"{ARCHIVE_NAME}, or point IMDB_DATA at the parquet file instead.")
    kind = "unsup" if unlabeled else "labeled"
    key = _folder_key(root, groups, f"{_CACHE_VERSION}|{kind}|{root}")
    cached = archive_cache(cache_dir) / "parsed" / f"aclImdb-{kind}-{key}.parquet"
    if cached.is_file():
        try:
            return pd.read_parquet(cached)
        except (pa.ArrowException, OSError):
            pass  # unreadable cache entry: parse again and overwrite it
    df = _parse_folder(root, groups, progress)
    try:
        with atomic_path(cached) as tmp:
            df.to_parquet(tmp, index=False)
    except OSError:
        pass  # the cache only saves time; a read-only cache dir must not break loading
    return df


def _folder_key(root: Path, groups: list[tuple[str, str, int]], prefix: str) -> str:
    """Cache key of a folder's content: every review file's and urls file's name, size, mtime and
    ctime. Editing a review in place changes its size or times (a folder's mtime would not change),
    and ctime cannot be set back by hand, so an edited folder is always parsed again."""
    digest = hashlib.sha1(prefix.encode())
    for split, sub, _ in groups:
        urls = root / split / f"urls_{sub}.txt"
        with os.scandir(root / split / sub) as entries:
            found = sorted(((entry.name, entry.stat()) for entry in entries), key=lambda e: e[0])
        for name, st in [*found, *([(urls.name, urls.stat())] if urls.exists() else [])]:
            digest.update(f"{split}/{sub}/{name}|{st.st_size}|{st.st_mtime_ns}|{st.st_ctime_ns}\n".encode())
    return digest.hexdigest()[:16]


def _parse_folder(root: Path, groups: list[tuple[str, str, int]], progress: bool) -> pd.DataFrame:
    files = []  # (split, label, rating, id, movie, path)
    for split, sub, label in groups:
        movies = _read_urls(root / split / f"urls_{sub}.txt")
        with os.scandir(root / split / sub) as entries:
            found = sorted((entry.name, entry.is_file()) for entry in entries if not entry.name.startswith("."))
        for name, is_file in found:
            entry_path = root / split / sub / name
            if not is_file:
                raise DataError(f"{entry_path}: a folder (or other non-file) among the review files; expected only "
                                "<id>_<rating>.txt files. Move it out or re-extract the archive.")
            match = _FILE_RE.fullmatch(name)
            if not match:
                raise DataError(f"{entry_path}: unexpected file name; expected <id>_<rating>.txt like 123_8.txt. "
                                "Remove the file or re-extract the archive.")
            review_id, rating = int(match[1]), int(match[2])
            if label >= 0 and not 1 <= rating <= 10:
                raise DataError(f"{entry_path}: rating {rating} in the file name is not in 1..10. Fix the name.")
            movie = movies[review_id] if review_id < len(movies) else ""
            files.append((split if label >= 0 else "unsup", label, rating, review_id, movie, entry_path))
    rows = []
    for split, label, rating, review_id, movie, path in tqdm(files, desc=f"Reading {root.name}", unit=" files",
                                                             disable=not progress):
        text = _read_text(path)
        if not text.strip():
            raise DataError(f"{path}: empty review text (only whitespace). Restore it from the archive or delete it.")
        rows.append((split, label, rating, review_id, movie, text))
    df = pd.DataFrame(rows, columns=["split", "label", "rating", "id", "movie", "text"])
    columns = UNLABELED_COLUMNS if groups[0][2] < 0 else LABELED_COLUMNS
    check_unique(df if "label" in columns else df.drop(columns="label"), root)
    return finalize(df, columns)


def _read_text(path: Path) -> str:
    data = path.read_bytes()
    try:
        return data.decode("utf-8")
    except UnicodeDecodeError as e:
        raise DataError(f"{path}: not valid UTF-8 at byte offset {e.start} ({data[e.start:e.start + 4]!r}). "
                        "Restore the file from the archive or re-save it as UTF-8.") from e


def _read_urls(path: Path) -> list[str]:
    """Movie ids by review id from a urls_*.txt file (line i belongs to review i); [] if there is none."""
    if not path.is_file():
        return []
    movies = []
    for line in _read_text(path).splitlines():
        match = _MOVIE_RE.search(line)
        movies.append(match.group() if match else "")
    return movies
