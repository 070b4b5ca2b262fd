"""Confident-learning label errors: planted flips in a confidently predicted synthetic set are
found and ranked first; thresholds, several models and unlabeled rows."""
import numpy as np
import pandas as pd
import pytest

from IMDb.analysis.label_errors import from_tables, likely_label_errors, mean_p_positive, thresholds


def confident_set(n=400, flips=12, seed=0):
    """True labels, model probabilities that mostly agree with them, and labels with `flips` flipped."""
    rng = np.random.default_rng(seed)
    truth = rng.integers(0, 2, n)
    confidence = rng.uniform(0.6, 0.99, n)
    hard = rng.choice(n, 20, replace=False)  # some honest uncertainty, never an error
    confidence[hard] = rng.uniform(0.4, 0.6, 20)
    flipped = rng.choice(np.setdiff1d(np.arange(n), hard), flips, replace=False)
    confidence[flipped] = rng.uniform(0.97, 0.995, flips)  # the model is sure of the true label
    p = np.where(truth == 1, confidence, 1 - confidence)
    given = truth.copy()
    given[flipped] = 1 - given[flipped]
    return given, p, flipped


def test_planted_flips_are_found_and_ranked_first():
    given, p, flipped = confident_set()
    errors = likely_label_errors(given, p, texts=[f"synthetic review {i}" for i in range(len(p))])
    assert set(errors["position"]) == set(flipped)
    assert errors.attrs["count"] == len(errors) and errors.attrs["n_labeled"] == 400
    assert errors["margin"].is_monotonic_decreasing and list(errors["rank"]) == list(range(1, len(errors) + 1))
    first = errors.iloc[0]
    assert first["p_given_label"] == pytest.approx(1 - first["p_suggested"]) and first["label"] != first["suggested_label"]
    assert first["snippet"] == f"synthetic review {first['position']}"
    assert errors["sample_id"].iloc[0] == str(first["position"])


def test_thresholds_are_mean_self_confidence():
    labels = np.array([0, 0, 1, 1, 1])
    p = np.array([0.1, 0.3, 0.9, 0.6, 0.3])
    probs = np.stack([1 - p, p], axis=1)
    assert np.allclose(thresholds(labels, probs), [0.8, 0.6])
    errors = likely_label_errors(labels, p)
    # label 1 with p(negative) 0.7 >= 0.8? no. label 0 with p(positive) >= 0.6? no. So none.
    assert errors.empty and errors.attrs["thresholds"] == {"negative": pytest.approx(0.8),
                                                            "positive": pytest.approx(0.6)}
    errors = likely_label_errors(labels, np.array([0.1, 0.7, 0.9, 0.6, 0.05]))
    assert list(errors["position"]) == [4, 1]  # margins 0.9 and 0.4


def test_several_models_are_averaged():
    given, p, flipped = confident_set(seed=1)
    noise = np.minimum(p, 1 - p) * np.random.default_rng(2).uniform(-0.5, 0.5, len(p))
    pair = np.stack([p + noise, p - noise])  # two models that disagree, averaging to p
    assert np.allclose(mean_p_positive(pair), p)
    assert np.allclose(mean_p_positive(list(pair)), p)
    errors = likely_label_errors(given, pair)
    assert set(errors["position"].head(len(flipped))) == set(flipped)
    with pytest.raises(ValueError):
        mean_p_positive(np.zeros((2, 2, 2)))
    with pytest.raises(ValueError):
        likely_label_errors(given[:-1], p)


def test_unlabeled_rows_are_never_flagged():
    given, p, flipped = confident_set(seed=3)
    labels = given.astype(float)
    labels[flipped[:3]] = np.nan
    errors = likely_label_errors(labels, p)
    assert not set(flipped[:3]) & set(errors["position"])
    assert set(flipped[3:]) <= set(errors["position"]) and errors.attrs["n_labeled"] == 397


def test_from_tables_joins_on_sample_id():
    given, p, flipped = confident_set(n=100, flips=4, seed=4)
    ids = [f"test/x/{i}" for i in range(100)]
    a = pd.DataFrame({"sample_id": ids, "label": given.astype(float), "text": ids, "p_positive": p})
    b = a.iloc[::-1].reset_index(drop=True)  # same reviews, another order
    errors = from_tables([a, b])
    assert set(errors["sample_id"].head(4)) == {ids[i] for i in flipped}
    assert (errors["snippet"] == errors["sample_id"]).all()
    assert len(from_tables(a)) == len(errors)


def test_cleanlab_flags_exactly_the_binary_confident_learning_rule():
    """The rule the module's docstring states (p(other) >= the other class's mean self-confidence),
    written out here as the oracle, on noisy random probabilities."""
    rng = np.random.default_rng(5)
    labels = rng.integers(0, 2, 3000)
    p = np.clip(np.where(labels == 1, 0.75, 0.25) + rng.normal(0, 0.25, 3000), 0, 1)
    probs = np.stack([1 - p, p], axis=1)
    t = thresholds(labels, probs)
    expected = {i for i in range(3000) if probs[i, 1 - labels[i]] >= t[1 - labels[i]]}
    errors = likely_label_errors(labels, p)
    assert len(expected) > 50
    assert set(errors["position"]) == expected
    assert errors["margin"].is_monotonic_decreasing
    assert len(likely_label_errors(labels, p, filter_by="prune_by_noise_rate")) != len(errors)


def test_one_labelled_class_flags_nothing():
    assert likely_label_errors(np.zeros(50), np.linspace(0, 1, 50)).empty
    assert likely_label_errors(np.full(5, np.nan), np.full(5, 0.5)).attrs["n_labeled"] == 0
