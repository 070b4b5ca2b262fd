"""``leap.yaml``, the workspace file the ``leap`` CLI reads, as the local checks need it.

- `read`: the file's keys (``entryFile``, ``pythonVersion``, ``include``, ``projectId``...).
- `python_version`: ``pythonVersion: py310`` as ``"3.10"``, the Python of the platform image the
  push asks for: the lean emulation (leap_test.py), the wheel check and `find_python` use it, so the
  three cannot drift apart.
- `bundle_files`: the files ``leap push`` uploads, the ``include`` globs matched as the CLI does
  (``**`` spans folders).
- `find_python`: an interpreter of that version (``PYTHON310``-style variable, ``python3.10`` on
  PATH, pyenv), or one line saying how to get one.

Local tooling only: nothing here is bundled.
"""
from __future__ import annotations

import glob
import os
import re
import shutil
import subprocess
from pathlib import Path

from IMDb.config.run import REPO_ROOT
from IMDb.errors import ConfigError

PATH = REPO_ROOT / "leap.yaml"


def read(path: Path | None = None) -> dict:
    import yaml

    path = Path(path or PATH)
    try:
        raw = yaml.safe_load(path.read_text(encoding="utf-8"))
    except (OSError, yaml.YAMLError) as e:
        raise ConfigError(f"{path} cannot be read as YAML: {e}") from None
    if not isinstance(raw, dict) or not isinstance(raw.get("include"), list) or not raw.get("entryFile"):
        raise ConfigError(f"{path}: expected entryFile and an include list; restore it from the repository")
    return raw


def python_version(path: Path | None = None) -> str:
    """``pythonVersion`` (``py310``) as ``3.10``."""
    value = str(read(path).get("pythonVersion") or "")
    match = re.fullmatch(r"py3(\d+)", value)
    if not match:
        raise ConfigError(f"{path or PATH}: pythonVersion {value!r} is not of the form py310")
    return f"3.{match.group(1)}"


def bundle_files(root: Path = REPO_ROOT, path: Path | None = None) -> list[str]:
    """What ``leap push`` uploads: the files the include globs match, relative to `root`."""
    patterns = read(path or root / "leap.yaml")["include"]
    return sorted({Path(m).as_posix() for pattern in patterns
                   for m in glob.glob(pattern, root_dir=root, recursive=True) if (root / m).is_file()})


def _version_of(python: str) -> str | None:
    try:
        out = subprocess.run([python, "-c", "import sys; print('%d.%d' % sys.version_info[:2])"],
                             capture_output=True, text=True, timeout=30)
    except (OSError, subprocess.TimeoutExpired):
        return None
    return out.stdout.strip() if out.returncode == 0 else None


def find_python(version: str) -> str:
    """An interpreter of `version` (``3.10``): ``$PYTHON310``, ``python3.10`` on PATH, or pyenv's."""
    variable = "PYTHON" + version.replace(".", "")
    candidates = [os.environ.get(variable, ""), shutil.which(f"python{version}") or ""]
    roots = [os.environ.get("PYENV_ROOT", ""), str(Path.home() / ".pyenv")]
    for root in filter(None, roots):
        candidates += sorted(glob.glob(f"{root}/versions/{version}*/bin/python"), reverse=True)
    for candidate in filter(None, candidates):
        if Path(candidate).is_file() and _version_of(candidate) == version:
            return candidate
    raise ConfigError(f"no Python {version} found (leap.yaml's pythonVersion, the platform image's Python): "
                      f"install one (`pyenv install {version}`) or set {variable}=/path/to/python{version}")
