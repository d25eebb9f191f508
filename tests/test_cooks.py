"""CooksDistanceDetector: exact parity with statsmodels in-sample and with a refit out-of-sample."""

from __future__ import annotations

import pickle
import warnings

import matplotlib

matplotlib.use("Agg")

import numpy as np
import pandas as pd
import pytest
import statsmodels.api as sm
from matplotlib.figure import Figure
from scipy import stats
from statsmodels.datasets import stackloss

from anomalib_ae import CooksDistanceDetector
from anomalib_ae.detectors import CollinearityWarning
from anomalib_ae.plotting import plot_cooks_distance, plot_influence

TOL = 1e-10


def _data(n=60, d=4, seed=0):
    rng = np.random.default_rng(seed)
    X = rng.normal(size=(n, d)) @ rng.normal(size=(d, d))  # correlated columns
    if d >= 3:
        X[:, 0] += 2.0 * X[:, 1] - X[:, 2]
    return X * np.resize([1.0, 50.0, 1e-2, 3.0], d) + np.resize([5.0, -300.0, 1.0, 0.0], d)


def _sm_influence(X, target):
    others = [j for j in range(X.shape[1]) if j != target]
    exog = sm.add_constant(X[:, others], has_constant="add")
    return sm.OLS(X[:, target], exog).fit().get_influence()


def _refit_distance(X, x_new, target):
    """Brute force: append the row, refit OLS, read the new row's Cook's distance."""
    return _sm_influence(np.vstack([X, x_new]), target).cooks_distance[0][-1]


@pytest.mark.parametrize("target", [0, 1, 3])
def test_in_sample_matches_statsmodels(target):
    X = _data()
    det = CooksDistanceDetector(target=target).fit(X)
    ref = _sm_influence(X, target)
    np.testing.assert_allclose(det.cooks_distance_, ref.cooks_distance[0], rtol=0, atol=TOL)
    infl = det.influence()
    np.testing.assert_allclose(infl.cooks_distance[:, 0], ref.cooks_distance[0], atol=TOL)
    np.testing.assert_allclose(infl.pvalue[:, 0], ref.cooks_distance[1], atol=TOL)
    np.testing.assert_allclose(det.leverage_[:, 0], ref.hat_matrix_diag, atol=TOL)
    np.testing.assert_allclose(
        det.studentized_residuals_[:, 0], ref.resid_studentized_external, atol=1e-9
    )
    assert det.n_params_ == X.shape[1]


@pytest.mark.parametrize("aggregate", ["mean", "max"])
def test_multi_target_aggregates_each_columns_regression(aggregate):
    X = _data()
    det = CooksDistanceDetector(aggregate=aggregate).fit(X)
    per = np.column_stack([_sm_influence(X, j).cooks_distance[0] for j in range(X.shape[1])])
    np.testing.assert_allclose(det.cooks_distance_per_target_, per, atol=TOL)
    expected = per.mean(1) if aggregate == "mean" else per.max(1)
    np.testing.assert_allclose(det.cooks_distance_, expected, atol=TOL)


@pytest.mark.parametrize("target", [None, 2])
def test_new_rows_match_a_brute_force_refit(target):
    X = _data()
    det = CooksDistanceDetector(target=target).fit(X)
    rng = np.random.default_rng(1)
    new = np.vstack([X[5], X.mean(0), X[7] + rng.normal(size=4) * X.std(0) * 3])
    targets = range(X.shape[1]) if target is None else [target]
    for row in new:
        expected = np.mean([_refit_distance(X, row, t) for t in targets])
        assert det.anomaly_score(row[None]) == pytest.approx(expected, rel=1e-9, abs=TOL)
    ref = _sm_influence(np.vstack([X, new[2]]), 2)
    infl = CooksDistanceDetector(target=2).fit(X).influence(new[2:])
    assert infl.leverage[0, 0] == pytest.approx(ref.hat_matrix_diag[-1], abs=TOL)
    assert infl.studentized_residual[0, 0] == pytest.approx(
        ref.resid_studentized_external[-1], rel=1e-9
    )
    assert infl.pvalue[0, 0] == pytest.approx(ref.cooks_distance[1][-1], rel=1e-8, abs=TOL)


def test_one_row_subset_and_order_invariance():
    X = _data()
    new = _data(n=25, seed=3)
    det = CooksDistanceDetector().fit(X)
    whole = det.score_samples(new)
    one_by_one = np.array([det.score_samples(row[None])[0] for row in new])
    np.testing.assert_allclose(one_by_one, whole, rtol=1e-12, atol=1e-15)
    perm = np.random.default_rng(0).permutation(len(new))
    np.testing.assert_allclose(det.score_samples(new[perm]), whole[perm], rtol=1e-12)
    np.testing.assert_allclose(det.score_samples(new[3:9]), whole[3:9], rtol=1e-12)


def test_scoring_in_row_blocks_gives_the_unblocked_scores(monkeypatch):
    """Scoring runs in blocks of rows (flat time per row); the blocks do not change a score."""
    from anomalib_ae.stats import influence

    X = _data()
    new = _data(n=50, seed=4)
    det = CooksDistanceDetector().fit(X)
    blocked = det.score_samples(new)
    monkeypatch.setattr(influence, "_BLOCK_ROWS", 7)
    np.testing.assert_allclose(det.score_samples(new), blocked, rtol=1e-12, atol=1e-15)
    monkeypatch.setattr(influence, "_BLOCK_ROWS", 10**9)
    np.testing.assert_allclose(det.score_samples(new), blocked, rtol=1e-12, atol=1e-15)


def test_stackloss_observation_21_is_most_influential():
    data = stackloss.load_pandas().data
    det = CooksDistanceDetector(target="STACKLOSS").fit(data)
    assert int(np.argmax(det.cooks_distance_)) == 20
    exog = sm.add_constant(data[["AIRFLOW", "WATERTEMP", "ACIDCONC"]])
    ref = sm.OLS(data["STACKLOSS"], exog).fit().get_influence().cooks_distance[0]
    np.testing.assert_allclose(det.cooks_distance_, ref, atol=TOL)


def test_target_by_name_and_negative_position_agree():
    X = _data()
    frame = pd.DataFrame(X, columns=["a", "b", "c", "d"])
    by_name = CooksDistanceDetector(target="d").fit(frame)
    by_pos = CooksDistanceDetector(target=-1).fit(X)
    np.testing.assert_array_equal(by_name.targets_, [3])
    np.testing.assert_allclose(by_name.cooks_distance_, by_pos.cooks_distance_)


@pytest.mark.parametrize(
    "target, X, match",
    [
        ("z", pd.DataFrame({"a": [1.0, 2.0, 3.0]}), "not a column"),
        ("a", np.ones((3, 2)), "no column names"),
        (5, np.ones((3, 2)), "out of range"),
    ],
)
def test_bad_target_is_a_clear_error(target, X, match):
    with pytest.raises(ValueError, match=match):
        CooksDistanceDetector(target=target).fit(X)


def test_collinear_design_warns_drops_the_alias_and_gives_no_nan():
    X = _data(d=3)
    X = np.column_stack([X, X[:, 1] - 2.0 * X[:, 2], np.full(len(X), 7.0)])
    with pytest.warns(CollinearityWarning, match=r"\[3\].*linear combinations"):
        det = CooksDistanceDetector(target=0).fit(X)
    assert np.isfinite(det.cooks_distance_).all()
    assert np.isfinite(det.score_samples(_data(n=5, d=5, seed=2))).all()
    # Same as statsmodels on the design with the aliased and constant columns dropped.
    ref = _sm_influence(X[:, :3], 0)
    np.testing.assert_allclose(det.cooks_distance_, ref.cooks_distance[0], atol=TOL)
    np.testing.assert_array_equal(det.kept_columns_, [0, 1, 2])


def test_collinear_multi_target_zeroes_exactly_fitted_targets():
    X = _data(d=3)
    X = np.column_stack([X, X[:, 1] - 2.0 * X[:, 2]])
    with pytest.warns(CollinearityWarning, match="fitted exactly"):
        det = CooksDistanceDetector().fit(X)
    np.testing.assert_array_equal(det.informative_targets_, [True, False, False, False])
    assert np.isfinite(det.cooks_distance_).all()
    # Column 0 is the only one not in the exact relation: its regression on the rest.
    ref = _sm_influence(X[:, :3], 0)
    np.testing.assert_allclose(det.cooks_distance_, ref.cooks_distance[0], atol=TOL)
    for infl in (det.influence(), det.influence(X[:7])):
        assert all(np.isfinite(a).all() for a in infl)
        np.testing.assert_array_equal(infl.cooks_distance[:, 1:], 0.0)
        np.testing.assert_array_equal(infl.pvalue[:, 1:], 1.0)
        np.testing.assert_allclose(infl.leverage[:, 1], infl.leverage[:, 3])


def test_leverage_one_row_gets_zero_not_nan():
    X = _data(d=3)
    dummy = np.zeros(len(X))
    dummy[4] = 1.0  # only row 4 identifies this coefficient: the fit passes through it
    X = np.column_stack([X, dummy])
    with pytest.warns(CollinearityWarning, match="leverage 1"):
        det = CooksDistanceDetector(target=0).fit(X)
    assert det.cooks_distance_[4] == 0.0
    assert det.leverage_[4, 0] == pytest.approx(1.0)
    keep = np.arange(len(X)) != 4  # statsmodels gives NaN there; elsewhere the same values
    ref = _sm_influence(X, 0).cooks_distance[0]
    np.testing.assert_allclose(det.cooks_distance_[keep], ref[keep], atol=TOL)


@pytest.mark.parametrize("n_rows", [1, 2, 3])
def test_no_more_rows_than_parameters_gives_zero_with_a_warning(n_rows):
    X = _data(n=n_rows, d=3)
    with pytest.warns(CollinearityWarning, match="no more rows than parameters"):
        det = CooksDistanceDetector().fit(X)
    np.testing.assert_array_equal(det.cooks_distance_, 0.0)
    np.testing.assert_array_equal(det.score_samples(_data(n=4, d=3, seed=1)), 0.0)


def test_one_feature_is_regressed_on_the_intercept():
    X = _data(d=1)
    det = CooksDistanceDetector().fit(X)
    np.testing.assert_allclose(det.leverage_[:, 0], 1.0 / len(X))
    expected = sm.OLS(X[:, 0], np.ones(len(X))).fit().get_influence().cooks_distance[0]
    np.testing.assert_allclose(det.cooks_distance_, expected, atol=TOL)


def test_thresholds():
    X = _data()
    n, k = X.shape
    det = CooksDistanceDetector(target=0, threshold="4/n").fit(X)
    assert det.threshold_ == pytest.approx(4 / n)
    assert det.offset_ == pytest.approx(-4 / n)
    new = _data(n=40, seed=5)
    np.testing.assert_array_equal(det.predict(new) == -1, det.anomaly_score(new) > 4 / n)
    f_med = CooksDistanceDetector(target=0, threshold="f_median").fit(X).threshold_
    assert f_med == pytest.approx(stats.f.median(k, n - k))
    assert CooksDistanceDetector(target=0, threshold=0.5).fit(X).offset_ == -0.5
    by_share = CooksDistanceDetector(target=0, contamination=0.2).fit(X)
    assert np.mean(by_share.predict(X) == -1) == pytest.approx(0.2, abs=1 / n)
    assert by_share.threshold_ == -by_share.offset_
    with pytest.raises(ValueError, match="threshold"):
        CooksDistanceDetector(threshold="3/n").fit(X)


def test_fitted_state_is_plain_arrays_and_small():
    X = _data(n=2000, d=5)
    det = CooksDistanceDetector().fit(X)
    fitted = {k: v for k, v in vars(det).items() if k.endswith("_") and not k.startswith("_")}
    for name, value in fitted.items():
        assert value is None or isinstance(value, np.ndarray | int | float), (name, type(value))
    restored = pickle.loads(pickle.dumps(det))
    np.testing.assert_array_equal(restored.score_samples(X), det.score_samples(X))
    # About the three per-row, per-target arrays plus one per-row array.
    assert len(pickle.dumps(det)) < 1.2 * 8 * 2000 * (3 * 5 + 1)


def test_plots_produce_figures():
    data = stackloss.load_pandas().data
    det = CooksDistanceDetector(target="STACKLOSS", threshold="4/n").fit(data)
    ax = plot_cooks_distance(det)
    assert isinstance(ax.figure, Figure)
    assert any(line.get_ydata()[0] == pytest.approx(4 / 21) for line in ax.get_lines())
    assert "20" in [t.get_text() for t in ax.texts]
    ax2 = Figure().add_subplot()
    assert plot_influence(det, data, ax=ax2) is ax2
    assert ax2.get_xlabel() == "Leverage"
    with pytest.raises(ValueError, match="training rows"):
        plot_influence(det, data.iloc[:10])


def test_no_warning_on_a_regular_design():
    with warnings.catch_warnings():
        warnings.simplefilter("error")
        CooksDistanceDetector().fit(_data())
