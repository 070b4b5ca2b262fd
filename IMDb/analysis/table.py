"""The per-sample table every analysis stage reads: one row per review of a state.

Columns: sample_id, state, text, label (float, NaN without a label), prediction, p_negative,
p_positive, loss (NaN without a label), correct, no_words (True for a review without a letter or
digit: its prediction means nothing, see `IMDb.text.has_words`), then every metadata field of the Tensorleap binder
(`IMDb.metadata.all_fields`, the same numbers the platform shows) flattened as ``<function>_<key>``,
or the function's name for a single value (the binder's ``label`` field is ``label_name``, as
``label`` is the numeric ground truth), and, when asked, the baselines' ``baseline_<name>_p_positive``
and ``baseline_<name>_loss``. Beside the frame: the latent layer's output per row.

Inference runs the Keras model (``model.h5`` through tf_keras) once per batch, with a sub-model that
returns the latent layer and the probabilities together, so one pass gives both. Meanwhile the
metadata of the reviews the per-review cache (`IMDb.cache`) lacks are computed on worker processes.
"""
from __future__ import annotations

import contextlib
import functools
import importlib.metadata
import json
import multiprocessing
import os
import resource
import time
import warnings
from concurrent.futures import ProcessPoolExecutor
from concurrent.futures.process import BrokenProcessPool
from dataclasses import dataclass, field
from pathlib import Path

import numpy as np
import pandas as pd

from IMDb import cache, losses, metadata
from IMDb.predict import card_temperature
from IMDb.config import DERIVED, MODELS_DIR, Config
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
    agree with the tokenizer on the sequence length; Keras 3 from ``model.keras`` for BERT. A model
    made without training (`IMDb.config.DERIVED`, such as bert-int8) ships only its ONNX file: an
    `OnnxLatent` of it stands in (it has no gradients: its attributions use its source model)."""
    word_model = word_model or _word_model(name, Path(models_dir))
    if name in DERIVED:
        from IMDb.analysis.onnx_latent import OnnxLatent

        return OnnxLatent(Path(models_dir) / name / "model.onnx", card_temperature(word_model.card)), \
            word_model.tokenizer
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
    sub = _latent_sub(model)
    n = len(tokens)
    latent = None
    probs = np.zeros((n, 2), dtype=np.float64)
    starts = range(0, n, batch_size)
    if progress:
        from tqdm.auto import tqdm

        starts = tqdm(starts, desc="inference", unit="batch")
    for start in starts:
        batch = np.asarray(tokens[start:start + batch_size], dtype=np.float32)
        lat, prob = sub.predict_on_batch(batch)
        if latent is None:
            latent = np.zeros((n, lat.shape[-1]), dtype=np.float32)
        latent[start:start + len(batch)] = lat
        probs[start:start + len(batch)] = prob
    return (latent if latent is not None else _no_latent(sub)), probs


def _no_latent(sub) -> np.ndarray:
    """The [0, d] latent array of an empty batch (d from the Keras graph; 0 for ONNX)."""
    return np.zeros((0, int(sub.outputs[0].shape[-1]) if hasattr(sub, "outputs") else 0), np.float32)


def _latent_sub(model):
    """What answers predict_on_batch with (latent, probabilities): an `OnnxLatent` as it is, a Keras
    model through `latent_model` (unless it already has the two outputs)."""
    from IMDb.analysis.onnx_latent import OnnxLatent

    if isinstance(model, OnnxLatent) or len(model.outputs) == 2:
        return model
    return latent_model(model)


def predict_pieces(model, tokenizer, texts: list[str], batch_size: int = 32, progress: bool = False
                   ) -> tuple[np.ndarray, np.ndarray]:
    """(latent, probabilities) of the BERT model on review texts. Batches are formed by length and
    padded tightly: at 256 pieces most IMDb reviews are shorter than the input, and attention costs
    grow with the square of the length."""
    from IMDb.wordpiece import INPUT_NAMES

    sub = _latent_sub(model)
    rows = tokenizer.ids(texts)
    order = np.argsort([len(r) for r in rows], kind="stable")
    latent = None
    probs = np.zeros((len(rows), 2), dtype=np.float64)
    starts = range(0, len(rows), batch_size)
    if progress:
        from tqdm.auto import tqdm

        starts = tqdm(starts, desc="inference", unit="batch")
    for start in starts:
        idx = order[start:start + batch_size]
        arrays = tokenizer.pad_tight([rows[i] for i in idx])
        lat, prob = sub.predict_on_batch([arrays[name] for name in INPUT_NAMES])
        if latent is None:
            latent = np.zeros((len(rows), lat.shape[-1]), dtype=np.float32)
        latent[idx], probs[idx] = lat, prob
    return (latent if latent is not None else _no_latent(sub)), probs


# --------------------------------------------------------------------------- metadata


CHUNK = 1000  # reviews per worker task; no more missing reviews than this are computed in this process


def metadata_frame(frame: pd.DataFrame, word_model, progress: bool = False) -> pd.DataFrame:
    """One column per binder metadata field for each review of `frame` (text, label, rating).

    Missing values (label-dependent fields without a label, the OOV ratio of an empty review) are
    NaN/None; an int field with a missing value becomes float. See `MetadataJob` for the cache.
    """
    with MetadataJob(frame, word_model, progress) as job:
        return job.result().set_axis(frame.index)


class MetadataJob:
    """The metadata columns of a frame's reviews, started on creation and collected by `result`.

    The text fields (`IMDb.metadata.text_fields`) and the tokenizer's (`tokenizer_fields`) come from
    the per-review cache (`IMDb.cache`); the reviews it lacks are computed on worker processes, one
    per core but this process's, while this process loads the model, runs it and scores the TF-IDF
    baseline: TextBlob (about 1,500 reviews a second on one core) is the slowest part of a first
    table. The label fields are computed in `result`.
    """

    def __init__(self, frame: pd.DataFrame, word_model, progress: bool = False):
        texts = frame["text"].tolist()
        self.frame, self.progress = frame, progress
        self.parts = [(cache.lookup("metadata-text", _text_version(), texts), None),
                      (cache.lookup("metadata-tokens", _tokenizer_version(word_model), texts), word_model)]
        self.tasks = [(part, lookup.missing[i:i + CHUNK], model)
                      for part, (lookup, model) in enumerate(self.parts)
                      for i in range(0, len(lookup.missing), CHUNK)]
        missing = sum(len(lookup.missing) for lookup, _ in self.parts)
        # one core stays with this process (the model, the TF-IDF baseline): on 2 cores a second
        # worker gained no time and held 250 MB more
        workers = min(len(self.tasks), len(os.sched_getaffinity(0)) - 1) if missing > CHUNK else 0
        self.pool, self.broken = None, False
        if workers > 0:  # spawned, not forked: this process may hold TensorFlow's threads
            self.pool = ProcessPoolExecutor(workers, mp_context=multiprocessing.get_context("spawn"))
        self.futures = [self.pool.submit(_field_columns, chunk, model) for _, chunk, model in self.tasks] \
            if self.pool else []

    def __enter__(self) -> "MetadataJob":
        return self

    def __exit__(self, *exc) -> None:
        if self.pool is not None:
            self.pool.shutdown(wait=True, cancel_futures=True)

    def result(self) -> pd.DataFrame:
        """The metadata frame, index 0..n-1, columns in the binder's order."""
        n = len(self.frame)
        if n == 0:
            return pd.DataFrame(index=pd.RangeIndex(0), columns=list(METADATA_COLUMNS))
        computed: list[dict[str, list]] = [{} for _ in self.parts]
        from tqdm.auto import tqdm

        with tqdm(total=sum(len(chunk) for _, chunk, _ in self.tasks), desc="metadata", unit="review",
                  disable=not self.progress or not self.tasks) as bar:
            for i, (part, chunk, model) in enumerate(self.tasks):
                columns = self._worker_result(i) if self.futures else None
                columns = columns if columns is not None else _field_columns(chunk, model)
                for column, values in columns.items():
                    computed[part].setdefault(column, []).extend(values)
                bar.update(len(chunk))
        columns = dict(self._label_columns())
        for (lookup, _), values in zip(self.parts, computed):
            fresh = pd.DataFrame({c: _typed(v, METADATA_TYPES.get(c)) for c, v in values.items()})
            columns.update(lookup.fill(fresh if lookup.missing else None).items())
        return pd.DataFrame({c: columns[c] for c in METADATA_COLUMNS if c in columns})

    def _worker_result(self, i: int) -> dict[str, list] | None:
        """Task `i`'s columns from its worker; None if the workers died, e.g. because the calling
        script lacks ``if __name__ == "__main__":`` (a spawned worker imports it again)."""
        try:
            return self.futures[i].result()
        except BrokenProcessPool:
            if not self.broken:
                warnings.warn("the metadata workers failed; computing the metadata in this process "
                              "(guard the calling script with `if __name__ == \"__main__\":`)",
                              RuntimeWarning, stacklevel=4)
            self.broken = True
            return None

    def _label_columns(self) -> dict[str, pd.Series]:
        frame, n = self.frame, len(self.frame)
        labels = frame["label"].tolist() if "label" in frame else [None] * n
        ratings = frame["rating"].tolist() if "rating" in frame else [None] * n
        columns: dict[str, list] = {}
        for label, rating in zip(labels, ratings):
            label = None if label is None or pd.isna(label) else int(label)
            rating = None if rating is None or pd.isna(rating) else int(rating)
            _flatten({"label": metadata.label(label), "rating": metadata.rating(rating)}, columns)
        return {c: _typed(v, METADATA_TYPES.get(c)) for c, v in columns.items()}


def _field_columns(texts: list[str], model=None) -> dict[str, list]:
    """The text fields of each review or, given the model's side, its tokenizer fields, as lists
    by column (a worker process runs this)."""
    columns: dict[str, list] = {}
    for text in texts:
        _flatten(metadata.text_fields(text) if model is None else metadata.tokenizer_fields(text, model),
                 columns)
    return columns


def _flatten(fields: dict[str, object], columns: dict[str, list]) -> None:
    """Append one review's fields to `columns` as ``<function>_<key>`` (or the renamed function)."""
    for name, value in fields.items():
        if isinstance(value, dict):
            for key, v in value.items():
                columns.setdefault(f"{name}_{key}", []).append(v)
        else:
            columns.setdefault(RENAMED.get(name, name), []).append(value)


def _text_version() -> str:
    """What the text fields depend on: their code and TextBlob's lexicon."""
    return cache.version(importlib.metadata.version("textblob"), modules=("IMDb.metadata", "IMDb.text"))


def _tokenizer_version(word_model) -> str:
    """What the tokenizer fields depend on: their code, the tokenizer's code, vocabulary and length."""
    return cache.version(type(word_model).__name__, word_model.tokenizer.fingerprint,
                         importlib.metadata.version("tokenizers"),
                         modules=("IMDb.metadata", "IMDb.integration", type(word_model.tokenizer).__module__))


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
                     progress: bool = True, train: pd.DataFrame | None = None, name: str = "",
                     metadata_job: MetadataJob | None = None) -> AnalysisTable:
    """The table of the reviews in `frame` (sample_id, text and, when labeled, label and rating).

    `train` (the training state) adds the baselines' columns, the TF-IDF model fitted on it.
    `metadata_job` is the frame's `MetadataJob` if the caller started it already (index 0..n-1).
    """
    frame = frame.reset_index(drop=True)
    with contextlib.ExitStack() as stack:
        job = metadata_job or stack.enter_context(MetadataJob(frame, word_model, progress))
        return _table(model, word_model, frame, state, job, batch_size, progress, train, name)


def _table(model, word_model, frame: pd.DataFrame, state: str, job: MetadataJob, batch_size: int,
           progress: bool, train: pd.DataFrame | None, name: str) -> AnalysisTable:
    """Inference, then the TF-IDF baseline, here while `job`'s workers compute the metadata."""
    timings: dict[str, float] = {}
    t = time.perf_counter()
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

    if train is not None:
        from IMDb.analysis.baselines import add_baselines, tfidf_scores

        t = time.perf_counter()
        p_tfidf = tfidf_scores(train, frame["text"].tolist(), progress=progress)
        timings["baselines"] = time.perf_counter() - t
    t = time.perf_counter()
    out = pd.concat([out, job.result()], axis=1)
    timings["metadata"] = time.perf_counter() - t  # what is left to wait for once the rest is done
    if train is not None:
        out = add_baselines(out, train, tfidf=p_tfidf)
    return AnalysisTable(out, latent, name, timings)


def build_table(name: str, state: str = "training", limit: int | None = None, *,
                models_dir: str | Path = MODELS_DIR, cfg: Config | None = None, batch_size: int = 512,
                progress: bool = True, baselines: bool = False, seed: int = 0) -> AnalysisTable:
    """The analysis table of model `name` on one state (training, validation, test or unlabeled).

    The states are carved as at training time (the model card's split settings; `cfg` overrides
    them and names the data). `limit` keeps a seeded, label-stratified sample. `baselines` adds the
    TextBlob and TF-IDF columns (TF-IDF fitted on the training state).
    `AnalysisTable.timings` records the seconds of each step and the process's peak RSS (MiB).
    The data are read first, so the metadata's workers start before the model is loaded.
    """
    from IMDb.data import STATES

    if state not in STATES:
        raise ValueError(f"unknown state {state!r}; choose one of {', '.join(STATES)}")
    models_dir = Path(models_dir)
    t0 = time.perf_counter()
    word_model = _word_model(name, models_dir)
    t_load = time.perf_counter() - t0
    t = time.perf_counter()
    frames = state_frames(name, state, models_dir, cfg)
    frame = stratified_sample(frames[state], limit, seed).reset_index(drop=True)
    t_data = time.perf_counter() - t

    with MetadataJob(frame, word_model, progress) as job:
        t = time.perf_counter()
        model, _ = load_keras(name, models_dir, word_model)
        t_load += time.perf_counter() - t
        table = table_from_frame(model, word_model, frame, state, batch_size=batch_size, progress=progress,
                                 train=frames["training"] if baselines else None, name=name, metadata_job=job)
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
