"""The label-decisions export (``label_decisions.csv``, written by ``imdb-leap explore``'s
label-error queue) read back for ``imdb-leap analyze --label-decisions``: the relabelled reviews
take their new label before anything is scored, so a corrected test split is measured as corrected.
The format lives here, with its reader, because the analysis is what depends on it; the explorer
writes it with these names.
"""
from __future__ import annotations

from pathlib import Path

import numpy as np
import pandas as pd

from IMDb.config.run import LABELS
from IMDb.errors import DataError

EXPORT = "label_decisions.csv"
DECISIONS = ("keep", "relabel", "unsure")
COLUMNS = ("sample_id", "original_label", "decision", "new_label", "time")


def read_relabels(path: str | Path) -> dict[str, int]:
    """The new label (class index) of each review a decisions export relabels, by sample id;
    a file that is not such an export is refused in one line."""
    try:
        frame = pd.read_csv(path, dtype=str, keep_default_na=False)
    except (OSError, ValueError, UnicodeDecodeError) as e:
        raise DataError(f"--label-decisions {path}: cannot read it as CSV ({type(e).__name__}); name the "
                        f"{EXPORT} that imdb-leap explore writes") from None
    bad = (list(frame.columns) != list(COLUMNS) or not frame["decision"].isin(DECISIONS).all()
           or not frame["original_label"].isin(LABELS).all())
    relabel = frame[frame["decision"] == "relabel"] if not bad else frame.iloc[:0]
    if bad or not relabel["new_label"].isin(LABELS).all():
        raise DataError(f"--label-decisions {path}: not a label-decisions export (columns "
                        f"{', '.join(COLUMNS)}; decisions {'/'.join(DECISIONS)}); name the {EXPORT} that "
                        f"imdb-leap explore writes")
    return {s: LABELS.index(n) for s, n in zip(relabel["sample_id"], relabel["new_label"])}


def apply_relabels(frame: pd.DataFrame, relabels: dict[str, int]) -> int:
    """Give each review of analysis table `frame` that `relabels` names its new label, in place, and
    score its loss, correctness and baselines' losses again; the number of labels changed."""
    from IMDb.analysis.baselines import BASELINES, binary_loss, column
    from IMDb.measures import losses

    new = frame["sample_id"].map(relabels).astype(np.float64)
    changed = (new.notna() & (new != frame["label"])).to_numpy()
    if changed.any():
        label = np.where(changed, new, frame["label"]).astype(np.float64)
        frame["label"] = label
        probs = frame.loc[changed, ["p_negative", "p_positive"]].to_numpy(dtype=np.float64)
        frame.loc[changed, "loss"] = losses.crossentropy_of_probabilities(np.eye(2)[label[changed].astype(int)],
                                                                          probs)
        frame.loc[changed, "correct"] = frame.loc[changed, "prediction"].to_numpy() == label[changed]
        for name in [b for b in BASELINES if column(b, "p_positive") in frame]:
            frame[column(name, "loss")] = binary_loss(label, frame[column(name, "p_positive")])
    return int(changed.sum())
