"""A property-based battery over every detector: whatever the table, a result or a clear error.

Random shapes and dtypes, NaN and infinity at random positions, huge and tiny
magnitudes, duplicate rows, constant columns, DataFrames with odd column names:
``fit`` and the scoring entry points give finite results or a ValueError/TypeError,
and never change the caller's array.
"""

from __future__ import annotations

import warnings

import numpy as np
import pandas as pd
import pytest
from hypothesis import HealthCheck, event, given, settings
from hypothesis import strategies as st

from anomalib_ae import list_detectors
from tests.bad_inputs import finite_result
from tests.conftest import fast_detector

_DTYPES = [np.float64, np.float32, np.float16, np.int64, np.int8, np.uint8, np.bool_]
_ODD_NAMES = ["a b", "", "ü-ñ", "x" * 60, "0", "f.1", "col\t", "None", "Δ"]


@st.composite
def tables(draw, n_cols: int | None = None):
    """A table as a user might hand it over, and a description for the failure message."""
    n = draw(st.integers(1, 25))
    d = n_cols if n_cols is not None else draw(st.integers(1, 5))
    seed = draw(st.integers(0, 2**16))
    rng = np.random.default_rng(seed)
    magnitude = draw(st.sampled_from([1e-30, 1e-8, 1.0, 1e8, 1e30, 1e150]))
    X = rng.normal(size=(n, d)) * magnitude
    if draw(st.booleans()):  # duplicate rows
        X = np.tile(X[:1], (n, 1))
    if d > 1 and draw(st.booleans()):  # a constant column
        X[:, draw(st.integers(0, d - 1))] = draw(st.sampled_from([0.0, 7.0, -1e20]))
    bad = draw(st.sampled_from([None, np.nan, np.inf, -np.inf]))
    if bad is not None:
        X[draw(st.integers(0, n - 1)), draw(st.integers(0, d - 1))] = bad
    dtype = draw(st.sampled_from(_DTYPES))
    with np.errstate(all="ignore"), warnings.catch_warnings():
        warnings.simplefilter("ignore")
        if np.issubdtype(dtype, np.integer):
            info = np.iinfo(dtype)
            X = np.clip(np.nan_to_num(X), info.min, info.max).astype(dtype)
        else:
            X = X.astype(dtype)
    if draw(st.booleans()):
        names = draw(st.lists(st.sampled_from(_ODD_NAMES), min_size=d, max_size=d, unique=True))
        return pd.DataFrame(X, columns=names), f"DataFrame {names} {dtype.__name__} x{magnitude}"
    return X, f"array {X.shape} {np.dtype(dtype).name} x{magnitude} bad={bad}"


def _copy(X):
    return X.copy(deep=True) if isinstance(X, pd.DataFrame) else X.copy()


def _same(a, b) -> bool:
    if isinstance(a, pd.DataFrame):
        return a.equals(b) and list(a.columns) == list(b.columns)
    return a.dtype == b.dtype and np.array_equal(a, b, equal_nan=True)


def _outcome(call, X, what: str):
    """A result (checked finite) or a ValueError/TypeError; the caller's X unchanged."""
    before = _copy(X)
    try:
        with warnings.catch_warnings():
            warnings.simplefilter("ignore")
            result = call(X)
    except (ValueError, TypeError) as exc:
        assert "torch" not in str(exc).lower(), f"{what}: torch leaks into {exc}"
        result = None
    assert _same(X, before), f"{what}: the caller's data changed"
    return result


@pytest.mark.parametrize("name", list_detectors())
@settings(max_examples=12, deadline=None, suppress_health_check=[HealthCheck.too_slow])
@given(data=st.data())
def test_any_table_gives_finite_scores_or_a_clear_error(name, data):
    X, what = data.draw(tables())
    det = fast_detector(name, max_epochs=1)
    fitted = _outcome(det.fit, X, f"fit on {what}")
    event("fit: a clear error" if fitted is None else "fit: fitted")
    if fitted is None:
        return
    Y, other = data.draw(tables(n_cols=X.shape[1]))
    for method in ("score_samples", "decision_function", "predict"):
        for rows, label in ((X, what), (Y, other)):
            result = _outcome(getattr(det, method), rows, f"{method} on {label}")
            if result is not None:
                assert finite_result(result), f"{method} on {label}: {result!r}"
                assert len(result) == len(rows)
