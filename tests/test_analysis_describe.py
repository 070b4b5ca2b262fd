"""Insights and clusters in plain words: a sentence first, the statistics below it."""
import numpy as np
import pandas as pd

from IMDb.analysis.describe import describe_clusters, headline


def insight(**kw):
    return {"kind": "metadata range", "n": 4942, "mean_loss": 0.441, "rest_mean_loss": 0.183, **kw}


def test_a_lukewarm_rating_reads_as_star_ratings_with_advice():
    text = headline(insight(field="rating_score_confidence", low=1.5, high=1.5,
                            description="rating_score_confidence = 1.5"))
    assert text == ("Reviews rated 4 or 7 stars: loss 0.44 vs 0.18 for the rest, 4,942 reviews "
                    "\N{EM DASH} lukewarm ratings are the hardest")


def test_other_fields_ranges_booleans_and_clusters():
    assert headline(insight(field="oov_ratio", low=0.061, high=0.3, description="")).startswith(
        "Reviews whose out-of-vocabulary share is 0.061-0.30: loss 0.44")
    assert "words the model does not know" in headline(insight(field="oov_ratio", low=0.061, high=0.3))
    assert headline(insight(field="tokens_truncated", low=np.nan, high=np.nan,
                            description="tokens_truncated = True")).startswith("Reviews longer than the model's input")
    assert headline(insight(field="some_new_field", low=2, high=5)).startswith("Reviews with some new field 2-5:")
    cluster = headline({"kind": "cluster", "description": "cluster 0", "n": 9561, "mean_loss": 0.486,
                        "rest_mean_loss": 0.1}, "mixed predictions (50% positive)")
    assert cluster == ("Cluster 0, 9,561 reviews: loss 0.49 vs 0.10 for the rest \N{EM DASH} mixed predictions "
                       "(50% positive)")


def test_clusters_are_described_by_predictions_and_distinguishing_metadata():
    rng = np.random.default_rng(0)
    n = 300
    labels = np.repeat([0, 1, 2], n // 3)
    p = np.concatenate([rng.uniform(0.4, 0.6, 100), rng.uniform(0.95, 1, 100), rng.uniform(0, 0.05, 100)])
    frame = pd.DataFrame({"p_positive": p, "negations": np.where(labels == 2, 6.0, 1.0) + rng.normal(0, 0.1, n),
                          "html_residue": rng.normal(3, 1, n)})
    described = describe_clusters(frame, labels, ["negations", "html_residue"])
    assert described[0].startswith("mixed predictions") and "the model is unsure" in described[0]
    assert described[1].startswith("mostly predicted positive (100%)")
    assert "higher negations (6.00 vs 2.67)" in described[2] and "HTML" not in described[2]
