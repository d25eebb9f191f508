"""Behaviour every registered detector shares: the outlier contract, determinism, persistence."""

from __future__ import annotations

import pickle

import numpy as np
import pandas as pd
import pytest
from sklearn.base import clone
from sklearn.metrics import roc_auc_score
from sklearn.model_selection import GridSearchCV
from sklearn.pipeline import Pipeline
from sklearn.preprocessing import StandardScaler

from tests.conftest import fast_detector


def _data(n=120, d=5, seed=0):
    return np.random.default_rng(seed).normal(size=(n, d))


def test_fit_returns_self(detector_name):
    det = fast_detector(detector_name)
    assert det.fit(_data()) is det


def test_outlier_semantics(detector_name):
    X = _data()
    det = fast_detector(detector_name, contamination=0.1).fit(X)
    scores = det.score_samples(X)
    assert scores.dtype == np.float64
    np.testing.assert_allclose(det.decision_function(X), scores - det.offset_)
    np.testing.assert_allclose(det.anomaly_score(X), -scores)
    pred = det.predict(X)
    assert set(np.unique(pred)) == {-1, 1}
    assert np.mean(pred == -1) == pytest.approx(0.1, abs=0.02)


def test_refit_same_random_state_gives_identical_scores(detector_name):
    X = _data()
    det = fast_detector(detector_name, random_state=3)
    first = det.fit(X).score_samples(X)
    second = det.fit(X).score_samples(X)
    np.testing.assert_array_equal(first, second)


def test_scores_identical_across_calls_and_batch_splits(detector_name):
    X = _data(n=50)
    det = fast_detector(detector_name).fit(X)
    whole = det.score_samples(X)
    np.testing.assert_array_equal(whole, det.score_samples(X))
    parts = np.concatenate([det.score_samples(X[:7]), det.score_samples(X[7:])])
    np.testing.assert_allclose(parts, whole, rtol=1e-6, atol=1e-9)


def test_clone_and_pickle_round_trip(detector_name):
    X = _data()
    det = fast_detector(detector_name).fit(X)
    restored = pickle.loads(pickle.dumps(det))
    np.testing.assert_array_equal(restored.score_samples(X), det.score_samples(X))
    refit = clone(det).fit(X)
    np.testing.assert_array_equal(refit.score_samples(X), det.score_samples(X))


def test_dataframe_keeps_feature_names(detector_name):
    X = pd.DataFrame(_data(), columns=[f"f{i}" for i in range(5)])
    det = fast_detector(detector_name).fit(X)
    assert list(det.feature_names_in_) == list(X.columns)
    with pytest.warns(UserWarning, match="feature names"):
        det.score_samples(X.values)


def test_pipeline_and_grid_search(detector_name, breast_cancer_5pct):
    X, y = breast_cancer_5pct
    pipe = Pipeline([("scale", StandardScaler()), ("det", fast_detector(detector_name))])
    pipe.fit(X)
    assert pipe.score_samples(X).shape == (len(X),)

    def auroc(estimator, X, y):
        return roc_auc_score(y, -estimator.score_samples(X))

    search = GridSearchCV(
        fast_detector(detector_name), {"contamination": [0.05, 0.1]}, scoring=auroc, cv=2
    )
    search.fit(X, y)
    assert 0.0 <= search.best_score_ <= 1.0
    assert search.best_params_["contamination"] in (0.05, 0.1)


@pytest.mark.parametrize("n_rows", [1, 2, 5])
def test_tiny_inputs(detector_name, n_rows):
    X = _data(n=n_rows, d=3)
    det = fast_detector(detector_name, batch_size=64).fit(X)
    assert np.isfinite(det.score_samples(X)).all()


def test_one_feature(detector_name):
    X = _data(d=1)
    det = fast_detector(detector_name).fit(X)
    assert np.isfinite(det.score_samples(X)).all()


@pytest.mark.parametrize(
    "bad, match",
    [
        (np.array([[1.0, np.nan], [0.0, 1.0]]), "NaN"),
        (np.array([[1.0, np.inf], [0.0, 1.0]]), "infinity"),
        (np.empty((0, 2)), "0 sample"),
    ],
)
def test_bad_input_at_fit_gives_clear_error(detector_name, bad, match):
    with pytest.raises(ValueError, match=match):
        fast_detector(detector_name).fit(bad)


def test_wrong_feature_count_at_scoring(detector_name):
    det = fast_detector(detector_name).fit(_data(d=4))
    with pytest.raises(ValueError, match="4 features"):
        det.score_samples(_data(d=3))


def test_non_numeric_columns_are_named(detector_name):
    X = pd.DataFrame({"a": [1.0, 2.0, 3.0], "colour": ["red", "green", "blue"]})
    with pytest.raises(TypeError, match="colour"):
        fast_detector(detector_name).fit(X)


def test_every_registered_name_takes_a_seed(detector_name):
    """The natural loop ``get_detector(name, random_state=seed)`` works for every name."""
    from anomalib_ae import get_detector

    assert get_detector(detector_name, random_state=3).get_params()["random_state"] == 3
