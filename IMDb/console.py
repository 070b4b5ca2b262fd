"""What `imdb-leap` prints: results, stage lines and progress, not library noise a user cannot act on.

TensorFlow writes its oneDNN and CUDA notices (``I0000 ... cudart_stub.cc``, ``E0000 ... failed call
to cuInit``) from C++ before its own log level is read, so `TF_CPP_MIN_LOG_LEVEL` alone does not
silence them: `import_tensorflow` imports it and initialises its devices with file descriptor 2
pointed at /dev/null, then turns absl's and TensorFlow's Python loggers down to errors. Keras and
h5py warnings (the HDF5 legacy format, compiled metrics not built, ``input_shape`` notices) are
filtered too. `--verbose` leaves all of it alone.

Progress: tqdm draws bars on a terminal. Into a file or a CI log, a bar's carriage-return updates
would pile up into one long line, so `line_progress` turns a redraw into a line of its own, at most
one every `LOG_INTERVAL` seconds.
"""
from __future__ import annotations

import contextlib
import os
import re
import sys
import time
import warnings
from collections.abc import Iterator
from typing import TextIO

LOG_INTERVAL = 10  # seconds between progress lines when stderr is not a terminal
NOISY_MODULES = r"(keras|tf_keras|tensorflow|h5py|absl|google\.protobuf)(\.|$)"


def quiet(verbose: bool = False) -> None:
    """Set before TensorFlow can be imported: its C++ log level, and warning filters for the
    libraries whose notices are about their own internals, not the user's run."""
    if verbose:
        return
    os.environ.setdefault("TF_CPP_MIN_LOG_LEVEL", "3")
    warnings.filterwarnings("ignore", module=NOISY_MODULES)


def import_tensorflow(verbose: bool = False) -> None:
    """Import TensorFlow and let it look for devices (where cuInit is called) with stderr silenced,
    so the commands that use it start without a screenful of notices; errors still raise."""
    if verbose:
        return
    with _stderr_silenced():
        import tensorflow as tf

        tf.config.list_physical_devices()
    import absl.logging

    absl.logging.set_verbosity(absl.logging.ERROR)
    tf.get_logger().setLevel("ERROR")


@contextlib.contextmanager
def _stderr_silenced() -> Iterator[None]:
    """File descriptor 2 (what C++ code writes to) points at /dev/null inside the block."""
    sys.stderr.flush()
    saved = os.dup(2)
    null = os.open(os.devnull, os.O_WRONLY)
    try:
        os.dup2(null, 2)
        yield
    finally:
        sys.stderr.flush()
        os.dup2(saved, 2)
        os.close(saved)
        os.close(null)


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
