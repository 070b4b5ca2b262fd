"""Crash-safe folder outputs (reports, bundles, checkpoints), under the policy of `IMDb.output.atomic`.

- Folders: written to a temp folder, then swapped in by renames only, when the target is missing,
  empty, or an earlier output of this tool: it holds the kind's marker file and a manifest
  (`MANIFEST`) listing every file the tool wrote, so a file a user added inside is noticed and the
  folder kept. Checked before the work starts and again under a lock at the swap.
- A folder output is reserved for the whole run (a lock, `reserve`), so a second run into the same
  folder refuses at its start instead of after all its work.
"""
from __future__ import annotations

import contextlib
import fcntl
import hashlib
import json
import os
import secrets
import shutil
import tempfile
from collections.abc import Iterator
from pathlib import Path

from IMDb import console
from IMDb.errors import OutputError, writing
from IMDb.output.atomic import atomic_path, atomic_write_text, check_writable, existing_ancestor, locked, temp_prefix
from IMDb.output.formats import json_file

REPORT_MARKER = ".imdb-leap-report"  # in every report folder: only such a folder is ever replaced
MANIFEST = ".imdb-leap-manifest"  # every folder output: the files the tool wrote into it
_RESERVED: dict[Path, tuple[int, bool, str | None]] = {}  # folder -> (held lock, replace, flag)


def _manifest(folder: Path) -> set[str] | None:
    try:
        return set(json.loads((folder / MANIFEST).read_text(encoding="utf-8"))["files"])
    except (OSError, ValueError, KeyError, TypeError):
        return None


def _files(folder: Path) -> list[str]:
    return sorted(p.relative_to(folder).as_posix() for p in folder.rglob("*") if not p.is_dir())


def _refuse_unless_replaceable(path: Path, marker: str, replace: bool, flag: str | None) -> None:
    """The policy itself: a file, a link, a mount point or the current folder is never replaced, nor
    a non-empty folder unless it holds `marker` and a manifest listing every file in it; such a
    folder only when `replace`."""
    how = f"; pass {flag} to replace it" if flag else ""
    never = f", even with {flag}" if flag else ""
    if path.is_symlink() or (path.exists() and not path.is_dir()):
        raise OutputError(f"{path} is a file or a link, not a folder; imdb-leap never replaces it{never}: "
                          f"choose a new or empty folder")
    if not path.is_dir():
        return
    if os.path.ismount(path):
        raise OutputError(f"{path} is a mount point, which cannot be swapped for a new folder: choose a "
                          f"folder inside it")
    if any(path.iterdir()) and not (path / marker).is_file():
        raise OutputError(f"{path} holds files imdb-leap did not write (no {marker} in it); it is never "
                          f"replaced{never}: choose a new or empty folder")
    with contextlib.suppress(OSError):  # no current folder at all: nothing to pull away
        cwd = Path.cwd().resolve()
        if path.resolve() in (cwd, *cwd.parents):
            raise OutputError(f"{path} is the current folder (or holds it), which a swap would pull from "
                              f"under your shell: choose a folder inside it or elsewhere")
    if not any(path.iterdir()):
        return
    written = _manifest(path)
    if written is None:
        raise OutputError(f"{path} has no readable {MANIFEST} (an older imdb-leap wrote it), so a file of "
                          f"yours in it cannot be told apart; it is never replaced{never}: move it aside "
                          f"or choose another folder")
    extra = [f for f in _files(path) if f not in written and f != MANIFEST]
    if extra:
        more = f" and {len(extra) - 1} more" if len(extra) > 1 else ""
        raise OutputError(f"{path} holds {extra[0]!r}{more}, which imdb-leap did not write; the folder is "
                          f"never replaced{never}: move them out, or choose another folder")
    if not replace:
        raise OutputError(f"{path} already holds an imdb-leap output{how}, or choose another folder")


def reserve(path: str | Path, replace: bool, flag: str | None) -> None:
    """Hold a lock on output folder `path` until `release` (or the process ends), so that a second
    run into the same folder refuses at its start, not after all its work; the swap at the run's
    end applies the same `replace` permission. The lock file lives in the temp folder, named by the
    path's hash, so nothing is left beside the user's files."""
    path = Path(path).absolute()
    if path in _RESERVED:
        return
    digest = hashlib.sha256(str(path).encode()).hexdigest()[:20]
    fd = os.open(Path(tempfile.gettempdir()) / f"imdb-leap-{digest}.lock", os.O_RDWR | os.O_CREAT, 0o666)
    try:
        fcntl.flock(fd, fcntl.LOCK_EX | fcntl.LOCK_NB)
    except BlockingIOError:
        os.close(fd)
        raise OutputError(f"{path} is being written by another imdb-leap run; wait for it to finish, or "
                          f"choose another folder") from None
    _RESERVED[path] = (fd, replace, flag)


def release(path: str | Path) -> None:
    held = _RESERVED.pop(Path(path).absolute(), None)
    if held is not None:
        os.close(held[0])  # closing releases the lock


def check_out_dir(path: str | Path, marker: str, *, replace: bool = False, flag: str | None = None) -> Path:
    """Raise OutputError unless writing folder `path` loses nothing (`_refuse_unless_replaceable`)
    and its nearest existing parent is writable; then reserve it for this run. Called before a long
    run, so a bad destination fails in a second rather than after the work; `flag` (e.g.
    ``--overwrite``) is the option the user can pass, named in the message."""
    path = Path(path).absolute()
    check_writable(path, "output folder")
    with locked(existing_ancestor(path)):  # not while a concurrent writer is halfway through its swap
        _refuse_unless_replaceable(path, marker, replace, flag)
    reserve(path, replace, flag)
    return path


@contextlib.contextmanager
def atomic_dir(path: str | Path, marker: str, *, replace: bool | None = None,
               flag: str | None = None) -> Iterator[Path]:
    """Yield an empty temp folder for `path`; if the block succeeds, it replaces `path` by renames
    only, so a reader (or a crash) sees the old folder or the new one, never a mix.

    `path` must pass `check_out_dir` before the block runs and again under a lock at the swap, with
    `replace` and `flag` as given, else as the command reserved the folder at its start (so a
    trainer writing its bundle applies the user's ``--overwrite``), else no replacing. The
    block must write `marker` into the temp folder (for reports it is written here); the manifest
    of what was written is added here. The temp folder is removed whatever happens, SIGTERM
    included (the CLI turns it into an exception), and the reservation released; a Ctrl-C that a
    library swallowed still stops the swap (`IMDb.console.check_interrupt`), and a full disk is one
    `DiskFullError` naming `path`.
    """
    if replace is None:
        _, replace, flag = _RESERVED.get(Path(path).absolute(), (None, False, flag))
    path = check_out_dir(path, marker, replace=replace, flag=flag)
    tmp = Path(tempfile.mkdtemp(prefix=temp_prefix(path), suffix=".tmp", dir=existing_ancestor(path)))
    old = path.with_name(f"{temp_prefix(path)}{secrets.token_hex(4)}.old")
    try:
        with writing(path):
            if marker == REPORT_MARKER:
                (tmp / marker).write_text("written by imdb-leap; a folder holding this file may be replaced\n",
                                          encoding="utf-8")
            yield tmp
        console.check_interrupt()
        if not (tmp / marker).is_file():
            raise RuntimeError(f"atomic_dir: the block did not write {marker} into {tmp}")
        (tmp / MANIFEST).write_text(json_file({"written_by": "imdb-leap", "files": _files(tmp)}),
                                    encoding="utf-8")
        for item in [tmp, *tmp.rglob("*")]:
            item.chmod(0o755 if item.is_dir() else 0o644)
        path.parent.mkdir(parents=True, exist_ok=True)
        with locked(path.parent):
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
        release(path)


@contextlib.contextmanager
def folder_file(folder: str | Path, name: str) -> Iterator[Path]:
    """Yield a temp path for file `name` (``/``-separated, relative) inside output folder `folder`,
    one that holds its marker and manifest (a long-running command's folder, written into as it
    works); if the block succeeds the file takes its place, listed in the manifest first (under the
    folder's lock), so the folder stays an output a later ``--overwrite`` may replace."""
    folder = Path(folder)
    with atomic_path(folder / name) as tmp:
        yield tmp
        with locked(folder):
            files = (_manifest(folder) or set()) | {Path(name).as_posix()}
            atomic_write_text(folder / MANIFEST, json_file({"written_by": "imdb-leap", "files": sorted(files)}))
