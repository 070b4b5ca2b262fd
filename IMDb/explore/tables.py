"""What the explorer shows: one state's analysis table per loaded model, on the same reviews, with
the first model's 2-D map, clusters and latent vectors.

The tables are those of ``imdb-leap analyze`` (`IMDb.analysis.runner.build_table`: the same stages,
metadata cache and seeded ``--limit`` sample), or a report folder's own ``table.parquet`` with
``--from`` (its reviews, state, limit and seed; a loaded model the report lacks is scored on the same
reviews). The map is `IMDb.analysis.projection.project` (cached: a report's map is read back), the
clusters k-means with the report's k, else k by silhouette, as analyze chooses it.
"""
from __future__ import annotations

import json
from collections.abc import Callable
from dataclasses import dataclass, field
from pathlib import Path

import numpy as np
import pandas as pd

from IMDb.analysis.latent_map import color_options
from IMDb.analysis.table import AnalysisTable
from IMDb.config.run import MODELS_DIR
from IMDb.errors import DataError

PER_MODEL = ("prediction", "p_positive", "loss")  # each loaded model's own columns: "<column> (<model>)"


@dataclass
class Source:
    """What to load: the models (the first one's latent space is mapped), the state and sample, and
    optionally the report folder whose table and settings to reuse."""

    models: list[str]
    state: str = "test"
    limit: int | None = None
    seed: int = 0
    projection: str = "umap"
    k: int | None = None
    models_dir: Path = MODELS_DIR
    data: str | None = None
    report: Path | None = None


@dataclass
class Explored:
    """The loaded state: `frame` (the first model's table, plus ``"<column> (<model>)"`` for every
    model when several are loaded), row-aligned `latent`, `xy` and `clusters`; `options` are the
    fields the map can be coloured and sized by (`IMDb.analysis.latent_map.color_options`)."""

    models: list[str]
    frame: pd.DataFrame
    latent: np.ndarray
    xy: np.ndarray
    clusters: np.ndarray
    options: dict[str, dict] = field(default_factory=dict)

    def __len__(self) -> int:
        return len(self.frame)

    def column(self, model: str, name: str) -> str:
        """The frame's column of `name` (one of `PER_MODEL`) for `model`."""
        return name if len(self.models) == 1 else f"{name} ({model})"


def read_report(folder: Path) -> dict:
    """A report folder's settings (summary.json), refused in one line unless it is one."""
    try:
        summary = json.loads((folder / "summary.json").read_text(encoding="utf-8"))
        settings = summary["settings"]
        settings["state"] = summary["state"]
        settings["models"] = settings.get("models") or [settings["model"]]
    except (OSError, ValueError, KeyError, TypeError) as e:
        raise DataError(f"--from {folder}: not an imdb-leap analyze or compare report (no readable "
                        f"summary.json: {type(e).__name__}); name a folder `imdb-leap analyze` wrote") from None
    return settings


def _report_table(folder: Path, model: str, settings: dict) -> AnalysisTable | None:
    if model not in settings["models"]:
        return None
    path = folder / ("table.parquet" if len(settings["models"]) == 1 else f"table_{model}.parquet")
    try:
        return AnalysisTable.load(path)
    except (OSError, ValueError) as e:
        raise DataError(f"--from {folder}: {path.name} cannot be read ({e}); run the analysis again") from None


def load(source: Source, note: Callable[[str], None], progress: bool = False) -> Explored:
    """Every model's table, then the map and clusters; `note` is told each stage as it starts."""
    from IMDb.analysis.runner import build_table, state_cfg

    settings = read_report(source.report) if source.report else None
    tables: dict[str, AnalysisTable] = {}
    for name in source.models:
        table = _report_table(source.report, name, settings) if settings else None
        if table is None:
            note(f"scoring the {source.state} state with {name}")
            table = build_table(name, source.state, source.limit, source.models_dir,
                                state_cfg(name, source.models_dir, source.data), False, progress, source.seed)
        tables[name] = table
    note(f"mapping the latent space ({source.projection})")
    return explored(tables, source.projection, source.seed, source.k)


def explored(tables: dict[str, AnalysisTable], projection: str = "umap", seed: int = 0,
             k: int | None = None) -> Explored:
    """The explorer's state from the models' tables (the first one's reviews, map and clusters)."""
    from IMDb.analysis import clusters as clustering
    from IMDb.analysis.projection import project

    models = list(tables)
    first = tables[models[0]]
    frame = first.frame.reset_index(drop=True).copy()
    if len(models) > 1:
        for name, table in tables.items():
            own = table.frame.drop_duplicates("sample_id").set_index("sample_id")
            for column in PER_MODEL:
                frame[f"{column} ({name})"] = own[column].reindex(frame["sample_id"]).to_numpy()
    xy = project(first.latent, projection, seed)
    k = k or clustering.choose_k(first.latent, seed=seed)[0]
    labels = clustering.cluster(first.latent, "kmeans", k, seed)
    options = color_options(frame, labels)
    for name in models if len(models) > 1 else []:
        for column in ("loss", "p_positive"):
            values = frame[f"{column} ({name})"].to_numpy(dtype=float)
            if np.isfinite(values).any():
                options[f"{column} ({name})"] = {"kind": "numeric", "values": values}
    return Explored(models, frame, first.latent, np.asarray(xy, dtype=np.float32), np.asarray(labels), options)
