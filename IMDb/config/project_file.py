"""``project_config.yaml``: the settings the Tensorleap integration reads, bundled with the code.

The platform sets no ``IMDB_*`` environment variables, so what a push needs is in this one file,
listed in ``leap.yaml``'s ``include`` and edited before ``leap push`` (nothing in Python is):

- ``data_path``: the dataset: a parquet file with ``imdb_unsup.parquet`` beside it, an ``aclImdb``
  folder or the archive (`IMDb.data.sources`). A relative path is relative to this file's folder. As
  committed it is `PLACEHOLDER`, a clear stand-in for the dataset's path on your Tensorleap data
  volume: setting it is the one edit a push needs (Tensorleap's convention: the active line is the
  platform path, the local one a comment). `bundle_problem` says when a value cannot exist inside
  a pushed bundle (a relative path leaves the uploaded code; ``~`` is not the platform's home).
- ``model``: the model the integration serves: ``dense``, ``cnn`` or ``bert`` (a trained model of
  the registry, `IMDb.families`). It decides the input
  encoders, so it must name the model file uploaded with ``leap push -m``.
- ``sample_limit_per_split``: ``null`` for the full states, or N for a seeded, label-stratified
  sample of at most N reviews in each state (a quick first evaluation).

For local runs ``IMDB_DATA`` and ``IMDB_MODEL`` override ``data_path`` and ``model`` (which dataset
a run reads, in one order for every command and the binder: `IMDb.data.data_source`). A missing key,
a wrong type or an unreadable file stops with one line that names the file and the key. The file
is a few plain lines: one that is not UTF-8, larger than `MAX_BYTES`, or uses YAML anchors and
aliases (which can expand a few lines into gigabytes) is refused before any value is used, and a
value quoted in an error is cut short (`shown`).
"""
from __future__ import annotations

import reprlib
from dataclasses import dataclass, field
from pathlib import Path

from IMDb.config.run import REPO_ROOT
from IMDb.errors import ConfigError

PATH = REPO_ROOT / "project_config.yaml"
KEYS = ("data_path", "model", "sample_limit_per_split")
PLACEHOLDER = "/your/data/volume/imdb/imdb.parquet"  # the committed data_path: edit it before a push
MAX_BYTES = 64 * 1024  # three keys; anything larger is not this file
_SHOWN = reprlib.Repr()
_SHOWN.maxstring = _SHOWN.maxother = 60
_SHOWN.maxlevel, _SHOWN.maxlist, _SHOWN.maxdict = 2, 4, 4


def shown(value: object) -> str:
    """`value` as an error quotes it: its repr, cut short at any size or depth."""
    return _SHOWN.repr(value)


@dataclass(frozen=True)
class ProjectConfig:
    data_path: Path
    model: str
    sample_limit_per_split: int | None
    written: str = field(default="", compare=False)  # data_path as the file has it, before resolving

    @property
    def is_placeholder(self) -> bool:
        """data_path is still the committed stand-in for the platform path."""
        return self.written == PLACEHOLDER


def parse(raw: object, path: Path) -> ProjectConfig:
    """Check the keys and types of a loaded YAML document; `path` is named in every error."""
    if not isinstance(raw, dict):
        raise ConfigError(f"{path}: expected a mapping of {', '.join(KEYS)}, found {type(raw).__name__}")
    missing = [k for k in KEYS if k not in raw]
    if missing:
        raise ConfigError(f"{path}: missing key {missing[0]!r} (the file needs {', '.join(KEYS)})")
    unknown = sorted(map(shown, set(raw) - set(KEYS)))
    if unknown:
        raise ConfigError(f"{path}: unknown key {unknown[0]} (known keys: {', '.join(KEYS)})")
    data_path, model, limit = (raw[k] for k in KEYS)
    if not isinstance(data_path, str) or not data_path.strip():
        raise ConfigError(f"{path}: data_path must be the dataset's path as a string, got {shown(data_path)}")
    if not isinstance(model, str) or not model.strip():
        raise ConfigError(f"{path}: model must be a model name such as dense, cnn or bert, got {shown(model)}")
    if limit is not None and (isinstance(limit, bool) or not isinstance(limit, int) or limit < 1):
        raise ConfigError(f"{path}: sample_limit_per_split must be null or a positive whole number, "
                          f"got {shown(limit)}")
    resolved = Path(data_path.strip()).expanduser()
    return ProjectConfig(resolved if resolved.is_absolute() else path.parent / resolved, model.strip(), limit,
                         data_path.strip())


def bundle_problem(cfg: ProjectConfig, path: Path | None = None) -> str | None:
    """Why ``data_path`` as written cannot exist inside a pushed bundle, as one line naming `path`
    (default: `PATH`), or None. The platform unpacks the files leap.yaml includes and nothing else;
    the dataset is on a data volume, so only an absolute path can reach it."""
    where = Path(path or PATH)
    fix = ("set it to the dataset's absolute path on your Tensorleap data volume (`leap server info` "
           "lists a local server's volumes)")
    if cfg.written.startswith("~"):
        return f"{where}: data_path {cfg.written!r} starts with ~, which on the platform is not your home: {fix}"
    if not Path(cfg.written).is_absolute():
        return (f"{where}: data_path {cfg.written!r} is relative: inside a pushed bundle it names a file "
                f"beside the uploaded code, where no dataset is uploaded: {fix}")
    return None


def load(path: Path | None = None) -> ProjectConfig:
    """The settings in `path` (default: `PATH`, the repository's ``project_config.yaml``). Read on
    each call: the file is a few lines, and the integration asks twice per process."""
    import yaml

    path = Path(path or PATH)
    try:
        with open(path, "rb") as f:
            data = f.read(MAX_BYTES + 1)
    except OSError as e:
        raise ConfigError(f"{path} cannot be read ({e.strerror}): it holds data_path, model and "
                          f"sample_limit_per_split; restore it from the repository") from None
    if len(data) > MAX_BYTES:
        raise ConfigError(f"{path} is larger than {MAX_BYTES // 1024} KiB: it holds three keys (data_path, "
                          f"model, sample_limit_per_split); restore it from the repository")
    try:
        text = data.decode("utf-8")
    except UnicodeDecodeError as e:
        line = data[:e.start].count(b"\n") + 1
        raise ConfigError(f"{path} is not UTF-8 text (byte {data[e.start]:#04x} at line {line}): save it as "
                          f"UTF-8") from None
    try:
        for event in yaml.parse(text, Loader=yaml.SafeLoader):
            if isinstance(event, yaml.AliasEvent) or getattr(event, "anchor", None):
                raise ConfigError(f"{path} uses a YAML anchor or alias at line {event.start_mark.line + 1}: "
                                  f"write each value out in full")
        raw = yaml.safe_load(text)
    except yaml.YAMLError as e:
        mark = getattr(e, "problem_mark", None)
        where = f" at line {mark.line + 1}" if mark else ""
        raise ConfigError(f"{path} is not valid YAML{where}: {getattr(e, 'problem', e)}") from None
    return parse(raw, path)
