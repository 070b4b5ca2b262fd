"""Which reviews to explain: the model's costliest mistakes, or the reviews it is least sure about.

The sample analysis explains a handful of reviews (``imdb-leap analyze --samples N``). The most
telling are the highest-loss false positives and false negatives (`choose_samples`); a state with no
labels (or no errors) has none, so `samples_to_explain` fills up with the reviews whose p_positive is
closest to 0.5. Each chosen row carries a `kind` column saying why it was chosen.
"""
from __future__ import annotations

import numpy as np
import pandas as pd

from IMDb.config.run import LABELS

POSITIVE = LABELS.index("positive")
NEGATIVE = LABELS.index("negative")


def choose_samples(frame: pd.DataFrame, n: int = 6) -> pd.DataFrame:
    """The highest-loss false positives and false negatives, n // 2 of each (the other kind fills
    in when one runs short), most costly first, with a `kind` column."""
    labeled = frame[frame["label"].notna()]
    label = labeled["label"].astype(int)
    kinds = {"false positive": labeled[(label == NEGATIVE) & (labeled["prediction"] == POSITIVE)],
             "false negative": labeled[(label == POSITIVE) & (labeled["prediction"] == NEGATIVE)]}
    ranked = {kind: part.sort_values("loss", ascending=False, kind="stable").assign(kind=kind)
              for kind, part in kinds.items()}
    fp, fn = ranked["false positive"], ranked["false negative"]
    n_fp = min(len(fp), max(n // 2 + n % 2, n - len(fn)))
    n_fn = min(len(fn), n - n_fp)
    chosen = pd.concat([fp.head(n_fp), fn.head(n_fn)])
    return chosen.sort_values("loss", ascending=False, kind="stable")


def samples_to_explain(frame: pd.DataFrame, n: int) -> pd.DataFrame:
    """`choose_samples`, then (unlabeled states, or too few errors) the reviews the model is least
    sure about, p_positive closest to 0.5, as kind "least confident"."""
    labeled = "label" in frame and frame["label"].notna().any()
    chosen = choose_samples(frame, n) if labeled else frame.iloc[:0]
    if len(chosen) < n:
        rest = frame.drop(index=chosen.index)
        unsure = rest.assign(kind="least confident").iloc[
            np.argsort(np.abs(rest["p_positive"].to_numpy() - 0.5), kind="stable")[: n - len(chosen)]]
        chosen = pd.concat([chosen, unsure])
    return chosen


def samples_frame(texts_or_frame, n_samples: int | None = None) -> pd.DataFrame:
    """The reviews to explain as a frame: texts, a frame or an AnalysisTable, narrowed to the
    `n_samples` costliest errors when given (`choose_samples`)."""
    frame = getattr(texts_or_frame, "frame", texts_or_frame)
    if not isinstance(frame, pd.DataFrame):
        frame = pd.DataFrame({"text": list(frame)})
    return frame if n_samples is None else choose_samples(frame, n_samples)
