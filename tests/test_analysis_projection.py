"""IMDb.analysis.projection: [n, 2] finite, deterministic per seed, and clearly separated blobs stay
separated on the map (silhouette of the true blobs on the 2-D output)."""
from __future__ import annotations

import numpy as np
import pytest
from sklearn.metrics import silhouette_score

from IMDb.analysis import projection
from IMDb.analysis.projection import METHODS, PRE_PCA_DIMS, exact_neighbors, project


def blobs(n_per: int = 60, d: int = 64, seed: int = 0) -> tuple[np.ndarray, np.ndarray]:
    """Three well-separated gaussian blobs in d dimensions."""
    rng = np.random.default_rng(seed)
    centers = rng.normal(0, 10, size=(3, d))
    x = np.concatenate([c + rng.normal(0, 1, size=(n_per, d)) for c in centers]).astype(np.float32)
    return x, np.repeat(np.arange(3), n_per)


@pytest.fixture(autouse=True)
def cache_dir(tmp_path, monkeypatch):
    """The maps' cache in a temp folder, never the user's."""
    monkeypatch.setenv("IMDB_CACHE", str(tmp_path / "cache"))


@pytest.fixture(scope="module")
def data():
    return blobs()


@pytest.mark.parametrize("method", METHODS)
def test_projection_is_finite_deterministic_and_separates_blobs(data, method, tmp_path, monkeypatch):
    x, y = data
    first = project(x, method, seed=3)
    assert first.shape == (len(x), 2) and first.dtype == np.float32
    assert np.isfinite(first).all()
    assert silhouette_score(first, y) > 0.5
    monkeypatch.setenv("IMDB_CACHE", str(tmp_path / "empty"))  # computed again, not read back
    np.testing.assert_array_equal(project(x, method, seed=3), first)


def test_a_map_is_read_back_for_the_same_vectors_and_settings(data, monkeypatch):
    x, _y = data
    first = project(x, "umap", seed=1)
    monkeypatch.setattr(projection, "_project", None)  # nothing may be computed now
    np.testing.assert_array_equal(project(x.copy(), "umap", seed=1), first)
    for other in ({"seed": 2}, {"seed": 1, "n_neighbors": 10}):
        with pytest.raises(TypeError):
            project(x, "umap", **other)
    with pytest.raises(TypeError):
        project(x + 1e-3, "umap", seed=1)


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


def test_exact_neighbors_are_the_nearest_self_first():
    x, _y = blobs(n_per=30, d=8, seed=2)
    x[5] = x[6]  # a duplicate: distance 0 to another point
    indices, distances = exact_neighbors(x, 7)
    assert indices.shape == distances.shape == (len(x), 7) and distances.dtype == np.float32
    assert (indices[:, 0] == np.arange(len(x))).all() and (distances[:, 0] == 0).all()
    assert (np.diff(distances, axis=1) >= 0).all()
    full = np.linalg.norm(x[:, None, :] - x[None, :, :], axis=2)
    np.fill_diagonal(full, np.inf)
    np.testing.assert_allclose(distances[:, 1:], np.sort(full, axis=1)[:, :6], rtol=1e-5, atol=1e-6)
    assert indices[5, 1] == 6 and distances[5, 1] == 0
