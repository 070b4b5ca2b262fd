"""IMDb.analysis.clusters: a planted high-loss cluster is found by k-means (k by silhouette) and
ranks first among the insights with a significant, Holm-corrected p; a planted metadata range
(high OOV ratio -> high loss) is found; HDBSCAN keeps its noise as a group; no loss -> no insights."""
from __future__ import annotations

import numpy as np
import pandas as pd
import pytest
from sklearn.metrics import adjusted_rand_score

from IMDb.analysis.clusters import EFFECT_SIZE, choose_k, cluster, cluster_summary, holm, insights
from IMDb.analysis.exploration import loss_skip_reason
from IMDb.errors import AnalysisError


def planted(n_per: int = 150, d: int = 16, seed: int = 0) -> tuple[pd.DataFrame, np.ndarray, np.ndarray]:
    """Three separated blobs; blob 2's reviews have about three times the loss of the others. An
    OOV ratio whose top tenth adds loss anywhere, and a field unrelated to loss."""
    rng = np.random.default_rng(seed)
    centers = rng.normal(0, 8, size=(3, d))
    blob = np.repeat(np.arange(3), n_per)
    latent = (centers[blob] + rng.normal(0, 1, size=(len(blob), d))).astype(np.float32)
    n = len(blob)
    oov_ratio = rng.uniform(0, 0.2, n)
    loss = rng.exponential(0.3, n) + np.where(blob == 2, 1.0, 0.0) + np.where(oov_ratio > 0.18, 0.8, 0.0)
    frame = pd.DataFrame({"sample_id": np.arange(n), "loss": loss, "correct": loss < 0.69,
                          "oov_ratio": oov_ratio, "unrelated": rng.normal(size=n),
                          "tokens_truncated": rng.random(n) < 0.3})
    return frame, latent, blob


@pytest.fixture(scope="module")
def data():
    return planted()


def test_kmeans_chooses_k_by_silhouette_and_recovers_the_blobs(data):
    _frame, latent, blob = data
    k, scores = choose_k(latent, seed=0)
    assert k == 3 and set(scores) == set(range(3, 13)) and scores[3] == max(scores.values())
    labels = cluster(latent, "kmeans", seed=0)
    assert adjusted_rand_score(blob, labels) == 1.0
    np.testing.assert_array_equal(cluster(latent, "kmeans", seed=0), labels)
    sizes = np.bincount(cluster(latent, "kmeans", k=5, seed=0))
    assert len(sizes) == 5 and (np.diff(sizes) <= 0).all()  # numbered by decreasing size


def test_planted_high_loss_cluster_ranks_first(data):
    frame, latent, blob = data
    labels = cluster(latent, "kmeans", seed=0)
    found = insights(frame, labels, ["oov_ratio", "unrelated", "tokens_truncated"], alpha=0.01)
    top = found[0]
    planted_cluster = np.bincount(labels[blob == 2]).argmax()
    assert top["kind"] == "cluster" and top["cluster"] == planted_cluster
    assert top["significant"] and top["p_adjusted"] < 1e-6 and top["n"] == (blob == 2).sum()
    assert top["effect_size_name"] == EFFECT_SIZE and 0.5 < top["effect_size"] <= 1
    assert top["mean_loss"] > top["population_mean_loss"] > top["rest_mean_loss"]
    assert top["statistic"].startswith("Mann-Whitney U") and top["statistic_value"] > 0
    # every returned insight is significant and they are ranked by effect size
    assert all(r["significant"] and r["p_adjusted"] < 0.01 for r in found)
    assert [r["effect_size"] for r in found] == sorted((r["effect_size"] for r in found), reverse=True)
    # the low-loss clusters and the unrelated field are not reported
    assert {r["cluster"] for r in found if r["kind"] == "cluster"} == {planted_cluster}
    assert not any(r["field"] in ("unrelated", "tokens_truncated") for r in found)


def test_planted_metadata_range_is_found(data):
    frame, _, _ = data
    found = insights(frame, None, ["oov_ratio", "unrelated"], alpha=0.01)
    assert found and all(r["kind"] == "metadata range" for r in found)
    top = found[0]
    assert top["field"] == "oov_ratio" and top["high"] == pytest.approx(frame["oov_ratio"].max())
    assert top["low"] > 0.17 and top["description"].startswith("oov_ratio in [")
    assert 40 <= top["n"] <= 50 and top["p_adjusted"] < 1e-6
    everything = insights(frame, None, ["oov_ratio", "unrelated"], significant_only=False)
    assert len(everything) == 20 and not everything[-1]["significant"]
    assert all(0 <= r["p_value"] <= r["p_adjusted"] <= 1 for r in everything)


def test_cluster_summary(data):
    frame, _latent, blob = data
    summary = cluster_summary(frame, blob, ["oov_ratio", "tokens_truncated", "missing"])
    assert list(summary.index) == [0, 1, 2] and summary["size"].tolist() == [150] * 3
    assert list(summary.columns) == ["size", "share", "accuracy", "mean_loss", "oov_ratio",
                                     "tokens_truncated"]
    for c in range(3):
        rows = frame[blob == c]
        assert summary.loc[c, "mean_loss"] == pytest.approx(rows["loss"].mean())
        assert summary.loc[c, "accuracy"] == pytest.approx(rows["correct"].mean())
        assert summary.loc[c, "tokens_truncated"] == pytest.approx(rows["tokens_truncated"].mean())
    assert summary["mean_loss"].idxmax() == 2


def test_hdbscan_keeps_noise_as_its_own_group():
    rng = np.random.default_rng(1)
    blobs = np.concatenate([rng.normal(c, 0.3, size=(100, 4)) for c in (0.0, 10.0)])
    scattered = rng.uniform(-20, 30, size=(15, 4))
    latent = np.concatenate([blobs, scattered])
    labels = cluster(latent, "hdbscan", min_cluster_size=20)
    assert set(np.unique(labels)) == {-1, 0, 1}
    assert adjusted_rand_score(np.repeat([0, 1], 100), labels[:200]) > 0.95
    assert (labels[200:] == -1).mean() > 0.8
    frame = pd.DataFrame({"loss": np.r_[np.full(200, 0.2), np.full(15, 2.0)] + rng.uniform(0, .1, 215)})
    summary = cluster_summary(frame, labels, [])
    assert summary.index[0] == -1 and summary["size"].sum() == 215
    found = insights(frame, labels, [], min_n=5)
    assert found[0]["cluster"] == -1 and found[0]["description"].startswith("noise")


def test_unlabeled_state_has_no_insights(data):
    frame, _latent, blob = data
    unlabeled = frame.assign(loss=np.nan, correct=np.nan)
    assert "unlabeled" in loss_skip_reason(unlabeled)
    assert insights(unlabeled, blob, ["oov_ratio"]) == []
    summary = cluster_summary(unlabeled, blob, ["oov_ratio"])
    assert summary["mean_loss"].isna().all() and summary["accuracy"].isna().all()
    assert summary["oov_ratio"].notna().all()
    # a partly labeled frame uses the labeled rows only
    partly = frame.assign(loss=frame["loss"].where(np.arange(len(frame)) % 2 == 0))
    assert insights(partly, blob, [])[0]["n"] == (blob[::2] == 2).sum()


def test_holm():
    np.testing.assert_allclose(holm([0.01, 0.04, 0.03, 0.005]), [0.03, 0.06, 0.06, 0.02])
    np.testing.assert_allclose(holm([0.5, 0.9]), [1.0, 1.0])


def test_bad_input_is_refused(data):
    frame, latent, blob = data
    with pytest.raises(ValueError, match="unknown clustering"):
        cluster(latent, "dbscan")
    with pytest.raises(ValueError, match="cluster labels"):
        cluster_summary(frame, blob[:-1], [])
    with pytest.raises(ValueError, match="NaN"):
        cluster(np.full((10, 2), np.nan))


@pytest.mark.filterwarnings("ignore::sklearn.exceptions.ConvergenceWarning")  # k-means of identical points
def test_a_k_the_reviews_cannot_give_is_an_analysis_error(data):
    """More clusters than reviews (--k), or reviews too alike to split: the user's input, so one
    AnalysisError line from the CLI rather than a traceback."""
    _, latent, _ = data
    with pytest.raises(AnalysisError, match=f"--k {len(latent) + 1} asks for more clusters than the {len(latent)} "):
        cluster(latent, "kmeans", k=len(latent) + 1)
    with pytest.raises(AnalysisError, match="identical"):
        cluster(np.ones((20, 4)), "kmeans")
