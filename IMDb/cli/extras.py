"""The one place that knows which optional extra of `imdb-leap` (pyproject.toml's
``[project.optional-dependencies]``) holds which library: the base install is what `imdb-leap
predict` needs, and a command whose extra is missing ends on one line that names it and the pip
command to install it (`missing_extra`, which the CLI's `main` asks on a ModuleNotFoundError)."""
from __future__ import annotations

# the module a library is imported as -> the extra that adds it (each extra also holds what its
# command needs from the others: analysis has train's TensorFlow, explore the analysis's libraries)
MODULE_EXTRAS = {
    "tensorflow": "train", "tf_keras": "train", "keras": "train", "tf2onnx": "train", "h5py": "train",
    "tensorboard": "train", "sklearn": "train", "scipy": "train",
    "keras_hub": "bert", "safetensors": "bert",
    "textblob": "analysis", "nltk": "analysis", "umap": "analysis",
    "plotly": "analysis", "matplotlib": "analysis", "cleanlab": "analysis", "jinja2": "analysis",
    "starlette": "explore", "uvicorn": "explore",
}
# the extra each command needs (predict: none, the base install)
COMMAND_EXTRAS = {"train": "train", "analyze": "analysis", "compare": "analysis", "robustness": "analysis",
                  "calibrate": "analysis", "quantize": "train", "explore": "explore",
                  "push": "tensorleap"}
# what each extra holds, as modules (pyproject.toml's lists; tests/test_packaging.py keeps them equal)
EXTRA_MODULES = {
    "train": {"tensorflow", "tf_keras", "keras", "tf2onnx", "h5py", "tensorboard", "sklearn", "scipy"},
    "analysis": {"tensorflow", "tf_keras", "keras", "h5py", "sklearn", "scipy", "textblob",
                 "nltk", "umap", "plotly", "matplotlib", "cleanlab", "jinja2"},
    "tensorleap": {"sklearn", "textblob", "nltk"},
}
EXTRA_MODULES["bert"] = EXTRA_MODULES["train"] | {"keras_hub", "safetensors"}
EXTRA_MODULES["explore"] = EXTRA_MODULES["analysis"] | {"starlette", "uvicorn"}


def missing_extra(error: ModuleNotFoundError, command: str | None) -> str | None:
    """The one-line message for `error` if the module it misses is an extra's library, else None (a
    bug or a broken install, which keeps its traceback): the command's own extra when that holds the
    module, else the extra that adds it (`train --model bert` without KerasHub: bert)."""
    module = (error.name or "").split(".")[0]
    if module not in MODULE_EXTRAS:
        return None
    extra = COMMAND_EXTRAS.get(command or "")
    if module not in EXTRA_MODULES.get(extra or "", ()):
        extra = MODULE_EXTRAS[module]
    needs = f"`imdb-leap {command}`" if command else "this command"
    return (f"imdb-leap: error: {needs} needs the '{extra}' extra (no module named {module!r}); "
            f"install it with: pip install 'imdb-leap[{extra}]'")
