"""The neighbour indexes: exact below the threshold, approximate above, deterministic, savable."""

from __future__ import annotations

import numpy as np
import pytest

from anomalib_ae import AutoEncoderDetector, load
from anomalib_ae.scoring import ExactIndex, IVFIndex, SubsetIndex, make_index
from anomalib_ae.scoring.approximate import has_faiss

needs_faiss = pytest.mark.skipif(not has_faiss(), reason="faiss-cpu is not installed")


def _codes(n=3000, d=4, seed=0):
    return np.random.default_rng(seed).normal(size=(n, d))


def test_auto_is_exact_below_the_threshold(monkeypatch):
    from anomalib_ae.scoring import approximate

    codes = _codes(200)
    assert type(make_index(codes)) is ExactIndex
    monkeypatch.setattr(approximate, "EXACT_MAX_ROWS", 100)
    assert type(make_index(codes)) in (IVFIndex, SubsetIndex)
    with pytest.raises(ValueError, match="neighbor_index"):
        make_index(codes, "fast")


def _fit(**kw):
    X = np.random.default_rng(1).normal(size=(300, 5))
    det = AutoEncoderDetector(hidden_dims=(8,), latent_dim=3, max_epochs=2, random_state=0, **kw)
    return det.fit(X), X


def test_default_scores_are_those_of_exact_search():
    """Below the threshold the default detector's scores are bit-identical to exact search's."""
    auto, X = _fit()
    exact, _ = _fit(neighbor_index="exact")
    assert type(auto.code_index_) is ExactIndex
    np.testing.assert_array_equal(auto.score_samples(X), exact.score_samples(X))
    assert auto.offset_ == exact.offset_


@needs_faiss
def test_ivf_is_close_to_exact_and_batch_independent():
    codes, queries = _codes(), _codes(500, seed=2)
    exact = ExactIndex().fit(codes).kneighbors(queries, 5)[0][:, -1]
    index = IVFIndex().fit(codes)
    dist, ids = index.kneighbors(queries, 5)
    assert np.mean(np.abs(dist[:, -1] / exact - 1)) < 0.01
    np.testing.assert_allclose(  # distances are exact float64 distances to the ids found
        dist, np.linalg.norm(codes[ids] - queries[:, None], axis=2), rtol=1e-12
    )
    for split in (1, 7, 333):
        part = index.kneighbors(queries[:split], 5)
        np.testing.assert_array_equal(part[0], dist[:split])
        np.testing.assert_array_equal(part[1], ids[:split])
    again = IVFIndex().fit(codes).kneighbors(queries[::-1], 5)[0]
    np.testing.assert_array_equal(again[::-1], dist)


@needs_faiss
def test_ivf_results_do_not_depend_on_the_thread_count():
    import faiss

    codes, queries = _codes(), _codes(300, seed=3)
    before = faiss.omp_get_max_threads()
    try:
        faiss.omp_set_num_threads(1)
        one = IVFIndex().fit(codes).kneighbors(queries, 5)
        faiss.omp_set_num_threads(2)
        two = IVFIndex().fit(codes).kneighbors(queries, 5)
    finally:
        faiss.omp_set_num_threads(before)
    np.testing.assert_array_equal(one[0], two[0])
    np.testing.assert_array_equal(one[1], two[1])


@pytest.mark.parametrize("cls", [IVFIndex, SubsetIndex])
def test_leave_one_out_drops_the_row_itself(cls):
    if cls is IVFIndex and not has_faiss():
        pytest.skip("faiss-cpu is not installed")
    codes = _codes(800)
    index = cls(**({"max_rows": 300} if cls is SubsetIndex else {})).fit(codes)
    dist, ids = index.kneighbors(None, 3)
    assert dist.shape == ids.shape == (800, 3)
    assert not (ids == np.arange(800)[:, None]).any()
    assert (dist > 0).all() and (np.diff(dist, axis=1) >= 0).all()
    if cls is IVFIndex:  # close to the exact leave-one-out distances
        exact = ExactIndex().fit(codes).kneighbors(None, 3)[0]
        assert np.mean(np.abs(dist[:, -1] / exact[:, -1] - 1)) < 0.01
    else:  # neighbours only among the subset
        assert np.isin(ids, index.rows_).all()


@pytest.mark.parametrize("faiss", [True, False])
def test_approximate_detector_is_deterministic_and_survives_saving(tmp_path, monkeypatch, faiss):
    from anomalib_ae.scoring import approximate

    if faiss and not has_faiss():
        pytest.skip("faiss-cpu is not installed")
    if not faiss:  # without faiss: the bounded subset
        monkeypatch.setattr(approximate, "has_faiss", lambda: False)
    det, X = _fit(neighbor_index="approximate")
    assert type(det.code_index_) is (IVFIndex if faiss else SubsetIndex)
    scores = det.score_samples(X)
    np.testing.assert_array_equal(det.score_samples(X[:37]), scores[:37])
    np.testing.assert_array_equal(_fit(neighbor_index="approximate")[0].score_samples(X), scores)
    assert abs(np.mean(det.predict(X) == -1) - det.contamination) < 0.05
    det.save(tmp_path / "approx.aeod")
    np.testing.assert_array_equal(load(tmp_path / "approx.aeod").score_samples(X), scores)
