"""A 2-D map of the latent space, for the population-exploration plot.

UMAP by default (it keeps both the local neighbourhoods and some of the global layout, as the
platform's map does); PCA (linear, instant, the honest fallback) and t-SNE (PCA-initialised) as
options. Every method is seeded and runs on one thread, so the same vectors and seed give the same
map (and a busy 2-core machine does not stall on spinning threads, see `project`). Vectors wider than ``PRE_PCA_DIMS`` are first reduced with PCA:
on a 2-core machine that makes the neighbour search of UMAP and t-SNE several times faster and, for
a latent layer, loses next to nothing (most of the variance lies in the first few dozen components).

UMAP compiles numba code on its first call in a process (tens of seconds on a busy 2-core machine);
later calls reuse it.
"""
from __future__ import annotations

import sys
import warnings

import numpy as np

METHODS = ("umap", "pca", "tsne")
PRE_PCA_DIMS = 50


def project(latent: np.ndarray, method: str = "umap", seed: int = 0, *,
            n_neighbors: int = 15, min_dist: float = 0.1, perplexity: float = 30.0) -> np.ndarray:
    """[n, d] vectors -> [n, 2] float32 coordinates, deterministic for a given `seed`.

    `n_neighbors`/`min_dist` are UMAP's, `perplexity` t-SNE's (both capped for tiny inputs). With
    fewer points than a neighbourhood needs (n < 5), every method falls back to PCA.
    """
    if method not in METHODS:
        raise ValueError(f"unknown projection method {method!r}; choose one of {METHODS}")
    x = np.asarray(latent, dtype=np.float32)
    if x.ndim != 2:
        raise ValueError(f"latent must be [n, d], got shape {x.shape}")
    if not np.isfinite(x).all():
        raise ValueError("latent holds NaN or infinite values")
    from threadpoolctl import threadpool_limits

    # One BLAS/OpenMP thread: on a busy 2-core machine, threads spin-waiting on each other made
    # sklearn's t-SNE of 180 points take 36 s instead of 0.5 s (and 3,000 points 32 s instead of 26).
    with threadpool_limits(1):
        return _project(x, method, seed, n_neighbors, min_dist, perplexity)


def _project(x: np.ndarray, method: str, seed: int, n_neighbors: int, min_dist: float,
             perplexity: float) -> np.ndarray:
    if method == "pca" or len(x) < 5:
        return _pca(x, 2, seed)
    if x.shape[1] > PRE_PCA_DIMS:
        x = _pca(x, PRE_PCA_DIMS, seed)
    if method == "umap":
        return _umap(x, seed, n_neighbors, min_dist)
    return _tsne(x, seed, perplexity)


def _pca(x: np.ndarray, dims: int, seed: int) -> np.ndarray:
    """The first `dims` principal components, zero-padded when the data has fewer."""
    from sklearn.decomposition import PCA

    n, d = x.shape
    keep = min(dims, n, d)
    out = np.zeros((n, dims), dtype=np.float32)
    if keep > 0 and n > 1:
        out[:, :keep] = PCA(n_components=keep, random_state=seed).fit_transform(x)
    return out


def _import_umap():
    """umap-learn's UMAP class, without the TensorFlow import its package runs for ParametricUMAP
    (about a minute on a busy machine, and never needed here); None if umap-learn is missing."""
    blocked = "umap.parametric_umap" not in sys.modules and "tensorflow" not in sys.modules
    if blocked:
        sys.modules["umap.parametric_umap"] = None  # makes that optional import fail fast
    try:
        with warnings.catch_warnings():
            warnings.simplefilter("ignore")
            from umap import UMAP
        return UMAP
    except ImportError:
        return None
    finally:
        if blocked and sys.modules.get("umap.parametric_umap", 0) is None:
            del sys.modules["umap.parametric_umap"]  # a later explicit import works as usual


def _umap(x: np.ndarray, seed: int, n_neighbors: int, min_dist: float) -> np.ndarray:
    umap_class = _import_umap()
    if umap_class is None:
        warnings.warn("umap-learn is not installed (pip install umap-learn); projecting with PCA "
                      "instead", RuntimeWarning, stacklevel=3)
        return _pca(x, 2, seed)
    reducer = umap_class(n_components=2, n_neighbors=min(n_neighbors, len(x) - 1), min_dist=min_dist,
                         random_state=seed, n_jobs=1,  # a fixed seed means one thread anyway
                         init="spectral" if len(x) > n_neighbors + 1 else "random")
    with warnings.catch_warnings():
        warnings.simplefilter("ignore")  # n_jobs/random_state notice, spectral-init fallbacks
        out = reducer.fit_transform(x)
    return np.asarray(out, dtype=np.float32)


def _tsne(x: np.ndarray, seed: int, perplexity: float) -> np.ndarray:
    from sklearn.manifold import TSNE

    perplexity = min(perplexity, max(1.0, (len(x) - 1) / 3))
    out = TSNE(n_components=2, init="pca", learning_rate="auto", perplexity=perplexity,
               random_state=seed).fit_transform(x)
    return np.asarray(out, dtype=np.float32)
