"""The layering docs/code-layout.md draws, checked on the real import graph: every module under
IMDb/ parsed with `ast`, imports inside functions included (a lazy import is still a dependency),
and no module of the package imported by a string (`importlib.import_module`), which no tool sees.

Layers, from the bottom, each a set of folders: the foundation (errors, console, config, output),
the base (text, data, measures, architectures, behaviour), the families (what serving a model needs),
the bundle, then two tops that never import each other: the Tensorleap adapter (`IMDb.tensorleap`)
and the local toolkit (`imdb-leap` in `IMDb.cli`, training, analysis, robustness, predict, the
toolkits that make and explain each family's models).
"""
from __future__ import annotations

import ast
from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent
PACKAGE = ROOT / "IMDb"

# Each folder (or top-level module) of the package and its layer, from the bottom; a module of none
# of them fails `test_every_module_has_a_layer`, so a new folder is placed here on purpose.
LAYERS = {
    "foundation": ("IMDb.errors", "IMDb.console", "IMDb.config", "IMDb.output"),
    "base": ("IMDb.text", "IMDb.data", "IMDb.measures", "IMDb.architectures", "IMDb.behaviour"),
    "families": ("IMDb.families",),
    "bundle": ("IMDb.bundle", "IMDb.card"),
    "adapter": ("IMDb.tensorleap",),
    "toolkit": ("IMDb.cli", "IMDb.analysis", "IMDb.explore", "IMDb.predict", "IMDb.quantize", "IMDb.robustness", "IMDb.training", "IMDb.toolkits"),
}
LEVELS = {"foundation": 0, "base": 1, "families": 2, "bundle": 3, "adapter": 4, "toolkit": 4}


def module_name(path: Path) -> str:
    parts = list(path.relative_to(ROOT).with_suffix("").parts)
    return ".".join(parts[:-1] if parts[-1] == "__init__" else parts)


MODULES = {module_name(p): p for p in PACKAGE.rglob("*.py")}


def within(name: str, prefixes: tuple[str, ...]) -> bool:
    return any(name == p or name.startswith(p + ".") for p in prefixes)


def layer(name: str) -> str | None:
    return next((layer for layer, prefixes in LAYERS.items() if within(name, prefixes)), None)


def run_nodes(tree: ast.AST):
    """Every node of `tree` but those under ``if TYPE_CHECKING:``, which never run."""
    for node in ast.iter_child_nodes(tree):
        if isinstance(node, ast.If) and getattr(node.test, "id", None) == "TYPE_CHECKING":
            continue
        yield node
        yield from run_nodes(node)


def imports(name: str) -> set[str]:
    """The package's modules `name` imports, anywhere in its file but under ``TYPE_CHECKING``
    (``from IMDb import x`` names the module ``IMDb.x`` where there is one)."""
    path = MODULES[name]
    package = name if path.name == "__init__.py" else name.rpartition(".")[0]
    found = set()
    for node in run_nodes(ast.parse(path.read_text(encoding="utf-8"))):
        if isinstance(node, ast.Import):
            found |= {a.name for a in node.names}
        elif isinstance(node, ast.ImportFrom):
            parts = package.split(".")
            base = ".".join(parts[:len(parts) - node.level + 1] + [node.module or ""]).strip(".") \
                if node.level else node.module
            found |= {f"{base}.{a.name}" if f"{base}.{a.name}" in MODULES else base for a in node.names}
    return {m for m in found if m in MODULES and m != name}


GRAPH = {name: imports(name) for name in MODULES}


def test_the_graph_is_read():
    assert {"IMDb.families.base", "IMDb.toolkits.words", "IMDb.analysis.analyze"} <= set(GRAPH)
    assert "IMDb.training.word_models" in GRAPH["IMDb.toolkits.words"]  # a module-level import
    assert "IMDb.analysis.attribution_words" in GRAPH["IMDb.toolkits.words"]  # one inside a function


def test_every_module_has_a_layer():
    assert [m for m in MODULES if m != "IMDb" and layer(m) is None] == []


def test_each_layer_imports_only_its_own_and_those_below():
    wrong = [f"{m} ({layer(m)}) imports {i} ({layer(i)})" for m, deps in GRAPH.items() if m != "IMDb" for i in deps
             if LEVELS[layer(i)] > LEVELS[layer(m)] or {layer(m), layer(i)} == {"adapter", "toolkit"}]
    assert wrong == []


def test_no_import_cycle():
    def reaches(start: str, goal: str) -> bool:
        seen, todo = set(), [start]
        while todo:
            m = todo.pop()
            if m == goal:
                return True
            if m not in seen:
                seen.add(m)
                todo.extend(GRAPH[m])
        return False

    cycles = sorted(f"{m} <-> {i}" for m, deps in GRAPH.items() for i in deps
                    if not i.startswith(m + ".") and reaches(i, m))
    assert cycles == []


def names_imported(arg: ast.expr) -> list[str] | None:
    """The module names an ``import_module`` argument can take: a string, or a choice between two;
    None where it is computed (a variable), which could be any module of the package."""
    if isinstance(arg, ast.Constant) and isinstance(arg.value, str):
        return [arg.value]
    if isinstance(arg, ast.IfExp):
        body, orelse = names_imported(arg.body), names_imported(arg.orelse)
        return None if body is None or orelse is None else body + orelse
    return None


def test_no_module_of_the_package_is_imported_by_a_string():
    calls = [(name, node) for name, path in MODULES.items()
             for node in ast.walk(ast.parse(path.read_text(encoding="utf-8")))
             if isinstance(node, ast.Call) and getattr(node.func, "attr", getattr(node.func, "id", None))
             in ("import_module", "__import__")]
    assert calls, "the check reads import_module calls (the analysis imports tf_keras or keras by name)"
    wrong = [f"{name}:{node.lineno}" for name, node in calls
             if (found := names_imported(node.args[0])) is None or any(n.startswith("IMDb") for n in found)]
    assert wrong == []
