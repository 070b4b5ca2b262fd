"""Small plain modules: no module of the package over 300 lines, no function over 60 (issue 21).
A module or function that grows past them is split by concern, not let to grow."""
from __future__ import annotations

import ast
from pathlib import Path

PACKAGE = Path(__file__).resolve().parent.parent / "IMDb"
MAX_MODULE_LINES = 300
MAX_FUNCTION_LINES = 60
SOURCES = sorted(PACKAGE.rglob("*.py"))


def test_the_package_is_read():
    assert len(SOURCES) > 50


def test_no_module_is_over_the_limit():
    long = [f"{p.relative_to(PACKAGE.parent)}: {n} lines" for p in SOURCES
            if (n := len(p.read_text(encoding="utf-8").splitlines())) > MAX_MODULE_LINES]
    assert long == []


def test_no_function_is_over_the_limit():
    long = [f"{p.relative_to(PACKAGE.parent)}:{node.lineno} {node.name}: {node.end_lineno - node.lineno + 1} lines"
            for p in SOURCES for node in ast.walk(ast.parse(p.read_text(encoding="utf-8")))
            if isinstance(node, (ast.FunctionDef, ast.AsyncFunctionDef))
            and node.end_lineno - node.lineno + 1 > MAX_FUNCTION_LINES]
    assert long == []
