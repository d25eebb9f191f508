"""Score a dask array or dask DataFrame with a fitted detector, partition by partition.

A fitted detector scores each row on its own (a row's score does not depend
on the other rows of its batch), so scoring data spread over a dask cluster
is a ``map_blocks`` / ``map_partitions`` of the detector's scoring method:
every partition is scored where it lives, by a copy of the detector the
workers receive once (dask pickles it; the nets are moved to the CPU), and
the scores are bit-identical to scoring all rows in one process, whatever
the partitioning. Needs the ``dask`` extra (``pip install "anomalib_ae[dask]"``).
"""

from __future__ import annotations

from typing import Any

import numpy as np

METHODS = ("score_samples", "decision_function", "predict")


def _method(detector: Any, method: str):
    if method not in METHODS:
        raise ValueError(f"method must be one of {METHODS}, got {method!r}.")
    return getattr(detector, method)


def _score_block(block: np.ndarray, detector: Any, method: str) -> np.ndarray:
    return np.asarray(_method(detector, method)(block))


def score_dask(detector: Any, X: Any, method: str = "score_samples") -> Any:
    """Lazily score a dask array or DataFrame with a fitted ``detector``.

    Parameters
    ----------
    detector : fitted detector
        Any anomalib_ae detector (or scikit-learn outlier detector) that is fitted.
    X : dask.array.Array of shape (n, n_features) or dask.dataframe.DataFrame
        Rows to score, chunked along the rows (an array's columns are
        rechunked into one block).
    method : {"score_samples", "decision_function", "predict"}, default="score_samples"

    Returns
    -------
    dask.array.Array of shape (n,) or dask.dataframe.Series
        Lazy scores (call ``.compute()``), with ``X``'s row chunks or partitions.

    Examples
    --------
    >>> import dask.array as da
    >>> from anomalib_ae import AutoEncoderDetector
    >>> X = np.random.default_rng(0).normal(size=(300, 4))
    >>> det = AutoEncoderDetector(hidden_dims=(8,), latent_dim=2, max_epochs=2,
    ...                           random_state=0).fit(X)
    >>> scores = score_dask(det, da.from_array(X, chunks=(70, 4)))
    >>> scores.chunks
    ((70, 70, 70, 70, 20),)
    >>> bool((scores.compute() == det.score_samples(X)).all())
    True
    """
    _method(detector, method)  # a clear error before any task runs
    from sklearn.utils.validation import check_is_fitted

    check_is_fitted(detector)
    import dask.array as da

    if isinstance(X, da.Array):
        if X.ndim != 2:
            raise ValueError(f"X must be a 2-D dask array of rows, got {X.ndim} dimensions.")
        X = X.rechunk({1: -1})
        dtype = np.int64 if method == "predict" else np.float64
        return X.map_blocks(
            _score_block, detector, method, drop_axis=1, dtype=dtype, meta=np.empty(0, dtype)
        )
    try:
        import dask.dataframe as dd
    except ImportError:  # pragma: no cover - dask without its dataframe part
        dd = None
    if dd is not None and isinstance(X, dd.DataFrame):
        import pandas as pd

        def part(frame: pd.DataFrame) -> pd.Series:
            return pd.Series(_score_block(frame, detector, method), index=frame.index, name=method)

        dtype = "int64" if method == "predict" else "float64"
        return X.map_partitions(part, meta=pd.Series(dtype=dtype, name=method))
    raise TypeError(
        f"X must be a dask array or dask DataFrame, got {type(X).__name__}; score in-memory "
        "rows with the detector's own methods."
    )
