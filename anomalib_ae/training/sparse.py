"""Sparse rows that are densified one batch at a time, never as a whole matrix.

A ``ColumnTransformer`` with a ``OneHotEncoder`` hands a detector a SciPy
sparse matrix; a million such rows of a few thousand columns are a few
megabytes sparse and many gigabytes dense. :class:`SparseRows` keeps the CSR
matrix and gives dense NumPy rows only for the slices asked for, so batching,
scaling and scoring read it like an array while memory stays proportional to
the non-zeros plus one batch.
"""

from __future__ import annotations

from typing import Any

import numpy as np
import scipy.sparse as sp


class SparseRows:
    """Rows of a SciPy sparse matrix, read as dense arrays one slice at a time.

    Indexing with a slice or an array of row positions returns those rows as a
    dense ndarray (of the matrix's dtype); :meth:`take` returns a subset that
    is still sparse. ``np.asarray`` densifies the whole matrix, so nothing in
    the package calls it on one.

    Parameters
    ----------
    X : scipy sparse matrix or array of shape (n_samples, n_features)
        Converted to CSR (a CSC input is converted once, O(non-zeros)).

    Examples
    --------
    >>> import scipy.sparse as sp
    >>> rows = SparseRows(sp.csc_matrix([[0.0, 1.0], [2.0, 0.0], [0.0, 0.0]]))
    >>> len(rows), rows.shape, rows[1:].tolist()
    (3, (3, 2), [[2.0, 0.0], [0.0, 0.0]])
    >>> rows.take([0, 2])[0:1].tolist()
    [[0.0, 1.0]]
    """

    def __init__(self, X: Any) -> None:
        self.matrix = sp.csr_matrix(X)
        self.shape = self.matrix.shape
        self.dtype = self.matrix.dtype
        self.ndim = 2

    def __len__(self) -> int:
        return self.shape[0]

    def __getitem__(self, key: Any) -> np.ndarray:
        if isinstance(key, tuple):
            raise TypeError("SparseRows takes row indices only (a slice or an array of rows).")
        return self.matrix[key].toarray()

    def take(self, indices: Any) -> SparseRows:
        """The rows at ``indices`` (sorted or not), still sparse."""
        return SparseRows(self.matrix[np.asarray(indices, dtype=np.intp)])

    def column_sums(
        self, power: int = 1, shift: np.ndarray | None = None, unit: np.ndarray | None = None
    ) -> np.ndarray:
        """Per-column sum of ``(x / unit - shift) ** power`` over every row, zeros included.

        Computed from the stored values only: the ``n - nnz_j`` implicit zeros
        of column ``j`` each add ``(-shift_j) ** power``.
        """
        d = self.shape[1]
        shift = np.zeros(d) if shift is None else np.asarray(shift, np.float64)
        unit = np.ones(d) if unit is None else np.asarray(unit, np.float64)
        columns = self.matrix.indices
        stored = (self.matrix.data.astype(np.float64) / unit[columns] - shift[columns]) ** power
        total = np.bincount(columns, weights=stored, minlength=d)
        zeros = self.shape[0] - np.bincount(columns, minlength=d)
        return total + zeros * (-shift) ** power

    def column_extremes(self) -> tuple[np.ndarray, np.ndarray]:
        """Per-column minimum and maximum over every row, implicit zeros included."""
        lo = self.matrix.min(axis=0).toarray().ravel().astype(np.float64)
        hi = self.matrix.max(axis=0).toarray().ravel().astype(np.float64)
        return lo, hi

    def pooled_moments(self) -> tuple[float, float, float, float]:
        """Mean, standard deviation, minimum and maximum of all values, zeros included."""
        n = self.shape[0] * self.shape[1]
        data = self.matrix.data.astype(np.float64)
        mean = data.sum() / n
        var = (((data - mean) ** 2).sum() + (n - len(data)) * mean**2) / n
        has_zero = len(data) < n
        lo = min(data.min(initial=np.inf), 0.0) if has_zero else data.min()
        hi = max(data.max(initial=-np.inf), 0.0) if has_zero else data.max()
        return float(mean), float(np.sqrt(var)), float(lo), float(hi)


def take_rows(X: Any, indices: Any) -> Any:
    """The rows ``indices`` of ``X`` without densifying a sparse or loading a streamed one.

    Sparse rows stay sparse (:meth:`SparseRows.take`), a memory map becomes a
    lazy :class:`~anomalib_ae.training.data.RowSubset`, and an in-memory array
    is fancy-indexed.

    Examples
    --------
    >>> import numpy as np
    >>> take_rows(np.arange(6.0).reshape(3, 2), [2]).tolist()
    [[4.0, 5.0]]
    """
    from anomalib_ae.training.data import RowSubset, is_streamed

    if isinstance(X, SparseRows):
        return X.take(indices)
    if is_streamed(X):
        return RowSubset(X, indices)
    return X[np.asarray(indices, dtype=np.intp)]
