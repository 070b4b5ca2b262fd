"""The TextBlob and TF-IDF baselines on synthetic reviews: better than chance, probabilities in
range, losses equal to -log p(label), fitted on training reviews only."""
import numpy as np
import pandas as pd
import pytest

from IMDb.analysis import baselines as bl
from IMDb.measures import metadata
from tests.conftest import synthetic_reviews


@pytest.fixture(autouse=True)
def cache_dir(tmp_path, monkeypatch):
    """The TF-IDF scores' cache in a temp folder, never the user's."""
    monkeypatch.setenv("IMDB_CACHE", str(tmp_path / "cache"))


@pytest.fixture(scope="module")
def splits():
    return synthetic_reviews(80, 0, "train"), synthetic_reviews(40, 1, "test")


def accuracy(p, labels):
    return float(((np.asarray(p) >= 0.5) == np.asarray(labels)).mean())


def test_textblob_beats_chance_and_is_clipped(splits):
    _, test = splits
    p = bl.textblob_baseline(test["text"].tolist())
    assert p.dtype == np.float64 and p.shape == (len(test),)
    assert p.min() >= 1e-3 and p.max() <= 1 - 1e-3
    assert accuracy(p, test["label"]) > 0.8  # "wonderful", "awful": the lexicon knows these words
    assert bl.textblob_baseline(["The film."])[0] == 0.5  # no sentiment word: polarity 0
    assert bl.textblob_baseline(["Perfect, perfect, perfect!"])[0] == 1 - 1e-3  # polarity 1, clipped


def test_tfidf_beats_chance_on_unseen_reviews(splits):
    train, test = splits
    pipeline = bl.fit_tfidf(train["text"].tolist(), train["label"].to_numpy())
    p = bl.tfidf_baseline(pipeline, test["text"].tolist())
    assert p.dtype == np.float64 and ((p > 0) & (p < 1)).all()
    assert accuracy(p, test["label"]) > 0.9
    assert bl.tfidf_baseline(pipeline, []).shape == (0,)
    with pytest.raises(ValueError, match="both labels"):
        bl.fit_tfidf(["a good film", "a great film"], [1, 1])


def test_tfidf_uses_the_models_cleaning():
    pipeline = bl.fit_tfidf(["Great<br />film", "great film!", "AWFUL film", "awful, film"], [1, 1, 0, 0])
    vocabulary = pipeline[0].vocabulary_
    assert "great film" in vocabulary and "br" not in vocabulary


def test_binary_loss_is_minus_log_probability_of_the_label():
    p = np.array([0.9, 0.2, 0.5, 0.7])
    labels = np.array([1, 1, 0, np.nan])
    loss = bl.binary_loss(labels, p)
    assert np.allclose(loss[:3], [-np.log(0.9), -np.log(0.2), -np.log(0.5)], rtol=1e-6)
    assert np.isnan(loss[3])


def test_add_baselines_adds_both_columns(splits):
    train, test = splits
    frame = bl.add_baselines(test[["text", "label"]].astype({"label": float}), train)
    for name in bl.BASELINES:
        assert bl.column(name, "p_positive") in frame and bl.column(name, "loss") in frame
    assert bl.baseline_names(frame) == ["textblob", "tfidf"] and bl.baseline_names(test) == []
    unlabeled = bl.add_baselines(pd.DataFrame({"text": ["A great film."]}), train)
    assert unlabeled[bl.column("tfidf", "loss")].isna().all()
    assert unlabeled[bl.column("tfidf", "p_positive")].notna().all()


def test_textblob_reads_the_tables_polarity(splits):
    train, test = splits
    frame = test[["text", "label"]].astype({"label": float})
    polarity = [metadata.textblob(t)["polarity"] for t in frame["text"]]
    with_polarity = bl.add_baselines(frame.assign(textblob_polarity=polarity), train)
    column = bl.column("textblob", "p_positive")
    np.testing.assert_array_equal(with_polarity[column], bl.add_baselines(frame, train)[column])
    np.testing.assert_array_equal(with_polarity[column], bl.from_polarity(polarity))


def test_the_tfidf_fit_is_cached_per_training_state(splits):
    train, _ = splits
    first = bl.fitted_tfidf(train)
    assert bl.fitted_tfidf(train.copy()) is first  # same rows, same fit
    assert bl.fitted_tfidf(train.iloc[:100]) is not first
