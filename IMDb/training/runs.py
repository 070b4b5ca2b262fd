"""Where a training run writes its logs and checkpoints (under ``Config.runs_dir``), so that two
runs at once never write into each other's files.

- A word model's run gets a fresh folder, ``runs/<model>/<time>-<pid>-<random>/``: its per-batch and
  per-epoch logs, its best-epoch checkpoint and its TensorBoard events belong to that run alone.
- A resumable run (BERT) keeps one folder per bundle it is making, ``runs/<model>/<key>/``, the key
  a hash of the bundle's folder, so running the same command again resumes it; the folder is held
  under a lock for the run, so a second run of the same command refuses instead of mixing in.
"""
from __future__ import annotations

import contextlib
import fcntl
import hashlib
import os
import tempfile
import time
from collections.abc import Iterator
from pathlib import Path

from IMDb.config.run import Config
from IMDb.errors import ModelError


def new_run_dir(cfg: Config) -> Path:
    """A folder of its own for this run of `cfg.model`."""
    parent = Path(cfg.runs_dir) / cfg.model
    parent.mkdir(parents=True, exist_ok=True)
    return Path(tempfile.mkdtemp(prefix=f"{time.strftime('%Y%m%d-%H%M%S')}-{os.getpid()}-", dir=parent))


@contextlib.contextmanager
def resumable_run_dir(cfg: Config) -> Iterator[Path]:
    """The folder that resumes the run making ``cfg.model_dir``, locked while the block runs."""
    key = hashlib.sha256(str(cfg.model_dir.absolute()).encode()).hexdigest()[:12]
    folder = Path(cfg.runs_dir) / cfg.model / key
    folder.mkdir(parents=True, exist_ok=True)
    # the lock is a file of its own: a lock on the folder itself would block this run's own
    # checkpoint swaps, which lock the folder they swap in (IMDb.output.folders.atomic_dir)
    fd = os.open(folder / "run.lock", os.O_RDWR | os.O_CREAT, 0o644)
    try:
        try:
            fcntl.flock(fd, fcntl.LOCK_EX | fcntl.LOCK_NB)
        except BlockingIOError:
            raise ModelError(f"another run is training {cfg.model} into {cfg.model_dir} (it holds {folder}); "
                             f"wait for it, or train into another --models-dir") from None
        yield folder
    finally:
        os.close(fd)  # closing releases the lock
