"""Similarity search in code space: ``kneighbors`` on every neural detector's latent codes."""

from __future__ import annotations

import numpy as np
import pytest
from sklearn.datasets import load_digits
from sklearn.exceptions import NotFittedError

from anomalib_ae import AutoEncoderDetector, get_detector
from tests.conftest import fast_detector


@pytest.fixture
def neural_name(detector_name):
    if not hasattr(get_detector(detector_name), "kneighbors"):
        pytest.skip(f"{detector_name} has no latent codes")
    return detector_name


def _data(n=40, d=5, seed=0):
    return np.random.default_rng(seed).normal(size=(n, d))


def test_kneighbors_contract(neural_name):
    X = _data()
    det = fast_detector(neural_name).fit(X)
    dist, idx = det.kneighbors(X[:7], n_neighbors=3)
    assert dist.shape == idx.shape == (7, 3)
    assert np.all(np.diff(dist, axis=1) >= 0)  # nearest first
    assert idx.min() >= 0 and idx.max() < len(X)
    # The distances are Euclidean distances between the codes of transform().
    codes, query = det.transform(X), det.transform(X[:7])
    expected = np.linalg.norm(codes[idx] - query[:, None, :], axis=2)
    np.testing.assert_allclose(dist, expected, rtol=1e-5, atol=1e-6)  # float32 codes
    # A training row's own code is its nearest neighbour ...
    np.testing.assert_allclose(dist[:, 0], 0.0, atol=1e-5)
    # ... and querying the training set itself (X=None) excludes each row from its neighbours.
    self_idx = det.kneighbors(n_neighbors=2, return_distance=False)
    assert self_idx.shape == (len(X), 2)
    assert not np.any(self_idx == np.arange(len(X))[:, None])


def test_kneighbors_errors(neural_name):
    with pytest.raises(NotFittedError):
        fast_detector(neural_name).kneighbors(_data())
    det = fast_detector(neural_name).fit(_data(n=10))
    with pytest.raises(ValueError, match="between 1 and 10"):
        det.kneighbors(_data(n=2), n_neighbors=11)
    with pytest.raises(ValueError, match="between 1 and 9"):
        det.kneighbors(n_neighbors=10)
    with pytest.raises(TypeError, match="int"):
        det.kneighbors(_data(n=2), n_neighbors=2.5)
    with pytest.raises(ValueError, match="5 features"):
        det.kneighbors(_data(n=2, d=3))


def test_code_neighbours_on_digits_share_the_label():
    """The 'similar images' use of codes: nearest codes are mostly the same digit."""
    X, y = load_digits(return_X_y=True)
    rng = np.random.default_rng(0)
    train = rng.permutation(len(X))[:1200]
    query = np.setdiff1d(np.arange(len(X)), train)
    det = AutoEncoderDetector(
        hidden_dims=(128,), latent_dim=16, max_epochs=15, lr=3e-3, random_state=0
    ).fit(X[train])
    idx = det.kneighbors(X[query], n_neighbors=5, return_distance=False)
    agreement = np.mean(y[train][idx] == y[query][:, None])
    assert agreement > 0.8, agreement  # chance is about 0.1


def test_code_index_is_built_on_first_use_and_survives_saving(tmp_path):
    """``fit`` keeps the training codes only; the search index is built when first used."""
    from anomalib_ae import load

    X = _data(n=60)
    det = AutoEncoderDetector(
        hidden_dims=(8,), latent_dim=2, max_epochs=2, random_state=0, code_neighbors=0
    )
    det.fit(X)  # (with the code-neighbour score on, fit itself needs the index)
    index = det.code_index_
    assert index.search_ is None and index.codes_ is not None
    det.save(tmp_path / "lazy.aeod")  # saved before the index exists
    first = det.kneighbors(X[:5], n_neighbors=3)
    assert index.search_ is not None and index.codes_ is None  # codes kept once
    det.save(tmp_path / "built.aeod")  # and after
    for name in ("lazy.aeod", "built.aeod"):
        again = load(tmp_path / name).kneighbors(X[:5], n_neighbors=3)
        np.testing.assert_array_equal(again[1], first[1])
        np.testing.assert_allclose(again[0], first[0], rtol=1e-12)
    # The distances are those of an index over the float64 codes.
    from sklearn.neighbors import NearestNeighbors

    codes = det.transform(X)
    expected = NearestNeighbors().fit(codes).kneighbors(det.transform(X[:5]), n_neighbors=3)
    np.testing.assert_array_equal(first[0], expected[0])


def test_codes_are_kept_as_float32_when_that_is_exact():
    from anomalib_ae.scoring import ExactIndex

    exact = np.arange(6.0).reshape(3, 2) / 4  # float64 values that float32 holds exactly
    assert ExactIndex().fit(exact).codes_.dtype == np.float32  # half the memory, same values
    inexact = exact + 1e-12
    index = ExactIndex().fit(inexact)
    assert index.codes_.dtype == np.float64
    np.testing.assert_array_equal(index.searcher._fit_X, inexact)
