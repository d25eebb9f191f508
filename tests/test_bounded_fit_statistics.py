"""Statistics fitted on a bounded, seeded sample of the training rows when all rows would be large."""

from __future__ import annotations

import numpy as np

from anomalib_ae import AutoEncoderDetector
from anomalib_ae.scoring import outputs
from anomalib_ae.scoring.outputs import TrainingOutputs, statistics_rows
from anomalib_ae.scoring.precision import scoring_net
from anomalib_ae.scoring.reconstruction import robust_feature_scale


def _fitted():
    X = np.random.default_rng(0).normal(size=(500, 6))
    det = AutoEncoderDetector(hidden_dims=(8,), latent_dim=2, max_epochs=2, random_state=0)
    return det.fit(X), X


def test_small_training_sets_use_every_row():
    det, X = _fitted()
    train = TrainingOutputs(det, X, *scoring_net(det))
    assert train.sample_rows is None
    expected = robust_feature_scale(train.get("errors"))
    np.testing.assert_array_equal(det.score_terms_[0].feature_scale_, expected)


def test_large_ones_use_a_seeded_sorted_sample_within_the_budget(monkeypatch):
    monkeypatch.setattr(outputs, "STATISTICS_MIN_ROWS", 100)
    monkeypatch.setattr(outputs, "STATISTICS_VALUES", 600)  # 100 rows of 6 errors
    det, X = _fitted()
    train = TrainingOutputs(det, X, *scoring_net(det))
    rows = train.sample_rows
    assert len(rows) == 100 and (np.diff(rows) > 0).all()  # distinct, in their order
    np.testing.assert_array_equal(rows, statistics_rows(500, 6, det.seed_))
    assert train.sample("errors").shape == (100, 6)
    full = robust_feature_scale(train.get("errors"))
    np.testing.assert_allclose(robust_feature_scale(train.sample("errors")), full, rtol=0.5)
