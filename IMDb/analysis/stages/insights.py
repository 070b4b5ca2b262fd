"""The insights stage: each cluster's figures and description, and the ranked significant insights
(`IMDb.analysis.clusters.insights`, headlines by `IMDb.analysis.describe`); its section is
"Clusters and insights"."""
from __future__ import annotations

from dataclasses import dataclass, field
from typing import Any

import pandas as pd

from IMDb.analysis.escape import plain
from IMDb.analysis.metric_plots import cluster_plot
from IMDb.analysis.run_state import Run
from IMDb.analysis.sections import Section, population_loss, text
from IMDb.analysis.stage import Result, Stage, register
from IMDb.analysis.templating import table

MAX_INSIGHTS = 30  # shown in the page; summary.json holds them all


def _insight(ins: dict) -> dict:
    """One ranked insight's texts (plain; the template escapes them)."""
    stat = ins.get("statistic")
    if isinstance(stat, dict):
        stat_text = ", ".join(f"{k} {plain(v)}" for k, v in stat.items())
    else:
        stat_text = f"{text(stat)} {plain(ins.get('statistic_value', ins.get('value')))}"
    effect = ins.get("effect_size")
    effect_text = (", ".join(f"{k} {plain(v)}" for k, v in effect.items()) if isinstance(effect, dict)
                   else f"{text(ins.get('effect_size_name', 'effect size'))} {plain(effect)}")
    rest = f" vs rest {plain(ins.get('rest_mean_loss'))}" if ins.get("rest_mean_loss") is not None else ""
    adjusted = f", Holm-adjusted p {plain(ins.get('p_adjusted'))}" if ins.get("p_adjusted") is not None else ""
    return {"headline": text(ins.get("headline")), "kind": text(ins.get("kind", "")),
            "description": text(ins.get("description", "")), "n": ins.get("n"), "mean_loss": ins.get("mean_loss"),
            "rest": rest, "population": ins.get("population_mean_loss"), "statistic": stat_text,
            "p_value": ins.get("p_value"), "adjusted": adjusted, "effect": effect_text}


@dataclass
class InsightsResult(Result):
    """The per-cluster summary (a description first) and every significant insight, ranked."""

    cluster_summary: pd.DataFrame | None
    insights: list[dict] = field(default_factory=list)

    def summary(self) -> dict[str, Any]:
        return {"clusters": self.cluster_summary, "insights": self.insights}

    def section(self, run: Run) -> Section | None:
        if self.cluster_summary is None and not self.insights:
            return None
        plot, per_cluster = None, None
        if self.cluster_summary is not None:
            frame = self.cluster_summary
            frame = frame.reset_index() if frame.index.name else frame
            plot, per_cluster = cluster_plot(frame, population_loss(run.frame)), table(frame)
        context = {"plot": plot, "per_cluster": per_cluster, "count": len(self.insights),
                   "insights": [_insight(i) for i in self.insights[:MAX_INSIGHTS]],
                   "more": max(0, len(self.insights) - MAX_INSIGHTS)}
        return Section("clusters", "Clusters and insights", context, (plot,))


def find(run: Run) -> InsightsResult:
    from IMDb.analysis import clusters as clustering
    from IMDb.analysis import describe

    tab, labels = run.need("table").table, run.need("clusters").labels
    frame, fields = tab.frame, tab.numeric_fields
    summary = clustering.cluster_summary(frame, labels, fields)
    found = clustering.insights(frame, labels, fields)
    described = describe.describe_clusters(frame, labels, fields)
    summary.insert(0, "description", [described.get(int(c), "") for c in summary.index])
    for insight in found:
        insight["headline"] = describe.headline(insight, described.get(insight.get("cluster")))
    return InsightsResult(summary, found)


register(Stage("insights", ("analyze",), find, needs=("table", "clusters"),
               detail=lambda r: f"{len(r.insights)} significant", absent={"clusters": None, "insights": []}))
