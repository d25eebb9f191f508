"""Bad input through the places users put detectors: Pipeline, ColumnTransformer, search, CV.

Every fit error of ``tests/bad_inputs.py`` must reach the user as the same clear
ValueError/TypeError as when the detector is called bare, and a failed fit inside a
meta-estimator must leave nothing half-fitted. Where scikit-learn's meta-estimator
refuses an input itself before any detector sees it, ``META_FIRST`` says what it
answers and why; those answers are scikit-learn's, asserted so that a change shows.
"""

from __future__ import annotations

import re

import numpy as np
import pytest
from sklearn.compose import ColumnTransformer
from sklearn.model_selection import GridSearchCV, cross_validate
from sklearn.pipeline import make_pipeline
from sklearn.preprocessing import FunctionTransformer

from tests.bad_inputs import FIT_CASES, Expected, expected_outcome, run_case
from tests.conftest import fast_detector
from tests.test_bad_input import assert_outcome


def _mean_score(estimator, X, y=None) -> float:
    return float(np.mean(estimator.score_samples(X)))


def _columns(det):
    return make_pipeline(ColumnTransformer([], remainder="passthrough"), det)


WRAPPERS = {
    "Pipeline": lambda det: make_pipeline(FunctionTransformer(), det),
    "ColumnTransformer": _columns,
    "GridSearchCV": lambda det: GridSearchCV(
        det, {"contamination": [0.1]}, scoring=_mean_score, cv=2, error_score="raise"
    ),
    "cross_validate": lambda det: _CrossValidate(det),
}


class _CrossValidate:
    """``cross_validate(det, X, error_score="raise")`` as an object with ``fit``."""

    def __init__(self, det) -> None:
        self.det = det

    def fit(self, X):
        self.results_ = cross_validate(
            self.det, X, scoring=_mean_score, cv=2, error_score="raise"
        )
        return self


_SPLITS = (ValueError, r"Cannot have number of splits n_splits=2 greater than the number of samples")
_NO_DIM = (TypeError, r"Input should have at least 1 dimension")
META_FIRST: dict[tuple[str, str], tuple[Expected, str]] = {
    ("GridSearchCV", "no_rows"): (_SPLITS, "the CV splitter refuses 0 rows before any fit"),
    ("cross_validate", "no_rows"): (_SPLITS, "the CV splitter refuses 0 rows before any fit"),
    ("GridSearchCV", "scalar"): (_NO_DIM, "indexable() refuses a scalar before any fit"),
    ("cross_validate", "scalar"): (
        (ValueError, r"The 'X' parameter of cross_validate must be an array-like"),
        "cross_validate's parameter validation refuses a scalar",
    ),
    ("GridSearchCV", "none"): (
        (TypeError, r"Expected sequence or array-like, got <class 'NoneType'>"),
        "indexable() refuses None before any fit",
    ),
    ("ColumnTransformer", "scalar"): (_NO_DIM, "the ColumnTransformer refuses a scalar"),
    ("ColumnTransformer", "1d"): (
        (AttributeError, r"'ColumnTransformer' object has no attribute 'n_features_in_'"),
        "scikit-learn 1.9's ColumnTransformer fails on 1-D input with an AttributeError of "
        "its own, before the detector is reached (a scikit-learn bug, not ours)",
    ),
    ("ColumnTransformer", "3d"): (
        (ValueError, r"'X' should be a 2D NumPy array, 2D sparse matrix or dataframe"),
        "the ColumnTransformer indexes columns of 2-D input only",
    ),
    ("ColumnTransformer", "nullable_na"): (
        (ValueError, r"uses pandas.NA to represent null values"),
        "the ColumnTransformer refuses a pandas NA in its output, with its own remedy",
    ),
}
# A ColumnTransformer densifies a matrix this dense (sparse_threshold=0.3), so the
# dense-only Cook's distance fits it, and sees its NaN as a NaN.
DENSIFIED = {"sparse", "sparse_csc", "sparse_nan"}


def expected_inside(detector_name: str, wrapper: str, case) -> Expected:
    meta = META_FIRST.get((wrapper, case.name))
    if meta is not None:
        return meta[0]
    bare = expected_outcome(detector_name, "fit", case)
    if wrapper == "ColumnTransformer" and case.name in DENSIFIED:
        return expected_outcome("autoencoder", "fit", case)
    return bare


ERROR_CASES = [c for c in FIT_CASES if c.expected is not None or c.name.startswith("sparse")]


def _fitted_attributes(estimator) -> list[str]:
    return [k for k in vars(estimator) if k.endswith("_") and not k.startswith("_")]


@pytest.mark.parametrize("wrapper", WRAPPERS)
@pytest.mark.parametrize("case", ERROR_CASES, ids=repr)
def test_fit_errors_inside_meta_estimators_are_the_bare_ones(detector_name, wrapper, case):
    expected = expected_inside(detector_name, wrapper, case)
    det = fast_detector(detector_name, max_epochs=1)
    meta = WRAPPERS[wrapper](det)
    outcome, value = run_case(meta.fit, case.make())
    if expected is None:  # fitted bare (e.g. images, sparse rows): fitted inside too
        assert outcome == "ok", f"{wrapper}({detector_name}).fit({case.name}): {value!r}"
        return
    if (wrapper, case.name) in META_FIRST:
        exc_type, pattern = expected
        assert outcome == "error" and isinstance(value, exc_type), f"{type(value)}: {value}"
        assert re.search(pattern, str(value)), str(value)
    else:
        assert_outcome(outcome, value, expected, f"{wrapper}({detector_name}).fit({case.name})")
    # nothing half-fitted: neither the detector given nor the meta-estimator
    assert not _fitted_attributes(det), f"{wrapper}: the detector kept {_fitted_attributes(det)}"
    assert not hasattr(meta, "best_estimator_") and not hasattr(meta, "results_")


@pytest.mark.parametrize("wrapper", WRAPPERS)
def test_detectors_fit_inside_meta_estimators(detector_name, wrapper):
    X = np.random.default_rng(0).normal(size=(60, 4))
    meta = WRAPPERS[wrapper](fast_detector(detector_name, max_epochs=1)).fit(X)
    if wrapper == "cross_validate":
        assert np.isfinite(meta.results_["test_score"]).all()
    else:
        assert np.isfinite(meta.score_samples(X)).all()
