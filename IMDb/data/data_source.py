"""Which copy of the dataset a run reads: one precedence for every command and the binder.

1. the command's ``--data`` (a source given in the call);
2. ``IMDB_DATA``;
3. ``data_path`` of project_config.yaml, unless it is still the platform's placeholder (a path set
   there must exist: the platform reads its data volume through it);
4. the official archive, downloaded earlier into the cache (`IMDb.data.sources.resolve_source`).

`choose` applies 1 to 3, `origin` says which of them a source came from (for messages), and
`IMDb.data.sources.resolve_source` asks `choose` before it falls back to 4 or lists every way.
"""
from __future__ import annotations

import os

from IMDb.config import environment, project_file
from IMDb.errors import ConfigError


def choose(given: str | os.PathLike | None = None) -> str | None:
    """The dataset to read: `given`, else IMDB_DATA, else project_config.yaml's data_path (a
    ConfigError where it names nothing that exists); None where none is set."""
    if given is not None and str(given) != "":
        return str(given)
    if environment.data():
        return environment.data()
    cfg = project_file.load()
    if cfg.is_placeholder and not cfg.data_path.exists():
        return None
    if not cfg.data_path.exists():
        raise ConfigError(f"{project_file.PATH}: data_path {str(cfg.data_path)!r} does not exist: set it to the "
                          f"IMDb parquet file, aclImdb folder or archive (on the platform: its path on the "
                          f"Tensorleap data volume), or set {environment.DATA} for a local run")
    return str(cfg.data_path)


def origin(source: str | os.PathLike) -> str:
    """Where `source` (as `choose` gave it) came from, for messages: IMDB_DATA where it is its value
    (a run's settings default to it), else the command line (a data_path `choose` has checked)."""
    return environment.DATA if str(source) == environment.data() else "--data"


def placeholder_note() -> str:
    """What to do while project_config.yaml's data_path is the platform's placeholder."""
    return (f"{project_file.PATH}: data_path is the platform placeholder {project_file.PLACEHOLDER!r}: for a "
            f"local run set {environment.DATA}; before a push, put the dataset's path on your Tensorleap data "
            f"volume there")
