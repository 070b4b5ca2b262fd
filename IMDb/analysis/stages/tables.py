"""The table stages: each model's per-review table (`IMDb.analysis.runner.build_table`).
``analyze`` builds one ("table": the model's, with ``--label-decisions`` applied), ``compare`` two
("table a", "table b", on the same reviews). They show no section of their own: the page's summary
section and the report's files read every table (`IMDb.analysis.run_state.Run.tables`).
"""
from __future__ import annotations

import sys

from IMDb.analysis.label_decisions import apply_relabels
from IMDb.analysis.run_state import Run, TableResult
from IMDb.analysis.stage import Stage, register
from IMDb.analysis.runner import build_table, state_cfg


def _table(run: Run, model: str, baselines: bool):
    cfg = run.need("cfg") or state_cfg(model, run.need("models_dir"), run.need("data"))
    return build_table(model, run.state, run.settings["limit"], run.need("models_dir"), cfg, baselines,
                       run.need("progress"), run.settings["seed"])


def analyzed(run: Run) -> TableResult:
    """The analysed model's table; the reviews ``--label-decisions`` names get their new labels
    (recorded in the settings and said on stderr)."""
    name = run.settings["model"]
    table = _table(run, name, run.need("baselines"))
    relabels, chosen = run.need("relabels"), {}
    if relabels is not None:
        changed = apply_relabels(table.frame, relabels)
        chosen["label_decisions"] = {"file": str(run.need("label_decisions")), "changed": changed}
        print(f"analyze: --label-decisions {run.need('label_decisions')}: {changed:,} label(s) changed",
              file=sys.stderr, flush=True)
    return TableResult(name, table, chosen)


def _compared(index: int) -> Stage:
    """Compare's table of model a (index 0, with the baselines) or b (1, without)."""
    def build(run: Run) -> TableResult:
        model = run.need("models")[index]
        return TableResult(model, _table(run, model, run.need("baselines") and index == 0))

    return Stage("table " + "ab"[index], ("compare",), build,
                 needs=("models", "cfg", "data", "models_dir", "baselines", "progress"),
                 detail=lambda r: f"{r.model}: {len(r.table):,} reviews")


NEEDS = ("cfg", "data", "models_dir", "baselines", "progress", "relabels", "label_decisions")
register(Stage("table", ("analyze",), analyzed, needs=NEEDS,
               detail=lambda r: f"{len(r.table):,} reviews, latent {r.table.latent.shape[1]}-d"))
register(_compared(0))
register(_compared(1))
