"""The reconstruction + code-space neighbour score (``code_neighbors``)."""

from __future__ import annotations

import io

import numpy as np
import pytest

from anomalib_ae import AutoEncoderDetector, DenoisingAutoEncoderDetector, VAEDetector, load
from tests.conftest import fast_detector

SMALL = {"hidden_dims": (8,), "latent_dim": 2, "max_epochs": 3, "random_state": 0}


@pytest.fixture(scope="module")
def data():
    rng = np.random.default_rng(0)
    return rng.normal(size=(120, 5)), rng.normal(size=(30, 5)) * 2


def test_score_is_scaled_reconstruction_plus_scaled_neighbour_distance(data):
    X, X_new = data
    det = AutoEncoderDetector(code_neighbors=3, **SMALL).fit(X)
    plain = AutoEncoderDetector(code_neighbors=0, **SMALL).fit(X)
    rec_train, rec_new = -plain.score_samples(X), -plain.score_samples(X_new)
    dist_train = det.kneighbors(n_neighbors=3)[0][:, -1]  # leave-one-out
    dist_new = det.kneighbors(X_new, n_neighbors=3)[0][:, -1]
    expected = rec_new / np.median(rec_train) + dist_new / np.median(dist_train)
    np.testing.assert_allclose(-det.score_samples(X_new), expected, rtol=1e-6)
    assert det.score_terms_[1].k_ == 3


def test_training_rows_scored_again_leave_themselves_out(data):
    X, _ = data
    det = AutoEncoderDetector(code_neighbors=1, contamination=0.2, **SMALL).fit(X)
    plain = AutoEncoderDetector(code_neighbors=0, **SMALL).fit(X)
    rec = -plain.score_samples(X)
    dist = det.kneighbors(n_neighbors=1)[0][:, -1]  # leave-one-out
    loo = rec / np.median(rec) + dist / np.median(dist)
    np.testing.assert_allclose(-det.score_samples(X), loo, rtol=1e-5)
    assert det.offset_ == pytest.approx(np.percentile(-loo, 20.0), rel=1e-5)
    assert (det.predict(X) == -1).mean() == pytest.approx(0.2, abs=0.02)


def test_auto_is_one_for_images_and_five_for_tables(data):
    X, _ = data
    images = np.random.default_rng(1).random((40, 8, 8))
    table_det = AutoEncoderDetector(**SMALL).fit(X)
    image_det = AutoEncoderDetector(channels=(4,), **SMALL).fit(images)
    assert table_det.score_terms_[1].k_ == 5 and len(table_det.score_scales_) == 2
    assert image_det.score_terms_[1].k_ == 1 and len(image_det.score_scales_) == 2


@pytest.mark.parametrize("cls", [AutoEncoderDetector, DenoisingAutoEncoderDetector, VAEDetector])
def test_every_image_detector_combines_and_stays_deterministic(cls, data):
    X, X_new = data
    a = cls(code_neighbors=2, **SMALL).fit(X).score_samples(X_new)
    b = cls(code_neighbors=2, **SMALL).fit(X).score_samples(X_new)
    np.testing.assert_array_equal(a, b)
    assert np.isfinite(a).all()


def test_more_neighbours_than_rows_is_capped():
    X = np.random.default_rng(0).normal(size=(4, 3))
    det = AutoEncoderDetector(code_neighbors=10, input_neighbors=None, **SMALL).fit(X)
    assert det.score_terms_[1].k_ == 3
    assert np.isfinite(det.score_samples(X)).all()


def test_round_trip_keeps_the_combined_score(data):
    X, X_new = data
    det = fast_detector("autoencoder", code_neighbors=2).fit(X)
    buffer = io.BytesIO()
    det.save(buffer)
    buffer.seek(0)
    np.testing.assert_array_equal(load(buffer).score_samples(X_new), det.score_samples(X_new))


def test_bad_value_is_rejected(data):
    X, _ = data
    with pytest.raises(ValueError, match="code_neighbors"):
        AutoEncoderDetector(code_neighbors=-1, **SMALL).fit(X)
