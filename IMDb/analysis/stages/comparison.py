"""The comparison stage of ``imdb-leap compare``: model a against model b sample by sample on the
same reviews (`IMDb.analysis.compare`); its section is "Model comparison" and it writes
comparison.parquet (one row per shared review)."""
from __future__ import annotations

from dataclasses import dataclass
from pathlib import Path
from typing import Any

import pandas as pd

from IMDb.analysis.comparison_plots import agreement_plot, loss_change_plot, worst_failures_plot
from IMDb.analysis.escape import plain
from IMDb.analysis.run_state import Run
from IMDb.analysis.sections import Section
from IMDb.analysis.stage import Result, Stage, register
from IMDb.analysis.templating import table
from IMDb.errors import AnalysisError


@dataclass
class ComparisonResult(Result):
    """`IMDb.analysis.compare.compare`'s dict: summary, agreement, frame, worst failures, lists."""

    comparison: dict

    def summary(self) -> dict[str, Any]:
        comp = self.comparison
        return {"comparison": None if not comp else {
            "summary": comp.get("summary"),
            "agreement": comp["agreement"].to_dict(orient="split") if "agreement" in comp else None,
            "worst_failures": comp.get("worst_failures", pd.DataFrame()).drop(columns=["snippet"], errors="ignore")}}

    def write(self, folder: Path, run: Run) -> list[str]:
        if "frame" not in self.comparison:
            return []
        self.comparison["frame"].to_parquet(folder / "comparison.parquet", index=False)
        return ["comparison.parquet"]

    def section(self, run: Run) -> Section | None:
        comp = self.comparison
        if not comp:
            return None
        s = comp.get("summary", {})
        names = s.get("names", ["a", "b"])
        a, b = names
        cols = ["sample_id", "label", f"loss_{a}", f"loss_{b}", "loss_change", "relative_loss_change", "snippet"]
        worst = comp.get("worst_failures")
        plots = (agreement_plot(comp["agreement"]) if "agreement" in comp else None,
                 loss_change_plot(comp.get("frame", pd.DataFrame()), names), worst_failures_plot(worst, names))
        titles = (("b_right_a_wrong", f"{b} right, {a} wrong"), ("a_right_b_wrong", f"{a} right, {b} wrong"))
        lists = [(title, len(comp[key]), table(comp[key], cols, limit=50))
                 for key, title in titles if comp.get(key) is not None]
        context = {"pairs": [(k.replace("_", " "), plain(v)) for k, v in s.items() if k != "names"],
                   "a": a, "b": b, "plots": [p for p in plots if p is not None],
                   "worst": table(worst, cols + [f"correct_{b}"]) if worst is not None else None, "lists": lists}
        return Section("comparison", "Model comparison", context, plots)


def compare(run: Run) -> ComparisonResult:
    """The two tables compared; two models that share no review are refused in one line."""
    from IMDb.analysis.compare import compare as compare_tables

    a, b = run.need("models")
    result = compare_tables(run.need("table a").table, run.need("table b").table, (a, b), worst=run.settings["worst"])
    if result["summary"]["n"] == 0:
        raise AnalysisError(f"{a} and {b} share no review of the {run.state} state: were they trained on "
                            f"different splits? (compare the seed/val_fraction in their model cards)")
    return ComparisonResult(result)


register(Stage("comparison", ("compare",), compare, needs=("table a", "table b", "models"),
               detail=lambda r: f"{r.comparison['summary']['n']:,} shared reviews", absent={"comparison": None}))
