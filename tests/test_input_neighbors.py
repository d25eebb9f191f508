"""The input-space neighbour term, the ensemble's ``score_terms="auto"`` rule on wide tables, and
the plain detectors' ``input_neighbors="auto"`` rule (the same shape gate)."""

from __future__ import annotations

import numpy as np
import pytest
from sklearn.neighbors import NearestNeighbors

from anomalib_ae import (
    AutoEncoderDetector,
    AutoEncoderEnsembleDetector,
    DenoisingAutoEncoderDetector,
    VAEDetector,
    load,
)
from anomalib_ae.detectors.ensemble import TALL_TERMS, WIDE_TERMS
from anomalib_ae.scoring import InputNeighborDistance

FAST = dict(n_estimators=2, hidden_dims=(8,), latent_dim=2, max_epochs=2, random_state=0)


def _wide(seed: int = 0) -> tuple[np.ndarray, np.ndarray]:
    rng = np.random.default_rng(seed)
    return rng.normal(size=(60, 80)), rng.normal(size=(25, 80))


def test_wide_table_scores_by_the_mean_distance_to_the_3_nearest_training_rows():
    X, X_new = _wide()
    det = AutoEncoderEnsembleDetector(**FAST).fit(X)
    assert det.resolved_score_terms() == WIDE_TERMS
    assert [type(t) for t in det.score_terms_] == [InputNeighborDistance]
    search = NearestNeighbors().fit(det.scaler_.transform(X))
    nearest = search.kneighbors(det.scaler_.transform(X_new), 3)[0].mean(1)
    np.testing.assert_allclose(-det.score_samples(X_new), nearest, rtol=1e-5)
    # a training row leaves itself out, so predict flags about `contamination` of them
    loo = search.kneighbors(None, 3)[0].mean(1)
    np.testing.assert_allclose(-det.score_samples(X), loo, rtol=1e-5)
    assert abs((det.predict(X) == -1).mean() - det.contamination) <= 1 / len(X)


def _with_term(term: InputNeighborDistance) -> AutoEncoderEnsembleDetector:
    class OneTerm(AutoEncoderEnsembleDetector):
        def _score_terms(self):
            return [term]

    return OneTerm(**FAST)


@pytest.mark.parametrize("k", [1, 4])
def test_largest_method_is_the_kth_distance(k):
    X, X_new = _wide()
    det = _with_term(InputNeighborDistance(k=k, method="largest")).fit(X)
    search = NearestNeighbors().fit(det.scaler_.transform(X))
    kth = search.kneighbors(det.scaler_.transform(X_new), k)[0][:, -1]
    np.testing.assert_allclose(-det.score_samples(X_new), kth, rtol=1e-5)
    np.testing.assert_allclose(
        -det.score_samples(X), search.kneighbors(None, k)[0][:, -1], rtol=1e-5
    )


def test_bad_method_names_the_problem():
    with pytest.raises(ValueError, match="method must be 'mean' or 'largest', got 'median'"):
        _with_term(InputNeighborDistance(method="median")).fit(_wide()[0])


@pytest.mark.parametrize(("n_features", "terms"), [(10, WIDE_TERMS), (9, TALL_TERMS)])
def test_auto_rule_is_gaussian_rows_against_features(n_features, terms):
    # 20 rows, mahalanobis_keep=0.5: the Gaussians would be fitted on 10 rows
    X = np.random.default_rng(0).normal(size=(20, n_features))
    assert AutoEncoderEnsembleDetector(**FAST).fit(X).resolved_score_terms() == terms


def test_one_row_keeps_the_mahalanobis_terms():
    det = AutoEncoderEnsembleDetector(**FAST).fit(np.ones((1, 5)))
    assert det.resolved_score_terms() == TALL_TERMS


def test_explicit_terms_override_the_rule():
    X, X_new = _wide()
    det = AutoEncoderEnsembleDetector(score_terms=("reconstruction",), **FAST).fit(X)
    assert det.resolved_score_terms() == ("reconstruction",)


def test_input_neighbors_combine_with_member_terms_batch_independently():
    X, X_new = _wide()
    det = AutoEncoderEnsembleDetector(
        score_terms=("reconstruction", "input_neighbors"), inference_batch_size=7, **FAST
    ).fit(X)
    whole = det.score_samples(X_new)
    halves = np.concatenate([det.score_samples(X_new[:11]), det.score_samples(X_new[11:])])
    np.testing.assert_allclose(whole, halves, rtol=1e-12)  # float64 BLAS rounding: ~1e-16
    assert np.array_equal(whole, det.score_samples(X_new))


def test_wide_ensemble_round_trips_through_a_file(tmp_path):
    X, X_new = _wide()
    det = AutoEncoderEnsembleDetector(**FAST).fit(X)
    det.save(tmp_path / "det.aeod")
    again = load(tmp_path / "det.aeod")
    np.testing.assert_array_equal(again.score_samples(X_new), det.score_samples(X_new))


def test_bad_score_terms_name_the_problem():
    with pytest.raises(ValueError, match="score_terms must be 'auto' or"):
        AutoEncoderEnsembleDetector(score_terms=("nearest",), **FAST).fit(np.ones((30, 3)))


PLAIN = [AutoEncoderDetector, DenoisingAutoEncoderDetector, VAEDetector]
PLAIN_FAST = dict(hidden_dims=(8,), latent_dim=2, max_epochs=2, random_state=0)


@pytest.mark.parametrize("cls", PLAIN)
def test_plain_detectors_score_wide_tables_by_the_input_neighbors(cls):
    X, X_new = _wide()
    det = cls(**PLAIN_FAST).fit(X)
    assert det.input_neighbors == "auto"
    assert [type(t) for t in det.score_terms_] == [InputNeighborDistance]
    search = NearestNeighbors().fit(det.scaler_.transform(X))
    nearest = search.kneighbors(det.scaler_.transform(X_new), 3)[0].mean(1)
    np.testing.assert_allclose(-det.score_samples(X_new), nearest, rtol=1e-5)
    np.testing.assert_allclose(
        -det.score_samples(X), search.kneighbors(None, 3)[0].mean(1), rtol=1e-5
    )
    assert det.feature_scores(X_new).shape == X_new.shape  # the net is trained all the same
    assert det.transform(X_new).shape == (len(X_new), 2)


@pytest.mark.parametrize("cls", PLAIN)
@pytest.mark.parametrize(("n_features", "wide"), [(10, True), (9, False)])
def test_plain_rule_is_half_the_rows_against_features(cls, n_features, wide):
    X = np.random.default_rng(0).normal(size=(20, n_features))
    terms = [type(t) for t in cls(**PLAIN_FAST).fit(X).score_terms_]
    assert (terms == [InputNeighborDistance]) is wide


@pytest.mark.parametrize("cls", PLAIN)
def test_input_neighbors_none_keeps_the_nets_terms(cls):
    X, X_new = _wide()
    off = cls(input_neighbors=None, **PLAIN_FAST).fit(X)
    assert InputNeighborDistance not in [type(t) for t in off.score_terms_]
    tall = cls(**PLAIN_FAST).fit(np.random.default_rng(0).normal(size=(200, 5)))
    assert [type(t) for t in tall.score_terms_] == [type(t) for t in off.score_terms_]


@pytest.mark.parametrize("cls", PLAIN)
def test_images_never_take_the_input_neighbors(cls):
    images = np.random.default_rng(0).random((12, 8, 8))  # 12 rows of 64 pixels: wide, but images
    det = cls(**{**PLAIN_FAST, "channels": (2,)}).fit(images)
    assert InputNeighborDistance not in [type(t) for t in det.score_terms_]


@pytest.mark.parametrize("cls", PLAIN)
def test_plain_wide_detector_round_trips_and_is_batch_independent(cls, tmp_path):
    X, X_new = _wide()
    det = cls(inference_batch_size=7, **PLAIN_FAST).fit(X)
    whole = det.score_samples(X_new)
    halves = np.concatenate([det.score_samples(X_new[:11]), det.score_samples(X_new[11:])])
    np.testing.assert_allclose(whole, halves, rtol=1e-12)
    det.save(tmp_path / "det.aeod")
    np.testing.assert_array_equal(load(tmp_path / "det.aeod").score_samples(X_new), whole)


def test_bad_input_neighbors_names_the_problem():
    with pytest.raises(ValueError, match="input_neighbors"):
        AutoEncoderDetector(input_neighbors="always", **PLAIN_FAST).fit(np.ones((30, 3)))
