"""Model comparison on hand-made tables: agreement counts, loss change arithmetic, disagreement
lists, worst failures and the baselines carried along."""
import numpy as np
import pandas as pd
import pytest

from IMDb.analysis.baselines import column
from IMDb.analysis.compare import agreement_matrix, aligned, compare, mcnemar
from IMDb.analysis.table import AnalysisTable


def table(p_positive, labels, ids=None, **extra) -> pd.DataFrame:
    p = np.asarray(p_positive, dtype=float)
    labels = np.asarray(labels, dtype=float)
    ids = ids or [f"test/x/{i}" for i in range(len(p))]
    p_label = np.where(labels == 1, p, 1 - p)
    prediction = (p > 0.5).astype(int)
    return pd.DataFrame({"sample_id": ids, "state": "test", "text": [f"review {i}" for i in ids],
                         "label": labels, "prediction": prediction, "p_negative": 1 - p, "p_positive": p,
                         "loss": -np.log(p_label), "correct": prediction == labels, **extra})


LABELS = [1, 1, 0, 0, 1, 0]
A = [0.9, 0.2, 0.1, 0.6, 0.05, 0.85]  # right, wrong, right, wrong, wrong, wrong
B = [0.8, 0.7, 0.3, 0.7, 0.6, 0.3]  # right, right, right, wrong, right, right


def test_agreement_matrix_counts_and_sums_to_n():
    result = compare(table(A, LABELS), table(B, LABELS))
    matrix = result["agreement"]
    assert matrix.to_numpy().sum() == 6
    assert matrix.loc["dense right", "cnn right"] == 2 and matrix.loc["dense wrong", "cnn right"] == 3
    assert matrix.loc["dense wrong", "cnn wrong"] == 1 and matrix.loc["dense right", "cnn wrong"] == 0
    s = result["summary"]
    assert s["accuracy_dense"] == pytest.approx(2 / 6) and s["accuracy_cnn"] == pytest.approx(5 / 6)
    assert s["prediction_agreement"] == pytest.approx(3 / 6)  # rows 0, 2, 3 predict the same class
    assert s["mcnemar_p"] == pytest.approx(mcnemar(0, 3)) and mcnemar(0, 0) == 1.0


def test_random_agreement_matrix_sums_to_n():
    rng = np.random.default_rng(0)
    a, b = rng.random(500) > 0.3, rng.random(500) > 0.4
    assert agreement_matrix(a, b).to_numpy().sum() == 500


def test_loss_change_and_relative_change():
    result = compare(table(A, LABELS), table(B, LABELS))
    frame = result["frame"]
    row = frame.set_index("sample_id").loc["test/x/4"]  # a: p(label) 0.05, b: 0.6
    assert row["loss_change"] == pytest.approx(-np.log(0.6) + np.log(0.05))
    assert row["relative_loss_change"] == pytest.approx((np.log(0.05) - np.log(0.6)) / -np.log(0.05))
    assert np.allclose(frame["loss_change"], frame["loss_cnn"] - frame["loss_dense"])
    # the seeds' figure: a loss of 3.0 falling to 1.0 is a 67% lower loss
    a, b = table([np.exp(-3.0)], [1]), table([np.exp(-1.0)], [1])
    assert compare(a, b)["frame"]["relative_loss_change"].iloc[0] == pytest.approx(-2 / 3)


def test_disagreement_lists_and_worst_failures():
    result = compare(table(A, LABELS), table(B, LABELS), worst=2)
    b_right = result["b_right_a_wrong"]
    assert set(b_right["sample_id"]) == {"test/x/1", "test/x/4", "test/x/5"}
    assert b_right["loss_dense"].is_monotonic_decreasing
    assert result["a_right_b_wrong"].empty
    worst = result["worst_failures"]
    assert list(worst["sample_id"]) == ["test/x/4", "test/x/5"]  # p(label) 0.05, then 0.15 (row 5), not 0.2 (row 1)
    expected = (worst["loss_cnn"] - worst["loss_dense"]) / worst["loss_dense"]
    assert np.allclose(worst["relative_loss_change"], expected)
    assert result["summary"]["worst_failures_median_relative_change"] == pytest.approx(expected.median())


def test_only_common_reviews_are_compared_and_labels_must_match():
    a = table(A, LABELS)
    b = table(B[:4], LABELS[:4])
    result = compare(a, b)
    assert result["summary"]["n"] == 4 and result["agreement"].to_numpy().sum() == 4
    assert result["summary"]["n_dense"] == 6 and result["summary"]["n_cnn"] == 4
    with pytest.raises(ValueError, match="disagree on labels"):
        compare(a, table(B, [0, 1, 0, 0, 1, 0]))


def test_tables_and_names():
    a = AnalysisTable(table(A, LABELS), np.zeros((6, 3)), model="dense")
    b = AnalysisTable(table(B, LABELS), np.zeros((6, 3)), model="cnn")
    assert set(compare(a, b, names=None)["agreement"].index) == {"dense right", "dense wrong"}
    assert "loss_x" in compare(a, b, names=("x", "y"))["frame"]
    with pytest.raises(ValueError):
        compare(a, b, names=("x", "x"))


def test_baseline_columns_are_carried_into_the_comparison():
    base = {column("tfidf", "p_positive"): [0.9, 0.9, 0.1, 0.1, 0.1, 0.9],
            column("tfidf", "loss"): [0.1] * 6}
    result = compare(table(A, LABELS), table(B, LABELS, **base))
    assert column("tfidf", "loss") in result["frame"]
    s = result["summary"]
    assert s["accuracy_tfidf"] == pytest.approx(4 / 6) and s["mean_loss_tfidf"] == pytest.approx(0.1)
    assert s["cnn_right_tfidf_wrong"] == 2 and s["tfidf_right_cnn_wrong"] == 1
    assert "accuracy_textblob" not in s
    assert len(aligned(table(A, LABELS), table(B, LABELS, **base))) == 6


def test_unlabeled_rows_count_only_in_prediction_agreement():
    labels = LABELS[:5] + [np.nan]
    result = compare(table(A, labels), table(B, labels))
    assert result["summary"]["n"] == 6 and result["summary"]["n_labeled"] == 5
    assert result["agreement"].to_numpy().sum() == 5
