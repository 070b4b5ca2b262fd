"""Counterfactually revised IMDb reviews (Kaushik et al., ICLR 2020): pairs of a review and a
minimal human edit of it that flips its sentiment.

A model that learned what makes a review positive gets both of a pair right; one that learned
shortcuts (names, genres, length) gets the original right and the revision wrong. The files are
``train_paired.tsv`` and ``dev_paired.tsv`` (columns ``Sentiment``, ``Text``, ``batch_id``; the two
rows of a pair share a ``batch_id``, the original first). The training pairs may be trained on;
the development pairs are for evaluation only.
"""
from __future__ import annotations

from pathlib import Path
from typing import Callable

import numpy as np
import pandas as pd

from IMDb.config import environment
from IMDb.errors import DataError

LABELS = {"Negative": 0, "Positive": 1}
COLUMNS = ("Sentiment", "Text", "batch_id")


def not_given(name: str, folder: str | Path | None = None) -> str | None:
    """Why there are no pairs to read when neither `folder` (--cad) nor $IMDB_CAD names a folder
    (`imdb-leap robustness` then skips them and says so); None when one is named."""
    if folder or environment.cad_dir():
        return None
    return (f"no counterfactual pairs given: pass --cad FOLDER or set {environment.CAD} to the folder holding "
            f"{name} (here: ../shared/data/cad)")


def cad_file(name: str, folder: str | Path | None = None) -> Path:
    """`name` (train_paired.tsv or dev_paired.tsv) in `folder`, else in $IMDB_CAD; one line if not."""
    reason = not_given(name, folder)
    if reason:
        raise DataError(reason)
    folder = folder or environment.cad_dir()
    path = Path(folder).expanduser() / name
    if not path.is_file():
        raise DataError(f"{path} not found: --cad / {environment.CAD} must name the CAD folder holding {name}")
    return path


def read_pairs(path: str | Path) -> pd.DataFrame:
    """One row per pair: batch_id, original, revised, original_label, revised_label (0/1).

    A malformed file stops with one line naming the file and what is wrong (an empty file or one
    without pairs, a missing column, an unknown sentiment, a pair that is not two rows of opposite
    sentiment, empty text): no figure is ever computed over nothing."""
    path = Path(path)
    try:
        frame = pd.read_csv(path, sep="\t", dtype={"Text": str}, keep_default_na=False)
    except FileNotFoundError:
        raise DataError(f"counterfactual pairs not found: {path} (expected train_paired.tsv or "
                        f"dev_paired.tsv of the CAD release)") from None
    except pd.errors.EmptyDataError:
        raise DataError(f"{path} is empty: it holds no counterfactual pairs (expected the CAD release's "
                        f"{path.name}, columns {', '.join(COLUMNS)})") from None
    except (pd.errors.ParserError, UnicodeDecodeError) as e:
        raise DataError(f"{path} is not a tab-separated file: {str(e).splitlines()[0]}") from None
    missing = [c for c in COLUMNS if c not in frame]
    if missing:
        raise DataError(f"{path}: missing column {missing[0]!r} (expected {', '.join(COLUMNS)})")
    if frame.empty:
        raise DataError(f"{path} holds no counterfactual pairs, only its header")
    unknown = frame.loc[~frame["Sentiment"].isin(list(LABELS)), "Sentiment"]
    if len(unknown):
        row = int(unknown.index[0]) + 2  # 1-based, after the header
        raise DataError(f"{path}, row {row}: sentiment {unknown.iloc[0]!r} is not Positive or Negative")
    empty = frame.index[frame["Text"].str.strip() == ""]
    if len(empty):
        raise DataError(f"{path}, row {int(empty[0]) + 2}: empty review text")
    sizes = frame.groupby("batch_id", sort=False).size()
    if (sizes != 2).any():
        bad = sizes[sizes != 2].index[0]
        raise DataError(f"{path}: batch_id {bad} has {sizes[bad]} rows; each pair is two rows")
    first = frame.groupby("batch_id", sort=False).nth(0).set_index("batch_id")
    second = frame.groupby("batch_id", sort=False).nth(1).set_index("batch_id")
    same = first.index[first["Sentiment"] == second.loc[first.index, "Sentiment"]]
    if len(same):
        raise DataError(f"{path}: the two rows of batch_id {same[0]} have the same sentiment; a "
                        f"revision must flip it")
    return pd.DataFrame({"batch_id": first.index, "original": first["Text"].to_numpy(),
                         "revised": second.loc[first.index, "Text"].to_numpy(),
                         "original_label": first["Sentiment"].map(LABELS).to_numpy(),
                         "revised_label": second.loc[first.index, "Sentiment"].map(LABELS).to_numpy()})


def evaluate_pairs(predict: Callable[[list[str]], np.ndarray], pairs: pd.DataFrame) -> dict:
    """Accuracy on the originals, on the revisions, both right (pair consistency), and the mean
    change of p(positive) from original to revision in the direction the edit should move it
    (positive: it moved the right way). `predict(texts) -> probabilities [n, 2]`."""
    p_orig = np.asarray(predict(pairs["original"].tolist()), dtype=np.float64)[:, 1]
    p_rev = np.asarray(predict(pairs["revised"].tolist()), dtype=np.float64)[:, 1]
    y_orig, y_rev = pairs["original_label"].to_numpy(), pairs["revised_label"].to_numpy()
    right_orig, right_rev = (p_orig > 0.5) == (y_orig == 1), (p_rev > 0.5) == (y_rev == 1)
    direction = np.where(y_rev == 1, 1.0, -1.0)
    return {"pairs": int(len(pairs)),
            "accuracy_original": round(float(right_orig.mean()), 4),
            "accuracy_revised": round(float(right_rev.mean()), 4),
            "both_right": round(float((right_orig & right_rev).mean()), 4),
            "mean_p_change_toward_revision": round(float((direction * (p_rev - p_orig)).mean()), 4)}


def training_rows(pairs: pd.DataFrame, training: pd.DataFrame) -> pd.DataFrame:
    """Rows (text, label) to add to the training state from CAD training `pairs` (`usable_pairs`):
    each revision, and each original that is not already a training review (most are: the
    originals come from the IMDb training split)."""
    known = set(training["text"])
    originals = pairs[~pairs["original"].isin(known)]
    rows = pd.DataFrame({"text": [*pairs["revised"], *originals["original"]],
                         "label": [*pairs["revised_label"], *originals["original_label"]]})
    rows.attrs.update(pairs=int(len(pairs)), new_originals=int(len(originals)))
    return rows


def usable_pairs(pairs: pd.DataFrame, held_out: set[str], holdout: float = 0.0, seed: int = 0
                 ) -> tuple[pd.DataFrame, pd.DataFrame]:
    """The pairs to train on and the pairs kept aside to choose a checkpoint: a pair is dropped
    whole when either text is in `held_out` (the validation and test reviews), so nothing of them
    reaches training; of the rest a seeded `holdout` share is set aside whole."""
    keep = ~(pairs["original"].isin(held_out) | pairs["revised"].isin(held_out))
    usable = pairs[keep]
    aside = np.random.default_rng(seed).random(len(usable)) < holdout
    train, selection = usable[~aside], usable[aside]
    train.attrs.update(dropped_pairs=int((~keep).sum()))
    return train, selection
