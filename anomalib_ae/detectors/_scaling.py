"""Input scaling fitted inside a detector, computed in chunks so memory maps stay on disk."""

from __future__ import annotations

import weakref

import numpy as np

from anomalib_ae.training.sparse import SparseRows

SCALERS = ("standard", "minmax", "none")
_CHUNK = 16384  # rows per block of fit: float64 temporaries stay small
_BLOCK = 2048  # rows per block of transform (fits in cache)
_LIMIT = 1e6  # scaled values are clipped here so float32 nets never see inf
_FLOAT32_PARAMS: weakref.WeakKeyDictionary = weakref.WeakKeyDictionary()  # scaler -> params
_F32_TINY = float(np.finfo(np.float32).tiny)  # smallest normal float32


class InputScaler:
    """Per-feature affine scaling ``(X - shift) / scale``.

    Parameters
    ----------
    kind : {"standard", "minmax", "none"}
        ``"standard"``: zero mean, unit variance; ``"minmax"``: into [0, 1];
        ``"none"``: identity. Constant features get scale 1. Scaled values are
        clipped to +-1e6 so that absurd magnitudes (1e30) stay finite in float32.

    Examples
    --------
    >>> import numpy as np
    >>> s = InputScaler("minmax").fit(np.array([[0.0, 5.0], [2.0, 5.0]]))
    >>> s.transform(np.array([[1.0, 5.0]]))
    array([[0.5, 0. ]], dtype=float32)
    """

    def __init__(self, kind: str = "standard") -> None:
        if kind not in SCALERS:
            raise ValueError(f"Unknown scaler {kind!r}; choose one of {SCALERS}.")
        self.kind = kind

    def fit(self, X: np.ndarray) -> InputScaler:
        """Learn shift and scale from rows ``X`` (2-D), reading it in chunks."""
        d = int(np.prod(X.shape[1:]))
        if self.kind == "none":
            self.shift_, self.scale_ = np.zeros(d), np.ones(d)
            return self
        with np.errstate(over="ignore", invalid="ignore"):
            shift, scale = self._shift_scale(X, np.ones(d))
            if not (np.isfinite(shift).all() and np.isfinite(scale).all()):
                # Sums overflowed (values near the float64 limit): redo them in units of a
                # per-feature power of two, which is exact and keeps every sum finite.
                shift, scale = self._shift_scale(X, _power_of_two_units(X, d))
        scale = np.minimum(scale, np.finfo(np.float64).max)
        tiny = np.finfo(np.float64).eps * np.maximum(np.abs(shift), 1.0)
        self.shift_ = shift
        self.scale_ = np.where(scale > tiny, scale, 1.0)
        return self

    def _shift_scale(self, X: np.ndarray, unit: np.ndarray) -> tuple[np.ndarray, np.ndarray]:
        n, d = X.shape[0], unit.shape[0]
        if isinstance(X, SparseRows):  # from the stored values, never densified
            if self.kind == "standard":
                mean = X.column_sums(unit=unit) / n
                return mean * unit, np.sqrt(X.column_sums(2, mean, unit) / n) * unit
            lo, hi = X.column_extremes()
            return lo, hi - lo

        def blocks():
            for start in range(0, n, _CHUNK):
                yield np.asarray(X[start : start + _CHUNK], dtype=np.float64).reshape(-1, d) / unit

        if self.kind == "standard":
            total, total_sq = np.zeros(d), np.zeros(d)
            for block in blocks():
                total += block.sum(0)
            mean = total / n
            for block in blocks():
                total_sq += ((block - mean) ** 2).sum(0)
            return mean * unit, np.sqrt(total_sq / n) * unit
        lo, hi = np.full(d, np.inf), np.full(d, -np.inf)
        for block in blocks():
            lo, hi = np.minimum(lo, block.min(0)), np.maximum(hi, block.max(0))
        return lo * unit, (hi - lo) * unit

    def transform(self, X: np.ndarray) -> np.ndarray:
        """Scale rows ``X`` (dense: sparse rows are densified a batch at a time before this).

        Returns float32 with the input's shape.

        Computed a cache-sized block of rows at a time, in place, so the only
        full-size allocation is the float32 result: in float32 for float32
        input when :meth:`_float32_params` allows it, in float64 otherwise.
        """
        shape = X.shape
        flat = np.asarray(X).reshape(len(X), -1)
        out = np.empty(flat.shape, dtype=np.float32)
        params = self._float32_params() if flat.dtype == np.float32 else None
        with np.errstate(over="ignore"):  # an overflow gives +-inf, clipped just below
            if params is not None:
                _scale_float32(flat, out, *params)
                return out.reshape(shape)
            for start in range(0, len(flat), _BLOCK):
                block = np.subtract(flat[start : start + _BLOCK], self.shift_, dtype=np.float64)
                block /= self.scale_
                np.clip(block, -_LIMIT, _LIMIT, out=out[start : start + _BLOCK])
        return out.reshape(shape)

    def _float32_params(self) -> tuple[np.ndarray, np.ndarray] | None:
        """``shift_`` and ``1 / scale_`` in float32, or None where float32 is not safe.

        For float32 rows, ``(x - shift) * (1 / scale)`` computed in float32 is as
        accurate as the data: ``x`` is exact, and rounding ``shift`` and
        ``1 / scale`` to float32 and the two operations add half a float32 ulp
        each, so the error stays within about ``ulp(x) / scale + ulp(result)``
        (measured: at most 1.3 times that), i.e. within the resolution the
        float32 rows already have (where ``x`` is close to ``shift`` the result is
        small and its error is ``ulp(shift) / scale`` in absolute terms, the
        spacing of the float32 values there). The float64 path rounds to float32
        at the end, so it is exact to half an ulp of the result only.
        Overflow agrees: ``x - shift`` can only overflow beyond +-3.4e38, and
        with ``scale <= 1e30`` the true scaled value is then over 3.4e8, which
        the float64 path clips to the same +-1e6 as the float32 infinity; a
        finite ``shift`` and a finite, normal ``1 / scale`` keep NaN out
        (validated rows are finite). None (use float64) outside these bounds.
        """
        cached = _FLOAT32_PARAMS.get(self)  # (kept outside the scaler: not saved with it)
        if cached is not None and cached[0] is self.shift_ and cached[1] is self.scale_:
            return cached[2]
        params = self._float32_params_of(np.asarray(self.shift_), np.asarray(self.scale_))
        _FLOAT32_PARAMS[self] = (self.shift_, self.scale_, params)
        return params

    @staticmethod
    def _float32_params_of(shift: np.ndarray, scale: np.ndarray):
        """:meth:`_float32_params` for these ``shift`` and ``scale`` arrays."""
        if not (np.isfinite(shift).all() and np.all((scale >= _F32_TINY) & (scale <= 1e30))):
            return None
        with np.errstate(over="ignore"):
            shift32 = shift.astype(np.float32)
        if not np.isfinite(shift32).all():
            return None
        return shift32, (1.0 / scale).astype(np.float32)


def _power_of_two_units(X: np.ndarray, d: int) -> np.ndarray:
    """Per-feature power of two near the largest magnitude (1 for all-zero features)."""
    peak = np.zeros(d)
    for start in range(0, X.shape[0], _CHUNK):
        block = np.asarray(X[start : start + _CHUNK], dtype=np.float64).reshape(-1, d)
        peak = np.maximum(peak, np.abs(block).max(0))
    _, exponent = np.frexp(peak)
    return np.ldexp(1.0, np.maximum(exponent - 1, 0))


def _scale_float32(
    flat: np.ndarray, out: np.ndarray, shift: np.ndarray, inverse: np.ndarray
) -> None:
    """``out = clip((flat - shift) * inverse)`` in float32, a cache-sized block at a time."""
    for start in range(0, len(flat), _BLOCK):
        dest = out[start : start + _BLOCK]
        np.subtract(flat[start : start + _BLOCK], shift, out=dest)
        np.multiply(dest, inverse, out=dest)
        np.clip(dest, -_LIMIT, _LIMIT, out=dest)
