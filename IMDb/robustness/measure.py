"""What the robustness stages measure, apart from how it is shown: a model's behavioural suite
(`behaviour`) and the CAD development pairs it is scored on (`cad_pairs`, read once before any
work by the command, which hands them to the counterfactual stage). The stages
that run these and render them are `IMDb.analysis.stages.behaviour` and `.counterfactual`.
"""
from __future__ import annotations

from collections.abc import Callable
from pathlib import Path

import numpy as np

CAD_FILE = "dev_paired.tsv"  # the CAD development pairs: evaluated, never trained on


def behaviour(predict: Callable[[list[str]], np.ndarray], seed: int = 0, progress: bool = False) -> dict:
    """Every behavioural test scored short and in a carrier paragraph, and the failure rate per
    capability for each."""
    from tqdm.auto import tqdm

    from IMDb.behaviour.scoring import by_capability, score
    from IMDb.behaviour.suite import generate

    tests = generate(seed)
    out = {}
    for form in ("short", "carrier"):
        chosen = tests if form == "short" else [t.in_carrier(seed) for t in tests]
        results = [score(t, predict) for t in tqdm(chosen, desc=f"behaviour ({form})", unit="test",
                                                    disable=not progress, mininterval=5)]
        out[form] = {"tests": results, "by_capability": by_capability(results)}
    out["cases"] = sum(len(t.cases) for t in tests)
    return out


def cad_pairs(cad: str | Path | None):
    """The CAD development pairs `cad` (else $IMDB_CAD) names and None, or None and why they are
    skipped when no folder is named; a missing, empty or malformed file is one error."""
    from IMDb.data.counterfactual import cad_file, not_given, read_pairs

    skipped = not_given(CAD_FILE, cad)
    return (None, skipped) if skipped else (read_pairs(cad_file(CAD_FILE, cad)), None)

