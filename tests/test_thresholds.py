"""Thresholds without labels: conformal p-values, the fpr cut, FDR control, rules on scores."""

from __future__ import annotations

import io
import math

import numpy as np
import pytest
from scipy.stats import false_discovery_control

from anomalib_ae import AutoEncoderDetector, CooksDistanceDetector, list_detectors, load
from anomalib_ae.detectors._thresholds import (
    benjamini_hochberg,
    conformal_cut,
    conformal_p_values,
    rule_cut,
)
from tests.conftest import fast_detector

D = 5
REPS = 200


def _inliers(rng, n):
    return rng.normal(size=(n, D))


def _anomalies(rng, n):
    return rng.normal(size=(n, D)) + 4.0  # clearly shifted


@pytest.fixture(scope="module")
def pool():
    """A fitted detector and the anomaly scores of a large pool of fresh inliers and anomalies."""
    rng = np.random.default_rng(0)
    det = AutoEncoderDetector(hidden_dims=(8,), latent_dim=2, max_epochs=5, random_state=0)
    det.fit(_inliers(rng, 500))
    inliers = det.anomaly_score(_inliers(rng, 40_000))
    anomalies = det.anomaly_score(_anomalies(rng, 4_000))
    return det, inliers, anomalies


def _within(rates, target, what):
    rates = np.asarray(rates, dtype=np.float64)
    se = rates.std(ddof=1) / math.sqrt(len(rates))
    assert rates.mean() <= target + 3 * se, (what, rates.mean(), target, se)
    return rates.mean(), se


# ---- the arithmetic --------------------------------------------------------------------
def test_p_value_formula_and_cut_agree():
    rng = np.random.default_rng(1)
    cal, test = rng.normal(size=199), rng.normal(size=1000)
    p = conformal_p_values(cal, test)
    expected = (1 + (cal[None, :] >= test[:, None]).sum(1)) / 200
    np.testing.assert_array_equal(p, expected)
    for fpr in (0.01, 0.05, 0.1, 0.33):
        flagged = test > conformal_cut(cal, fpr)
        np.testing.assert_array_equal(flagged, p <= fpr)
    assert conformal_p_values(cal, np.array([np.inf]))[0] == 1 / 200  # the smallest p-value


def test_conditional_p_values_are_larger_and_capped_at_one():
    rng = np.random.default_rng(2)
    cal, test = rng.normal(size=500), rng.normal(size=500)
    marginal = conformal_p_values(cal, test)
    conditional = conformal_p_values(cal, test, delta=0.1)
    assert (conditional >= marginal).all() and conditional.max() <= 1.0
    eps = math.sqrt(math.log(2 / 0.1) / 1000)
    inside = marginal < 1.0
    np.testing.assert_allclose(
        conditional[inside], np.minimum(1.0, marginal[inside] * 501 / 500 + eps)
    )


def test_benjamini_hochberg_is_scipys():
    p = np.random.default_rng(3).uniform(size=300) ** 3
    for q in (0.05, 0.1, 0.2):
        np.testing.assert_array_equal(
            benjamini_hochberg(p, q), false_discovery_control(p, method="bh") <= q
        )


def test_too_few_calibration_rows_for_the_rate_is_a_clear_error():
    with pytest.raises(ValueError, match=r"fpr=0.01 needs at least 99 calibration rows.*got 50"):
        conformal_cut(np.arange(50.0), 0.01)
    conformal_cut(np.arange(99.0), 0.01)  # exactly enough


def test_rules_on_training_scores():
    s = np.r_[np.random.default_rng(4).normal(size=500), [8.0, 9.0, 10.0]]
    assert (s > rule_cut(s, "iqr")).sum() >= 3 and (s > rule_cut(s, "mad")).sum() >= 3
    constant = np.ones(50)
    for rule in ("iqr", "mad"):
        assert rule_cut(constant, rule) == 1.0  # flags nothing, no crash
    with pytest.raises(ValueError, match="threshold must be 'iqr', 'mad' or a thresholder"):
        rule_cut(s, "4/n")  # a rule of another detector is refused, not read as "mad"


def test_pythresh_thresholders_are_mapped_back_to_the_score_scale():
    thresholds = pytest.importorskip("pythresh.thresholds.iqr", reason="pythresh not installed")
    s = np.r_[np.random.default_rng(5).normal(size=500), [8.0, 9.0, 10.0]]
    thresholder = thresholds.IQR()
    cut = rule_cut(s, thresholder)
    np.testing.assert_array_equal(s > cut, thresholds.IQR().eval(s).astype(bool))
    assert rule_cut(np.ones(20), thresholds.IQR()) == 1.0  # constant scores: no crash


# ---- validity over repetitions ---------------------------------------------------------
def test_inlier_p_values_are_uniform(pool):
    _, inliers, _ = pool
    rng = np.random.default_rng(6)
    for alpha in (0.05, 0.1, 0.2):
        rates = []
        for _ in range(REPS):
            draw = rng.choice(len(inliers), size=400, replace=False)  # exchangeable
            p = conformal_p_values(inliers[draw[:200]], inliers[draw[200:]])
            rates.append(np.mean(p <= alpha))
        mean, se = _within(rates, alpha, f"P(p <= {alpha})")
        assert mean >= alpha - 0.02 - 3 * se, (alpha, mean)  # not needlessly conservative


def test_fpr_cut_holds_its_false_positive_rate(pool):
    det, inliers, _ = pool
    rng = np.random.default_rng(7)
    for fpr in (0.01, 0.05):
        rates = []
        for _ in range(REPS):
            draw = rng.choice(len(inliers), size=1500, replace=False)
            cut = conformal_cut(inliers[draw[:500]], fpr)
            rates.append(np.mean(inliers[draw[500:]] > cut))
        mean, _ = _within(rates, fpr, f"FPR at fpr={fpr}")
        assert mean > 0.5 * fpr  # and it does flag


def test_flag_controls_the_false_discovery_rate_with_power(pool):
    _, inliers, anomalies = pool
    rng = np.random.default_rng(8)
    for q in (0.05, 0.2):
        fdp, power = [], []
        for _ in range(REPS):
            cal = inliers[rng.choice(len(inliers), size=500, replace=False)]
            test = np.r_[inliers[rng.choice(len(inliers), 180)], anomalies[rng.choice(4000, 20)]]
            is_anomaly = np.r_[np.zeros(180, bool), np.ones(20, bool)]
            flagged = benjamini_hochberg(conformal_p_values(cal, test), q)
            fdp.append((flagged & ~is_anomaly).sum() / max(flagged.sum(), 1))
            power.append((flagged & is_anomaly).sum() / 20)
        _within(fdp, q, f"FDR at q={q}")
        assert np.mean(power) > 0.8, (q, np.mean(power))


def test_calibration_conditional_p_values_hold_for_the_calibration_set_in_hand(pool):
    _, inliers, _ = pool
    rng = np.random.default_rng(9)
    alpha, delta, n = 0.1, 0.1, 200
    too_high = {"marginal": [], "conditional": []}
    for _ in range(REPS):
        order = rng.permutation(len(inliers))
        cal, rest = inliers[order[:n]], inliers[order[n:]]  # rest: the population, given cal
        for kind, d in (("marginal", None), ("conditional", delta)):
            rate = np.mean(conformal_p_values(cal, rest, d) <= alpha)
            too_high[kind].append(rate > alpha)
    _within(np.asarray(too_high["conditional"], float), delta, "P(conditional FPR > alpha)")
    assert np.mean(too_high["marginal"]) > np.mean(too_high["conditional"])


# ---- every detector --------------------------------------------------------------------
def _table(seed=0, n=160):
    return np.random.default_rng(seed).normal(size=(n, 4))


@pytest.mark.parametrize("name", list_detectors())
def test_every_detector_calibrates_gives_p_values_and_flags(name):
    X, X_cal, X_new = _table(0), _table(1, 120), np.r_[_table(2, 40), _table(3, 5) + 6.0]
    det = fast_detector(name).fit(X)
    assert det.calibration_scores_ is None
    with pytest.raises(ValueError, match="no calibration scores"):
        det.p_values(X_new)
    det.calibrate(X_cal)
    p = det.p_values(X_new)
    np.testing.assert_array_equal(
        p, conformal_p_values(det.anomaly_score(X_cal), det.anomaly_score(X_new))
    )
    parts = np.concatenate([det.p_values(X_new[:7]), det.p_values(X_new[7:])])
    np.testing.assert_array_equal(parts, p)  # a row's p-value does not depend on its batch
    flags = det.flag(X_new, fdr=0.2)
    assert flags.dtype == bool and flags.shape == (45,)
    np.testing.assert_array_equal(flags, false_discovery_control(p) <= 0.2)
    buffer = io.BytesIO()
    det.save(buffer)
    buffer.seek(0)
    np.testing.assert_array_equal(load(buffer).p_values(X_new), p)


@pytest.mark.parametrize("name", list_detectors())
def test_calibration_share_and_fpr_set_the_threshold(name):
    X = _table(0, 200)
    det = fast_detector(name, calibration=0.5, fpr=0.05).fit(X)
    assert len(det.calibration_scores_) == 100
    cut = conformal_cut(det.calibration_scores_, 0.05)
    assert det.offset_ == -cut
    X_new = _table(4, 300)
    np.testing.assert_array_equal(det.predict(X_new) == -1, det.p_values(X_new) <= 0.05)
    again = fast_detector(name, calibration=0.5, fpr=0.05).fit(X)  # the same split and fit
    np.testing.assert_array_equal(again.calibration_scores_, det.calibration_scores_)


def test_calibration_rows_are_held_out_of_training():
    X = _table(0, 200)
    det = AutoEncoderDetector(calibration=0.25, max_epochs=2, random_state=0).fit(X)
    assert det.code_index_.n_samples == 150 and len(det.calibration_scores_) == 50


def test_threshold_rules_set_offset_for_every_kind_of_detector():
    X = _table(0, 200)
    for det in (fast_detector("autoencoder"), CooksDistanceDetector()):
        for rule in ("iqr", "mad"):
            det.set_params(threshold=rule).fit(X)
            train = det.anomaly_score(X)
            assert det.offset_ == pytest.approx(-rule_cut(train, rule), rel=1e-9)


def test_fpr_without_calibration_rows_warns_and_calibrate_sets_it():
    X = _table(0, 200)
    with pytest.warns(UserWarning, match="no.*calibration rows|there are none yet"):
        det = fast_detector("autoencoder", fpr=0.05).fit(X)
    det.calibrate(_table(1, 100))
    assert det.offset_ == -conformal_cut(det.calibration_scores_, 0.05)
    with pytest.raises(ValueError, match="needs at least 99 calibration rows"):
        det.set_params(fpr=0.01).calibrate(_table(1, 50))
    assert len(det.calibration_scores_) == 100  # a refused calibration changes nothing


@pytest.mark.parametrize(
    "params, match",
    [({"calibration": 0.999}, "calibration=0.999"), ({"calibration": 1.5}, "calibration")],
)
def test_bad_calibration_share_is_a_clear_error(params, match):
    with pytest.raises(ValueError, match=match):
        fast_detector("autoencoder", **params).fit(_table(0, 100))


def test_bad_delta_and_fdr_are_clear_errors():
    det = fast_detector("autoencoder", calibration=0.3).fit(_table(0, 100))
    with pytest.raises(ValueError, match="delta"):
        det.p_values(_table(1, 5), delta=1.5)
    with pytest.raises(ValueError, match="fdr"):
        det.flag(_table(1, 5), fdr=0)
