"""The dataset's states, carved deterministically from the loaded sources.

- training / validation: the official train split, minus the reviews whose exact text is also in
  the test split (123 such texts exist), divided by `StratifiedGroupKFold` grouped by `movie` so that
  no film is in both (a random split shares films and reads about a point above the test split).
  With `val_fraction=0.2` that is about 20,000 / 5,000 reviews, balanced by label. A trained model
  records its validation ids (``split.json``), and the Tensorleap binder rebuilds the states from
  them: scikit-learn 1.7 (the newest for Python 3.10) draws other folds than 1.8+ from one seed.
- test: the official 25,000-review test split, untouched. Nothing from it reaches training or the
  tokenizer.
- unlabeled: the 50,000 unlabeled reviews (no label, no rating).

Every state is a DataFrame with a stable string `sample_id` such as ``train/pos/1234`` or
``unsup/42`` (split, label folder and the number in the original file name) and the columns of the source.
"""
from __future__ import annotations

import functools
import hashlib

import numpy as np
import pandas as pd
from sklearn.model_selection import StratifiedGroupKFold, train_test_split

from IMDb.config.run import Config
from IMDb.data import data_source, sources
from IMDb.data.state_names import LABELED_STATES, STATES
from IMDb.errors import DataError


def sample_ids(frame: pd.DataFrame) -> pd.Series:
    """``train/pos/1234``, ``test/neg/7`` or ``unsup/42``: split, label folder, file number."""
    if "label" not in frame:
        return "unsup/" + frame["id"].astype(str)
    return frame["split"] + np.where(frame["label"] == 1, "/pos/", "/neg/") + frame["id"].astype(str)


def split_train_validation(train: pd.DataFrame, val_fraction: float, seed: int,
                           source: str = "the data source") -> tuple[pd.DataFrame, pd.DataFrame]:
    """Stratified by label, grouped by movie (an unknown movie is its own group), seeded. A train
    split too small to divide is refused here, naming `source`, rather than deep in scikit-learn."""
    n_splits = max(2, round(1 / val_fraction))
    groups = train["movie"].where(train["movie"].astype(bool), "id:" + train["id"].astype(str))
    counts = train["label"].value_counts()
    negative, positive, films = int(counts.get(0, 0)), int(counts.get(1, 0)), groups.nunique()
    if min(negative, positive, films) < n_splits:
        raise DataError(f"{source}: the train split holds {negative} negative and {positive} positive reviews "
                        f"of {films} films (texts also in the test split left out); a validation fraction of "
                        f"{val_fraction} needs at least {n_splits} of each. Use a larger dataset.")
    folds = StratifiedGroupKFold(n_splits=n_splits, shuffle=True, random_state=seed)
    train_idx, val_idx = next(folds.split(train, train["label"], groups))
    return train.iloc[train_idx], train.iloc[val_idx]


def split_by_ids(train: pd.DataFrame, validation_ids, source: str = "the data source"
                 ) -> tuple[pd.DataFrame, pd.DataFrame]:
    """The train split divided as a model was: its validation reviews are `validation_ids` (a
    bundle's ``split.json``), every other one is training, in the frame's order. Every id must be
    there, or the dataset is not the one the model was validated on."""
    wanted = set(map(str, validation_ids))
    mask = train["sample_id"].isin(wanted)
    if int(mask.sum()) != len(wanted):
        raise DataError(f"{source}: {len(wanted) - int(mask.sum())} of the {len(wanted)} validation reviews the "
                        f"model was validated on are not in its train split: not the dataset it was trained on")
    return train[~mask], train[mask]


def make_states(labeled: pd.DataFrame, cfg: Config, validation_ids=None) -> dict[str, pd.DataFrame]:
    """training, validation and test from the labeled reviews (see the module docstring). With
    `validation_ids` (a trained model's recorded split) the validation state is those reviews
    instead of a new `StratifiedGroupKFold` draw, whose result depends on the scikit-learn version
    (1.7 and 1.8 draw different folds from the same seed)."""
    labeled = labeled.assign(sample_id=sample_ids(labeled))
    test = labeled[labeled["split"] == "test"]
    train = labeled[(labeled["split"] == "train") & ~labeled["text"].isin(set(test["text"]))]
    source = cfg.data or data_source.choose() or "the data source"
    if validation_ids is None:
        training, validation = split_train_validation(train, cfg.val_fraction, cfg.seed, source)
    else:
        training, validation = split_by_ids(train, validation_ids, source)
    if cfg.train_limit:
        training = training.sample(n=min(cfg.train_limit, len(training)), random_state=cfg.seed)
    return {name: frame.reset_index(drop=True)
            for name, frame in (("training", training), ("validation", validation), ("test", test))}


@functools.lru_cache(maxsize=4)
def labeled(source: str | None) -> pd.DataFrame:
    return sources.load_labeled(source)


def load_states(cfg: Config, include_unlabeled: bool = False, validation_ids=None) -> dict[str, pd.DataFrame]:
    """All states, the sources read once per process and source (`make_states` for `validation_ids`)."""
    states = make_states(labeled(cfg.data), cfg, validation_ids)
    if include_unlabeled:
        unlabeled = sources.load_unlabeled(cfg.data)
        states["unlabeled"] = unlabeled.assign(sample_id=sample_ids(unlabeled)).reset_index(drop=True)
    return states


def stratified_sample(frame: pd.DataFrame, limit: int | None, seed: int = 0) -> pd.DataFrame:
    """At most `limit` rows drawn with `seed`, in the frame's order, keeping the label shares when
    labeled (an unlabeled frame: a plain seeded draw): `--limit` and ``sample_limit_per_split``."""
    if limit is None or limit >= len(frame):
        return frame
    if limit <= 0:
        raise ValueError(f"limit must be positive, got {limit}")
    if "label" in frame and frame["label"].nunique() > 1 and limit >= frame["label"].nunique():
        picked, _ = train_test_split(frame, train_size=limit, stratify=frame["label"], random_state=seed)
    else:
        picked = frame.sample(n=limit, random_state=seed)
    return picked.sort_index()


def checksum(frame: pd.DataFrame) -> str:
    """sha256 of the rows' content, the same whichever source (parquet, folder, archive) gave them."""
    cols = [c for c in ("split", "label", "rating", "id", "movie", "text") if c in frame]
    hashed = pd.util.hash_pandas_object(frame[cols], index=False).to_numpy()
    return hashlib.sha256(hashed.tobytes()).hexdigest()


def split_checksum(frame: pd.DataFrame) -> str:
    """16 hex digits of sha256 over the state's sorted sample ids: which reviews it holds, whatever
    their order. A model card stores one per labeled state (`split_checksums`), so that the binder
    can tell a rebuilt split (another dataset, another scikit-learn) from the one it was trained on."""
    ids = sorted(frame["sample_id"].astype(str))
    return hashlib.sha256("\n".join(ids).encode("utf-8")).hexdigest()[:16]


def split_checksums(states: dict[str, pd.DataFrame]) -> dict[str, str]:
    """`split_checksum` of each labeled state (training, validation, test) of `states`, in full:
    before any ``sample_limit_per_split`` sample. The unlabeled state is not split: it is the file."""
    return {name: split_checksum(states[name]) for name in LABELED_STATES if name in states}

