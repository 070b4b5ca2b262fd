"""Crash-safe writes that cannot destroy data: one output policy for every file and folder; here
the files, and what folder writes share (`IMDb.output.folders` writes folders).

- Files: written to a temp file, then linked into place when the name is free (so a file that
  appeared meanwhile is never replaced), or renamed over an earlier output of the same kind when
  the user asked to replace it and the file is still recognisably the tool's (re-checked at the
  swap, under a lock: `locked`).
- Nothing is created before the work succeeds: temp files and folders live in the nearest folder
  that exists (`existing_ancestor`), missing parents are made only at the swap; temp names carry
  the writer's process id (`temp_prefix`), so those of a killed run are swept by the next writer.
"""
from __future__ import annotations

import contextlib
import errno
import fcntl
import os
import re
import shutil
import tempfile
from collections.abc import Callable, Iterator
from pathlib import Path

from IMDb import console
from IMDb.errors import OutputError, writing

def temp_prefix(target: Path) -> str:
    """Temp names start with the target's name and the writer's process id (see `sweep_stale`)."""
    return f".{target.name}.{os.getpid()}."


def existing_ancestor(path: Path) -> Path:
    """The nearest folder at or above `path`'s parent that exists (where temp files are made)."""
    parent = path.parent
    while not parent.exists():
        parent = parent.parent
    return parent


def sweep_stale(folder: Path, name: str) -> None:
    """Remove the temp files and folders that a killed writer of `name` left in `folder`."""
    pattern = re.compile(rf"\.{re.escape(name)}\.(\d+)\.\w+\.(tmp|old)$")
    with contextlib.suppress(OSError):
        for entry in folder.iterdir():
            match = pattern.match(entry.name)
            if not match or _alive(int(match.group(1))):
                continue
            if entry.is_dir() and not entry.is_symlink():
                shutil.rmtree(entry, ignore_errors=True)
            else:
                entry.unlink(missing_ok=True)


def _alive(pid: int) -> bool:
    try:
        os.kill(pid, 0)
    except ProcessLookupError:
        return False
    except PermissionError:
        return True
    return True


def check_writable(path: Path, flag_name: str) -> Path:
    """The folder temp files for `path` go to, proven writable now (not after the work)."""
    try:
        base = existing_ancestor(path)
        if not base.is_dir():
            raise NotADirectoryError(errno.ENOTDIR, "a file is in the way")
        os.rmdir(tempfile.mkdtemp(prefix=temp_prefix(path), suffix=".tmp", dir=base))
    except OSError as e:
        reason = "a file is in the way" if isinstance(e, (FileExistsError, NotADirectoryError)) else e.strerror
        raise OutputError(f"{flag_name} {path}: cannot write in {path.parent} ({reason}); "
                          f"choose a writable folder") from e
    sweep_stale(base, path.name)
    return base


# ------------------------------------------------------------------ files

@contextlib.contextmanager
def atomic_path(path: str | Path) -> Iterator[Path]:
    """Yield a temp path in the target's folder; rename it to `path` only if the block succeeds (and
    no Ctrl-C came meanwhile). A full disk is one `DiskFullError` naming `path`. For the tool's own
    files (caches, checkpoints, a card being updated): a user's output goes through `output_file`,
    which never replaces what it does not recognise."""
    path = Path(path)
    path.parent.mkdir(parents=True, exist_ok=True)
    fd, tmp = tempfile.mkstemp(prefix=temp_prefix(path), suffix=".tmp", dir=path.parent)
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


def check_out_file(path: str | Path, ours: Callable[[Path], bool], *, replace: bool, inputs: tuple = (),
                   flag_name: str = "--output") -> Path:
    """Raise OutputError unless writing file `path` loses nothing: it is missing, or (with `replace`)
    a regular file that `ours` recognises as this command's earlier output; never one of the
    command's `inputs`. Called before the work, and again at the swap (`output_file`)."""
    path = Path(path).absolute()
    for source in inputs:
        with contextlib.suppress(OSError):
            if source is not None and path.exists() and os.path.samefile(path, source):
                raise OutputError(f"{flag_name} {path} is also the input; imdb-leap never replaces its own "
                                  f"input, even with --overwrite: choose another name")
    if path.is_symlink() or (path.exists() and not path.is_file()):
        raise OutputError(f"{flag_name} {path} is a folder, a link or a device, not a file; "
                          f"name a new file")
    if path.exists():
        if not ours(path):
            raise OutputError(f"{flag_name} {path} exists and is not an output of this command; imdb-leap "
                              f"never replaces it, even with --overwrite: choose another name")
        if not replace:
            raise OutputError(f"{flag_name} {path} exists; pass --overwrite to replace it, or choose "
                              f"another name")
    check_writable(path, flag_name)
    return path


@contextlib.contextmanager
def output_file(path: str | Path, ours: Callable[[Path], bool], *, replace: bool,
                flag_name: str = "--output") -> Iterator[Path]:
    """Yield a temp file for output `path` (checked with `check_out_file` first); when the block
    succeeds it takes the name only if still free (a hard link: a file that appeared meanwhile is
    kept), or replaces an earlier output re-checked under a lock."""
    path = check_out_file(path, ours, replace=replace, flag_name=flag_name)
    fd, tmp = tempfile.mkstemp(prefix=temp_prefix(path), suffix=".tmp", dir=existing_ancestor(path))
    os.close(fd)
    tmp = Path(tmp)
    tmp.chmod(0o644)
    try:
        with writing(path):
            yield tmp
        console.check_interrupt()
        path.parent.mkdir(parents=True, exist_ok=True)
        with locked(path.parent):
            try:
                os.link(tmp, path)  # fails if the name was taken meanwhile: nothing replaced
            except FileExistsError:
                check_out_file(path, ours, replace=replace, flag_name=flag_name)
                os.replace(tmp, path)
    finally:
        tmp.unlink(missing_ok=True)


# ------------------------------------------------------------------ folders

@contextlib.contextmanager
def locked(folder: Path) -> Iterator[None]:
    """An exclusive lock on `folder` (flock on its descriptor: nothing is left behind), so that
    concurrent writers swap one at a time."""
    fd = os.open(folder, os.O_RDONLY)
    try:
        fcntl.flock(fd, fcntl.LOCK_EX)
        yield
    finally:
        os.close(fd)  # closing releases the lock
