import re
import tomllib
from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent


def _pyproject() -> dict:
    return tomllib.loads((ROOT / "pyproject.toml").read_text())


def test_requirements_txt_matches_pyproject():
    lines = [line.strip() for line in (ROOT / "requirements.txt").read_text().splitlines()]
    requirements = [line for line in lines if line and not line.startswith("#")]
    assert requirements == _pyproject()["project"]["dependencies"], \
        "requirements.txt differs from [project].dependencies: regenerate it from pyproject.toml"


def test_console_scripts_point_at_callables():
    import importlib

    for name, target in _pyproject()["project"]["scripts"].items():
        module, func = target.split(":")
        assert callable(getattr(importlib.import_module(module), func)), name


def test_no_registry_host_is_committed():
    pattern = re.compile(r"https?://[^\s\"']*(pypi|simple)/", re.I)
    for path in [ROOT / "pyproject.toml", ROOT / "requirements.txt", ROOT / ".ci" / "run"]:
        if path.exists():
            assert not pattern.search(path.read_text()), path
