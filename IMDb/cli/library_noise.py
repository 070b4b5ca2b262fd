"""Library noise a user cannot act on, kept out of what `imdb-leap` prints.

TensorFlow writes its oneDNN and CUDA notices (``I0000 ... cudart_stub.cc``, ``E0000 ... failed call
to cuInit``) from C++ before its own log level is read, so `TF_CPP_MIN_LOG_LEVEL` alone does not
silence them: `import_tensorflow` imports it and initialises its devices with file descriptor 2
pointed at /dev/null, then turns absl's and TensorFlow's Python loggers down to errors. Keras and
h5py warnings (the HDF5 legacy format, compiled metrics not built, ``input_shape`` notices) are
filtered too. `--verbose` leaves all of it alone.
"""
from __future__ import annotations

import contextlib
import os
import sys
import warnings
from collections.abc import Iterator

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
