"""Evaluation protocols: how one dataset and one seed become a train/test split.

Every random choice of a protocol derives from ``(dataset name, seed)`` through
:func:`derive_seed` (a stable CRC32 of the name, not Python's salted ``hash``),
so a split is reproducible across processes and machines.

Protocols
---------
``adbench`` (unsupervised, Han et al. 2022)
    Subsample to ``max_rows`` rows when larger (stratified), stratified 70/30
    train/test split, scaling fitted on the train part. Detectors are fitted on
    the contaminated train part without labels and score the test part.
``novelty`` (semi-supervised / one-class)
    Subsample as above, split the *normal* rows 70/30; train on those normal
    rows only; test on the held-out normal rows plus all anomalies.
``one_class`` (labelled multi-class sets, e.g. digit images)
    Per seed one stratified 70/30 split of all rows; for a ``normal_class`` c,
    train on the train-part rows of class c, test on the whole test part with
    anomaly = (class != c). The suite runner makes one job per class
    (:func:`anomalib_ae.bench.suites.build_jobs`).

A protocol is a function ``(X, y, seed, *, dataset="", **options) -> Split``;
:func:`register_protocol` adds one (e.g. a ``one_class`` protocol for labelled
image classes) and :func:`get_protocol` finds it by name. ``X`` may have any
number of trailing dimensions (``(n, d)`` tables or ``(n, H, W)`` images):
splitting works along the first axis and scaling on the flattened rows.
"""

from __future__ import annotations

import zlib
from collections.abc import Callable
from dataclasses import dataclass
from typing import Any

import numpy as np
from sklearn.model_selection import train_test_split

SCALINGS = ("minmax", "standard", "none")


@dataclass(frozen=True)
class Split:
    """A train/test split: rows and 0/1 labels (1 = anomaly) of each part."""

    X_train: np.ndarray
    X_test: np.ndarray
    y_train: np.ndarray
    y_test: np.ndarray

    @property
    def contamination(self) -> float:
        """Fraction of anomalies in the test part (the ``k`` of top-k metrics)."""
        return float(np.mean(self.y_test)) if len(self.y_test) else 0.0

    def __iter__(self):
        """Unpack as ``X_train, X_test, y_train, y_test`` like ``train_test_split``."""
        return iter((self.X_train, self.X_test, self.y_train, self.y_test))


def derive_seed(dataset: str, seed: int) -> int:
    """One 32-bit seed from a dataset name and a run seed, stable across processes.

    Examples
    --------
    >>> derive_seed("wine", 0) == derive_seed("wine", 0)
    True
    >>> derive_seed("wine", 0) != derive_seed("wine", 1) != derive_seed("glass", 0)
    True
    """
    entropy = [zlib.crc32(str(dataset).encode("utf-8")), int(seed) & 0xFFFFFFFF]
    return int(np.random.SeedSequence(entropy).generate_state(1)[0])


def _check_xy(X: Any, y: Any) -> tuple[np.ndarray, np.ndarray]:
    X = np.asarray(X)
    y = np.asarray(y).ravel()
    if X.ndim < 2:
        raise ValueError(
            f"X must have at least 2 dimensions (rows, features), got shape {X.shape}."
        )
    if len(X) != len(y):
        raise ValueError(f"X has {len(X)} rows but y has {len(y)} labels.")
    labels = set(np.unique(y).tolist())
    if not labels <= {0, 1}:
        raise ValueError(
            f"y must hold 0 (normal) and 1 (anomaly) only, got values {sorted(labels)}."
        )
    if labels != {0, 1}:
        raise ValueError("y must contain both normal (0) and anomalous (1) rows.")
    return X, y.astype(np.int64)


def _subsample(X: np.ndarray, y: np.ndarray, max_rows: int | None, seed: int):
    if max_rows is None or len(X) <= max_rows:
        return X, y
    keep, _ = train_test_split(
        np.arange(len(X)), train_size=int(max_rows), stratify=y, random_state=seed
    )
    keep = np.sort(keep)
    return X[keep], y[keep]


def scale_split(X_train: np.ndarray, X_test: np.ndarray, scaling: str | None):
    """Fit ``scaling`` on ``X_train`` (per flattened feature) and apply it to both parts.

    ``"minmax"`` maps the train part into [0, 1] (test values may fall outside,
    as in ADBench); ``"standard"`` gives zero mean and unit variance; ``"none"``
    (or ``None``) returns float64 copies. Constant features get scale 1.

    Examples
    --------
    >>> a, b = scale_split(np.array([[0.0], [2.0]]), np.array([[4.0]]), "minmax")
    >>> a.ravel().tolist(), b.ravel().tolist()
    ([0.0, 1.0], [2.0])
    """
    scaling = "none" if scaling is None else scaling
    if scaling not in SCALINGS:
        raise ValueError(f"Unknown scaling {scaling!r}; choose one of {SCALINGS}.")
    train = np.asarray(X_train, dtype=np.float64).reshape(len(X_train), -1)
    test = np.asarray(X_test, dtype=np.float64).reshape(len(X_test), -1)
    if scaling == "minmax":
        shift, scale = train.min(0), train.max(0) - train.min(0)
    elif scaling == "standard":
        shift, scale = train.mean(0), train.std(0)
    else:
        shift, scale = np.zeros(train.shape[1]), np.ones(train.shape[1])
    scale = np.where(scale > 0, scale, 1.0)
    return (
        ((train - shift) / scale).reshape(np.shape(X_train)),
        ((test - shift) / scale).reshape(np.shape(X_test)),
    )


def adbench_split(
    X: Any,
    y: Any,
    seed: int = 0,
    *,
    dataset: str = "",
    max_rows: int | None = 10_000,
    test_size: float = 0.3,
    scaling: str | None = "minmax",
) -> Split:
    """ADBench's unsupervised split: subsample, stratified 70/30, scaling fitted on train.

    Parameters
    ----------
    X : array-like of shape (n_samples, ...)
        Rows (tables ``(n, d)`` or images ``(n, H, W)``).
    y : array-like of shape (n_samples,)
        0 = normal, 1 = anomaly.
    seed : int, default=0
        Run seed; combined with ``dataset`` by :func:`derive_seed`.
    dataset : str, default=""
        Dataset name, so that each dataset gets its own random stream.
    max_rows : int or None, default=10_000
        Stratified subsample to this many rows when larger (``None``: never).
    test_size : float, default=0.3
        Fraction of rows in the test part.
    scaling : {"minmax", "standard", "none"} or None, default="minmax"
        Scaling fitted on the train part and applied to both parts.

    Returns
    -------
    Split
        Train part (contaminated, labels for reference only) and test part.

    Examples
    --------
    >>> X = np.arange(200, dtype=float).reshape(100, 2)
    >>> y = (np.arange(100) % 10 == 0).astype(int)
    >>> s = adbench_split(X, y, seed=0, dataset="toy")
    >>> len(s.X_train), len(s.X_test), int(s.y_train.sum()), int(s.y_test.sum())
    (70, 30, 7, 3)
    """
    X, y = _check_xy(X, y)
    rs = derive_seed(dataset, seed)
    X, y = _subsample(X, y, max_rows, rs)
    X_train, X_test, y_train, y_test = train_test_split(
        X, y, test_size=test_size, stratify=y, random_state=rs
    )
    X_train, X_test = scale_split(X_train, X_test, scaling)
    return Split(X_train, X_test, y_train, y_test)


def novelty_split(
    X: Any,
    y: Any,
    seed: int = 0,
    *,
    dataset: str = "",
    max_rows: int | None = 10_000,
    test_size: float = 0.3,
    scaling: str | None = "minmax",
) -> Split:
    """Semi-supervised split: train on normal rows only, test on held-out normals + all anomalies.

    Parameters are those of :func:`adbench_split`; ``test_size`` is the fraction
    of the *normal* rows held out for the test part.

    Returns
    -------
    Split
        ``y_train`` is all zeros; ``y_test`` holds every anomaly.

    Examples
    --------
    >>> X = np.arange(200, dtype=float).reshape(100, 2)
    >>> y = (np.arange(100) % 10 == 0).astype(int)
    >>> s = novelty_split(X, y, seed=0, dataset="toy")
    >>> len(s.X_train), int(s.y_train.sum()), len(s.X_test), int(s.y_test.sum())
    (63, 0, 37, 10)
    """
    X, y = _check_xy(X, y)
    rs = derive_seed(dataset, seed)
    X, y = _subsample(X, y, max_rows, rs)
    normal, anomalous = np.flatnonzero(y == 0), np.flatnonzero(y == 1)
    train_idx, held_out = train_test_split(normal, test_size=test_size, random_state=rs)
    test_idx = np.sort(np.r_[held_out, anomalous])
    train_idx = np.sort(train_idx)
    X_train, X_test = scale_split(X[train_idx], X[test_idx], scaling)
    return Split(X_train, X_test, y[train_idx], y[test_idx])


def one_class_split(
    X: Any,
    y: Any,
    seed: int = 0,
    *,
    dataset: str = "",
    normal_class: Any = None,
    max_rows: int | None = None,
    test_size: float = 0.3,
    scaling: str | None = "global",
) -> Split:
    """One-class split of a labelled (multi-class) set: train on class ``normal_class`` only.

    Per seed, one stratified ``1 - test_size`` / ``test_size`` split of all rows
    (the same for every class: it depends on ``(dataset, seed)`` only); the
    train part keeps the rows of ``normal_class``; the test part is the whole
    test part with anomaly = (class != ``normal_class``).

    Parameters
    ----------
    X : array-like of shape (n_samples, ...)
        Rows or images.
    y : array-like of shape (n_samples,)
        Class labels.
    seed, dataset, max_rows, test_size
        As in :func:`adbench_split` (``max_rows`` defaults to ``None``: all rows).
    normal_class : label
        The normal class (required).
    scaling : {"global", "minmax", "standard", "none"} or None, default="global"
        ``"global"``: one min-max scaling of all values (pixels) of the train
        part into [0, 1] (MNIST's 0-255 become 0-1); the others are per
        feature as in :func:`scale_split`.

    Returns
    -------
    Split

    Examples
    --------
    >>> X = np.arange(300, dtype=float).reshape(100, 3)
    >>> y = np.arange(100) % 4
    >>> s = one_class_split(X, y, seed=0, dataset="toy", normal_class=2)
    >>> len(s.X_train), int(s.y_train.sum()), len(s.X_test), int((s.y_test == 0).sum())
    (18, 0, 30, 7)
    """
    X = np.asarray(X)
    y = np.asarray(y).ravel()
    if X.ndim < 2 or len(X) != len(y):
        raise ValueError(
            f"X must be (n_samples, ...) with one label per row, got X {X.shape} and y {y.shape}."
        )
    classes = np.unique(y)
    if normal_class is None or normal_class not in classes.tolist():
        raise ValueError(
            f"one_class needs normal_class, one of the labels {classes.tolist()}; got "
            f"{normal_class!r}."
        )
    rs = derive_seed(dataset, seed)
    X, y = _subsample(X, y, max_rows, rs)
    train_idx, test_idx = train_test_split(
        np.arange(len(X)), test_size=test_size, stratify=y, random_state=rs
    )
    train_idx = np.sort(train_idx[y[train_idx] == normal_class])
    test_idx = np.sort(test_idx)
    if scaling == "global":
        train = np.asarray(X[train_idx], dtype=np.float64)
        lo, hi = float(train.min()), float(train.max())
        scale = hi - lo if hi > lo else 1.0
        X_train, X_test = (train - lo) / scale, (np.asarray(X[test_idx], np.float64) - lo) / scale
    else:
        X_train, X_test = scale_split(X[train_idx], X[test_idx], scaling)
    y_test = (y[test_idx] != normal_class).astype(np.int64)
    return Split(X_train, X_test, np.zeros(len(train_idx), np.int64), y_test)


Protocol = Callable[..., Split]
_PROTOCOLS: dict[str, Protocol] = {
    "adbench": adbench_split,
    "novelty": novelty_split,
    "one_class": one_class_split,
}


def register_protocol(name: str, func: Protocol) -> None:
    """Make ``func`` available as protocol ``name``.

    ``func(X, y, seed, *, dataset="", **options)`` must return a :class:`Split`.
    """
    if not callable(func):
        raise TypeError(f"protocol {name!r} must be callable, got {type(func).__name__}.")
    _PROTOCOLS[name] = func


def list_protocols() -> list[str]:
    """Names of the available protocols.

    Examples
    --------
    >>> list_protocols()[:2]
    ['adbench', 'novelty']
    """
    return list(_PROTOCOLS)


def get_protocol(name: str) -> Protocol:
    """The protocol function registered under ``name``."""
    try:
        return _PROTOCOLS[name]
    except KeyError:
        raise ValueError(
            f"Unknown protocol {name!r}; available: {', '.join(list_protocols())}."
        ) from None
