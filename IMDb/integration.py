"""What the Tensorleap binder (`leap_binder.py`) serves, loaded once per process.

The binder only registers functions with code-loader; the settings, the chosen model's input side
(tokenizer, card), the data states and the per-sample lookups live here.

Settings come from ``project_config.yaml`` (`IMDb.project_config`: ``data_path``, ``model``,
``sample_limit_per_split``), bundled with the code, since the platform sets no ``IMDB_*`` variable.
For local runs these environment variables override it:

- ``IMDB_MODEL``: the model the integration serves, one of ``SUPPORTED_MODELS``. Dense and CNN
  share everything but their bundle (`WordModel`); BERT (`BertModel`) has three inputs,
  ``input_ids``, ``attention_mask`` and ``token_type_ids``, and the binder registers one input
  encoder per ``input_names``.
- ``IMDB_DATA``: the dataset (a parquet file with ``imdb_unsup.parquet`` beside it, an ``aclImdb``
  folder or the archive; see `IMDb.sources`).
- ``IMDB_MODELS_DIR``: the folder holding the ``<model>/`` bundles (default: the repository's
  ``models/``).
"""
from __future__ import annotations

import functools
from dataclasses import dataclass
from pathlib import Path

import numpy as np

from IMDb import data, project_config, settings
from IMDb.config import LABELS, WORD_MODELS, Config, source_model
from IMDb.errors import ConfigError, ModelError
from IMDb.models import INPUT_NAME, OUTPUT_NAME
from IMDb.predict import card_temperature, load_card, load_tokenizer, shipped_models
from IMDb.text import OOV_ID
from IMDb.wordpiece import INPUT_NAMES

STATES = data.STATES  # training, validation, test, unlabeled
LABELED_STATES = data.LABELED_STATES


# --------------------------------------------------------------------------- settings


def data_source() -> str:
    """IMDB_DATA if set, else ``data_path`` of project_config.yaml, which must exist."""
    if settings.data():
        return settings.data()
    path = project_config.load().data_path
    if not path.exists():
        raise ConfigError(f"{project_config.PATH}: data_path {str(path)!r} does not exist: set it to the "
                          f"IMDb parquet file, aclImdb folder or archive (on the platform: its path on "
                          f"the Tensorleap data volume), or set {settings.DATA} for a local run")
    return str(path)


def model_name() -> str:
    """IMDB_MODEL if set, else ``model`` of project_config.yaml; a ModelError lists the valid ones."""
    name = settings.model() or project_config.load().model
    if name not in _BACKENDS:
        origin = f"{settings.MODEL}={name!r}" if settings.model() else f"{project_config.PATH}: model {name!r}"
        present = ", ".join(shipped_models(settings.models_dir())) or "none"
        raise ModelError(f"{origin} is not a model this integration serves; valid choices: "
                         f"{', '.join(_BACKENDS)} (bundles present in {settings.models_dir()}: {present})")
    return name


# --------------------------------------------------------------------------- the model's input side


class WordModel:
    """A dense or CNN bundle as the dataset side sees it: the tokenizer, checked against the card.

    Everything the binder needs from a model goes through this interface: `input_names`,
    `encode`, `positions`, `oov_positions`, `token_count`, `oov_count`, `seq_len` and
    `load_session`. The ONNX file is read only by `load_session` (local runs); the platform
    imports the model from its own upload and needs only ``tokenizer.json`` and ``card.json``.
    """

    input_names: tuple[str, ...] = (INPUT_NAME,)
    output_name: str = OUTPUT_NAME

    def __init__(self, name: str, folder: Path):
        self.name, self.folder = name, Path(folder)
        self.card = load_card(name, self.folder.parent)
        if self.card.get("model", name) != name:
            raise ModelError(f"{self.folder / 'card.json'} describes model {self.card.get('model')!r}, "
                             f"not {name!r}: restore the bundle's own card")
        self.tokenizer = load_tokenizer(name, self.folder, self.card)

    @property
    def seq_len(self) -> int:
        return self.tokenizer.seq_len

    @property
    def temperature(self) -> float | None:
        """The card's calibration temperature: the prediction visualizer shows softmax(logits / T)."""
        return card_temperature(self.card)

    @property
    def max_tokens(self) -> int:
        """Tokens of a review the model reads; a longer review is truncated."""
        return self.seq_len

    def encode(self, text: str) -> dict[str, np.ndarray]:
        """The model's inputs for one review: float32 word ids [seq_len] (0-padded, truncated)."""
        return {INPUT_NAME: self.tokenizer.encode([text])[0].astype(np.float32)}

    def positions(self, text: str) -> list[str]:
        """The word at each input position ("" for padding), aligned with `encode`."""
        return self.tokenizer.tokens(text)

    def oov_positions(self, text: str) -> np.ndarray:
        """uint8 [seq_len]: 1 where the input position holds an out-of-vocabulary word."""
        ids = np.asarray(self.tokenizer.ids(text)[: self.seq_len], dtype=np.int64)
        mask = np.zeros(self.seq_len, dtype=np.uint8)
        mask[: len(ids)] = ids == OOV_ID
        return mask

    def token_count(self, text: str) -> int:
        """Tokens of the whole review (before truncation to `seq_len`)."""
        return len(self.tokenizer.ids(text))

    def oov_count(self, text: str) -> int:
        """Out-of-vocabulary tokens of the whole review."""
        return self.tokenizer.oov_count(text)

    def load_session(self):
        """The ONNX Runtime session of ``model.onnx``, checked against the tokenizer, the card and
        the one prediction type the binder declares."""
        from IMDb.predict import Predictor

        session = Predictor.load(self.name, self.folder.parent).session
        outputs = [(o.name, o.shape) for o in session.get_outputs()]
        if len(outputs) != 1 or outputs[0][0] != self.output_name or outputs[0][1][-1] != len(LABELS):
            raise ModelError(f"{self.folder / 'model.onnx'} has outputs {outputs}; the integration declares "
                             f"one prediction '{self.output_name}' of {len(LABELS)} classes {list(LABELS)}")
        return session


class BertModel(WordModel):
    """The BERT bundle: WordPiece pieces instead of words, three inputs instead of one.

    Positions are pieces (``[CLS]``, ``great``, ``##ly``, ..., ``[SEP]``), as the platform's
    heat maps are per input position; out-of-vocabulary means the ``[UNK]`` piece.
    """

    input_names = INPUT_NAMES

    @property
    def max_tokens(self) -> int:
        return self.seq_len - 2  # [CLS] and [SEP] take two positions

    def encode(self, text: str) -> dict[str, np.ndarray]:
        """Float32 ``input_ids``, ``attention_mask``, ``token_type_ids`` [seq_len] of one review."""
        return {name: array[0] for name, array in self.tokenizer.encode([text]).items()}

    def _pieces(self, text: str) -> list[int]:
        return self.tokenizer.encodings([text])[0].ids

    def positions(self, text: str) -> list[str]:
        ids = self.tokenizer.ids([text])[0]
        pieces = [self.tokenizer.tokenizer.id_to_token(int(i)) for i in ids]
        return pieces + [""] * (self.seq_len - len(pieces))

    def oov_positions(self, text: str) -> np.ndarray:
        ids = self.tokenizer.ids([text])[0]
        mask = np.zeros(self.seq_len, dtype=np.uint8)
        mask[: len(ids)] = ids == self.tokenizer.unk_id
        return mask

    def token_count(self, text: str) -> int:
        return len(self._pieces(text))

    def oov_count(self, text: str) -> int:
        return int(np.sum(np.asarray(self._pieces(text)) == self.tokenizer.unk_id))


_BACKENDS: dict[str, type] = {**{name: WordModel for name in WORD_MODELS}, "bert": BertModel}
SUPPORTED_MODELS: tuple[str, ...] = tuple(_BACKENDS)


def model_side(name: str, folder: Path) -> WordModel | BertModel:
    """The input side of the bundle `name` in `folder` (its tokenizer, checked against its card)."""
    return _BACKENDS.get(source_model(name), WordModel)(name, folder)


@functools.lru_cache(maxsize=1)
def selected_model() -> WordModel | BertModel:
    """The chosen model's input side, loaded once per process."""
    name = model_name()
    return model_side(name, settings.models_dir() / name)


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


def state_config(model: WordModel) -> Config:
    """The data settings the model was trained with (its card), so training/validation match."""
    saved = model.card.get("config") or {}
    kept = {k: saved[k] for k in ("val_fraction", "seed", "train_limit") if k in saved}
    return Config(data=data_source(), **kept)


def capped(frame, limit: int | None, seed: int):
    """At most `limit` rows of a state, drawn with `seed` and in proportion to the labels (the
    unlabeled state: a plain seeded draw); the rows keep the state's order."""
    if limit is None or len(frame) <= limit:
        return frame
    if "label" not in frame:
        return frame.sample(n=limit, random_state=seed).sort_index()
    from sklearn.model_selection import train_test_split

    kept, _ = train_test_split(frame, train_size=limit, stratify=frame["label"], random_state=seed)
    return kept.sort_index()


@functools.lru_cache(maxsize=1)
def states() -> dict[str, StateData]:
    """training, validation, test and unlabeled, read from the source once per process, each capped
    at ``sample_limit_per_split`` of project_config.yaml."""
    cfg = state_config(selected_model())
    frames = data.load_states(cfg, include_unlabeled=True)
    limit = project_config.load().sample_limit_per_split
    return {name: StateData(name, capped(frames[name], limit, cfg.seed)) for name in STATES}


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
