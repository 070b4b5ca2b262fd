"""Unsupervised clusters of the latent space, what each holds, and ranked insights: the clusters and
metadata ranges whose loss is significantly above the rest of the population (as the seeds find an
OOV-heavy, high-loss cluster).

k-means by default, its k chosen by the silhouette score on a seeded subsample (the full silhouette
is quadratic in n); HDBSCAN as an option, its noise points (label -1) kept as a group of their own.
The insight tests are one-sided Mann-Whitney U tests (loss is skewed and heavy-tailed, so a rank
test rather than a t-test), Holm-corrected over every test made, with the rank-biserial correlation
as effect size: the probability that a group member's loss exceeds a non-member's, minus the
reverse (0: no difference, 1: every member above every non-member).
"""
from __future__ import annotations

import numpy as np
import pandas as pd

from IMDb.analysis.exploration import as_float, loss_skip_reason, quantile_groups
from IMDb.errors import AnalysisError

METHODS = ("kmeans", "hdbscan")
# From 3: a two-class model's latent space always splits best into its two predicted classes
# (silhouette picked k=2 on the CNN's test latents), which says nothing the labels don't.
K_RANGE = range(3, 13)
SILHOUETTE_SAMPLE = 5000
NOISE = -1
STATISTIC = "Mann-Whitney U (one-sided: group loss > rest)"
EFFECT_SIZE = "rank-biserial correlation"


# --------------------------------------------------------------------------- clustering


def choose_k(latent: np.ndarray, k_range=K_RANGE, seed: int = 0,
             sample: int = SILHOUETTE_SAMPLE) -> tuple[int, dict[int, float]]:
    """The k of `k_range` with the best silhouette score, k-means fitted and scored on a seeded
    subsample of at most `sample` points; returns (k, {k: silhouette}) so reports can show why."""
    from sklearn.metrics import silhouette_score
    from threadpoolctl import threadpool_limits

    x = _vectors(latent)
    if len(x) > sample:
        x = x[np.sort(np.random.default_rng(seed).choice(len(x), sample, replace=False))]
    scores = {}
    for k in k_range:
        if not 2 <= k < len(x):
            continue
        labels = _kmeans(x, k, seed)
        if len(np.unique(labels)) < 2:  # duplicate points can leave clusters empty
            continue
        with threadpool_limits(1):  # see _kmeans
            scores[int(k)] = float(silhouette_score(x, labels))
    if not scores:  # the reviews' latent vectors are (nearly) all the same: identical or empty reviews
        raise AnalysisError(f"cannot choose k in {list(k_range)}: the {len(x)} reviews' latent vectors do not "
                            "form two clusters (are the reviews identical?); pass --k, or --clusters hdbscan")
    return max(scores, key=lambda k: (scores[k], -k)), scores


def cluster(latent: np.ndarray, method: str = "kmeans", k: int | None = None, seed: int = 0, *,
            k_range=K_RANGE, min_cluster_size: int | None = None) -> np.ndarray:
    """Cluster label per row of `latent` [n, d] (int64, 0..k-1 numbered by decreasing size, so
    cluster 0 is the largest; HDBSCAN's noise is -1).

    kmeans: `k` clusters, or the silhouette-best k of `k_range` when `k` is None (`choose_k`).
    hdbscan: `min_cluster_size` defaults to 1% of the points (at least 5); `k` is ignored.
    """
    x = _vectors(latent)
    if method == "kmeans":
        if k is None:
            k, _ = choose_k(x, k_range, seed)
        if k > len(x):  # the user's --k against the reviews analysed, known only once the table is built
            raise AnalysisError(f"--k {k} asks for more clusters than the {len(x)} reviews analysed: choose at "
                                f"most {len(x)}, or leave --k out (k is then chosen by silhouette)")
        if k < 1:
            raise ValueError(f"k={k} for {len(x)} points")
        return _by_size(_kmeans(x, int(k), seed))
    if method == "hdbscan":
        from sklearn.cluster import HDBSCAN

        size = min_cluster_size or max(5, round(0.01 * len(x)))
        # min_samples below min_cluster_size: fewer points called noise, and a cheaper core-distance
        # search; HDBSCAN itself is deterministic (no seed).
        model = HDBSCAN(min_cluster_size=size, min_samples=min(size, 10), copy=True)
        from threadpoolctl import threadpool_limits

        with threadpool_limits(1):  # see _kmeans
            return _by_size(model.fit_predict(x).astype(np.int64))
    raise ValueError(f"unknown clustering method {method!r}; choose one of {METHODS}")


def _kmeans(x: np.ndarray, k: int, seed: int) -> np.ndarray:
    """k-means++ with 3 restarts, on one OpenMP thread: on a busy 2-core machine sklearn's threads
    spin-wait on each other (measured: 450 points x 11 values of k took 14 s on the default threads,
    0.5 s on one; 25k x 64 points, 2.1 s against 1.0 s), and one thread gives the same labels."""
    from sklearn.cluster import KMeans
    from threadpoolctl import threadpool_limits

    with threadpool_limits(1):
        return KMeans(n_clusters=k, n_init=3, random_state=seed).fit_predict(x).astype(np.int64)


def _by_size(labels: np.ndarray) -> np.ndarray:
    """Renumber clusters 0.. by decreasing size (ties: by old number); noise (-1) stays -1."""
    ids, counts = np.unique(labels[labels != NOISE], return_counts=True)
    order = ids[np.lexsort((ids, -counts))]
    mapping = {int(old): new for new, old in enumerate(order)}
    return np.array([mapping.get(int(c), NOISE) for c in labels], dtype=np.int64)


def _vectors(latent: np.ndarray) -> np.ndarray:
    x = np.asarray(latent, dtype=np.float64)
    if x.ndim != 2 or len(x) == 0:
        raise ValueError(f"latent must be a non-empty [n, d] array, got shape {x.shape}")
    if not np.isfinite(x).all():
        raise ValueError("latent holds NaN or infinite values")
    return x


# --------------------------------------------------------------------------- per-cluster summary


def cluster_summary(frame: pd.DataFrame, labels: np.ndarray, fields) -> pd.DataFrame:
    """One row per cluster (index ``cluster``, noise -1 first): ``size``, ``share`` of the rows,
    ``accuracy`` and ``mean_loss`` (over the labeled rows; NaN without any), then the mean of each
    numeric or boolean field in `fields` (a boolean's mean is its share of True)."""
    labels = _labels(frame, labels)
    loss = as_float(frame["loss"]) if "loss" in frame else np.full(len(frame), np.nan)
    correct = as_float(frame["correct"]) if "correct" in frame else np.full(len(frame), np.nan)
    numeric = [f for f in fields if f in frame and _is_number_like(frame[f])]
    values = {f: as_float(frame[f]) for f in numeric}
    rows = {}
    for c in np.unique(labels):
        sel = labels == c
        rows[int(c)] = {"size": int(sel.sum()), "share": float(sel.mean()),
                        "accuracy": _nanmean(correct[sel]), "mean_loss": _nanmean(loss[sel]),
                        **{f: _nanmean(v[sel]) for f, v in values.items()}}
    out = pd.DataFrame.from_dict(rows, orient="index",
                                 columns=["size", "share", "accuracy", "mean_loss", *numeric])
    out.index.name = "cluster"
    return out


def _labels(frame: pd.DataFrame, labels) -> np.ndarray:
    labels = np.asarray(labels).astype(np.int64).reshape(-1)
    if len(labels) != len(frame):
        raise ValueError(f"{len(labels)} cluster labels for {len(frame)} rows")
    return labels


def _is_number_like(values: pd.Series) -> bool:
    if pd.api.types.is_bool_dtype(values) or pd.api.types.is_numeric_dtype(values):
        return True
    return values.dropna().map(lambda v: isinstance(v, (bool, int, float, np.number))).all() \
        and values.notna().any()


def _nanmean(values: np.ndarray) -> float:
    finite = values[np.isfinite(values)]
    return float(finite.mean()) if len(finite) else np.nan


# --------------------------------------------------------------------------- ranked insights


def insights(frame: pd.DataFrame, labels: np.ndarray | None, fields, alpha: float = 0.01, *,
             bins: int = 10, min_n: int = 20, significant_only: bool = True) -> list[dict]:
    """Groups whose loss is significantly above the rest: each cluster (labels; None to skip) and
    each quantile bin of each field (`bins` per field; one group per value for booleans and fields
    with few values), tested against every other labeled row (for a field: every other row with a
    value) by a one-sided Mann-Whitney U test, Holm-corrected over all the tests made.

    Groups or complements under `min_n` rows are not tested. Returns dicts ranked by effect size
    (significant ones only unless `significant_only` is False, then significant first): ``kind``
    ("cluster" or "metadata range"), ``description``, ``cluster`` / ``field``, ``low``, ``high``,
    ``n``, ``mean_loss``, ``rest_mean_loss``, ``population_mean_loss``, ``accuracy``, ``statistic``,
    ``statistic_value`` (U of the group), ``p_value``, ``p_adjusted`` (Holm), ``effect_size``,
    ``effect_size_name`` (rank-biserial correlation), ``significant``. Without any loss (the
    unlabeled state) it returns [] (`exploration.loss_skip_reason` says why).
    """
    if loss_skip_reason(frame):
        return []
    loss = as_float(frame["loss"])
    labeled = np.isfinite(loss)
    population = float(loss[labeled].mean())
    correct = as_float(frame["correct"]) if "correct" in frame else np.full(len(frame), np.nan)
    candidates = []  # (record, member mask, comparison mask)
    if labels is not None:
        labels = _labels(frame, labels)
        for c in np.unique(labels[labeled]):
            name = "noise (no cluster)" if c == NOISE else f"cluster {c}"
            candidates.append(({"kind": "cluster", "description": name, "cluster": int(c),
                                "field": None, "low": np.nan, "high": np.nan},
                               labeled & (labels == c), labeled))
    for field in fields:
        if field not in frame:
            continue
        groups = quantile_groups(frame[field].where(labeled), bins)
        if len(groups) < 2:
            continue
        codes = groups.attrs["codes"]
        for g in groups.itertuples():
            single = g.low == g.high or not np.isfinite(g.low)
            text = f"{field} = {g.label}" if single else f"{field} in [{_short(g.low)}, {_short(g.high)}]"
            candidates.append(({"kind": "metadata range", "description": text, "cluster": None,
                                "field": field, "low": g.low, "high": g.high},
                               codes == g.group, codes >= 0))
    results = []
    for record, member, pool in candidates:
        rest = pool & ~member
        if member.sum() < min_n or rest.sum() < min_n:
            continue
        results.append({**record, **_test(loss[member], loss[rest]), "population_mean_loss": population,
                        "accuracy": _nanmean(correct[member])})
    if not results:
        return []
    adjusted = holm([r["p_value"] for r in results])
    for r, p in zip(results, adjusted):
        r["p_adjusted"] = float(p)
        r["significant"] = bool(p < alpha and r["effect_size"] > 0)
    ranked = sorted(results, key=lambda r: (not r["significant"], -r["effect_size"], r["p_value"]))
    return [r for r in ranked if r["significant"]] if significant_only else ranked


def _test(member: np.ndarray, rest: np.ndarray) -> dict:
    from scipy.stats import mannwhitneyu

    result = mannwhitneyu(member, rest, alternative="greater", method="asymptotic")
    u = float(result.statistic)
    return {"n": len(member), "mean_loss": float(member.mean()), "rest_mean_loss": float(rest.mean()),
            "statistic": STATISTIC, "statistic_value": u, "p_value": float(result.pvalue),
            "effect_size": 2 * u / (len(member) * len(rest)) - 1, "effect_size_name": EFFECT_SIZE}


def holm(p_values) -> np.ndarray:
    """Holm-Bonferroni adjusted p-values (family-wise error control, uniformly more powerful than
    Bonferroni): the i-th smallest p times (m - i), made monotone, capped at 1."""
    p = np.asarray(p_values, dtype=float)
    order = np.argsort(p, kind="stable")
    scaled = p[order] * (len(p) - np.arange(len(p)))
    adjusted = np.empty_like(p)
    adjusted[order] = np.minimum(np.maximum.accumulate(scaled), 1.0)
    return adjusted


def _short(value: float) -> str:
    return f"{value:.4g}"
