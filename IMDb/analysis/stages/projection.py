"""The projection stage: the latent vectors mapped to 2-D (`IMDb.analysis.projection`: UMAP, PCA
or t-SNE). The map is drawn by the clusters stage, which colours it (the population section)."""
from __future__ import annotations

from dataclasses import dataclass

import numpy as np

from IMDb.analysis.run_state import Run
from IMDb.analysis.stage import Result, Stage, register


@dataclass
class ProjectionResult(Result):
    xy: np.ndarray
    method: str


def project(run: Run) -> ProjectionResult:
    from IMDb.analysis import projection

    method = run.settings["projection"]
    return ProjectionResult(projection.project(run.need("table").table.latent, method, run.settings["seed"]), method)


register(Stage("projection", ("analyze",), project, needs=("table",),
               detail=lambda r: f"{r.method} of {len(r.xy):,} points"))
