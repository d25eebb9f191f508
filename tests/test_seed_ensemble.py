"""SeedEnsembleDetector: one detector from several seeds, scores averaged."""

from __future__ import annotations

import io

import numpy as np
import pytest

from anomalib_ae import AutoEncoderDetector, SeedEnsembleDetector, load

MEMBER = {"hidden_dims": (4,), "latent_dim": 2, "max_epochs": 2}


@pytest.fixture(scope="module")
def X():
    return np.random.default_rng(0).normal(size=(80, 4))


def test_score_is_the_mean_of_independently_seeded_members(X):
    det = SeedEnsembleDetector(
        "autoencoder", detector_params=MEMBER, n_estimators=3, random_state=0
    ).fit(X)
    assert len(set(det.seeds_)) == 3
    members = [AutoEncoderDetector(random_state=s, **MEMBER).fit(X) for s in det.seeds_]
    expected = np.mean([m.score_samples(X) for m in members], axis=0)
    np.testing.assert_allclose(det.score_samples(X), expected, rtol=1e-12)
    assert det.offset_ == pytest.approx(np.percentile(expected, 10.0))


def test_instance_is_cloned_not_fitted(X):
    template = AutoEncoderDetector(**MEMBER)
    det = SeedEnsembleDetector(template, n_estimators=2, random_state=1).fit(X)
    assert not hasattr(template, "net_")
    assert all(m is not template for m in det.estimators_)


def test_same_random_state_same_scores(X):
    a = SeedEnsembleDetector(detector_params=MEMBER, n_estimators=2, random_state=3).fit(X)
    b = SeedEnsembleDetector(detector_params=MEMBER, n_estimators=2, random_state=3).fit(X)
    np.testing.assert_array_equal(a.score_samples(X), b.score_samples(X))


def test_images_flattened_rows_and_save_load():
    images = np.random.default_rng(0).random((50, 8, 8))
    det = SeedEnsembleDetector(
        "autoencoder",
        n_estimators=2,
        random_state=0,
        detector_params={"max_epochs": 2, "channels": (4,), "latent_dim": 2},
    ).fit(images)
    scores = det.score_samples(images)
    np.testing.assert_array_equal(det.score_samples(images.reshape(50, -1)), scores)
    buffer = io.BytesIO()
    det.save(buffer)
    buffer.seek(0)
    np.testing.assert_array_equal(load(buffer).score_samples(images), scores)
    with pytest.raises(ValueError, match="resize them"):
        det.score_samples(np.zeros((3, 7, 7)))


def test_unknown_member_name_is_rejected(X):
    with pytest.raises(ValueError, match="Unknown detector|not_a_detector"):
        SeedEnsembleDetector("not_a_detector").fit(X)
