"""`imdb-leap robustness`: how a shipped model behaves beyond accuracy.

- The behavioural suite (`IMDb.behaviour`): each test's failure rate on short texts and inside a
  neutral carrier paragraph, per capability.
- Counterfactual pairs (`IMDb.data.counterfactual`): accuracy on the CAD development originals and
  revisions, and both right; skipped, with the reason in robustness.json and on the page, when no
  folder of pairs is given.
- Calibration: what the model's card holds (`IMDb.robustness.calibrate` fits and records it), so a
  BERT robustness run does not re-score 25,000 reviews.
"""
from __future__ import annotations

import time
from pathlib import Path

from IMDb.config.run import MODELS_DIR
from IMDb.output.folders import REPORT_MARKER, atomic_dir, check_out_dir
from IMDb.output.formats import json_file

CAD_FILE = "dev_paired.tsv"  # the CAD development pairs: evaluated, never trained on


def behaviour(predict, seed: int = 0, progress: bool = False) -> dict:
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


def result(name: str, *, cad: str | Path | None = None, models_dir: str | Path = MODELS_DIR, seed: int = 0,
           progress: bool = False) -> dict:
    """The robustness.json document of model `name`: behaviour, the CAD development pairs (``"cad":
    {"skipped": "<reason>"}`` when neither `cad` nor $IMDB_CAD names their folder), and the
    calibration its card records."""
    from IMDb.data.counterfactual import cad_file, evaluate_pairs, not_given, read_pairs
    from IMDb.predict import Predictor

    skipped = not_given(CAD_FILE, cad)
    pairs = None if skipped else read_pairs(cad_file(CAD_FILE, cad))
    predictor = Predictor.load(name, Path(models_dir))
    started = time.perf_counter()
    out = {"model": name, "seed": seed, "behaviour": behaviour(predictor.predict, seed, progress),
           "cad": {"skipped": skipped} if skipped else {"file": CAD_FILE, **evaluate_pairs(predictor.predict, pairs)},
           "calibration": predictor.card.get("calibration"), "temperature_applied": predictor.temperature}
    out["seconds"] = round(time.perf_counter() - started, 1)
    return out


def default_out_dir(names: list[str]) -> Path:
    """reports/robustness-<models>, under the current folder (as `imdb-leap analyze`'s)."""
    return Path("reports") / f"robustness-{'-'.join(names)}"


def check_cad(cad: str | Path | None) -> str | None:
    """Before any work: the CAD development pairs `cad` (else $IMDB_CAD) names are read (a missing,
    empty or malformed file is one error); when none is named, the reason they are skipped."""
    from IMDb.data.counterfactual import cad_file, not_given, read_pairs

    skipped = not_given(CAD_FILE, cad)
    if not skipped:
        read_pairs(cad_file(CAD_FILE, cad))
    return skipped


def run_robustness(names: list[str], out_dir: str | Path | None = None, *, cad: str | Path | None = None,
                   models_dir: str | Path = MODELS_DIR, seed: int = 0, overwrite: bool = False,
                   progress: bool = True) -> Path:
    """robustness.json (a list, one document per model) and dashboard.html with the models side
    by side, in `out_dir` (default reports/robustness-<models> under the current folder); returns
    the folder. Without CAD pairs the behavioural suite still runs, and both files say the pairs
    were skipped and why."""
    import sys

    from IMDb.analysis.robustness_report import render
    from IMDb.bundle import read_card

    out = Path(out_dir) if out_dir is not None else default_out_dir(names)
    check_out_dir(out, REPORT_MARKER, replace=overwrite, flag="--overwrite")
    skipped = check_cad(cad)
    for name in names:  # a missing model fails before any work
        read_card(name, Path(models_dir))
    if skipped:
        print(f"robustness: counterfactual pairs skipped: {skipped}", file=sys.stderr, flush=True)
    results = [result(name, cad=cad, models_dir=models_dir, seed=seed, progress=progress) for name in names]
    with atomic_dir(out, REPORT_MARKER, replace=overwrite, flag="--overwrite") as tmp:
        (tmp / "robustness.json").write_text(json_file(results), encoding="utf-8")
        (tmp / "dashboard.html").write_text(render(results), encoding="utf-8")
    return out
