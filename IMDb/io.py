"""Crash-safe writes that cannot destroy data.

Files: a temp file beside the target, renamed over it. Folders: a temp folder beside the target,
swapped in only when the target is missing, empty, or a folder this tool wrote (it holds the
tool's marker file, checked before anything is removed), so a mistyped ``--out`` never deletes a
user's files.
"""
from __future__ import annotations

import contextlib
import fcntl
import os
import secrets
import shutil
import tempfile
from collections.abc import Iterator
from pathlib import Path

from IMDb import console
from IMDb.errors import OutputError, writing

REPORT_MARKER = ".imdb-leap-report"  # in every report folder: only such a folder is ever replaced


@contextlib.contextmanager
def atomic_path(path: str | Path) -> Iterator[Path]:
    """Yield a temp path in the target's folder; rename it to `path` only if the block succeeds (and
    no Ctrl-C came meanwhile). A full disk is one `DiskFullError` naming `path`."""
    path = Path(path)
    path.parent.mkdir(parents=True, exist_ok=True)
    fd, tmp = tempfile.mkstemp(prefix=f".{path.name}.", suffix=".tmp", dir=path.parent)
    os.close(fd)
    tmp = Path(tmp)
    tmp.chmod(0o644)  # mkstemp makes 0600; shipped files must be readable like any other
    try:
        with writing(path):
            yield tmp
        console.check_interrupt()
        os.replace(tmp, path)
    finally:
        tmp.unlink(missing_ok=True)


def atomic_write_text(path: str | Path, text: str) -> Path:
    with atomic_path(path) as tmp:
        tmp.write_text(text, encoding="utf-8")
    return Path(path)


def check_out_dir(path: str | Path, marker: str, *, replace: bool = True, flag: str | None = None) -> Path:
    """Raise OutputError unless writing folder `path` loses nothing: it is missing, empty, or holds
    `marker` (and `replace` allows that), and its parent is writable. Called before a long run, so
    a bad destination fails in a second rather than after the work; `flag` (e.g. ``--overwrite``)
    is the option the user can pass, named in the message."""
    path = Path(path).absolute()
    try:
        path.parent.mkdir(parents=True, exist_ok=True)
        os.rmdir(tempfile.mkdtemp(prefix=f".{path.name}.", suffix=".tmp", dir=path.parent))
    except OSError as e:
        reason = "a file is in the way" if isinstance(e, (FileExistsError, NotADirectoryError)) else e.strerror
        raise OutputError(f"cannot write in {path.parent}: {reason}; choose a writable folder") from e
    with _locked(path.parent):  # not while a concurrent writer is halfway through its swap
        _refuse_unless_replaceable(path, marker, replace, flag)
    return path


def _refuse_unless_replaceable(path: Path, marker: str, replace: bool, flag: str | None) -> None:
    """The policy itself: a file or link is never replaced, nor a non-empty folder without `marker`;
    a folder with it only when `replace`."""
    how = f"; pass {flag} to replace it" if flag else ""
    never = f", even with {flag}" if flag else ""
    if path.is_symlink() or (path.exists() and not path.is_dir()):
        raise OutputError(f"{path} is a file or a link, not a folder; imdb-leap never replaces it{never}: "
                          f"choose a new or empty folder")
    if path.is_dir() and any(path.iterdir()):
        if not (path / marker).is_file():
            raise OutputError(f"{path} holds files imdb-leap did not write (no {marker} in it); it is never "
                              f"replaced{never}: choose a new or empty folder")
        if not replace:
            raise OutputError(f"{path} already holds an imdb-leap output{how}, or choose another folder")


@contextlib.contextmanager
def _locked(folder: Path) -> Iterator[None]:
    """An exclusive lock on `folder` (flock on its descriptor: nothing is left behind), so that
    concurrent writers swap one at a time."""
    fd = os.open(folder, os.O_RDONLY)
    try:
        fcntl.flock(fd, fcntl.LOCK_EX)
        yield
    finally:
        os.close(fd)  # closing releases the lock


@contextlib.contextmanager
def atomic_dir(path: str | Path, marker: str, *, replace: bool = True,
               flag: str | None = None) -> Iterator[Path]:
    """Yield an empty temp folder beside `path`; if the block succeeds, it replaces `path` by
    renames only, so a reader (or a crash) sees the old folder or the new one, never a mix.

    `path` must pass `check_out_dir` (missing, empty, or holding `marker`), before the block runs
    and again under a lock at the swap, so concurrent writers neither delete a user's folder nor
    race each other into ENOTEMPTY. The block must write `marker` into the temp folder (for reports
    it is written here). The temp folder is removed whatever happens, SIGTERM included (the CLI
    turns it into an exception); a Ctrl-C that a library swallowed still stops the swap
    (`IMDb.console.check_interrupt`), and a full disk is one `DiskFullError` naming `path`.
    """
    path = check_out_dir(path, marker, replace=replace, flag=flag)
    tmp = Path(tempfile.mkdtemp(prefix=f".{path.name}.", suffix=".tmp", dir=path.parent))
    old = path.with_name(f".{path.name}.old-{secrets.token_hex(8)}")
    try:
        with writing(path):
            if marker == REPORT_MARKER:
                (tmp / marker).write_text("written by imdb-leap; a folder holding this file may be replaced\n",
                                          encoding="utf-8")
            yield tmp
        console.check_interrupt()
        if not (tmp / marker).is_file():
            raise RuntimeError(f"atomic_dir: the block did not write {marker} into {tmp}")
        for item in [tmp, *tmp.rglob("*")]:
            item.chmod(0o755 if item.is_dir() else 0o644)
        with _locked(path.parent):
            _refuse_unless_replaceable(path, marker, replace, flag)
            try:
                os.rename(path, old)
            except FileNotFoundError:
                pass
            except OSError as e:
                raise OutputError(f"cannot replace {path}: {e.strerror}") from e
            os.rename(tmp, path)
    finally:
        shutil.rmtree(old, ignore_errors=True)
        shutil.rmtree(tmp, ignore_errors=True)
