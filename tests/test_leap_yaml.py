"""leap.yaml bundles what its entry file (leap_integration.py, which imports leap_binder.py) needs on
the platform, and no model weights or data.

The modules the entry file needs are found twice: statically (every import in the local modules it
reaches, lazy imports inside functions included) and at run time (the local modules and repository
files a process actually loads while running the dataset side of the binder, with an audit hook on
`open`). The model file is not needed there: the platform imports the model from its own upload.
"""
import ast
import glob
import json
import os
import re
import subprocess
import sys
import textwrap
from pathlib import Path

import pytest
import yaml

ROOT = Path(__file__).resolve().parent.parent
MODEL_SUFFIXES = (".onnx", ".h5", ".hdf5", ".keras", ".pb", ".pt", ".pth", ".ckpt", ".safetensors", ".tflite",
                  ".pkl", ".npz", ".npy")
DATA_SUFFIXES = (".parquet", ".tar", ".gz", ".tgz", ".zip", ".arrow", ".feather")
MAX_FILE_BYTES = 2_000_000  # the largest bundled file is a 20k-word tokenizer (~220 kB)


@pytest.fixture(scope="module")
def leap_yaml() -> dict:
    return yaml.safe_load((ROOT / "leap.yaml").read_text())


@pytest.fixture(scope="module")
def bundled(leap_yaml) -> set[str]:
    """Repository-relative paths of the files `leap push` would upload (doublestar ~ glob recursive)."""
    files = set()
    for pattern in leap_yaml["include"]:
        for match in glob.glob(pattern, root_dir=ROOT, recursive=True):
            if (ROOT / match).is_file():
                files.add(Path(match).as_posix())
    return files


def doublestar(pattern: str) -> re.Pattern:
    """The doublestar glob `leap` uses: ** spans folders, * and ? stay within one."""
    parts = re.split(r"(\*\*/|\*\*|\*|\?)", pattern)
    wildcards = {"**/": "(?:.*/)?", "**": ".*", "*": "[^/]*", "?": "[^/]"}
    return re.compile("".join(wildcards.get(p, re.escape(p)) for p in parts) + r"\Z")


def covered(path: str, leap_yaml) -> bool:
    """Whether an include pattern matches `path`, whether or not the file exists yet."""
    return any(doublestar(pattern).match(path) for pattern in leap_yaml["include"])


def test_fields(leap_yaml):
    """leap_integration.py is the entry (the guide's name), leap_binder.py holds the registrations;
    pythonVersion is py310, the Python of Tensorleap's current examples, which the lean emulation
    (leap_test.py) and the wheel check read from here."""
    from IMDb.config import workspace

    assert leap_yaml["entryFile"] == "leap_integration.py" and (ROOT / leap_yaml["entryFile"]).is_file()
    assert "projectId" in leap_yaml, "projectId is left for the user, but the key must be there"
    assert leap_yaml["pythonVersion"] == "py310" and workspace.python_version() == "3.10"
    assert {"leap_integration.py", "leap_binder.py", "requirements.txt", "project_config.yaml"} \
        <= set(leap_yaml["include"])


def test_the_entry_file_only_imports_the_binder():
    """No decorator in leap_integration.py: every registration stays in leap_binder.py, imported once."""
    tree = ast.parse((ROOT / "leap_integration.py").read_text())
    decorated = [n.name for n in ast.walk(tree) if isinstance(n, ast.FunctionDef) and n.decorator_list]
    assert not decorated, decorated
    assert "leap_binder" in local_imports(ROOT / "leap_integration.py")


def local_imports(path: Path) -> set[str]:
    """Top-level and nested imports of a file that resolve to modules of this repository."""
    found = set()
    for node in ast.walk(ast.parse(path.read_text(), str(path))):
        names = []
        if isinstance(node, ast.Import):
            names = [alias.name for alias in node.names]
        elif isinstance(node, ast.ImportFrom) and node.module and node.level == 0:
            names = [node.module] + [f"{node.module}.{alias.name}" for alias in node.names]
        for name in names:
            parts = name.split(".")
            for i in range(1, len(parts) + 1):  # a package's __init__ runs before its modules
                if module_file(".".join(parts[:i])):
                    found.add(".".join(parts[:i]))
    return found


def module_file(module: str) -> Path | None:
    base = ROOT.joinpath(*module.split("."))
    for candidate in (base.with_suffix(".py"), base / "__init__.py"):
        if candidate.is_file():
            return candidate
    return None


def static_closure() -> set[str]:
    entry = yaml.safe_load((ROOT / "leap.yaml").read_text())["entryFile"]
    todo, seen = [ROOT / entry], set()
    while todo:
        path = todo.pop()
        rel = path.relative_to(ROOT).as_posix()
        if rel in seen:
            continue
        seen.add(rel)
        todo += [module_file(m) for m in local_imports(path)]
    return seen


def test_exactly_the_modules_the_entry_file_imports_are_bundled(leap_yaml, bundled):
    needed = static_closure()
    assert {"leap_integration.py", "leap_binder.py", "IMDb/tensorleap/integration.py", "IMDb/measures/metadata.py", "IMDb/measures/losses.py",
            "IMDb/tensorleap/visualizers.py", "IMDb/bundle.py", "IMDb/text/word_tokenizer.py"} <= needed
    missing = sorted(needed - bundled)
    assert not missing, f"leap.yaml does not bundle {missing}, which the entry file imports"
    unused = sorted(f for f in bundled if f.endswith(".py") and f not in needed)
    assert not unused, f"leap.yaml bundles {unused}, which the entry file does not import"


@pytest.mark.parametrize("model", ["dense", "cnn"])
def test_each_model_s_tokenizer_and_card_are_covered(leap_yaml, model):
    for name in ("tokenizer.json", "card.json", "split.json"):
        assert covered(f"models/{model}/{name}", leap_yaml), f"leap.yaml misses models/{model}/{name}"


def test_no_model_weights_or_data_are_bundled(leap_yaml, bundled):
    heavy = sorted(f for f in bundled if f.lower().endswith(MODEL_SUFFIXES + DATA_SUFFIXES))
    assert not heavy, f"leap.yaml bundles model weights or data: {heavy}; models go up with `leap push -m`"
    for model in ("dense", "cnn"):
        for name in ("model.onnx", "model.h5"):
            assert not covered(f"models/{model}/{name}", leap_yaml), f"models/{model}/{name} would be bundled"
    big = sorted(f for f in bundled if (ROOT / f).stat().st_size > MAX_FILE_BYTES)
    assert not big, f"unexpectedly large bundled files: {big}"
    assert not any(f.startswith(("tests/", "runs/", "scripts/", ".")) for f in bundled)


TRACE = textwrap.dedent("""
    import json, os, sys
    root = os.path.realpath(sys.argv[1])
    opened = set()

    def hook(event, args):
        if event == "open" and args and isinstance(args[0], (str, bytes, os.PathLike)):
            opened.add(os.path.realpath(os.fsdecode(args[0])))

    sys.addaudithook(hook)
    sys.path.insert(0, root)
    import numpy as np
    import leap_binder as lb
    from code_loader.contract.datasetclasses import SamplePreprocessResponse
    for response in lb.preprocess() + [lb.preprocess_unlabeled()]:
        for sample_id in response.sample_ids[:2]:
            tokens = lb.INPUT_ENCODERS[lb.TEXT_INPUT](sample_id, response)
            lb.sentiment_gt(sample_id, response)
            for function in lb.METADATA.values():
                function(sample_id, response)
            sample = SamplePreprocessResponse(np.array([sample_id]), response)
            lb.review_visualizer(tokens, sample)
            lb.lexicon_visualizer(sample)
            lb.oov_visualizer(tokens, sample)
            lb.cleaned_text_visualizer(sample)
    lb.prediction_only_visualizer(np.array([[0.2, 0.8]], np.float32))
    modules = {m.__file__ for m in list(sys.modules.values()) if getattr(m, "__file__", None)}
    environment = tuple(os.path.realpath(p) + os.sep for p in {sys.prefix, sys.base_prefix, sys.exec_prefix})

    def inside(path):  # a repository file, not the virtual environment's
        real = os.path.realpath(path)
        return real.startswith(root + os.sep) and not real.startswith(environment) \
            and "site-packages" not in real.split(os.sep)
    # bytecode, and the temp files Python writes while caching it, is not a file the bundle needs
    print(json.dumps(sorted(os.path.relpath(os.path.realpath(p), root) for p in (opened | modules)
                            if inside(p) and "__pycache__" not in p.split(os.sep))))
""")


@pytest.fixture
def bundle_copy(bundled, synthetic_dataset, tmp_path) -> Path:
    """Exactly the files leap.yaml uploads, in a folder of their own; the shipped bundles' recorded
    split (split.json, split_checksums) is the synthetic dataset's, since the binder refuses any
    dataset but the one a model was trained on."""
    from conftest import record_synthetic_split

    bundle = tmp_path / "bundle"
    for rel in bundled:
        (bundle / rel).parent.mkdir(parents=True, exist_ok=True)
        (bundle / rel).write_bytes((ROOT / rel).read_bytes())
    for card in bundle.glob("models/*/card.json"):
        record_synthetic_split(card.parent, synthetic_dataset)
    return bundle


def test_what_the_binder_loads_at_run_time_is_bundled(leap_yaml, bundled, bundle_copy, synthetic_dataset, tmp_path):
    """The dataset side of the binder, run for each shipped model from a copy of the bundled files,
    reads only bundled files (a module or file leap.yaml leaves out is missing there)."""
    from IMDb.bundle import names as bundle_names

    models = [m for m in ("dense", "cnn") if m in bundle_names(ROOT / "models")]
    assert models, "no shipped model bundle under models/: train one (imdb-leap train --model dense)"
    script = tmp_path / "trace.py"
    script.write_text(TRACE)
    for model in models:
        env = {**os.environ, "IMDB_MODEL": model, "IMDB_DATA": str(synthetic_dataset), "TL_DISABLE_ANALYTICS": "1"}
        env.pop("IMDB_MODELS_DIR", None)
        proc = subprocess.run([sys.executable, str(script), str(bundle_copy.resolve())], env=env,
                              capture_output=True, text=True, timeout=300)
        assert proc.returncode == 0, proc.stderr[-3000:]
        loaded = set(json.loads(proc.stdout.strip().splitlines()[-1]))
        assert {f"models/{model}/tokenizer.json", f"models/{model}/split.json", "IMDb/tensorleap/integration.py"} <= loaded, loaded
        missing = sorted(loaded - bundled)
        assert not missing, f"{model}: the binder loaded {missing[:20]}, which leap.yaml does not bundle"


CHECK_BUNDLE = textwrap.dedent("""
    import json, os, sys
    bundle, repo = sys.argv[1], os.path.realpath(sys.argv[2])
    # the editable install puts the repository on sys.path: remove it, so only the bundle is there
    sys.path[:] = [p for p in sys.path if os.path.realpath(p or ".") != repo]
    os.chdir(bundle)
    from code_loader import LeapLoader
    result = LeapLoader(bundle, "leap_integration.py").check_dataset()
    import IMDb
    print(json.dumps({"valid": result.is_valid, "error": result.general_error, "imdb": IMDb.__file__,
                      "failing": [p.name for p in result.payloads if not p.is_passed]}))
""")


def test_the_bundle_alone_passes_check_dataset(leap_yaml, bundle_copy, synthetic_dataset, tmp_path):
    """Only the files leap.yaml uploads, parsed as the platform does from its entry file: nothing
    else is needed."""
    from IMDb.bundle import names as bundle_names

    models = [m for m in ("dense", "cnn") if m in bundle_names(ROOT / "models")]
    assert models, "no shipped model bundle under models/: train one (imdb-leap train --model dense)"
    script = tmp_path / "check_bundle.py"
    script.write_text(CHECK_BUNDLE)
    env = {**os.environ, "IS_TENSORLEAP_PLATFORM": "true", "IMDB_MODEL": models[0],
           "IMDB_DATA": str(synthetic_dataset), "TL_DISABLE_ANALYTICS": "1"}
    env.pop("IMDB_MODELS_DIR", None)
    proc = subprocess.run([sys.executable, str(script), str(bundle_copy), str(ROOT)], env=env, cwd=tmp_path,
                          capture_output=True, text=True, timeout=300)
    assert proc.returncode == 0, proc.stderr[-3000:]
    result = json.loads(proc.stdout.strip().splitlines()[-1])
    assert Path(result["imdb"]).resolve().is_relative_to(bundle_copy.resolve()), result["imdb"]
    assert result["valid"] and not result["failing"] and not result["error"], result
