"""The clusters stage: the latent vectors clustered (`IMDb.analysis.clusters`; k by silhouette for
k-means without ``--k``, recorded in the settings); its section is the population map, coloured by
cluster (the insights stage shows the per-cluster figures)."""
from __future__ import annotations

from dataclasses import dataclass, field
from typing import Any

import numpy as np

from IMDb.analysis.latent_map import population_plot
from IMDb.analysis.run_state import Run
from IMDb.analysis.sections import Section
from IMDb.analysis.stage import Result, Stage, register


@dataclass
class ClustersResult(Result):
    """Each review's cluster (-1: noise), the map it is drawn on, and what the stage chose."""

    labels: np.ndarray
    xy: np.ndarray | None = None
    method: str = "projection"
    chosen: dict[str, Any] = field(default_factory=dict)

    def settings(self) -> dict[str, Any]:
        return dict(self.chosen)

    def section(self, run: Run) -> Section | None:
        if run.frame is None or self.xy is None:
            return None
        plot = population_plot(run.frame, np.asarray(self.xy), self.labels, self.method)
        return Section("population", "Population exploration", {"plot": plot}, (plot,))


def cluster(run: Run) -> ClustersResult:
    from IMDb.analysis import clusters as clustering

    latent, method, k, seed = run.need("table").table.latent, run.settings["clusters"], run.settings["k"], run.settings["seed"]
    scores = None
    if method == "kmeans" and k is None:
        k, scores = clustering.choose_k(latent, seed=seed)
    labels = clustering.cluster(latent, method, k, seed)
    chosen: dict[str, Any] = {"k_chosen": int(len(np.unique(labels[labels >= 0])))}
    if scores:
        chosen["silhouette"] = {str(c): round(s, 4) for c, s in scores.items()}
    xy = run.need("projection")
    return ClustersResult(labels, xy.xy, xy.method, chosen)


def _detail(r: ClustersResult) -> str:
    return f"{r.chosen['k_chosen']} clusters" + (" (k by silhouette)" if "silhouette" in r.chosen else "")


register(Stage("clusters", ("analyze",), cluster, needs=("table", "projection"),
               detail=_detail))
