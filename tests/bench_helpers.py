"""Detectors that misbehave on purpose, named by import path in the benchmark tests."""

from __future__ import annotations

import time
import warnings

import numpy as np
from sklearn.base import BaseEstimator, OutlierMixin


class _Simple(OutlierMixin, BaseEstimator):
    """Distance to the training mean (higher score_samples = more normal)."""

    def __init__(self, delay: float = 0.0, random_state=None):
        self.delay = delay
        self.random_state = random_state

    def fit(self, X, y=None):
        time.sleep(self.delay)
        self.mean_ = np.asarray(X).mean(0)
        return self

    def score_samples(self, X):
        return -np.linalg.norm(np.asarray(X) - self.mean_, axis=1)


class SleepyDetector(_Simple):
    """Works, after sleeping ``delay`` seconds in ``fit``."""


class FailingDetector(_Simple):
    def fit(self, X, y=None):
        raise RuntimeError("this detector always fails")


class HangingDetector(_Simple):
    def fit(self, X, y=None):
        time.sleep(3600)
        return self


class InfiniteDetector(_Simple):
    """Gives +inf anomaly scores to the rows farthest from the mean (like PyOD's PCA)."""

    def score_samples(self, X):
        s = super().score_samples(X)
        s[s < np.quantile(s, 0.1)] = -np.inf
        return s


class DeprecatedDetector(_Simple):
    """Works, with a deprecation warning in ``fit`` (as third-party libraries often give)."""

    def fit(self, X, y=None):
        warnings.warn("this option is deprecated", DeprecationWarning, stacklevel=2)
        return super().fit(X, y)
