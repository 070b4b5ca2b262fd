"""Install by need: the base install is what `imdb-leap predict` needs, every other command's
libraries are an extra (pyproject.toml), and a command whose extra is missing says which one to
install, in one line (`IMDb.cli.extras`)."""
import json
import subprocess
import sys
import textwrap
import tomllib
from pathlib import Path

from IMDb.cli import extras

ROOT = Path(__file__).resolve().parent.parent
HEAVY = {"tensorflow", "keras", "sklearn", "scipy", "pandas", "pyarrow"}

# the modules a run imports, as top-level names: `main` run in a fresh interpreter
IMPORTED = textwrap.dedent("""
    import contextlib, io, json, sys
    {hook}
    from IMDb.cli.imdb_leap import main
    out, err = io.StringIO(), io.StringIO()
    with contextlib.redirect_stdout(out), contextlib.redirect_stderr(err):
        try:
            code = main(sys.argv[1:])
        except SystemExit as e:  # --help
            code = e.code
    print(json.dumps({{"code": code, "out": out.getvalue(), "err": err.getvalue(),
                      "modules": sorted({{m.split(".")[0] for m in sys.modules}})}}))
""")

# makes libraries look uninstalled, as in an install without their extras
BLOCK = textwrap.dedent("""
    class Missing:
        def find_spec(self, name, path=None, target=None):
            if name.split(".")[0] in {modules!r}:
                raise ModuleNotFoundError(f"No module named {{name!r}}", name=name)
    sys.meta_path.insert(0, Missing())
""")


def run_main(*argv: str, block: set[str] = frozenset()) -> dict:
    hook = BLOCK.format(modules=sorted(block)) if block else ""
    result = subprocess.run([sys.executable, "-c", IMPORTED.format(hook=hook), *argv], cwd=ROOT,
                            capture_output=True, text=True, timeout=300)
    assert result.returncode == 0, result.stderr
    return json.loads(result.stdout.splitlines()[-1])


def test_predict_help_imports_no_heavy_library():
    run = run_main("predict", "--help")
    assert run["code"] == 0 and "--model" in run["out"]
    assert HEAVY.isdisjoint(run["modules"]), sorted(HEAVY & set(run["modules"]))


def test_python_m_imdb_cli_is_the_command_and_its_predict_help_imports_no_heavy_library():
    """The issue's own check: ``python -X importtime -m IMDb.cli predict --help``."""
    result = subprocess.run([sys.executable, "-X", "importtime", "-m", "IMDb.cli", "predict", "--help"], cwd=ROOT,
                            capture_output=True, text=True, timeout=300)
    imported = {line.split("|")[-1].strip().split(".")[0] for line in result.stderr.splitlines() if "|" in line}
    assert result.returncode == 0 and "--model" in result.stdout and "IMDb" in imported
    assert HEAVY.isdisjoint(imported), sorted(HEAVY & imported)


def test_predict_with_a_word_model_imports_no_training_or_analysis_library():
    run = run_main("predict", "--model", "dense", "Mildly entertaining, not brilliant.")
    assert run["code"] == 0 and run["out"].startswith("dense:")
    # pyarrow is the word tokenizer's (base install); pandas only for files of reviews
    assert {"tensorflow", "keras", "sklearn", "scipy", "pandas"}.isdisjoint(run["modules"])


def test_predict_runs_on_the_base_install(tmp_path):
    """Every shipped model, to stdout and to a file, with every extra's library missing."""
    run = run_main("predict", "Mildly entertaining, not brilliant.", block=set(extras.MODULE_EXTRAS))
    assert run["code"] == 0 and {line.split(":")[0].strip() for line in run["out"].splitlines()} >= {"dense", "bert"}
    out = tmp_path / "preds.csv"
    run = run_main("predict", "--model", "cnn,bert-int8", "--output", str(out), "A review.",
                   block=set(extras.MODULE_EXTRAS))
    assert run["code"] == 0 and out.read_text().startswith('"row"')


def test_a_missing_extra_is_one_line_naming_it(tmp_path):
    run = run_main("train", "--model", "dense", "--models-dir", str(tmp_path), block={"tensorflow"})
    assert run["code"] == 2
    assert run["err"] == ("imdb-leap: error: `imdb-leap train` needs the 'train' extra (no module named "
                          "'tensorflow'); install it with: pip install 'imdb-leap[train]'\n")


def test_the_extra_named_is_the_commands_when_it_holds_the_module():
    def message(module, command):
        return extras.missing_extra(ModuleNotFoundError(f"No module named {module!r}", name=module), command)

    assert "pip install 'imdb-leap[analysis]'" in message("tensorflow.python", "analyze")
    assert "pip install 'imdb-leap[explore]'" in message("umap", "explore")
    assert "pip install 'imdb-leap[bert]'" in message("keras_hub", "train")
    assert "pip install 'imdb-leap[tensorleap]'" in message("textblob", "push")
    assert message("no_such_module", "train") is None  # a bug keeps its traceback


# the module each distribution of an extra is imported as
DISTRIBUTION_MODULES = {"tf-keras": "tf_keras", "scikit-learn": "sklearn", "keras-hub": "keras_hub",
                        "code-loader": "code_loader", "umap-learn": "umap"}


def _modules(requirements: list[str]) -> set[str]:
    from packaging.requirements import Requirement

    names = (Requirement(r).name.lower() for r in requirements)
    return {DISTRIBUTION_MODULES.get(n, n) for n in names}


def test_the_extras_table_matches_pyproject():
    project = tomllib.loads((ROOT / "pyproject.toml").read_text())["project"]
    optional = {name: _modules(r) for name, r in project["optional-dependencies"].items() if name != "dev"}
    every = optional.pop("all")
    assert optional == extras.EXTRA_MODULES
    assert every == set().union(*optional.values()) == set(extras.MODULE_EXTRAS)
    assert all(module in extras.EXTRA_MODULES[extra] for module, extra in extras.MODULE_EXTRAS.items())
    assert set(extras.COMMAND_EXTRAS.values()) <= set(optional)
    assert _modules(project["dependencies"]).isdisjoint(every)  # the base holds no extra's library
