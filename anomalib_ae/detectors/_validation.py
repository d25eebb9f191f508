"""Input checks shared by every detector: clear errors before anything reaches torch."""

from __future__ import annotations

from typing import Any

import numpy as np
import pandas as pd
from pandas.api.types import is_bool_dtype, is_numeric_dtype
from sklearn.base import BaseEstimator
from sklearn.utils.validation import validate_data


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


def validate_rows(estimator: BaseEstimator, X: Any, *, reset: bool) -> np.ndarray:
    """Validate ``X`` as a finite numeric 2-D array (DataFrames keep their column names).

    Float32 and float64 inputs keep their dtype (so memory maps are not copied);
    integer and boolean inputs become float64.
    """
    check_numeric_frame(X)
    return validate_data(
        estimator,
        X,
        reset=reset,
        dtype=[np.float64, np.float32],
        ensure_all_finite=True,
        ensure_min_samples=1,
        ensure_min_features=1,
    )
