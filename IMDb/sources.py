"""Load the IMDb Large Movie Review Dataset (Maas et al., 2011) from whichever copy the user has.

Three sources give the same DataFrame: a parquet file (fast; what the project ships), an extracted
``aclImdb/`` folder, or the official ``aclImdb_v1.tar.gz`` (extracted safely into the cache once).
Every problem with the input is raised as one ``DataError`` that names the file (and row or id) and
says how to fix it, so users never have to decode a pyarrow, tarfile or unicode traceback.
"""

from __future__ import annotations

import gzip
import hashlib
import http.client
import os
import re
import shutil
import tarfile
import tempfile
import urllib.parse
import urllib.request
import zlib
from pathlib import Path, PurePosixPath

import numpy as np
import pandas as pd
import pyarrow as pa
import pyarrow.parquet as pq
from tqdm.auto import tqdm

from IMDb import settings
from IMDb.errors import DataError
from IMDb.io import atomic_path

ARCHIVE_URL = "https://ai.stanford.edu/~amaas/data/sentiment/aclImdb_v1.tar.gz"
ARCHIVE_MD5 = "7c2ac02c03563afcf9b574c7e56c153a"
ARCHIVE_SHA1 = "01ada507287d82875905620988597833ad4e0903"
ARCHIVE_NAME = "aclImdb_v1.tar.gz"
UNSUP_NAME = "imdb_unsup.parquet"

# Column -> dtype of the frames we return (and of /work/shared/data/imdb/*.parquet).
LABELED_COLUMNS = {"split": "str", "label": "int8", "rating": "int8", "id": "int32", "movie": "str", "text": "str"}
UNLABELED_COLUMNS = {"split": "str", "id": "int32", "movie": "str", "text": "str"}
# Rows are sorted by split in this order (train before test, as in the shipped parquet), then label, id.
SPLIT_ORDER = {"train": 0, "test": 1, "unsup": 2}

_LABEL_DIRS = (("neg", 0), ("pos", 1))
_FILE_RE = re.compile(r"(\d+)_(\d+)\.txt")
_MOVIE_RE = re.compile(r"tt\d+")
_TAR_FILTER = {"filter": "data"} if hasattr(tarfile, "data_filter") else {}
_CACHE_VERSION = 1  # bump when the parsed-folder cache format changes


def _cache(cache_dir: str | os.PathLike | None) -> Path:
    return Path(cache_dir).expanduser() if cache_dir is not None else settings.cache_dir()


def resolve_source(source: str | os.PathLike | None = None, *, cache_dir=None, progress: bool = True) -> Path:
    """Turn the user's choice (argument, else env IMDB_DATA) into an existing path, downloading if asked.

    ``"download"`` fetches the official archive into the cache. With nothing given, an archive already
    downloaded into the cache is used; otherwise one DataError lists every way to provide the data.
    """
    # Config.data defaults to IMDB_DATA, so a source equal to it came from the environment
    origin = "IMDB_DATA" if source and str(source) == settings.data() else "--data"
    if source is None or str(source) == "":
        source, origin = settings.data(), settings.DATA
    if source is None:
        cached = _cache(cache_dir) / ARCHIVE_NAME
        if cached.is_file():
            return cached
        raise DataError(
            "No IMDb data source given. Set IMDB_DATA to a parquet file (columns split,label,rating,id,movie,text), "
            f"an extracted aclImdb/ folder (or the folder containing it), or the archive {ARCHIVE_NAME}; "
            f"or pass source='download' (or IMDB_DATA=download) to fetch {ARCHIVE_URL} into {_cache(cache_dir)}."
        )
    if str(source) == "download":
        return download_archive(ARCHIVE_URL, cache_dir, progress)
    path = Path(source).expanduser()
    if not path.exists():
        raise DataError(f"{path} (from {origin}) does not exist. Fix the path, or use 'download' to fetch the dataset.")
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


# --------------------------------------------------------------------------- download and extraction


def _digests(path: Path) -> tuple[str, str]:
    md5, sha1 = hashlib.md5(usedforsecurity=False), hashlib.sha1(usedforsecurity=False)
    with open(path, "rb") as f:
        while chunk := f.read(1 << 20):
            md5.update(chunk)
            sha1.update(chunk)
    return md5.hexdigest(), sha1.hexdigest()


def download_archive(url: str = ARCHIVE_URL, cache_dir=None, progress: bool = True, *,
                     md5: str = ARCHIVE_MD5, sha1: str = ARCHIVE_SHA1, timeout: float = 60.0) -> Path:
    """Download ``url`` into the cache and verify both MD5 and SHA-1; a verified cached copy is reused.

    The data goes to a temp file that is renamed only after verification, so a crash or a bad
    download never leaves a file that looks complete.
    """
    cache = _cache(cache_dir)
    cache.mkdir(parents=True, exist_ok=True)
    target = cache / (PurePosixPath(urllib.parse.urlsplit(url).path).name or ARCHIVE_NAME)
    if target.is_file():
        if _digests(target) == (md5, sha1):
            return target
        target.unlink()  # stale or damaged copy: fetch it again
    fd, tmp_name = tempfile.mkstemp(dir=cache, prefix=f".{target.name}.", suffix=".part")
    tmp = Path(tmp_name)
    h_md5, h_sha1 = hashlib.md5(usedforsecurity=False), hashlib.sha1(usedforsecurity=False)
    try:
        with os.fdopen(fd, "wb") as out, urllib.request.urlopen(url, timeout=timeout) as response:
            total = int(response.headers.get("Content-Length") or 0) or None
            with tqdm(total=total, unit="B", unit_scale=True, desc=f"Downloading {target.name}",
                      disable=not progress) as bar:
                while chunk := response.read(1 << 20):
                    out.write(chunk)
                    h_md5.update(chunk)
                    h_sha1.update(chunk)
                    bar.update(len(chunk))
    except BaseException as e:
        tmp.unlink(missing_ok=True)
        if isinstance(e, (OSError, ValueError, http.client.HTTPException)):
            raise DataError(f"Could not download {url} to {target}: {e}. Check the network, or download it "
                            "by hand and set IMDB_DATA to the file.") from e
        raise
    actual_md5, actual_sha1 = h_md5.hexdigest(), h_sha1.hexdigest()
    if (actual_md5, actual_sha1) != (md5, sha1):
        tmp.unlink(missing_ok=True)
        raise DataError(f"{target}: checksum mismatch for the download from {url}: expected md5 {md5} and "
                        f"sha1 {sha1}, got md5 {actual_md5} and sha1 {actual_sha1}. The download was deleted; "
                        "try again, or check that the URL serves the official archive.")
    os.replace(tmp, target)
    return target


def _escapes(path: PurePosixPath) -> bool:
    """True if the relative ``path`` climbs above its starting folder at any point."""
    depth = 0
    for part in path.parts:
        depth += -1 if part == ".." else 0 if part == "." else 1
        if depth < 0:
            return True
    return False


def _check_member(member: tarfile.TarInfo, archive: Path) -> None:
    name = member.name
    problem = None
    if name.startswith(("/", "\\")) or re.match(r"[A-Za-z]:", name):
        problem = "absolute path"
    elif ".." in PurePosixPath(name).parts:
        problem = "'..' in its path"
    elif member.issym() or member.islnk():
        # Symlink targets are relative to the link's folder, hardlink targets to the archive root.
        base = PurePosixPath(name).parent if member.issym() else PurePosixPath()
        if member.linkname.startswith(("/", "\\")) or _escapes(base / member.linkname):
            problem = f"link to {member.linkname!r}, outside the archive"
    elif not (member.isfile() or member.isdir()):
        problem = "device, fifo or other special file"
    if problem:
        raise DataError(f"{archive}: unsafe archive member {name!r} ({problem}); refusing to extract. "
                        f"Use the official {ARCHIVE_NAME} from {ARCHIVE_URL}.")


def extract_archive(archive: Path, dest: Path, *, progress: bool = True) -> Path:
    """Safely extract ``archive`` into ``dest`` and return ``dest/aclImdb`` (reused if already there).

    Every member is checked (no absolute paths, ``..``, links leaving the tree, or device files) and
    tarfile's "data" filter is applied too. Extraction goes to a temp folder renamed at the end, so an
    interrupted run leaves no half-extracted ``aclImdb``.
    """
    archive, dest = Path(archive), Path(dest)
    final = dest / "aclImdb"
    if final.is_dir():
        return final
    if not archive.is_file():
        raise DataError(f"{archive} does not exist or is not a file. Point IMDB_DATA at {ARCHIVE_NAME}.")
    try:
        dest.mkdir(parents=True, exist_ok=True)
        tmp = Path(tempfile.mkdtemp(dir=dest, prefix=".extract-"))
    except OSError as e:
        raise DataError(f"cannot extract {archive} into {dest}: {e.strerror}. Set IMDB_CACHE to a writable "
                        f"folder, or point IMDB_DATA at an extracted aclImdb folder or the parquet file.") from e
    try:
        with tarfile.open(archive, "r|*") as tar:
            for member in tqdm(tar, desc=f"Extracting {archive.name}", unit=" files", disable=not progress):
                _check_member(member, archive)
                tar.extract(member, tmp, **_TAR_FILTER)
        if not (tmp / "aclImdb").is_dir():
            raise DataError(f"{archive}: no aclImdb/ folder inside. Is this {ARCHIVE_NAME} from {ARCHIVE_URL}?")
        try:
            os.rename(tmp / "aclImdb", final)
        except OSError:
            if not final.is_dir():  # not a concurrent extraction that finished first
                raise
    except (tarfile.TarError, EOFError, zlib.error, gzip.BadGzipFile) as e:
        raise DataError(f"{archive}: corrupt or truncated archive ({e}). Delete it and download it again.") from e
    finally:
        shutil.rmtree(tmp, ignore_errors=True)
    return final


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
    unsup = settings.unsup_data()
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
    return _find_root(extract_archive(path, _cache(cache_dir) / "extracted" / key, progress=progress))


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
    _validate(df, path, labeled="label" in columns)
    _check_unique(df, path)
    return _finalize(df, columns)


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


def _check_unique(df: pd.DataFrame, source: Path) -> None:
    """Each review once per split and label: sample ids (``train/pos/12``) are built from them, and a
    repeated one would mix two reviews in every table and in the platform's sample list."""
    keys = [c for c in ("split", "label", "id") if c in df]
    repeated = df[df.duplicated(keys, keep=False)].drop_duplicates(keys)
    if len(repeated):
        ids = ["/".join([row.split, *([_LABEL_DIRS[int(row.label)][0]] if "label" in keys else []), str(row.id)])
               for row in repeated.head(5).itertuples()]
        raise DataError(f"{source}: review ids repeated within a split and label: {', '.join(ids)}"
                        f"{', ...' if len(repeated) > 5 else ''}. Keep one review per id (in a folder, files "
                        f"<id>_<rating>.txt must not share an id) and drop the others.")


def _validate(df: pd.DataFrame, path: Path, labeled: bool) -> None:
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


def _finalize(df: pd.DataFrame, columns: dict[str, str]) -> pd.DataFrame:
    """Cast to the public dtypes and sort by (split, label, id) so every source gives the same frame."""
    df = df[list(columns)].assign(movie=df["movie"].fillna("")).astype(columns)
    keys = ["label", "id"] if "label" in columns else ["id"]
    df = df.assign(_order=df["split"].map(SPLIT_ORDER)).sort_values(["_order", *keys], kind="stable")
    return df.drop(columns="_order").reset_index(drop=True)


# --------------------------------------------------------------------------- aclImdb folder


def _load_folder(root: Path, unlabeled: bool, cache_dir, progress: bool) -> pd.DataFrame:
    """Parse the folder, or reuse the parquet cached from a previous parse of the same unchanged folder."""
    root = root.resolve()
    groups = [("train", "unsup", -1)] if unlabeled else [(s, d, lab) for s in ("train", "test") for d, lab in _LABEL_DIRS]
    missing = [f"{s}/{d}" for s, d, _ in groups if not (root / s / d).is_dir()]
    if missing:
        raise DataError(f"{root}: not a complete aclImdb folder, missing {', '.join(missing)}. Re-extract "
                        f"{ARCHIVE_NAME}, or point IMDB_DATA at the parquet file instead.")
    kind = "unsup" if unlabeled else "labeled"
    key = _folder_key(root, groups, f"{_CACHE_VERSION}|{kind}|{root}")
    cached = _cache(cache_dir) / "parsed" / f"aclImdb-{kind}-{key}.parquet"
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
    _check_unique(df if "label" in columns else df.drop(columns="label"), root)
    return _finalize(df, columns)


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
