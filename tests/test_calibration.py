"""ECE and temperature scaling on constructed data whose answers are known."""
import numpy as np
import pytest

from IMDb.measures import calibration as cal
from IMDb.measures.scores import probabilities


def test_ece_of_a_perfectly_calibrated_and_an_overconfident_model():
    # 100 reviews at confidence 0.8 of which 80 are right: calibrated
    probs = np.tile([0.2, 0.8], (100, 1))
    labels = np.array([1] * 80 + [0] * 20)
    assert cal.expected_calibration_error(probs, labels) == pytest.approx(0.0, abs=1e-12)
    # the same reviews at confidence 0.99: off by 0.19
    assert cal.expected_calibration_error(np.tile([0.01, 0.99], (100, 1)), labels) == pytest.approx(0.19)


def test_reliability_bins_cover_every_review():
    rng = np.random.default_rng(0)
    p = rng.uniform(0, 1, 500)
    rows = cal.reliability(np.stack([1 - p, p], axis=1), rng.integers(0, 2, 500))
    assert len(rows) == cal.BINS and sum(r["count"] for r in rows) == 500
    assert rows[0]["low"] == 0.0 and rows[-1]["high"] == 1.0
    assert all(r["count"] == 0 for r in rows[:7])  # the predicted class's probability is >= 0.5


def test_the_fitted_temperature_recovers_the_one_that_made_the_data():
    rng = np.random.default_rng(1)
    true_logits = rng.normal(0, 2, (20_000, 2))
    labels = (rng.uniform(size=20_000) < probabilities(true_logits)[:, 1]).astype(int)
    overconfident = true_logits * 2.5  # a model 2.5 times too sure
    t = cal.fit_temperature(overconfident, labels)
    assert t == pytest.approx(2.5, rel=0.05)
    before = cal.expected_calibration_error(probabilities(overconfident), labels)
    after = cal.expected_calibration_error(probabilities(overconfident, t), labels)
    assert after < before / 3
    assert cal.negative_log_likelihood(overconfident, labels, t) < cal.negative_log_likelihood(overconfident, labels)


def test_a_temperature_changes_no_prediction():
    logits = np.random.default_rng(2).normal(0, 3, (1000, 2))
    assert (probabilities(logits).argmax(1) == probabilities(logits, 3.7).argmax(1)).all()


def test_empty_inputs_are_refused():
    with pytest.raises(ValueError):
        cal.fit_temperature(np.zeros((0, 2)), np.zeros(0))
    with pytest.raises(ValueError):
        cal.expected_calibration_error(np.zeros((0, 2)), np.zeros(0))
