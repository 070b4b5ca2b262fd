import json
import os
import re
import subprocess
import sys
import textwrap
import tomllib
from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent


def _pyproject() -> dict:
    return tomllib.loads((ROOT / "pyproject.toml").read_text())


# what the platform must never install: the development stack
DEV_ONLY = {"tensorflow", "tf-keras", "keras", "keras-hub", "tensorflow-text", "tf2onnx", "onnx", "umap-learn",
            "plotly", "matplotlib", "tensorboard", "h5py", "safetensors", "pytest", "jinja2"}

# imported when installed, not needed: scikit-learn shows progress bars with rich if it is there
OPTIONAL = {"rich"}

# imported only by load_model's body (Bundle.session), which runs locally, never on the platform:
# the platform runs the model from its own upload
LOCAL_ONLY = {"onnxruntime"}

RUN_INTEGRATION = textwrap.dedent("""
    import json, sys
    at_start = set(sys.modules)  # the interpreter's own, e.g. setuptools' .pth hook
    import numpy as np
    sys.path.insert(0, sys.argv[1])
    import leap_binder as lb
    from code_loader.contract.datasetclasses import SamplePreprocessResponse
    for response in lb.preprocess() + [lb.preprocess_unlabeled()]:
        sample_id = response.sample_ids[0]
        inputs = {name: encoder(sample_id, response)[None] for name, encoder in lb.INPUT_ENCODERS.items()}
        gt = lb.sentiment_gt(sample_id, response)[None]
        logits = lb.MODEL.session().run(None, inputs)[0]  # undecorated: code-loader's own
        for function in (lb.cross_entropy, lb.accuracy, lb.errors, lb.confusion_matrix):  # check imports TF
            function(gt, logits)
        for function in lb.METADATA.values():
            function(sample_id, response)
        sample = SamplePreprocessResponse(np.array([sample_id]), response)
        lb.review_visualizer(inputs[lb.TEXT_INPUT], sample)
        lb.lexicon_visualizer(sample)
        lb.oov_visualizer(inputs[lb.TEXT_INPUT], sample)
        lb.cleaned_text_visualizer(sample)
        lb.prediction_visualizer(logits, gt)
        lb.prediction_only_visualizer(logits)
    print(json.dumps(sorted({name.split(".")[0] for name in set(sys.modules) - at_start})))
""")


def requirement_names() -> list[str]:
    from packaging.requirements import Requirement
    from packaging.utils import canonicalize_name

    lines = [line.split("#")[0].strip() for line in (ROOT / "requirements.txt").read_text().splitlines()]
    return [canonicalize_name(Requirement(line).name) for line in lines if line]


def installed_closure(names: list[str]) -> set[str]:
    """The distributions `names` pull in when installed (their run-time requirements, recursively)."""
    from importlib import metadata

    from packaging.requirements import Requirement
    from packaging.utils import canonicalize_name

    todo, seen = list(names), set()
    while todo:
        name = todo.pop()
        if name in seen:
            continue
        seen.add(name)
        try:
            requires = metadata.requires(name) or []
        except metadata.PackageNotFoundError:
            continue
        for line in requires:
            req = Requirement(line)
            if req.marker is None or req.marker.evaluate({"extra": ""}):
                todo.append(canonicalize_name(req.name))
    return seen


def test_requirements_list_what_the_integration_imports(synthetic_dataset, shipped_on_synthetic):
    """Run the integration in a fresh process; every third-party distribution it imports must be in
    requirements.txt, or installed by one listed there, or be code-loader's (the platform image's);
    and every listed package must be imported by it (nothing is there for nothing)."""
    from importlib import metadata

    from packaging.utils import canonicalize_name

    listed = requirement_names()
    assert not DEV_ONLY & set(listed), f"requirements.txt names development-only packages {DEV_ONLY & set(listed)}"
    assert "code-loader" not in listed, "code-loader is the platform image's own"
    modules = set()
    for model in ("dense", "bert"):  # a word model and BERT (its tokenizer is another package)
        env = {**os.environ, "IMDB_DATA": str(synthetic_dataset), "IMDB_MODEL": model, "TL_DISABLE_ANALYTICS": "1",
               "IMDB_MODELS_DIR": str(shipped_on_synthetic)}
        proc = subprocess.run([sys.executable, "-c", RUN_INTEGRATION, str(ROOT)], env=env, capture_output=True,
                              text=True, timeout=300)
        assert proc.returncode == 0, proc.stderr[-3000:]
        modules |= set(json.loads(proc.stdout.strip().splitlines()[-1]))
    owners = metadata.packages_distributions()
    imported = {canonicalize_name(d) for m in modules for d in owners.get(m, [])}
    imported -= {"imdb-leap"}
    provided = installed_closure(listed) | installed_closure(["code-loader"])
    assert not LOCAL_ONLY & set(listed), f"requirements.txt names local-only {LOCAL_ONLY & set(listed)}"
    missing = sorted(imported - provided - OPTIONAL - LOCAL_ONLY)
    assert not missing, f"the integration imports {missing}, which requirements.txt does not install"
    unused = sorted(set(listed) - imported)
    assert not unused, f"requirements.txt lists {unused}, which the integration never imports"
    assert not DEV_ONLY & imported, f"the integration imports development-only {DEV_ONLY & imported}"


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
