"""Statistics fitted on a bounded, seeded subset of the training rows when all rows would be large."""

from __future__ import annotations

import numpy as np

from anomalib_ae import AutoEncoderDetector
from anomalib_ae.scoring.outputs import TrainingOutputs
from anomalib_ae.scoring.precision import scoring_net
from anomalib_ae.scoring.reconstruction import robust_feature_scale


def _fitted():
    X = np.random.default_rng(0).normal(size=(500, 6))
    det = AutoEncoderDetector(hidden_dims=(8,), latent_dim=2, max_epochs=2, random_state=0)
    return det.fit(X), X


def test_small_training_sets_use_every_row():
    det, X = _fitted()
    train = TrainingOutputs(det, X, *scoring_net(det))
    assert train.subset("errors") is train
    expected = robust_feature_scale(train.get("errors"))
    np.testing.assert_array_equal(det.score_terms_[0].feature_scale_, expected)


def test_large_ones_use_a_seeded_subset_within_the_budget():
    det, X = _fitted()
    train = TrainingOutputs(det, X, *scoring_net(det))
    part = train.subset("errors", max_elements=600)  # 100 rows of 6 errors
    again = train.subset("errors", max_elements=600)
    assert len(part.X) == 100
    np.testing.assert_array_equal(part.X, again.X)
    rows = [np.flatnonzero((X == r).all(1))[0] for r in part.X]
    assert rows == sorted(rows)  # rows kept in their order
    full = robust_feature_scale(train.get("errors"))
    sub = robust_feature_scale(part.get("errors"))
    np.testing.assert_allclose(sub, full, rtol=0.5)  # a 100-row median is close to it
