"""Input scaling fitted inside a detector, computed in chunks so memory maps stay on disk."""

from __future__ import annotations

import numpy as np

SCALERS = ("standard", "minmax", "none")
_CHUNK = 65536
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
        n, d = X.shape[0], int(np.prod(X.shape[1:]))
        if self.kind == "none":
            self.shift_, self.scale_ = np.zeros(d), np.ones(d)
            return self
        if self.kind == "standard":
            total, total_sq = np.zeros(d), np.zeros(d)
            for start in range(0, n, _CHUNK):
                block = np.asarray(X[start : start + _CHUNK], dtype=np.float64).reshape(-1, d)
                total += block.sum(0)
            mean = total / n
            for start in range(0, n, _CHUNK):
                block = np.asarray(X[start : start + _CHUNK], dtype=np.float64).reshape(-1, d)
                total_sq += ((block - mean) ** 2).sum(0)
            shift, scale = mean, np.sqrt(total_sq / n)
        else:
            lo, hi = np.full(d, np.inf), np.full(d, -np.inf)
            for start in range(0, n, _CHUNK):
                block = np.asarray(X[start : start + _CHUNK], dtype=np.float64).reshape(-1, d)
                lo, hi = np.minimum(lo, block.min(0)), np.maximum(hi, block.max(0))
            shift, scale = lo, hi - lo
        tiny = np.finfo(np.float64).eps * np.maximum(np.abs(shift), 1.0)
        self.shift_ = shift
        self.scale_ = np.where(scale > tiny, scale, 1.0)
        return self

    def transform(self, X: np.ndarray) -> np.ndarray:
        """Scale rows ``X``; returns float32 with the input's shape."""
        shape = X.shape
        flat = np.asarray(X, dtype=np.float64).reshape(len(X), -1)
        out = np.clip((flat - self.shift_) / self.scale_, -_LIMIT, _LIMIT)
        return out.astype(np.float32).reshape(shape)
