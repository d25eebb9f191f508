"""Input scaling: the float32 fast path agrees with float64, and scoring scales batch by batch."""

from __future__ import annotations

import numpy as np
import pytest

from anomalib_ae import AutoEncoderDetector
from anomalib_ae.detectors._scaling import InputScaler
from anomalib_ae.training.inference import predict_batches


def _float64_path(scaler: InputScaler, X: np.ndarray) -> np.ndarray:
    return scaler.transform(X.astype(np.float64))


def _ulp32(a) -> np.ndarray:
    return np.spacing(np.abs(np.asarray(a, dtype=np.float64)).astype(np.float32)).astype(np.float64)


@pytest.mark.parametrize("kind", ["standard", "minmax", "none"])
@pytest.mark.parametrize("magnitude", [1e-20, 1e-3, 1.0, 1e4, 1e20])
def test_float32_path_is_as_accurate_as_the_data(kind, magnitude):
    rng = np.random.default_rng(0)
    spread = magnitude * rng.uniform(0.1, 10, size=8)
    offset = magnitude * rng.normal(size=8) * 5
    X = (rng.normal(size=(500, 8)) * spread + offset).astype(np.float32)
    scaler = InputScaler(kind).fit(X)
    assert scaler._float32_params() is not None
    fast = scaler.transform(X).astype(np.float64)
    exact = np.clip((X.astype(np.float64) - scaler.shift_) / scaler.scale_, -1e6, 1e6)
    # Within the resolution of the float32 rows (in scaled units) plus one ulp of the result.
    bound = _ulp32(X) / scaler.scale_ + _ulp32(scaler.shift_) / scaler.scale_ + _ulp32(exact)
    assert np.all(np.abs(fast - exact) <= 1.5 * bound)
    np.testing.assert_allclose(fast, _float64_path(scaler, X), rtol=1e-6, atol=1e-6)


def test_float32_path_clips_like_float64_near_the_float32_limit():
    big = np.finfo(np.float32).max
    # A constant column at -3e38 (scale 1: x - shift overflows float32) and one of spread 5e29.
    train = np.array([[-3e38, -5e29], [-3e38, 5e29]], dtype=np.float32)
    scaler = InputScaler("standard").fit(train)
    assert scaler._float32_params() is not None
    X = np.array([[big, big], [-big, -big], [3e38, 1e20], [-3e38, -1e20]], dtype=np.float32)
    fast = scaler.transform(X)
    np.testing.assert_array_equal(fast, _float64_path(scaler, X))
    assert np.isfinite(fast).all() and np.abs(fast).max() == 1e6


def test_float64_path_when_scale_does_not_fit_float32():
    X = np.array([[-1e35], [1e35], [0.0]], dtype=np.float32)
    scaler = InputScaler("standard").fit(X)
    assert scaler._float32_params() is None  # scale ~8e34 > 1e30
    np.testing.assert_array_equal(scaler.transform(X), _float64_path(scaler, X))


def test_scoring_scales_in_memory_rows_one_batch_at_a_time(monkeypatch):
    X = np.random.default_rng(0).normal(size=(300, 5)).astype(np.float32)
    det = AutoEncoderDetector(
        hidden_dims=(4,),
        latent_dim=2,
        max_epochs=1,
        inference_batch_size=64,
        random_state=0,
        code_neighbors=0,  # one pass over the rows (the neighbour term encodes them again)
    ).fit(X)
    sizes = []
    original = InputScaler.transform

    def spy(self, rows):
        sizes.append(len(rows))
        return original(self, rows)

    monkeypatch.setattr(InputScaler, "transform", spy)
    scores = det.score_samples(X)
    assert sizes == [64] * 4 + [44]  # no full-size scaled copy of X
    monkeypatch.undo()
    for batch_size in (1, 7, 300):  # float32 matmuls may differ in the last bit by batch shape
        det.set_params(inference_batch_size=batch_size)
        np.testing.assert_allclose(det.score_samples(X), scores, rtol=1e-6)


def test_predict_batches_fills_one_float64_array():
    X = np.arange(12.0).reshape(6, 2)
    out = predict_batches(lambda x: x * 2, X, batch_size=4)
    assert out.dtype == np.float64 and out.shape == (6, 2)
    np.testing.assert_array_equal(out, X * 2)
    assert predict_batches(lambda x: x.sum(1), X[:0]).shape == (0,)
