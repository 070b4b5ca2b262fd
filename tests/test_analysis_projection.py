"""IMDb.analysis.projection: [n, 2] finite, deterministic per seed, and clearly separated blobs stay
separated on the map (silhouette of the true blobs on the 2-D output)."""
from __future__ import annotations

import numpy as np
import pytest
from sklearn.metrics import silhouette_score

from IMDb.analysis.projection import METHODS, PRE_PCA_DIMS, project


def blobs(n_per: int = 60, d: int = 64, seed: int = 0) -> tuple[np.ndarray, np.ndarray]:
    """Three well-separated gaussian blobs in d dimensions."""
    rng = np.random.default_rng(seed)
    centers = rng.normal(0, 10, size=(3, d))
    x = np.concatenate([c + rng.normal(0, 1, size=(n_per, d)) for c in centers]).astype(np.float32)
    return x, np.repeat(np.arange(3), n_per)


@pytest.fixture(scope="module")
def data():
    return blobs()


@pytest.mark.parametrize("method", METHODS)
def test_projection_is_finite_deterministic_and_separates_blobs(data, method):
    x, y = data
    first = project(x, method, seed=3)
    assert first.shape == (len(x), 2) and first.dtype == np.float32
    assert np.isfinite(first).all()
    assert silhouette_score(first, y) > 0.5
    np.testing.assert_array_equal(project(x, method, seed=3), first)


def test_wide_vectors_are_reduced_first_and_narrow_ones_work():
    x, _y = blobs(n_per=40, d=PRE_PCA_DIMS + 30, seed=1)
    assert project(x, "umap", seed=0).shape == (len(x), 2)
    one_dim = project(x[:, :1], "pca")
    assert one_dim.shape == (len(x), 2) and (one_dim[:, 1] == 0).all()


def test_tiny_inputs_fall_back_to_pca():
    x = np.arange(8, dtype=np.float32).reshape(4, 2)
    for method in METHODS:
        out = project(x, method)
        assert out.shape == (4, 2) and np.isfinite(out).all()
    assert project(np.zeros((0, 5)), "umap").shape == (0, 2)
    assert project(np.ones((1, 5)), "tsne").shape == (1, 2)


def test_bad_input_is_refused():
    with pytest.raises(ValueError, match="unknown projection"):
        project(np.zeros((10, 3)), "mds")
    with pytest.raises(ValueError, match="NaN"):
        project(np.full((10, 3), np.nan), "pca")
    with pytest.raises(ValueError, match=r"\[n, d\]"):
        project(np.zeros(10), "pca")
