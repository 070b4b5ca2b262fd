"""Errors the package raises on bad input: each message says what, where and how to fix it.

A message is shown on a terminal: whatever it quotes from a user's files (a path, a column name, a
value) may hold control characters, so `IMDbError` shows every one escaped (`printable`): no
message clears or retitles the terminal, and each is one line.
"""
from __future__ import annotations

import contextlib
import errno
import os
import unicodedata
from collections.abc import Iterator


def printable(text: str) -> str:
    """`text` with each control, format or line-separator character (an escape sequence's ESC, a
    newline, a bidirectional override...) written as its Python escape, ``\\x1b``."""
    return "".join(c.encode("unicode_escape").decode("ascii")
                   if c != " " and unicodedata.category(c) in ("Cc", "Cf", "Zl", "Zp") else c
                   for c in text)


class IMDbError(Exception):
    """Base class: the CLI prints these as one line instead of a traceback, control characters
    escaped (`printable`)."""

    def __str__(self) -> str:
        return printable(super().__str__())


class DataError(IMDbError):
    """A dataset file or folder is missing, malformed or fails verification."""


class ModelError(IMDbError):
    """A model, tokenizer or model card is missing, unknown or mismatched."""


class AnalysisError(IMDbError):
    """A local analysis was asked for something it cannot do (unknown state, projection, k...)."""


class OutputError(IMDbError):
    """An output folder cannot be written, or is one imdb-leap must not replace (a user's files)."""


class ConfigError(IMDbError):
    """``project_config.yaml`` is missing, unreadable, or has a missing or invalid key."""


class SettingError(IMDbError):
    """A setting (a field of a settings dataclass: a `Config`'s, from a ``train`` option or a card's
    ``config``; analyze's and compare's, `IMDb.analysis.settings`) has the wrong type or is out of its
    range or choices."""


class UsageError(IMDbError):
    """The command line itself is wrong: an unknown option or model, a missing or malformed value."""


class DiskFullError(OutputError, OSError):
    """Writing `filename` failed because its disk or quota is full (ENOSPC, EDQUOT, EFBIG): one line
    naming the path. Still an OSError, so a cache write, which only saves time, goes on ignoring it."""

    def __str__(self) -> str:
        return (f"cannot write {self.filename}: {self.strerror}; nothing was replaced: free some space "
                f"(or choose another folder) and run it again")


FULL_DISK = frozenset({errno.ENOSPC, errno.EDQUOT, errno.EFBIG})


@contextlib.contextmanager
def writing(path: str | os.PathLike) -> Iterator[None]:
    """Inside the block, a full disk while writing `path` (the file or folder the user named, not
    its temp twin) is a `DiskFullError` naming it; other errors pass unchanged."""
    try:
        yield
    except DiskFullError:
        raise
    except OSError as e:
        if e.errno not in FULL_DISK:
            raise
        raise DiskFullError(e.errno, e.strerror or os.strerror(e.errno), str(path)) from e
