"""What the Tensorleap binder (`leap_binder.py`) serves, loaded once per process.

The binder only registers functions with code-loader; the chosen model's bundle (`IMDb.bundle`:
its tokenizer, checked against its card), the data states and the per-sample lookups live here.
This module is the Tensorleap adapter: the local toolkit (`IMDb.analysis`, `imdb-leap`) does not
import it.

Settings come from ``project_config.yaml`` (`IMDb.config.project_file`: ``data_path``, ``model``,
``sample_limit_per_split``), bundled with the code, since the platform sets no ``IMDB_*`` variable.
For local runs these environment variables override it:

- ``IMDB_MODEL``: the model the integration serves, one of `served_models` (the trained models of
  the registry, `IMDb.families`). The binder registers one input encoder per input of its tokenizer
  (``tokens`` for a word model; ``input_ids``, ``attention_mask``, ``token_type_ids`` for BERT).
- ``IMDB_DATA``: the dataset (a parquet file with ``imdb_unsup.parquet`` beside it, an ``aclImdb``
  folder or the archive; see `IMDb.data.sources`).
- ``IMDB_MODELS_DIR``: the folder holding the ``<model>/`` bundles (default: the repository's
  ``models/``).
"""
from __future__ import annotations

import functools
from dataclasses import dataclass

import numpy as np

from IMDb import bundle, families
from IMDb.bundle import Bundle
from IMDb.config import project_file, environment
from IMDb.config.run import LABELS
from IMDb.data import data_source, dataset_states
from IMDb.errors import ModelError

STATES = dataset_states.STATES  # training, validation, test, unlabeled
LABELED_STATES = dataset_states.LABELED_STATES


def served_models() -> tuple[str, ...]:
    """The models the integration serves: the trained ones. A model made from another without
    training (bert-int8) may use operators the platform's importer refuses."""
    return families.names(trainable=True)


def model_name() -> str:
    """IMDB_MODEL if set, else ``model`` of project_config.yaml; a ModelError lists the valid ones."""
    name = environment.model() or project_file.load().model
    if name not in served_models():
        origin = f"{environment.MODEL}={name!r}" if environment.model() else f"{project_file.PATH}: model {name!r}"
        present = ", ".join(bundle.names(environment.models_dir())) or "none"
        raise ModelError(f"{origin} is not a model this integration serves; valid choices: "
                         f"{', '.join(served_models())} (bundles present in {environment.models_dir()}: {present})")
    return name


@functools.lru_cache(maxsize=1)
def selected_model() -> Bundle:
    """The chosen model's bundle, loaded once per process. The platform imports the model from its
    own upload: only ``tokenizer.json`` and ``card.json`` are read here (``model.onnx`` only by
    `Bundle.session`, on local runs)."""
    return Bundle.read(model_name(), environment.models_dir())


# --------------------------------------------------------------------------- data


@dataclass(frozen=True)
class Review:
    sample_id: str
    text: str
    label: int | None  # index into LABELS; None in the unlabeled state
    rating: int | None  # stars 1-10; None in the unlabeled state
    movie: str


class StateData:
    """One state's reviews, looked up by sample id: what a PreprocessResponse carries as ``data``."""

    def __init__(self, name: str, frame):
        self.name = name
        self.sample_ids: list[str] = frame["sample_id"].astype(str).tolist()
        self._row = {sid: i for i, sid in enumerate(self.sample_ids)}
        if len(self._row) != len(self.sample_ids):
            raise ValueError(f"duplicate sample ids in the {name} state")
        self._text = frame["text"].tolist()
        self._movie = frame["movie"].tolist()
        labeled = "label" in frame
        self._label = frame["label"].astype(int).tolist() if labeled else None
        self._rating = frame["rating"].astype(int).tolist() if labeled else None

    def __len__(self) -> int:
        return len(self.sample_ids)

    @property
    def labeled(self) -> bool:
        return self._label is not None

    def review(self, sample_id: str) -> Review:
        try:
            i = self._row[sample_id]
        except KeyError:
            raise KeyError(f"sample id {sample_id!r} is not in the {self.name} state") from None
        return Review(sample_id, self._text[i], self._label[i] if self._label else None,
                      self._rating[i] if self._rating else None, self._movie[i])


@functools.lru_cache(maxsize=1)
def states() -> dict[str, StateData]:
    """training, validation, test and unlabeled, read from the source once per process, divided
    as the model's bundle records (``split.json``), checked against the split it was trained on
    (its card's ``split_checksums``, over each full state), then each capped at
    ``sample_limit_per_split`` of project_config.yaml."""
    model = selected_model()
    cfg = model.split_config(data_source.choose())
    frames = dataset_states.load_states(cfg, include_unlabeled=True, validation_ids=model.validation_ids())
    model.check_split(frames)
    limit = project_file.load().sample_limit_per_split
    return {name: StateData(name, dataset_states.stratified_sample(frames[name], limit, cfg.seed)) for name in STATES}


def preprocess_response(state: str):
    """A fresh PreprocessResponse over the cached state (string sample ids)."""
    from code_loader.contract.datasetclasses import PreprocessResponse
    from code_loader.contract.enums import DataStateType

    st = states()[state]
    return PreprocessResponse(sample_ids=list(st.sample_ids), data=st, state=DataStateType[state],
                              sample_id_type=str)


def review(sample_id, preprocess) -> Review:
    """The review behind a sample id of a PreprocessResponse built by `preprocess_response`."""
    return preprocess.data.review(str(sample_id))


def sample_review(sample) -> Review:
    """The review behind a SamplePreprocessResponse: one id, given as a scalar (integration test) or
    a one-element array (platform)."""
    ids = np.asarray(sample.sample_ids).reshape(-1)
    if ids.size != 1:
        raise ValueError(f"expected one sample id, got {ids.size}")
    return review(ids[0].item() if hasattr(ids[0], "item") else ids[0], sample.preprocess_response)


def one_hot(label: int | None) -> np.ndarray:
    """Ground truth in the order of LABELS ([negative, positive]); empty when there is no label."""
    if label is None:
        return np.zeros(0, dtype=np.float32)
    out = np.zeros(len(LABELS), dtype=np.float32)
    out[label] = 1.0
    return out
