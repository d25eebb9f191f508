"""Input scaling fitted inside a detector, computed in chunks so memory maps stay on disk."""

from __future__ import annotations

import numpy as np

SCALERS = ("standard", "minmax", "none")
_CHUNK = 16384  # rows per block of fit: float64 temporaries stay small
_BLOCK = 2048  # rows per block of transform (fits in cache)
_LIMIT = 1e6  # scaled values are clipped here so float32 nets never see inf


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
        """Scale rows ``X``; returns float32 with the input's shape.

        Computed in float64, a block of rows at a time (cache-sized, in place),
        so the only full-size allocation is the float32 result.
        """
        shape = X.shape
        flat = np.asarray(X).reshape(len(X), -1)
        out = np.empty(flat.shape, dtype=np.float32)
        with np.errstate(over="ignore"):  # an overflow gives +-inf, clipped just below
            for start in range(0, len(flat), _BLOCK):
                block = np.subtract(flat[start : start + _BLOCK], self.shift_, dtype=np.float64)
                block /= self.scale_
                np.clip(block, -_LIMIT, _LIMIT, out=block)
                out[start : start + _BLOCK] = block
        return out.reshape(shape)


def _power_of_two_units(X: np.ndarray, d: int) -> np.ndarray:
    """Per-feature power of two near the largest magnitude (1 for all-zero features)."""
    peak = np.zeros(d)
    for start in range(0, X.shape[0], _CHUNK):
        block = np.asarray(X[start : start + _CHUNK], dtype=np.float64).reshape(-1, d)
        peak = np.maximum(peak, np.abs(block).max(0))
    _, exponent = np.frexp(peak)
    return np.ldexp(1.0, np.maximum(exponent - 1, 0))
