"""Shared fixtures: small fast settings for every registered detector, and real data."""

from __future__ import annotations

import os
from pathlib import Path

import numpy as np
import pytest
from sklearn.datasets import load_breast_cancer

from anomalib_ae import get_detector, list_detectors

# Small, fast settings applied to every detector that accepts them.
FAST_PARAMS = {
    "max_epochs": 3,
    "batch_size": 32,
    "hidden_dims": (8,),
    "latent_dim": 2,
    "random_state": 0,
}

# The plain mean squared reconstruction error, for tests of its arithmetic: no
# per-feature error scaling, no code-neighbour term, no trimmed training.
PLAIN_MSE = {"error_scaling": "none", "code_neighbors": 0, "trim_fraction": 0.0}


def fast_detector(name: str, **overrides):
    """A registered detector with the fast settings it accepts, plus ``overrides``.

    An override of a ``FAST_PARAMS`` setting (e.g. ``random_state``,
    ``batch_size``) is, like the fast settings, applied only to detectors that
    have it (a closed-form detector has no seed or batches); any other
    override must be a parameter of the detector.
    """
    det = get_detector(name)
    accepted = det.get_params(deep=False)
    if "detector_params" in accepted:  # a meta-detector: fast members, two of them
        fast_members = {k: v for k, v in FAST_PARAMS.items() if k != "random_state"}
        overrides = {"detector_params": fast_members, "n_estimators": 2, **overrides}
    params = {k: v for k, v in FAST_PARAMS.items() if k in accepted}
    params.update({k: v for k, v in overrides.items() if k in accepted or k not in FAST_PARAMS})
    return det.set_params(**params)


def data_dir() -> Path | None:
    """The shared real-data directory from ``AEOD_DATA_DIR``, if it exists."""
    value = os.environ.get("AEOD_DATA_DIR")
    return Path(value) if value and Path(value).is_dir() else None


def require_data(relative: str) -> Path:
    """Path of a real data file, or skip the test saying why it is missing."""
    root = data_dir()
    if root is None:
        pytest.skip("AEOD_DATA_DIR is not set to an existing directory (real data absent)")
    path = root / relative
    if not path.exists():
        pytest.skip(f"{path} is not present in AEOD_DATA_DIR")
    return path


@pytest.fixture(params=list_detectors())
def detector_name(request) -> str:
    return request.param


@pytest.fixture(scope="session")
def breast_cancer_5pct() -> tuple[np.ndarray, np.ndarray]:
    """Breast cancer data, malignant cases downsampled to about 5% as anomalies (y=1)."""
    X, target = load_breast_cancer(return_X_y=True)
    y = (target == 0).astype(int)
    rng = np.random.default_rng(0)
    normal = np.flatnonzero(y == 0)
    anomalies = rng.choice(np.flatnonzero(y == 1), size=19, replace=False)
    idx = np.sort(np.r_[normal, anomalies])
    return X[idx], y[idx]
