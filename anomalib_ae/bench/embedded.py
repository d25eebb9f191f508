"""Datasets built from data scikit-learn ships: always available, no files needed.

Each builder returns ``(X, y)`` with y = 1 for anomalies; the choice of which
rare-class rows to keep is fixed (seed 0), so the dataset itself never changes
and only the protocol's split varies with the run seed. How each set is made is
documented in ``datasets/README.md``. Add a builder with :func:`register_embedded`
(``kind="image"`` for ``(n, H, W)`` arrays, ``labels="multiclass"`` for class
labels used by a one-class protocol).
"""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass

import numpy as np


@dataclass(frozen=True)
class EmbeddedSpec:
    """An embedded dataset: its builder and how to describe it."""

    build: Callable[[], tuple[np.ndarray, np.ndarray]]
    source: str
    kind: str = "tabular"
    labels: str = "binary"


EMBEDDED: dict[str, EmbeddedSpec] = {}


def register_embedded(
    name: str, source: str, *, kind: str = "tabular", labels: str = "binary"
) -> Callable:
    """Decorator registering a builder ``() -> (X, y)`` as embedded dataset ``name``."""

    def decorate(build: Callable[[], tuple[np.ndarray, np.ndarray]]):
        EMBEDDED[name] = EmbeddedSpec(build, source, kind, labels)
        return build

    return decorate


def rare_class(
    X: np.ndarray, is_rare: np.ndarray, n_rare: int, seed: int = 0
) -> tuple[np.ndarray, np.ndarray]:
    """Keep every normal row and ``n_rare`` rows of the rare class (chosen with ``seed``).

    Examples
    --------
    >>> X, y = rare_class(np.arange(10.0)[:, None], np.arange(10) < 5, 2)
    >>> int(y.sum()), len(y)
    (2, 7)
    """
    rng = np.random.default_rng(seed)
    rare = rng.choice(np.flatnonzero(is_rare), size=n_rare, replace=False)
    keep = np.sort(np.r_[np.flatnonzero(~is_rare), rare])
    return np.asarray(X[keep], dtype=np.float64), is_rare[keep].astype(np.int64)


@register_embedded("breast_cancer", "sklearn load_breast_cancer: 357 benign + 19 malignant (5%)")
def breast_cancer() -> tuple[np.ndarray, np.ndarray]:
    """Wisconsin diagnostic breast cancer: benign normal, 19 malignant cases as anomalies."""
    from sklearn.datasets import load_breast_cancer

    X, target = load_breast_cancer(return_X_y=True)
    return rare_class(X, target == 0, 19)


@register_embedded("wine", "sklearn load_wine: cultivars 0+1 normal, 10 of cultivar 2 (7%)")
def wine() -> tuple[np.ndarray, np.ndarray]:
    """Wine recognition: cultivars 0 and 1 are normal, 10 wines of cultivar 2 are anomalies."""
    from sklearn.datasets import load_wine

    X, target = load_wine(return_X_y=True)
    return rare_class(X, target == 2, 10)


@register_embedded(
    "digits", "sklearn load_digits (8x8 as 64 features): digits 1-9 normal, 50 zeros (3%)"
)
def digits() -> tuple[np.ndarray, np.ndarray]:
    """Handwritten digits flattened to 64 features: digits 1-9 normal, 50 zeros anomalies."""
    from sklearn.datasets import load_digits

    X, target = load_digits(return_X_y=True)
    return rare_class(X, target == 0, 50)


@register_embedded(
    "digits_images",
    "sklearn load_digits as 1797 8x8 images (0-16) with their 10 class labels (one-class protocol)",
    kind="image",
    labels="multiclass",
)
def digits_images() -> tuple[np.ndarray, np.ndarray]:
    """Handwritten digits as ``(1797, 8, 8)`` images and their digit labels 0-9."""
    from sklearn.datasets import load_digits

    digits = load_digits()
    return digits.images.astype(np.float64), digits.target.astype(np.int64)
