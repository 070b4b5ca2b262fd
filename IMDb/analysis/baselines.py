"""Two baselines read beside every deep model, so a user sees what the model adds over them.

- TextBlob polarity alone: the pattern lexicon's polarity in [-1, 1] mapped to a probability of
  positive, ``(polarity + 1) / 2`` clipped to ``[1e-3, 1 - 1e-3]`` (a lexicon score is no calibrated
  probability, and an unclipped 0 or 1 would make a single wrong review dominate the mean loss). It
  reads the table's ``textblob_polarity`` (the binder's `IMDb.measures.metadata.textblob`), so a table that
  already holds the metadata pays nothing more.
- TF-IDF of cleaned word 1-2-grams and a logistic regression (scikit-learn), fitted on the training
  state only (never on the state it is scored on, unless that is the training state itself). Its
  scores are kept per review in the cache (`IMDb.analysis.cache`), under the training state's checksum: a
  second analysis neither fits nor scores again.

Losses are `IMDb.measures.losses.crossentropy_of_probabilities`, the loss the models are scored with.
"""
from __future__ import annotations

import importlib.metadata
import sys
from collections.abc import Sequence

import numpy as np
import pandas as pd

from IMDb.analysis import cache
from IMDb.measures import losses, metadata
from IMDb.text import word_tokenizer
from IMDb.text.word_tokenizer import clean

BASELINES = ("textblob", "tfidf")
CLIP = 1e-3


def column(baseline: str, quantity: str) -> str:
    """Name of a baseline's column in an analysis table: ``baseline_<name>_<p_positive|loss>``."""
    return f"baseline_{baseline}_{quantity}"


def textblob_baseline(texts: Sequence[str], progress: bool = False) -> np.ndarray:
    """float64 p_positive [n] from TextBlob polarity alone."""
    texts = list(texts)
    if progress:
        from tqdm.auto import tqdm

        texts = tqdm(texts, desc="textblob baseline", unit="review")
    return from_polarity([metadata.textblob(t)["polarity"] for t in texts])


def from_polarity(polarity) -> np.ndarray:
    """float64 p_positive [n] of TextBlob polarities in [-1, 1]."""
    return np.clip((np.asarray(polarity, dtype=np.float64) + 1.0) / 2.0, CLIP, 1.0 - CLIP)


def fit_tfidf(train_texts: Sequence[str], train_labels: Sequence[int], *, c: float = 4.0):
    """A fitted Pipeline(TfidfVectorizer, LogisticRegression) on the given (training) reviews.

    The models' own cleaning (`IMDb.text.word_tokenizer.clean`), word 1-2-grams seen in at least two reviews,
    sublinear term frequency, C=4 (scripts/experiments/baseline_tfidf.py scores it on every labeled state).
    """
    from sklearn.feature_extraction.text import TfidfVectorizer
    from sklearn.linear_model import LogisticRegression
    from sklearn.pipeline import make_pipeline

    labels = np.asarray(train_labels)
    if len(np.unique(labels)) < 2:
        raise ValueError("the TF-IDF baseline needs training reviews of both labels")
    vectorizer = TfidfVectorizer(preprocessor=clean, ngram_range=(1, 2), min_df=2, sublinear_tf=True,
                                 dtype=np.float32)
    return make_pipeline(vectorizer, LogisticRegression(C=c, max_iter=1000)).fit(list(train_texts), labels)


def tfidf_baseline(pipeline, texts: Sequence[str]) -> np.ndarray:
    """float64 p_positive [n] of a pipeline from `fit_tfidf`."""
    if len(texts) == 0:
        return np.zeros(0)
    classes = list(pipeline.classes_)
    return pipeline.predict_proba(list(texts))[:, classes.index(1)].astype(np.float64)


def binary_loss(labels, p_positive) -> np.ndarray:
    """float64 cross-entropy per sample of p_positive against 0/1 labels; NaN where the label is NaN."""
    labels = np.asarray(labels, dtype=np.float64)
    p = np.asarray(p_positive, dtype=np.float64)
    out = np.full(len(p), np.nan)
    known = ~np.isnan(labels)
    if known.any():
        one_hot = np.eye(2)[labels[known].astype(int)]
        out[known] = losses.crossentropy_of_probabilities(one_hot, np.stack([1 - p[known], p[known]], axis=1))
    return out


_FITTED: dict[str, object] = {}


def fitted_tfidf(train: pd.DataFrame):
    """`fit_tfidf` on a training state (text, label), cached per process by the rows' checksum:
    comparing two models on the same data fits once (the fit takes seconds)."""
    from IMDb.data.dataset_states import checksum

    key = checksum(train)
    if key not in _FITTED:
        _FITTED.clear()  # one training state at a time: the fitted vocabulary is large
        _FITTED[key] = fit_tfidf(train["text"].tolist(), train["label"].to_numpy())
    return _FITTED[key]


def forget_tfidf() -> None:
    """Drop the model `fitted_tfidf` keeps (about 150 MB for the IMDb training state) once every
    table that needs it is built: the later stages' memory would otherwise come on top of it."""
    _FITTED.clear()


def tfidf_scores(train: pd.DataFrame, texts: Sequence[str], *, progress: bool = False) -> np.ndarray:
    """float64 p_positive [n] of the TF-IDF baseline fitted on `train` (text, label): read from the
    per-review cache, fitted (`fitted_tfidf`) and scored only for the reviews it lacks."""
    from tqdm.auto import tqdm

    from IMDb.data.dataset_states import checksum

    libraries = [importlib.metadata.version(p) for p in ("scikit-learn", "scipy", "numpy")]
    found = cache.lookup("tfidf", cache.version(checksum(train), *libraries,
                                                modules=(sys.modules[__name__], word_tokenizer)), texts)
    computed = None
    if found.missing:
        with tqdm(total=2, desc="TF-IDF baseline", unit="step", disable=not progress) as bar:
            bar.set_postfix_str("fitting")
            pipeline = fitted_tfidf(train)
            bar.update()
            bar.set_postfix_str(f"scoring {len(found.missing):,} reviews")
            computed = pd.DataFrame({"p_positive": tfidf_baseline(pipeline, found.missing)})
            bar.update()
    scores = found.fill(computed)
    return scores["p_positive"].to_numpy(dtype=np.float64) if len(scores) else np.zeros(0)


def add_baselines(frame: pd.DataFrame, train: pd.DataFrame, *, tfidf: np.ndarray | None = None,
                  progress: bool = False) -> pd.DataFrame:
    """`frame` (text, label and, when it has them, the metadata's ``textblob_polarity``) with each
    baseline's p_positive and loss columns added.

    `train` is the training state (text, label) the TF-IDF model is fitted on (`tfidf_scores`);
    `tfidf` passes scores already computed.
    """
    texts = frame["text"].tolist()
    labels = frame["label"].to_numpy(dtype=np.float64) if "label" in frame else np.full(len(frame), np.nan)
    p_textblob = from_polarity(frame["textblob_polarity"]) if "textblob_polarity" in frame \
        else textblob_baseline(texts, progress=progress)
    p_tfidf = tfidf if tfidf is not None else tfidf_scores(train, texts, progress=progress)
    columns = {}
    for name, p in (("textblob", p_textblob), ("tfidf", p_tfidf)):
        columns[column(name, "p_positive")] = p
        columns[column(name, "loss")] = binary_loss(labels, p)
    return frame.assign(**columns)


def baseline_names(frame: pd.DataFrame) -> list[str]:
    """The baselines whose columns `frame` holds."""
    return [b for b in BASELINES if column(b, "p_positive") in frame]
