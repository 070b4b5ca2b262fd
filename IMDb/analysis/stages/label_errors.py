"""The label-errors stage: the likely label errors, confident-learning style, by the averaged
probabilities of the error models (``analyze --label-error-models``; ``compare``: both models),
each one's table built on the same reviews (`IMDb.analysis.label_errors`); its section is "Likely
label errors" and it writes label_errors.csv (every flagged review with its whole text)."""
from __future__ import annotations

from dataclasses import dataclass
from pathlib import Path
from typing import Any

import pandas as pd

from IMDb.analysis.escape import plain
from IMDb.analysis.label_decisions import apply_relabels
from IMDb.analysis.run_state import Run
from IMDb.analysis.sections import Section
from IMDb.analysis.stage import Result, Stage, register
from IMDb.analysis.runner import build_table, state_cfg
from IMDb.analysis.templating import table
from IMDb.output.formats import write_csv

LABEL_ERRORS_CSV = "label_errors.csv"  # every likely label error of a labeled state, linked from the page


def label_errors_csv(errors: pd.DataFrame, tables: dict) -> pd.DataFrame:
    """The rows of label_errors.csv: every flagged review, ranked, with its whole text (the report's
    table keeps a snippet) in place of the snippet and the input position."""
    texts = pd.concat([t.frame[["sample_id", "text"]] for t in tables.values()]).drop_duplicates("sample_id")
    out = errors.drop(columns=["snippet", "position"], errors="ignore").merge(texts, on="sample_id", how="left")
    return out.sort_values("rank", kind="stable")


@dataclass
class LabelErrorsResult(Result):
    """The flagged reviews, ranked (their figures in `errors.attrs`); None without labels."""

    errors: pd.DataFrame | None

    def summary(self) -> dict[str, Any]:
        errors = self.errors
        return {"label_errors": None if errors is None else {
            "count": errors.attrs.get("count", len(errors)), "n_labeled": errors.attrs.get("n_labeled"),
            "share": errors.attrs.get("share"), "thresholds": errors.attrs.get("thresholds"),
            "per_model": errors.attrs.get("per_model"), "file": LABEL_ERRORS_CSV,
            "top": errors.drop(columns=["snippet"], errors="ignore").head(100)}}

    def write(self, folder: Path, run: Run) -> list[str]:
        if self.errors is None:
            return []
        write_csv(label_errors_csv(self.errors, run.tables), folder / LABEL_ERRORS_CSV)
        return [LABEL_ERRORS_CSV]

    def section(self, run: Run) -> Section | None:
        if self.errors is None:
            return None
        attrs = self.errors.attrs
        per_model = attrs.get("per_model")
        flags = {"names": ", ".join(per_model), "flags": ", ".join(f"{m} {plain(n)}" for m, n in per_model.items())} \
            if per_model else None
        context = {"count": attrs.get("count", len(self.errors)), "n_labeled": attrs.get("n_labeled"),
                   "share": attrs.get("share"),
                   "thresholds": ", ".join(f"{k} {plain(v, 3)}" for k, v in attrs.get("thresholds", {}).items()),
                   "per_model": flags, "file": LABEL_ERRORS_CSV,
                   "table": table(self.errors, ["rank", "sample_id", "label", "suggested_label", "p_given_label",
                                                "p_suggested", "margin", "snippet"], limit=100)}
        return Section("label-errors", "Likely label errors", context)


def find(run: Run) -> LabelErrorsResult:
    """The error models' tables (those the run has not built are built on the same reviews, with the
    same relabels, without baselines) and the reviews their averaged probabilities flag."""
    from IMDb.analysis import label_errors

    tables = run.tables
    if run.frame is None or not run.frame["label"].notna().any():
        return LabelErrorsResult(None)
    models_dir, relabels = run.need("models_dir"), run.inputs.get("relabels") or {}
    for m in run.need("error_models"):
        if m not in tables:
            cfg = run.need("cfg") or state_cfg(m, models_dir, run.need("data"))
            tables[m] = build_table(m, run.state, run.settings["limit"], models_dir, cfg, False, run.need("progress"),
                                    run.settings["seed"])
            apply_relabels(tables[m].frame, relabels)
    return LabelErrorsResult(label_errors.from_tables([tables[m] for m in run.need("error_models")]))


def _detail(r: LabelErrorsResult) -> str:
    if r.errors is None:
        return "no labels"
    per_model = r.errors.attrs.get("per_model")
    return f"{r.errors.attrs['count']:,} likely" + (f" by {'+'.join(per_model)}; alone: " + ", ".join(
        f"{m} {n:,}" for m, n in per_model.items()) if per_model else "")


register(Stage("label errors", ("analyze", "compare"), find,
               needs=("error_models", "models_dir", "cfg", "data", "progress"), detail=_detail,
               absent={"label_errors": None}))
