"""The per-sample table every analysis stage reads: one row per review of a state.

Columns: sample_id, state, text, label (float, NaN without a label), prediction, p_negative,
p_positive, loss (NaN without a label), correct, no_words (True for a review without a letter or
digit: its prediction means nothing, see `IMDb.text.word_tokenizer.has_words`), then every metadata field of the
Tensorleap binder (`IMDb.analysis.metadata_job`), and, when asked, the baselines'
``baseline_<name>_p_positive`` and ``baseline_<name>_loss``. Beside the frame: the latent layer's
output per row.

Inference is one pass of the model's ONNX graph (`IMDb.analysis.inference`: logits and the latent
layer) over the tokenizer's batches; meanwhile the metadata the per-review cache lacks are computed on worker processes.
"""
from __future__ import annotations

import contextlib
import json
import resource
import time
from dataclasses import dataclass, field
from pathlib import Path

import numpy as np
import pandas as pd

from IMDb.analysis.inference import latent_and_probabilities, load_latent_model
from IMDb.analysis.metadata_job import METADATA_COLUMNS, NUMERIC_METADATA, MetadataJob
from IMDb.bundle import Bundle
from IMDb.config.run import MODELS_DIR, Config
from IMDb.data import data_source
from IMDb.data import dataset_states
from IMDb.measures import losses
from IMDb.output.atomic import atomic_path
from IMDb.output.formats import dumps
from IMDb.text.word_tokenizer import has_words

FORMAT = "imdb-leap/analysis-table/1"
BASE_COLUMNS = ("sample_id", "state", "text", "label", "prediction", "p_negative", "p_positive",
                "loss", "correct", "no_words")
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
                                               b"imdb_leap": dumps(info).encode()})
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


# --------------------------------------------------------------------------- the table


def state_frames(bundle: Bundle, state: str, cfg: Config | None) -> dict[str, pd.DataFrame]:
    """The data states as the model was trained with them (its card's split settings), from `cfg`'s
    data, else the dataset `IMDb.data.data_source` chooses."""
    cfg = cfg or bundle.split_config(data_source.choose())
    return dataset_states.load_states(cfg, include_unlabeled=state == "unlabeled")


def table_from_frame(model, bundle: Bundle, frame: pd.DataFrame, state: str, *, batch_size: int | None = None,
                     progress: bool = True, train: pd.DataFrame | None = None,
                     metadata_job: MetadataJob | None = None) -> AnalysisTable:
    """The table of the reviews in `frame` (sample_id, text and, when labeled, label and rating),
    scored by `model` (`IMDb.analysis.inference.load_latent_model` of `bundle`) in batches of `batch_size`
    (default: the family's).

    `train` (the training state) adds the baselines' columns, the TF-IDF model fitted on it.
    `metadata_job` is the frame's `MetadataJob` if the caller started it already (index 0..n-1).
    """
    frame = frame.reset_index(drop=True)
    with contextlib.ExitStack() as stack:
        job = metadata_job or stack.enter_context(MetadataJob(frame, bundle.tokenizer, progress))
        return _table(model, bundle, frame, state, job, batch_size or bundle.family.batch_size, progress, train)


def _table(model, bundle: Bundle, frame: pd.DataFrame, state: str, job: MetadataJob, batch_size: int,
           progress: bool, train: pd.DataFrame | None) -> AnalysisTable:
    """Inference, then the TF-IDF baseline, here while `job`'s workers compute the metadata."""
    timings: dict[str, float] = {}
    t = time.perf_counter()
    latent, probs = latent_and_probabilities(model, bundle.tokenizer, frame["text"].tolist(), batch_size,
                                             progress=progress)
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
    return AnalysisTable(out, latent, bundle.name, timings)


def build_table(name: str, state: str = "training", limit: int | None = None, *,
                models_dir: str | Path = MODELS_DIR, cfg: Config | None = None, batch_size: int | None = None,
                progress: bool = True, baselines: bool = False, seed: int = 0) -> AnalysisTable:
    """The analysis table of model `name` on one state (training, validation, test or unlabeled).

    The states are carved as at training time (the model card's split settings; `cfg` overrides
    them and names the data). `limit` keeps a seeded, label-stratified sample. `baselines` adds the
    TextBlob and TF-IDF columns (TF-IDF fitted on the training state).
    `AnalysisTable.timings` records the seconds of each step and the process's peak RSS (MiB).
    The data are read first, so the metadata's workers start before the model is loaded.
    """
    if state not in dataset_states.STATES:
        raise ValueError(f"unknown state {state!r}; choose one of {', '.join(dataset_states.STATES)}")
    t0 = time.perf_counter()
    bundle = Bundle.read(name, models_dir)
    t_load = time.perf_counter() - t0
    t = time.perf_counter()
    frames = state_frames(bundle, state, cfg)
    frame = dataset_states.stratified_sample(frames[state], limit, seed).reset_index(drop=True)
    t_data = time.perf_counter() - t

    with MetadataJob(frame, bundle.tokenizer, progress) as job:
        t = time.perf_counter()
        model = load_latent_model(bundle)
        t_load += time.perf_counter() - t
        table = table_from_frame(model, bundle, frame, state, batch_size=batch_size, progress=progress,
                                 train=frames["training"] if baselines else None, metadata_job=job)
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
