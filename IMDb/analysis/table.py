"""The per-sample table every analysis stage reads: one row per review of a state.

Columns: sample_id, state, text, label (float, NaN without a label), prediction, p_negative,
p_positive, loss (NaN without a label), correct, no_words (True for a review without a letter or
digit: its prediction means nothing, see `IMDb.text.has_words`), then every metadata field of the Tensorleap binder
(`IMDb.metadata.all_fields`, the same numbers the platform shows) flattened as ``<function>_<key>``,
or the function's name for a single value (the binder's ``label`` field is ``label_name``, as
``label`` is the numeric ground truth), and, when asked, the baselines' ``baseline_<name>_p_positive``
and ``baseline_<name>_loss``. Beside the frame: the latent layer's output per row.

Inference runs the Keras model (``model.h5`` through tf_keras) once per batch, with a sub-model that
returns the latent layer and the probabilities together, so one pass gives both.
"""
from __future__ import annotations

import functools
import json
import resource
import time
from dataclasses import dataclass, field
from pathlib import Path

import numpy as np
import pandas as pd

from IMDb import losses, metadata
from IMDb.predict import card_temperature
from IMDb.config import MODELS_DIR, Config
from IMDb.errors import ModelError
from IMDb.io import atomic_path
from IMDb.models import LATENT_LAYER
from IMDb.text import has_words

FORMAT = "imdb-leap/analysis-table/1"
BASE_COLUMNS = ("sample_id", "state", "text", "label", "prediction", "p_negative", "p_positive",
                "loss", "correct", "no_words")
RENAMED = {"label": "label_name"}  # metadata function -> column, where its name is taken


def _flat_types() -> dict[str, object]:
    out = {}
    for name, kind in metadata.TYPES.items():
        if isinstance(kind, dict):
            out.update({f"{name}_{key}": k for key, k in kind.items()})
        else:
            out[RENAMED.get(name, name)] = kind
    return out


# metadata column -> its declared DatasetMetadataType, in the binder's order
METADATA_TYPES: dict[str, object] = _flat_types()
METADATA_COLUMNS: tuple[str, ...] = tuple(METADATA_TYPES)
NUMERIC_METADATA: tuple[str, ...] = tuple(c for c, k in METADATA_TYPES.items()
                                          if getattr(k, "name", "") in ("int", "float", "boolean"))


@dataclass
class AnalysisTable:
    """One state's per-sample table (`frame`) and latent vectors (`latent`, row-aligned)."""

    frame: pd.DataFrame
    latent: np.ndarray
    model: str = ""
    timings: dict[str, float] = field(default_factory=dict)  # seconds per build step

    def __post_init__(self) -> None:
        self.latent = np.asarray(self.latent, dtype=np.float32)
        if self.latent.ndim != 2 or len(self.latent) != len(self.frame):
            raise ValueError(f"latent must be [n={len(self.frame)}, d], got {self.latent.shape}")

    def __len__(self) -> int:
        return len(self.frame)

    @property
    def fields(self) -> list[str]:
        """The metadata columns present in the frame."""
        return [c for c in METADATA_COLUMNS if c in self.frame]

    @property
    def numeric_fields(self) -> list[str]:
        """The numeric metadata columns with at least one value (e.g. not ``rating_*`` unlabeled)."""
        return [c for c in NUMERIC_METADATA if c in self.frame and self.frame[c].notna().any()]

    @property
    def labeled(self) -> np.ndarray:
        return self.frame["label"].notna().to_numpy()

    def save(self, path: str | Path) -> Path:
        """Parquet with the latent as a fixed-size list column; written atomically."""
        import pyarrow as pa
        import pyarrow.parquet as pq

        table = pa.Table.from_pandas(self.frame, preserve_index=False)
        n, d = self.latent.shape
        values = pa.array(np.ascontiguousarray(self.latent).reshape(-1), type=pa.float32())
        table = table.append_column("latent", pa.FixedSizeListArray.from_arrays(values, d))
        info = {"format": FORMAT, "model": self.model, "latent_dim": d, "timings": self.timings}
        table = table.replace_schema_metadata({**(table.schema.metadata or {}),
                                               b"imdb_leap": json.dumps(info).encode()})
        with atomic_path(path) as tmp:
            pq.write_table(table, tmp)
        return Path(path)

    @classmethod
    def load(cls, path: str | Path) -> "AnalysisTable":
        import pyarrow.parquet as pq

        table = pq.read_table(path)
        raw = (table.schema.metadata or {}).get(b"imdb_leap")
        info = json.loads(raw) if raw else {}
        if info.get("format") != FORMAT or "latent" not in table.column_names:
            raise ValueError(f"{path} is not an analysis table ({FORMAT})")
        latent = table.column("latent").combine_chunks()
        d = int(info["latent_dim"])
        vectors = latent.flatten().to_numpy(zero_copy_only=False).reshape(len(table), d)
        frame = table.drop_columns(["latent"]).to_pandas()
        return cls(frame, vectors.astype(np.float32), info.get("model", ""), info.get("timings", {}))


# --------------------------------------------------------------------------- model and inference


def _word_model(name: str, models_dir: Path):
    """The binder's view of the bundle (tokenizer checked against the card): metadata needs it."""
    from IMDb.integration import model_side

    return model_side(name, Path(models_dir) / name)


@functools.lru_cache(maxsize=2)
def _load_h5(path: str, mtime_ns: int):
    """The tf_keras model of an ``.h5`` file, read once per process and file version: an analysis
    needs it for the table and again for the attributions."""
    import tf_keras

    return tf_keras.models.load_model(path, compile=False)


@functools.lru_cache(maxsize=1)
def _load_keras3(path: str, mtime_ns: int):
    """The Keras 3 model of a ``.keras`` file (BERT: keras_hub's layers must be registered)."""
    import keras
    import keras_hub  # noqa: F401  (registers BertBackbone and its layers for deserialization)

    return keras.saving.load_model(path, compile=False)


def load_keras(name: str, models_dir: str | Path = MODELS_DIR, word_model=None):
    """(Keras model, its tokenizer): tf_keras from ``model.h5`` for the word models, checked to
    agree with the tokenizer on the sequence length; Keras 3 from ``model.keras`` for BERT."""
    word_model = word_model or _word_model(name, Path(models_dir))
    bert = len(word_model.input_names) > 1
    path = Path(models_dir) / name / ("model.keras" if bert else "model.h5")
    if not path.is_file():
        raise ModelError(f"model file not found: {path}")
    try:
        model = (_load_keras3 if bert else _load_h5)(str(path), path.stat().st_mtime_ns)
    except Exception as e:  # h5py and Keras raise untyped errors (OSError, ValueError...) on a bad file
        reason = (str(e).strip().splitlines() or [type(e).__name__])[0][:200]
        raise ModelError(f"{path} could not be loaded ({reason}): the file is corrupt or truncated; "
                         f"restore the bundle's {path.name} or retrain it with `imdb-leap train --model {name}`") from e
    if not bert and model.input_shape[-1] != word_model.seq_len:
        raise ModelError(f"{path} takes {model.input_shape[-1]} tokens but its tokenizer makes "
                         f"{word_model.seq_len}: the files belong to different models")
    return with_probabilities(model, card_temperature(word_model.card)), word_model.tokenizer


def with_probabilities(model, temperature: float | None = None):
    """The shipped model (it ends in logits) with a softmax layer ``probabilities`` on top, after
    dividing by the card's calibration temperature if it has one: the analysis reports, attributes
    and checks faithfulness in the probabilities `imdb-leap predict` shows."""
    import importlib

    keras = importlib.import_module("tf_keras" if type(model).__module__.startswith("tf_keras")
                                    else "keras")
    logits = model.output if temperature is None else \
        keras.layers.Rescaling(1.0 / temperature, name="temperature")(model.output)
    return keras.Model(model.inputs, keras.layers.Softmax(name="probabilities")(logits), name=model.name)


def latent_model(model):
    """A model with the same inputs and two outputs: [latent layer output, probabilities]."""
    import importlib

    keras = importlib.import_module("tf_keras" if type(model).__module__.startswith("tf_keras")
                                    else "keras")
    return keras.Model(model.inputs, [model.get_layer(LATENT_LAYER).output, model.output])


def predict(model, tokens: np.ndarray, batch_size: int = 512, progress: bool = False
            ) -> tuple[np.ndarray, np.ndarray]:
    """(latent float32 [n, d], probabilities float64 [n, 2]) of word-id arrays, batch by batch.

    `model` is the full model (a latent sub-model is built once here) or one from `latent_model`.
    """
    sub = model if len(model.outputs) == 2 else latent_model(model)
    d = int(sub.outputs[0].shape[-1])
    n = len(tokens)
    latent = np.zeros((n, d), dtype=np.float32)
    probs = np.zeros((n, 2), dtype=np.float64)
    starts = range(0, n, batch_size)
    if progress:
        from tqdm.auto import tqdm

        starts = tqdm(starts, desc="inference", unit="batch")
    for start in starts:
        batch = np.asarray(tokens[start:start + batch_size], dtype=np.float32)
        lat, prob = sub.predict_on_batch(batch)
        latent[start:start + len(batch)] = lat
        probs[start:start + len(batch)] = prob
    return latent, probs


def predict_pieces(model, tokenizer, texts: list[str], batch_size: int = 32, progress: bool = False
                   ) -> tuple[np.ndarray, np.ndarray]:
    """(latent, probabilities) of the BERT model on review texts. Batches are formed by length and
    padded tightly: at 256 pieces most IMDb reviews are shorter than the input, and attention costs
    grow with the square of the length."""
    from IMDb.wordpiece import INPUT_NAMES

    sub = latent_model(model)
    rows = tokenizer.ids(texts)
    order = np.argsort([len(r) for r in rows], kind="stable")
    latent = np.zeros((len(rows), int(sub.outputs[0].shape[-1])), dtype=np.float32)
    probs = np.zeros((len(rows), 2), dtype=np.float64)
    starts = range(0, len(rows), batch_size)
    if progress:
        from tqdm.auto import tqdm

        starts = tqdm(starts, desc="inference", unit="batch")
    for start in starts:
        idx = order[start:start + batch_size]
        arrays = tokenizer.pad_tight([rows[i] for i in idx])
        lat, prob = sub.predict_on_batch([arrays[name] for name in INPUT_NAMES])
        latent[idx], probs[idx] = lat, prob
    return latent, probs


# --------------------------------------------------------------------------- metadata


def metadata_frame(frame: pd.DataFrame, word_model, progress: bool = False) -> pd.DataFrame:
    """One column per binder metadata field for each review of `frame` (text, label, rating).

    Missing values (label-dependent fields without a label, the OOV ratio of an empty review) are
    NaN/None; an int field with a missing value becomes float.
    """
    from IMDb.integration import Review

    n = len(frame)
    labels = frame["label"].tolist() if "label" in frame else [None] * n
    ratings = frame["rating"].tolist() if "rating" in frame else [None] * n
    movies = frame["movie"].tolist() if "movie" in frame else [""] * n
    rows = zip(frame["sample_id"].tolist(), frame["text"].tolist(), labels, ratings, movies)
    if progress:
        from tqdm.auto import tqdm

        rows = tqdm(rows, total=n, desc="metadata", unit="review")
    columns: dict[str, list] = {}
    for sid, text, label, rating, movie in rows:
        label = None if label is None or pd.isna(label) else int(label)
        rating = None if rating is None or pd.isna(rating) else int(rating)
        for name, value in metadata.all_fields(Review(sid, text, label, rating, movie), word_model).items():
            if isinstance(value, dict):
                for key, v in value.items():
                    columns.setdefault(f"{name}_{key}", []).append(v)
            else:
                columns.setdefault(RENAMED.get(name, name), []).append(value)
    out = pd.DataFrame({c: _typed(v, METADATA_TYPES.get(c)) for c, v in columns.items()}, index=frame.index)
    return out if columns else pd.DataFrame(index=frame.index, columns=list(METADATA_COLUMNS))


def _typed(values: list, kind) -> pd.Series:
    kind = getattr(kind, "name", None)
    missing = any(v is None for v in values)
    if kind == "int":
        return pd.Series(values, dtype="float64" if missing else "int64")
    if kind == "float":
        return pd.Series([np.nan if v is None else v for v in values], dtype="float64")
    if kind == "boolean" and not missing:
        return pd.Series(values, dtype="bool")
    return pd.Series(values, dtype="object" if missing or kind != "string" else "str")


# --------------------------------------------------------------------------- the table


def stratified_sample(frame: pd.DataFrame, limit: int | None, seed: int = 0) -> pd.DataFrame:
    """`limit` rows drawn with `seed`, in the frame's order, keeping the label shares (when labeled)."""
    if limit is None or limit >= len(frame):
        return frame
    if limit <= 0:
        raise ValueError(f"limit must be positive, got {limit}")
    if "label" in frame and frame["label"].nunique() > 1 and limit >= frame["label"].nunique():
        from sklearn.model_selection import train_test_split

        picked, _ = train_test_split(frame, train_size=limit, stratify=frame["label"], random_state=seed)
    else:
        picked = frame.sample(n=limit, random_state=seed)
    return picked.sort_index()


def state_frames(name: str, state: str, models_dir: Path, cfg: Config | None) -> dict[str, pd.DataFrame]:
    """The data states as the model was trained with them (its card's split settings)."""
    from IMDb import data
    from IMDb.integration import state_config

    if state not in data.STATES:
        raise ValueError(f"unknown state {state!r}; choose one of {', '.join(data.STATES)}")
    cfg = cfg or state_config(_word_model(name, models_dir))
    return data.load_states(cfg, include_unlabeled=state == "unlabeled")


def table_from_frame(model, word_model, frame: pd.DataFrame, state: str, *, batch_size: int = 512,
                     progress: bool = True, train: pd.DataFrame | None = None, name: str = ""
                     ) -> AnalysisTable:
    """The table of the reviews in `frame` (sample_id, text and, when labeled, label and rating).

    `train` (the training state) adds the baselines' columns, the TF-IDF model fitted on it.
    """
    timings: dict[str, float] = {}
    t = time.perf_counter()
    frame = frame.reset_index(drop=True)
    if len(word_model.input_names) > 1:  # BERT: tokenized and batched by length inside
        timings["encode"] = 0.0
        latent, probs = predict_pieces(model, word_model.tokenizer, frame["text"].tolist(),
                                       progress=progress)
    else:
        tokens = word_model.tokenizer.encode(frame["text"].tolist())
        timings["encode"] = time.perf_counter() - t
        t = time.perf_counter()
        latent, probs = predict(model, tokens, batch_size=batch_size, progress=progress)
        del tokens
    timings["inference"] = time.perf_counter() - t

    label = frame["label"].to_numpy(dtype=np.float64) if "label" in frame else np.full(len(frame), np.nan)
    known = ~np.isnan(label)
    loss = np.full(len(frame), np.nan)
    if known.any():
        loss[known] = losses.crossentropy_of_probabilities(np.eye(2)[label[known].astype(int)], probs[known])
    prediction = probs.argmax(axis=1).astype(np.int64)
    correct = (prediction == label) if known.all() else np.where(known, prediction == label, np.nan)
    out = pd.DataFrame({
        "sample_id": frame["sample_id"].astype(str), "state": state, "text": frame["text"].astype(str),
        "label": label, "prediction": prediction, "p_negative": probs[:, 0], "p_positive": probs[:, 1],
        "loss": loss, "correct": correct, "no_words": ~frame["text"].map(has_words).to_numpy(dtype=bool)})

    t = time.perf_counter()
    out = pd.concat([out, metadata_frame(frame, word_model, progress=progress)], axis=1)
    timings["metadata"] = time.perf_counter() - t

    if train is not None:
        from IMDb.analysis.baselines import add_baselines

        t = time.perf_counter()
        out = add_baselines(out, train, progress=progress)
        timings["baselines"] = time.perf_counter() - t
    return AnalysisTable(out, latent, name, timings)


def build_table(name: str, state: str = "training", limit: int | None = None, *,
                models_dir: str | Path = MODELS_DIR, cfg: Config | None = None, batch_size: int = 512,
                progress: bool = True, baselines: bool = False, seed: int = 0) -> AnalysisTable:
    """The analysis table of model `name` on one state (training, validation, test or unlabeled).

    The states are carved as at training time (the model card's split settings; `cfg` overrides
    them and names the data). `limit` keeps a seeded, label-stratified sample. `baselines` adds the
    TextBlob and TF-IDF columns (TF-IDF fitted on the training state).
    `AnalysisTable.timings` records the seconds of each step and the process's peak RSS (MiB).
    """
    from IMDb.data import STATES

    if state not in STATES:
        raise ValueError(f"unknown state {state!r}; choose one of {', '.join(STATES)}")
    models_dir = Path(models_dir)
    t0 = time.perf_counter()
    word_model = _word_model(name, models_dir)
    model, _ = load_keras(name, models_dir, word_model)
    t_load = time.perf_counter() - t0

    t = time.perf_counter()
    frames = state_frames(name, state, models_dir, cfg)
    frame = stratified_sample(frames[state], limit, seed)
    t_data = time.perf_counter() - t

    table = table_from_frame(model, word_model, frame, state, batch_size=batch_size, progress=progress,
                             train=frames["training"] if baselines else None, name=name)
    table.timings = {"load_model": t_load, "load_data": t_data, **table.timings,
                     "total": time.perf_counter() - t0, "peak_rss_mib": peak_rss_mib()}
    return table


def peak_rss_mib() -> float:
    """Peak resident memory of this process so far, in MiB.

    Linux's VmHWM first: `ru_maxrss` survives exec, so a process started by a large parent would
    report the parent's peak.
    """
    try:
        with open("/proc/self/status") as status:
            for line in status:
                if line.startswith("VmHWM:"):
                    return int(line.split()[1]) / 1024
    except OSError:
        pass
    return resource.getrusage(resource.RUSAGE_SELF).ru_maxrss / 1024
