"""Every environment variable imdb-leap reads, and only here: the table of docs/environment.md is this list.

| variable | meaning |
|---|---|
| ``IMDB_DATA`` | the dataset: a parquet file, an ``aclImdb/`` folder, the archive, or ``download`` |
| ``IMDB_UNSUP_DATA`` | the unlabeled parquet, when it is not beside ``IMDB_DATA`` |
| ``IMDB_CACHE`` | downloads, extracted archives, parsed folders and the analysis cache (default ``~/.cache/imdb-leap``) |
| ``IMDB_BERT`` | the BERT checkpoint: a Hugging Face folder or a hub id (default ``DEFAULT_BERT``) |
| ``IMDB_CAD`` | the folder of the counterfactual pairs (``train_paired.tsv``, ``dev_paired.tsv``) |
| ``IMDB_MODEL`` | the model the Tensorleap integration serves (overrides ``project_config.yaml``) |
| ``IMDB_MODELS_DIR`` | the folder of the model bundles the integration reads (default: the repository's ``models/``) |
| ``IMDB_RAW_CSV`` | ``1``: CSV cells as they are, without the ``'`` before text a spreadsheet would run as a formula (`IMDb.output.formats`) |

A variable set to an empty string counts as unset. Variables other libraries read
(``TL_DISABLE_ANALYTICS``, ``TF_CPP_MIN_LOG_LEVEL``, ``HF_HUB_OFFLINE``) are set, never read, by the
package (`IMDb.console`, `IMDb.cli.testing`, `IMDb.architectures.bert`).
"""
from __future__ import annotations

import os
from pathlib import Path

DATA = "IMDB_DATA"
UNSUP_DATA = "IMDB_UNSUP_DATA"
CACHE = "IMDB_CACHE"
BERT = "IMDB_BERT"
CAD = "IMDB_CAD"
MODEL = "IMDB_MODEL"
MODELS_DIR = "IMDB_MODELS_DIR"
RAW_CSV = "IMDB_RAW_CSV"

DEFAULT_BERT = "hf://sentence-transformers/all-MiniLM-L6-v2"
REPO_MODELS = Path(__file__).resolve().parents[2] / "models"


def get(name: str) -> str | None:
    """The variable's value without surrounding spaces, or None when unset or empty."""
    return (os.environ.get(name) or "").strip() or None


def data() -> str | None:
    return get(DATA)


def unsup_data() -> Path | None:
    value = get(UNSUP_DATA)
    return Path(value).expanduser() if value else None


def cache_dir() -> Path:
    """Where downloads, extracted archives, parsed folders and the analysis cache go."""
    return Path(get(CACHE) or Path.home() / ".cache" / "imdb-leap").expanduser()


def bert_checkpoint() -> str:
    return get(BERT) or DEFAULT_BERT


def cad_dir() -> str | None:
    return get(CAD)


def model() -> str | None:
    return get(MODEL)


def models_dir() -> Path:
    return Path(get(MODELS_DIR) or REPO_MODELS).expanduser()


def raw_csv() -> bool:
    """Whether CSV cells are written as they are (``IMDB_RAW_CSV=1``); any value but 1 or 0 is one
    line naming the variable."""
    value = get(RAW_CSV)
    if value not in (None, "0", "1"):
        from IMDb.errors import UsageError

        raise UsageError(f"{RAW_CSV}={value!r}: set it to 1 to write CSV cells as they are, or leave it unset")
    return value == "1"
