"""Input checks shared by every detector: clear errors before anything reaches torch.

Every entry point (``fit``, ``score_samples``, ``decision_function``,
``predict``, ``feature_scores``, ``transform``) goes through
:func:`validate_rows`, so a bad input gives one ``ValueError`` or ``TypeError``
that says what was wrong and what to do, whatever the detector.
"""

from __future__ import annotations

from typing import Any

import numpy as np
import pandas as pd
import scipy.sparse as sp
from pandas.api.types import is_bool_dtype, is_numeric_dtype
from sklearn.base import BaseEstimator
from sklearn.utils import assert_all_finite
from sklearn.utils.validation import validate_data

from anomalib_ae.training.sparse import SparseRows

_CHUNK = 65536


def check_numeric_frame(X: Any) -> None:
    """Raise a ``TypeError`` naming the non-numeric columns of a DataFrame.

    Examples
    --------
    >>> import pandas as pd
    >>> check_numeric_frame(pd.DataFrame({"a": [1.0], "b": ["x"]}))
    Traceback (most recent call last):
    ...
    TypeError: Non-numeric column(s) ['b'] in X; encode or drop them before fitting (e.g. with sklearn's OneHotEncoder).
    """
    if not isinstance(X, pd.DataFrame):
        return
    bad = [
        str(col) for col, dt in X.dtypes.items() if not (is_numeric_dtype(dt) or is_bool_dtype(dt))
    ]
    if bad:
        raise TypeError(
            f"Non-numeric column(s) {bad} in X; encode or drop them before fitting "
            "(e.g. with sklearn's OneHotEncoder)."
        )


def _column_names(estimator: BaseEstimator, columns: np.ndarray) -> list:
    names = getattr(estimator, "feature_names_in_", None)
    if names is not None and len(names) > int(columns.max(initial=0)):
        return [str(names[i]) for i in columns]
    return [int(i) for i in columns]


def non_finite_message(estimator: BaseEstimator, X: np.ndarray | SparseRows) -> str:
    """Describe where ``X`` (an array or sparse rows) holds NaN or infinite values and what to do.

    Examples
    --------
    >>> import numpy as np
    >>> from sklearn.base import BaseEstimator
    >>> non_finite_message(BaseEstimator(), np.array([[1.0, np.nan], [np.inf, np.nan]]))
    'X contains NaN (2 value(s) in column(s) [1]) and infinity (1 value(s) in column(s) [0]); impute missing values (e.g. sklearn.impute.SimpleImputer in a Pipeline) and clip or replace infinite values (e.g. numpy.nan_to_num) or drop those rows.'
    """
    if isinstance(X, SparseRows):
        matrix = X.matrix
        d = matrix.shape[1]
        n_nan = np.bincount(matrix.indices[np.isnan(matrix.data)], minlength=d)
        n_inf = np.bincount(matrix.indices[np.isinf(matrix.data)], minlength=d)
    else:
        flat = X.reshape(len(X), -1)
        n_nan, n_inf = np.zeros(flat.shape[1], int), np.zeros(flat.shape[1], int)
        for start in range(0, len(flat), _CHUNK):
            block = np.asarray(flat[start : start + _CHUNK])
            n_nan += np.isnan(block).sum(0)
            n_inf += np.isinf(block).sum(0)
    found, remedies = [], []
    for label, counts, remedy in (
        ("NaN", n_nan, "impute missing values (e.g. sklearn.impute.SimpleImputer in a Pipeline)"),
        ("infinity", n_inf, "clip or replace infinite values (e.g. numpy.nan_to_num)"),
    ):
        cols = np.flatnonzero(counts)
        if len(cols):
            shown = _column_names(estimator, cols[:10])
            more = f" and {len(cols) - 10} more" if len(cols) > 10 else ""
            found.append(f"{label} ({counts.sum()} value(s) in column(s) {shown}{more})")
            remedies.append(remedy)
    return f"X contains {' and '.join(found)}; {' and '.join(remedies)} or drop those rows."


def _clearer_error(estimator: BaseEstimator, X: Any, exc: Exception) -> Exception:
    """Rewrite scikit-learn's conversion errors that dump the data or give no remedy."""
    msg = str(exc)
    name = type(estimator).__name__
    if msg.startswith("Expected 2D array"):
        return ValueError(
            f"{name} expects a 2-D array of shape (n_samples, n_features), got an array of "
            f"shape {np.shape(X)}. Reshape your data: X.reshape(-1, 1) if it holds one feature or "
            "X.reshape(1, -1) if it holds one sample."
        )
    if msg.startswith("Found array with dim"):
        return ValueError(
            f"{name} expects a 2-D array of shape (n_samples, n_features), got an array of "
            f"shape {np.shape(X)}. Flatten each sample first, e.g. X.reshape(len(X), -1)."
        )
    if msg.startswith("Complex data not supported"):
        return ValueError(
            f"Complex data not supported: {name} needs real numbers; pass X.real or np.abs(X)."
        )
    if "could not convert" in msg or "argument must be" in msg:
        return TypeError(
            f"X contains non-numeric values ({msg.splitlines()[0]}); encode or drop them "
            "before fitting (e.g. with sklearn's OneHotEncoder)."
        )
    if "feature names should match" in msg:
        return ValueError(
            f"{msg.rstrip()}\nPass the columns seen in fit, in the same order, e.g. "
            "X[detector.feature_names_in_]."
        )
    return exc


def validate_rows(estimator: BaseEstimator, X: Any, *, reset: bool) -> np.ndarray | SparseRows:
    """Validate ``X`` as a finite numeric 2-D array (DataFrames keep their column names).

    Float32 and float64 inputs keep their dtype (so memory maps are not copied);
    integer and boolean inputs become float64. A SciPy sparse matrix (CSR or
    CSC) is accepted by an estimator whose ``_sparse_input`` is true and comes
    back as :class:`~anomalib_ae.training.sparse.SparseRows`, densified later one
    batch at a time; other estimators refuse it with a ``TypeError``.

    Examples
    --------
    >>> import numpy as np
    >>> from anomalib_ae import AutoEncoderDetector
    >>> validate_rows(AutoEncoderDetector(), [1.0, 2.0], reset=True)
    Traceback (most recent call last):
    ...
    ValueError: AutoEncoderDetector expects a 2-D array of shape (n_samples, n_features), got an array of shape (2,). Reshape your data: X.reshape(-1, 1) if it holds one feature or X.reshape(1, -1) if it holds one sample.
    """
    check_numeric_frame(X)
    sparse = sp.issparse(X) and bool(getattr(estimator, "_sparse_input", False))
    try:
        out = validate_data(
            estimator,
            X,
            reset=reset,
            accept_sparse=["csr", "csc"] if sparse else False,
            dtype=[np.float64, np.float32],
            ensure_all_finite=False,
            ensure_min_samples=1,
            ensure_min_features=1,
        )
    except (ValueError, TypeError) as exc:
        clearer = _clearer_error(estimator, X, exc)
        if clearer is exc:
            raise
        raise clearer from None
    if sparse:
        return _sparse_rows(estimator, out)
    try:
        assert_all_finite(out, input_name="X")
    except ValueError:
        raise ValueError(non_finite_message(estimator, out)) from None
    return out


def _sparse_rows(estimator: BaseEstimator, X: Any) -> SparseRows:
    """Validated sparse ``X`` as :class:`SparseRows` (CSR), after checking its stored values."""
    rows = SparseRows(X)
    if not np.isfinite(rows.matrix.data).all():
        raise ValueError(non_finite_message(estimator, rows))
    return rows


SCORE_LIMIT = 1e300
"""Scores saturate here: an infinite anomaly score becomes this (finite, still ranked last)."""


def check_finite_scores(scores: np.ndarray, what: str = "scores") -> np.ndarray:
    """Saturate infinite ``scores`` at +-:data:`SCORE_LIMIT`; raise a ``ValueError`` on NaN.

    The input checks and the scaling's clipping keep the nets' outputs finite;
    this is the last guard so that no NaN or infinity ever reaches the user.
    A row scored as infinitely anomalous keeps its rank (the largest finite
    score); one whose score is undefined (NaN) is an error.

    Examples
    --------
    >>> import numpy as np
    >>> check_finite_scores(np.array([0.5, np.inf]))
    array([5.e-001, 1.e+300])
    """
    nan = np.isnan(scores)
    if nan.any():
        rows = np.flatnonzero(nan.reshape(len(scores), -1).any(1))
        raise ValueError(
            f"The detector produced undefined (NaN) {what} for {len(rows)} row(s) "
            f"(first: {rows[:5].tolist()}): these rows are too far outside the range of the "
            "training data, or training went wrong. Check the rows' magnitudes, or refit "
            "(for a neural detector with a lower `lr` and scaler='standard')."
        )
    return np.clip(scores, -SCORE_LIMIT, SCORE_LIMIT)
