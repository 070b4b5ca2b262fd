"""What `imdb-leap` prints: results, stage lines and progress, not library noise a user cannot act on.

Library noise (TensorFlow's, absl's, Keras's) is kept down by `IMDb.cli.library_noise`.

Progress: tqdm draws bars on a terminal. Into a file or a CI log, a bar's carriage-return updates
would pile up into one long line, so `line_progress` turns a redraw into a line of its own, at most
one every `LOG_INTERVAL` seconds.

Streams and signals, for the length of a command (`IMDb.cli.imdb_leap.main`): `standard_streams` makes a
reader that went away (``imdb-leap predict | head -2``) a quiet end (`PipeClosed`), a full stdout
(``> /dev/full``) one `OutputError` naming it, a stdout closed at start (``>&-``) an error before
any work, and reading a closed stdin (``<&-``) one line; `signals` makes Ctrl-C and SIGTERM one
`KeyboardInterrupt` that `check_interrupt` raises again wherever a library swallowed it.
"""
from __future__ import annotations

import contextlib
import io
import os
import re
import signal
import sys
import threading
import time
from collections.abc import Iterator
from typing import TextIO

from IMDb.errors import OutputError, UsageError

LOG_INTERVAL = 10  # seconds between progress lines when stderr is not a terminal
class LineStream:
    """A text stream for logs: tqdm redraws a bar by writing a carriage return and the bar again;
    here a redraw becomes a line of its own, at most one every `interval` seconds (the last state
    of a bar, written before its closing newline, always shows). Other text passes through, a line
    at a time."""

    def __init__(self, stream: TextIO, interval: float = LOG_INTERVAL) -> None:
        self._stream = stream
        self._interval = interval
        self._line = ""  # text since the last newline or carriage return, not yet written
        self._last_redraw = float("-inf")

    def write(self, text: str) -> int:
        for piece in re.split(r"([\r\n])", text):
            if piece == "\n":
                self._stream.write(self._line + "\n")
                self._line = ""
            elif piece == "\r":
                now = time.monotonic()
                if self._line.strip() and now - self._last_redraw >= self._interval:
                    self._stream.write(self._line.rstrip() + "\n")
                    self._last_redraw = now
                self._line = ""
            else:
                self._line += piece
        return len(text)

    def close_line(self) -> None:
        """Write a last partial line (one without a newline yet), so nothing printed is lost."""
        self._stream.write(self._line)
        self._line = ""

    def __getattr__(self, name: str):  # flush, fileno, isatty, encoding...
        return getattr(self._stream, name)


@contextlib.contextmanager
def line_progress() -> Iterator[None]:
    """Inside the block, when stderr is not a terminal, it is a `LineStream` (tqdm finds its
    stream at each bar's creation); undone on exit, so a caller of `cli.main` (a test) gets its own
    stderr back."""
    if sys.stderr.isatty() or isinstance(sys.stderr, LineStream):
        yield
        return
    saved = sys.stderr
    sys.stderr = lines = LineStream(saved)
    try:
        yield
    finally:
        lines.close_line()
        sys.stderr = saved


# --------------------------------------------------------------------------- streams and signals


class PipeClosed(Exception):
    """The program reading stdout or stderr stopped reading (`imdb-leap predict | head -2`): the run
    ends quietly, with the status a Unix filter killed by SIGPIPE has (`PIPE_CLOSED`)."""


PIPE_CLOSED = 128 + signal.SIGPIPE  # 141, as `cat`, `seq` or `git log` give to `| head`
INTERRUPTED = 130  # 128 + SIGINT, as a shell reports Ctrl-C


class _Guarded:
    """sys.stdout or sys.stderr during a command: a write or flush that fails is one error instead of
    a traceback (or, at exit, an "Exception ignored" and a lost result): a broken pipe is
    `PipeClosed`, any other failure (a full disk) an `OutputError` naming the stream. The stream's
    descriptor then points at /dev/null, so the interpreter's last flush of what is still buffered
    cannot fail a second time."""

    def __init__(self, stream: TextIO, name: str) -> None:
        self._stream = stream
        self._name = name

    def write(self, text: str) -> int:
        try:
            return self._stream.write(text)
        except OSError as e:
            raise self._failed(e) from None

    def writelines(self, lines) -> None:
        for line in lines:
            self.write(line)

    def flush(self) -> None:
        try:
            self._stream.flush()
        except OSError as e:
            raise self._failed(e) from None

    def _failed(self, error: OSError) -> Exception:
        with contextlib.suppress(AttributeError, OSError, ValueError):
            fd = self._stream.fileno()
            if fd in (1, 2):
                null = os.open(os.devnull, os.O_WRONLY)
                os.dup2(null, fd)
                os.close(null)
        if isinstance(error, BrokenPipeError):
            return PipeClosed(self._name)
        return OutputError(f"cannot write to {self._name}: {error.strerror or error}")

    def __getattr__(self, name: str):  # fileno, isatty, encoding, buffer...
        return getattr(self._stream, name)


class _ClosedStdin:
    """sys.stdin when the command started with it closed (``<&-``): reading it is one UsageError."""

    closed = True

    def isatty(self) -> bool:
        return False

    def _refuse(self, *args, **kwargs):
        raise UsageError("standard input is closed, so there is nothing to read: give the reviews as "
                         "arguments or with --input FILE")

    read = readline = readlines = __iter__ = _refuse

    def fileno(self) -> int:
        raise io.UnsupportedOperation("standard input is closed")

    @property
    def buffer(self) -> "_ClosedStdin":
        return self


def _fd_open(fd: int) -> bool:
    try:
        os.fstat(fd)
    except OSError:
        return False
    return True


@contextlib.contextmanager
def standard_streams() -> Iterator[None]:
    """Inside the block, stdout and stderr are `_Guarded`; a standard stream closed when the process
    started (Python then sets it to None) gets /dev/null on its descriptor, so no file the command
    opens takes its number (where a C library's log line would land in it), and stdin becomes
    `_ClosedStdin`. Undone on exit, so a caller of `cli.main` (a test) gets its own streams back.
    `require_stdout` refuses a closed stdout."""
    saved = sys.stdin, sys.stdout, sys.stderr
    for fd in (0, 1, 2):
        if not _fd_open(fd):
            null = os.open(os.devnull, os.O_RDWR)
            if null != fd:
                os.dup2(null, fd)
                os.close(null)
    if sys.stdin is None:
        sys.stdin = _ClosedStdin()
    if sys.stderr is None:
        sys.stderr = open(os.devnull, "w", encoding="utf-8")
    if sys.stdout is not None:
        sys.stdout = _Guarded(sys.stdout, "standard output")
    sys.stderr = _Guarded(sys.stderr, "standard error")
    try:
        yield
    finally:
        sys.stdin, sys.stdout, sys.stderr = saved


def require_stdout() -> None:
    """Refuse to start with stdout closed (``>&-``): whatever the command prints (predictions, the
    path of its output) would be lost while it exits 0."""
    if sys.stdout is None:
        raise OutputError("standard output is closed, so the results would be lost: send it to a file, a "
                          "pipe or /dev/null")


def finish() -> None:
    """Flush stdout and stderr inside the command, so a full or closed stream fails as one line here,
    not at the interpreter's exit; then raise a Ctrl-C that a library swallowed."""
    for stream in (sys.stdout, sys.stderr):
        if stream is not None:
            stream.flush()
    check_interrupt()


def error(message: str) -> None:
    """One line on stderr; nothing if stderr itself cannot be written."""
    with contextlib.suppress(OSError, PipeClosed, OutputError, ValueError, AttributeError):
        print(message, file=sys.stderr, flush=True)


_received: list[int] = []  # the signals `signals` turned into KeyboardInterrupt during this command


def _on_signal(signum: int, frame: object) -> None:
    _received.append(signum)
    raise KeyboardInterrupt


def interrupted() -> bool:
    """Whether Ctrl-C or SIGTERM came during this command, even if its KeyboardInterrupt was lost."""
    return bool(_received)


def check_interrupt() -> None:
    """Raise KeyboardInterrupt again if a Ctrl-C or SIGTERM came. Python raises it at the next line
    of Python, wherever that is: inside a weakref callback or a ``__del__`` it cannot propagate
    (`_unraisable` sends the signal again), and a C library that called back into Python may turn it
    into an error of its own (matplotlib's Agg: "Invalid bounding box", which `IMDb.cli.imdb_leap.main` reports
    as the interruption it is). So the analysis checks between stages and `IMDb.output.atomic` before it renames
    anything into place: an interrupted run writes nothing."""
    if _received:
        raise KeyboardInterrupt


_resend: list[threading.Timer] = []  # signals `_unraisable` is sending again


def _unraisable(previous):
    """sys.unraisablehook during a command: a KeyboardInterrupt raised where Python can only drop
    it (a weakref callback, a ``__del__``: it would print "Exception ignored" and carry on) is not
    printed; the signal is sent again a moment later, to land on a line that can raise it. Anything
    else goes to the `previous` hook."""
    def hook(unraisable) -> None:
        if issubclass(unraisable.exc_type, KeyboardInterrupt) and _received:
            timer = threading.Timer(0.05, os.kill, (os.getpid(), _received[-1]))
            timer.daemon = True
            _resend.append(timer)
            timer.start()
            return
        previous(unraisable)
    return hook


@contextlib.contextmanager
def signals() -> Iterator[None]:
    """Inside the block, SIGINT (Ctrl-C) and SIGTERM (kill, a CI timeout) raise KeyboardInterrupt and
    are remembered (`interrupted`), so every `finally` removes its temp files and folders. A signal
    the process was started ignoring (``nohup``, a background job of a script) stays ignored. Only
    the main thread can set handlers: elsewhere the block changes nothing."""
    _received.clear()
    previous: dict[int, object] = {}
    try:
        for signum in (signal.SIGINT, signal.SIGTERM):
            if signal.getsignal(signum) is not signal.SIG_IGN:
                previous[signum] = signal.signal(signum, _on_signal)
    except ValueError:  # not the main thread
        pass
    hook = sys.unraisablehook
    sys.unraisablehook = _unraisable(hook)
    try:
        yield
    finally:
        for timer in _resend:  # the command is over: a signal sent again must not reach its caller
            timer.cancel()
        _resend.clear()
        sys.unraisablehook = hook
        for signum, handler in previous.items():
            signal.signal(signum, handler)
        _received.clear()  # outside a command, `check_interrupt` has nothing to raise
