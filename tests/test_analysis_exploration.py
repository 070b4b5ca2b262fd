"""IMDb.analysis.exploration: binned loss per metadata field, Spearman signs on monotone synthetic
data, a verdict for each seed claim on constructed data, and the training logs."""
from __future__ import annotations

import numpy as np
import pandas as pd
import pytest

from IMDb.analysis.exploration import (
    SEED_CLAIMS,
    correlations,
    metadata_vs_loss,
    quantile_groups,
    seed_claims,
    training_curves,
)
from IMDb.errors import ModelError


@pytest.fixture
def frame() -> pd.DataFrame:
    """Loss falls with length and |polarity|, rises with the OOV ratio; subjectivity is unrelated."""
    rng = np.random.default_rng(0)
    n = 600
    words = rng.integers(10, 1000, n)
    oov_ratio = rng.uniform(0, 0.3, n)
    polarity = rng.uniform(-1, 1, n)
    loss = (1.0 - 0.5 * np.log10(words) / 3 + 2.0 * oov_ratio - 0.4 * np.abs(polarity)
            + rng.normal(0, 0.05, n))
    return pd.DataFrame({"loss": np.clip(loss, 0, None), "correct": loss < 0.5,
                         "length_words": words, "oov_ratio": oov_ratio,
                         "textblob_polarity": polarity,
                         "textblob_subjectivity": rng.uniform(0, 1, n),
                         "punctuation_question_marks": rng.integers(0, 3, n),
                         "tokens_truncated": words > 800, "label_name": "positive"})


def test_metadata_vs_loss(frame):
    out = metadata_vs_loss(frame, ["length_words", "punctuation_question_marks", "missing"], bins=10)
    table = out["length_words"]
    assert list(table.columns) == ["bin", "low", "high", "count", "mean_loss", "sem", "accuracy"]
    assert len(table) == 10 and table["count"].sum() == len(frame)
    assert (table["low"] <= table["high"]).all() and (table["high"].iloc[:-1].to_numpy() < table["low"].iloc[1:].to_numpy()).all()
    assert table["mean_loss"].iloc[0] > table["mean_loss"].iloc[-1]  # shorter, higher loss
    first = frame[frame["length_words"] <= table["high"].iloc[0]]["loss"]
    assert table["sem"].iloc[0] == pytest.approx(first.std(ddof=1) / np.sqrt(len(first)))
    assert table["mean_loss"].iloc[0] == pytest.approx(first.mean())
    few = out["punctuation_question_marks"]  # at most `bins` distinct values: one bin per value
    assert few["bin"].tolist() == ["0", "1", "2"] and few["count"].sum() == len(frame)
    assert out["missing"].empty
    unlabeled = metadata_vs_loss(frame.assign(loss=np.nan), ["length_words"])
    assert unlabeled["length_words"].empty


def test_quantile_groups_keep_ties_and_missing_values():
    values = pd.Series([0.0] * 50 + list(np.linspace(1, 2, 50)) + [np.nan] * 5)
    groups = quantile_groups(values, bins=10)
    codes = groups.attrs["codes"]
    assert (codes[-5:] == -1).all() and (codes[:50] == 0).all()
    assert groups["low"].iloc[0] == groups["high"].iloc[0] == 0.0 and len(groups) == 6
    assert np.bincount(codes[codes >= 0]).sum() == 100
    booleans = quantile_groups(pd.Series([True, False, True]))
    assert booleans["label"].tolist() == ["False", "True"] and booleans.attrs["codes"].tolist() == [1, 0, 1]


def test_spearman_signs(frame):
    table = correlations(frame.assign(oov_ratio=frame["oov_ratio"].where(frame.index % 10 > 0)),
                         ["length_words", "oov_ratio", "textblob_subjectivity", "tokens_truncated",
                          "label_name", "missing"])
    assert list(table.index) == ["length_words", "oov_ratio", "textblob_subjectivity", "tokens_truncated"]
    assert table.loc["length_words", "rho"] < -0.2 and table.loc["length_words", "p_value"] < 1e-6
    assert table.loc["oov_ratio", "rho"] > 0.2 and table.loc["oov_ratio", "n"] == 540
    assert table.loc["textblob_subjectivity", "p_value"] > 0.001
    assert table.loc["tokens_truncated", "rho"] < 0  # booleans as 0/1
    assert table.loc["length_words", "n"] == len(frame)


def test_seed_claims_verdicts(frame):
    # flip the OOV effect so that claim is contradicted; leave out the score confidence column
    data = frame.assign(oov_ratio=frame["oov_ratio"].max() - frame["oov_ratio"])
    claims = {c["claim"]: c for c in seed_claims(data)}
    assert set(claims) == set(SEED_CLAIMS)
    length, oov, subjective, confidence, polarity = (claims[c] for c in SEED_CLAIMS)
    assert length["verdict"] == "supported" and length["field"] == "length_words"
    assert length["value"] < 0 and length["p_value"] < 0.01 and length["n"] == len(frame)
    assert oov["verdict"] == "contradicted" and oov["value"] < 0 and oov["expected"] == "positive"
    assert subjective["verdict"] == "no evidence" and subjective["reason"] is None
    assert confidence["verdict"] == "no evidence" and confidence["field"] is None
    assert "rating_score_confidence" in confidence["reason"]
    # polarity itself is symmetric around 0: only its distance from neutral tells
    assert polarity["verdict"] == "supported" and polarity["transform"] == "abs"
    assert all(c["statistic"] == "Spearman rho" for c in claims.values())


def test_seed_claims_without_labels(frame):
    claims = seed_claims(frame.assign(loss=np.nan))
    assert {c["verdict"] for c in claims} == {"no evidence"}
    assert all("unlabeled" in c["reason"] for c in claims)


def test_training_curves(tmp_path):
    folder = tmp_path / "tiny"
    folder.mkdir()
    (folder / "batches.csv").write_text("step,epoch,batch,loss,accuracy\n1,1,1,0.70,0.50\n"
                                        "2,1,2,0.60,0.70\n3,2,1,0.40,0.90\n")
    (folder / "history.csv").write_text("epoch,accuracy,loss,val_accuracy,val_loss\n0,0.6,0.65,0.7,0.6\n")
    curves = training_curves("tiny", tmp_path, smooth=2)
    batches, history = curves["batches"], curves["history"]
    assert batches["step"].tolist() == [1, 2, 3] and batches["loss"].tolist() == [0.7, 0.6, 0.4]
    np.testing.assert_allclose(batches["loss_smooth"], [0.7, 0.65, 0.5])
    assert history["val_loss"].tolist() == [0.6]
    (folder / "history.csv").write_text("")
    assert set(training_curves("tiny", tmp_path)) == {"batches"}
    assert training_curves("absent", tmp_path) == {}


def test_an_unreadable_training_log_is_a_model_error(tmp_path):
    (tmp_path / "tiny").mkdir()
    (tmp_path / "tiny" / "batches.csv").write_text("step,loss\n1,0.5\n2,0.4,9,9\n")
    with pytest.raises(ModelError, match="batches.csv: not a readable training log"):
        training_curves("tiny", tmp_path)
