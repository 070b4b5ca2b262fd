"""The official ``aclImdb_v1.tar.gz``: where it comes from, a verified download and a safe extraction.

`download_archive` fetches it into the cache and checks both its MD5 and SHA-1; `extract_archive`
checks every member (no absolute paths, ``..``, links leaving the tree or device files) before
extracting it. Either writes under a temp name renamed at the end, so an interrupted run leaves
nothing that looks complete, and every failure is one ``DataError`` saying what to do.
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

from tqdm.auto import tqdm

from IMDb.config import environment
from IMDb.errors import DataError

ARCHIVE_URL = "https://ai.stanford.edu/~amaas/data/sentiment/aclImdb_v1.tar.gz"
ARCHIVE_MD5 = "7c2ac02c03563afcf9b574c7e56c153a"
ARCHIVE_SHA1 = "01ada507287d82875905620988597833ad4e0903"
ARCHIVE_NAME = "aclImdb_v1.tar.gz"
_TAR_FILTER = {"filter": "data"} if hasattr(tarfile, "data_filter") else {}
# what the filter raises for an unsafe member (a TarError too, but not a sign of a damaged file)
_FILTER_ERRORS = (tarfile.FilterError,) if hasattr(tarfile, "FilterError") else ()


def archive_cache(cache_dir: str | os.PathLike | None) -> Path:
    return Path(cache_dir).expanduser() if cache_dir is not None else environment.cache_dir()


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
    cache = archive_cache(cache_dir)
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
    tarfile's "data" filter is applied too (it also catches a link that leaves the tree through an
    earlier link); either reports the member as unsafe, not the archive as corrupt. Extraction goes to a temp folder renamed at the end, so an
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
    except _FILTER_ERRORS as e:  # tarfile's "data" filter, past `_check_member`: a link chain leaving the tree
        raise DataError(f"{archive}: unsafe archive member {e.tarinfo.name!r} ({e}); refusing to extract. "
                        f"Use the official {ARCHIVE_NAME} from {ARCHIVE_URL}.") from e
    except (tarfile.TarError, EOFError, zlib.error, gzip.BadGzipFile) as e:
        raise DataError(f"{archive}: corrupt or truncated archive ({e}). Delete it and download it again.") from e
    finally:
        shutil.rmtree(tmp, ignore_errors=True)
    return final
