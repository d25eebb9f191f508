"""Latent codes of every neural detector: ``transform`` and ``get_feature_names_out``."""

from __future__ import annotations

import numpy as np
import pandas as pd
import pytest
from sklearn.exceptions import NotFittedError
from sklearn.pipeline import make_pipeline
from sklearn.preprocessing import StandardScaler

from anomalib_ae import get_detector
from tests.conftest import fast_detector


def _data(n=60, d=5, seed=0):
    return np.random.default_rng(seed).normal(size=(n, d))


@pytest.fixture
def neural_name(detector_name):
    if not hasattr(get_detector(detector_name), "transform"):
        pytest.skip(f"{detector_name} has no latent codes")
    return detector_name


def test_transform_shape_dtype_and_names(neural_name):
    X = _data()
    det = fast_detector(neural_name, latent_dim=3).fit(X)
    codes = det.transform(X)
    # latent_dim wide for one net; an ensemble may concatenate its members' codes; a
    # density model without a code (made, pixelcnn) gives one value per feature (its surprise).
    width = X.shape[1] if neural_name in ("made", "pixelcnn") else 3
    assert codes.shape[0] == len(X) and codes.shape[1] % width == 0
    assert codes.dtype == np.float64
    names = [f"latent{i}" for i in range(codes.shape[1])]
    assert list(det.get_feature_names_out()) == names
    np.testing.assert_array_equal(det.transform(X), codes)
    parts = np.vstack([det.transform(X[:11]), det.transform(X[11:])])
    np.testing.assert_allclose(parts, codes, rtol=1e-5, atol=1e-6)  # float32 nets


def test_transform_before_fit_raises(neural_name):
    with pytest.raises(NotFittedError):
        fast_detector(neural_name).transform(_data())


def test_transform_in_pipeline_with_pandas_output(neural_name):
    X = pd.DataFrame(_data(), columns=[f"f{i}" for i in range(5)])
    pipe = make_pipeline(StandardScaler(), fast_detector(neural_name, latent_dim=2))
    out = pipe.set_output(transform="pandas").fit_transform(X)
    names = list(pipe[-1].get_feature_names_out())
    assert list(out.columns) == names and out.shape == (len(X), len(names))
    assert names[:2] == ["latent0", "latent1"]
    np.testing.assert_array_equal(out.to_numpy(), pipe.transform(X).to_numpy())
