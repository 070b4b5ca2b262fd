"""A 2-D map of the latent space, for the population-exploration plot.

UMAP by default (it keeps both the local neighbourhoods and some of the global layout, as the
platform's map does); PCA (linear, instant, the honest fallback) and t-SNE (PCA-initialised) as
options. Every method is seeded and runs on one thread, so the same vectors and seed give the same
map (and a busy 2-core machine does not stall on spinning threads, see `project`). Vectors wider than ``PRE_PCA_DIMS`` are first reduced with PCA:
on a 2-core machine that makes the neighbour search of UMAP and t-SNE several times faster and, for
a latent layer, loses next to nothing (most of the variance lies in the first few dozen components).

A map is kept in the imdb-leap cache (`IMDb.analysis.cache.stored_array`) under a hash of the vectors and
settings: a second analysis of the same model and reviews reads it back. UMAP's neighbour graph is
exact (`exact_neighbors`, one BLAS pass: seconds for 25,000 vectors) rather than pynndescent's
approximate search, whose numba code took most of a first call to compile. UMAP's own numba code is
compiled once and kept in numba's cache (`_import_umap`).
"""
from __future__ import annotations

import hashlib
import sys
import warnings

import numpy as np

from IMDb.analysis import cache

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
        return cache.stored_array("projection", _version(x, method, seed, n_neighbors, min_dist, perplexity),
                                  lambda: _project(x, method, seed, n_neighbors, min_dist, perplexity))


def _version(x: np.ndarray, *options: object) -> str:
    """What a map depends on: the vectors, the settings, this code and the libraries that compute it
    (the same inputs give the same map, so a second analysis of a model reads it back)."""
    import importlib.metadata

    libraries = [importlib.metadata.version(p) for p in ("umap-learn", "scikit-learn", "numba", "numpy")]
    digest = hashlib.sha256(np.ascontiguousarray(x).tobytes()).hexdigest()
    return cache.version(x.shape, digest, *options, *libraries, modules=(sys.modules[__name__],))


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
    (about a minute on a busy machine, and never needed here); None if umap-learn is missing.

    UMAP's own jitted functions, which umap-learn does not mark ``cache=True``, are put in numba's
    on-disk cache like pynndescent's: a fresh process loads them instead of compiling them again
    (10 to 30 s). The cache stays where numba keeps it (beside the installed package, or its user
    cache folder; NUMBA_CACHE_DIR overrides), not under IMDB_CACHE: there, every new IMDB_CACHE
    would compile pynndescent's functions again when umap is imported (26 s of CPU measured)."""
    blocked = "umap.parametric_umap" not in sys.modules and "tensorflow" not in sys.modules
    if blocked:
        sys.modules["umap.parametric_umap"] = None  # makes that optional import fail fast
    try:
        with warnings.catch_warnings():
            warnings.simplefilter("ignore")
            import umap.distances
            import umap.layouts
            import umap.umap_
            import umap.utils
            from umap import UMAP
        for module in (umap.umap_, umap.layouts, umap.utils, umap.distances):
            _cache_jitted(module)
        return UMAP
    except ImportError:
        return None
    finally:
        if blocked and sys.modules.get("umap.parametric_umap", 0) is None:
            del sys.modules["umap.parametric_umap"]  # a later explicit import works as usual


def _cache_jitted(module) -> None:
    """Turn numba's on-disk cache on for `module`'s jitted functions (what ``cache=True`` does)."""
    from numba.core.registry import CPUDispatcher

    for function in vars(module).values():
        if isinstance(function, CPUDispatcher):
            try:
                function.enable_caching()
            except RuntimeError:  # no writable cache folder: compiled in memory as before
                return


def exact_neighbors(x: np.ndarray, k: int) -> tuple[np.ndarray, np.ndarray]:
    """(indices int64 [n, k], euclidean distances float32 [n, k]) of each vector's `k` nearest,
    itself first, then by distance (UMAP's ``precomputed_knn``). The search uses BLAS; distances
    are recomputed from the differences, as the dot-product form loses precision near zero."""
    from sklearn.neighbors import NearestNeighbors

    others = NearestNeighbors(n_neighbors=k - 1, algorithm="brute").fit(x).kneighbors(return_distance=False)
    indices = np.concatenate([np.arange(len(x))[:, None], others], axis=1)
    distances = np.linalg.norm(x[indices] - x[:, None, :], axis=2).astype(np.float32)
    order = np.argsort(distances[:, 1:], axis=1, kind="stable") + 1
    rows = np.arange(len(x))[:, None]
    indices[:, 1:], distances[:, 1:] = indices[rows, order], distances[rows, order]
    return indices, distances


def _umap(x: np.ndarray, seed: int, n_neighbors: int, min_dist: float) -> np.ndarray:
    umap_class = _import_umap()
    if umap_class is None:
        warnings.warn("umap-learn is not installed (pip install umap-learn); projecting with PCA "
                      "instead", RuntimeWarning, stacklevel=3)
        return _pca(x, 2, seed)
    k = min(n_neighbors, len(x) - 1)
    reducer = umap_class(n_components=2, n_neighbors=k, min_dist=min_dist,
                         random_state=seed, n_jobs=1,  # a fixed seed means one thread anyway
                         init="spectral" if len(x) > n_neighbors + 1 else "random",
                         precomputed_knn=exact_neighbors(x, k))
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
