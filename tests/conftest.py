"""Shared fixtures: a synthetic IMDb-shaped dataset (no review text from the real data) and the
real dataset when IMDB_DATA points to it (missing data fails under CI=true instead of skipping)."""
from __future__ import annotations

import os
from pathlib import Path

import numpy as np
import pandas as pd
import pytest

os.environ.setdefault("TL_DISABLE_ANALYTICS", "1")
os.environ.setdefault("TF_CPP_MIN_LOG_LEVEL", "2")

POSITIVE = ["wonderful", "great", "moving", "superb", "delightful", "loved", "brilliant"]
NEGATIVE = ["awful", "boring", "dull", "terrible", "waste", "hated", "clumsy"]
FILLER = ["the", "plot", "actor", "scene", "camera", "story", "music", "and", "was", "it", "film"]


def synthetic_reviews(n_per_label: int = 60, seed: int = 0, split: str = "train") -> pd.DataFrame:
    """Reviews made of filler words plus sentiment words, with `<br />` residue and punctuation."""
    rng = np.random.default_rng(seed)
    rows = []
    for label, words in ((0, NEGATIVE), (1, POSITIVE)):
        for i in range(n_per_label):
            body = list(rng.choice(FILLER, size=rng.integers(8, 30))) + \
                list(rng.choice(words, size=rng.integers(2, 5)))
            rng.shuffle(body)
            text = " ".join(body).capitalize() + ".<br /><br />" + ("Really!" if i % 3 else "Why?")
            rating = int(rng.integers(1, 5)) if label == 0 else int(rng.integers(7, 11))
            rows.append(dict(split=split, label=label, rating=rating, id=i,
                             movie=f"tt{1000 + i % 15:07d}", text=text))
    frame = pd.DataFrame(rows)
    return frame.astype({"label": "int8", "rating": "int8", "id": "int32"})


@pytest.fixture
def synthetic_labeled() -> pd.DataFrame:
    return pd.concat([synthetic_reviews(60, 0, "train"), synthetic_reviews(30, 1, "test")],
                     ignore_index=True)


@pytest.fixture(scope="session")
def imdb_data() -> Path:
    """The real labeled parquet from IMDB_DATA; a skip locally, a failure in CI, when absent."""
    path = os.environ.get("IMDB_DATA")
    if not path or not Path(path).exists():
        message = f"IMDB_DATA is not set to an existing file (got {path!r})"
        if os.environ.get("CI") == "true":
            pytest.fail(message + "; CI must have the dataset")
        pytest.skip(message)
    return Path(path)
