"""Sparse input: densified one batch at a time, the same scores as the dense rows."""

from __future__ import annotations

import subprocess
import sys
import textwrap
from pathlib import Path

import numpy as np
import pandas as pd
import pytest
import scipy.sparse as sp
from sklearn.compose import ColumnTransformer
from sklearn.pipeline import make_pipeline
from sklearn.preprocessing import OneHotEncoder, StandardScaler

from anomalib_ae import CooksDistanceDetector, list_detectors
from anomalib_ae.scoring import outputs
from tests.conftest import fast_detector

NEURAL = [name for name in list_detectors() if name != "cooks_distance"]
FORMATS = [sp.csr_matrix, sp.csc_matrix, sp.csr_array, sp.csc_array]


def _rows(n: int = 120, d: int = 6, seed: int = 0) -> np.ndarray:
    rng = np.random.default_rng(seed)
    X = rng.normal(size=(n, d)) * 3 + 1
    X[rng.random(X.shape) < 0.6] = 0.0  # mostly zeros, as one-hot and count data are
    return X


@pytest.mark.parametrize("name", NEURAL)
@pytest.mark.parametrize("to_sparse", FORMATS, ids=lambda f: f.__name__)
def test_sparse_rows_score_like_their_dense_rows(name, to_sparse):
    X = _rows()
    dense = fast_detector(name).fit(X)
    sparse = fast_detector(name).fit(to_sparse(X))
    expected = dense.score_samples(X)
    np.testing.assert_allclose(sparse.score_samples(to_sparse(X)), expected, rtol=1e-6)
    np.testing.assert_allclose(sparse.score_samples(X), expected, rtol=1e-6)  # dense after sparse
    assert sparse.offset_ == pytest.approx(dense.offset_, rel=1e-6)
    np.testing.assert_array_equal(sparse.predict(to_sparse(X)), dense.predict(X))


def test_sparse_with_calibration_and_early_stopping_splits():
    X = _rows(n=200)
    params = dict(calibration=0.2, early_stopping=True, validation_fraction=0.2)
    dense = fast_detector("autoencoder", **params).fit(X)
    sparse = fast_detector("autoencoder", **params).fit(sp.csr_matrix(X))
    np.testing.assert_allclose(sparse.p_values(sp.csr_matrix(X)), dense.p_values(X), rtol=1e-6)


def test_one_hot_column_transformer_hands_the_detector_sparse_rows():
    rng = np.random.default_rng(0)
    df = pd.DataFrame(
        {"city": rng.choice(list("abcdefgh"), 300), "amount": rng.normal(size=300)}
    )
    pre = ColumnTransformer(
        [("onehot", OneHotEncoder(), ["city"]), ("num", StandardScaler(), ["amount"])],
        sparse_threshold=1.0,
    )
    assert sp.issparse(pre.fit_transform(df))  # the detector really receives sparse rows
    pipe = make_pipeline(pre, fast_detector("autoencoder")).fit(df)
    scores = pipe.score_samples(df)
    assert scores.shape == (300,) and np.isfinite(scores).all()


def test_cooks_distance_refuses_sparse_rows_clearly():
    with pytest.raises(TypeError, match="dense data is required"):
        CooksDistanceDetector().fit(sp.csr_matrix(_rows()))


def test_a_stored_nan_is_named_by_column():
    X = sp.csr_matrix(_rows())
    X.data[X.indices == 2] = np.nan
    with pytest.raises(ValueError, match=r"NaN \(\d+ value\(s\) in column\(s\) \[2\]\)"):
        fast_detector("autoencoder").fit(X)


def test_wide_statistics_are_fitted_on_a_bounded_seeded_sample(monkeypatch):
    """Per-feature error medians and Gaussians read at most the bounded sample of rows."""
    monkeypatch.setattr(outputs, "STATISTICS_MIN_ROWS", 50)
    monkeypatch.setattr(outputs, "STATISTICS_VALUES", 1)
    X = _rows(n=200)
    read: list[int] = []
    collect = outputs.collect

    def counting(detector, rows, *args, **kwargs):
        read.append(len(rows))
        return collect(detector, rows, *args, **kwargs)

    monkeypatch.setattr(outputs, "collect", counting)
    first = fast_detector("autoencoder_ensemble").fit(X)
    assert 50 in read  # the statistics' sample; the scores still cover all 200 rows
    again = fast_detector("autoencoder_ensemble").fit(X)
    np.testing.assert_array_equal(first.score_samples(X), again.score_samples(X))


@pytest.mark.slow  # a million training rows: about a minute
def test_a_million_sparse_rows_fit_without_densifying():
    """1M x 2,000 at 0.1% density: 8 GB as dense float32, 24 MB sparse.

    The detector must stay within 1.5 GiB above the process's size after the
    imports (measured as the peak resident set), so no step densifies the matrix, nor
    a sizeable part of it. The code-neighbour term is off: its exact search over a
    million training codes is the subject of the scale work, not of sparse input.
    """
    script = textwrap.dedent(
        """
        import resource
        import numpy as np, scipy.sparse as sp
        from anomalib_ae import AutoEncoderDetector

        n, d, per_row = 1_000_000, 2_000, 2
        rng = np.random.default_rng(0)
        values = rng.normal(size=n * per_row).astype(np.float32)
        columns = rng.integers(0, d, n * per_row)
        X = sp.csr_matrix((values, columns, np.arange(0, n * per_row + 1, per_row)), (n, d))
        det = AutoEncoderDetector(max_epochs=1, code_neighbors=0, batch_size=1024)
        base = resource.getrusage(resource.RUSAGE_SELF).ru_maxrss
        scores = det.fit(X).score_samples(X[:100_000])
        assert np.isfinite(scores).all()
        print((resource.getrusage(resource.RUSAGE_SELF).ru_maxrss - base) / 2**20)
        """
    )
    root = Path(__file__).resolve().parents[1]
    done = subprocess.run(
        [sys.executable, "-c", script], cwd=root, capture_output=True, text=True, timeout=1200
    )
    assert done.returncode == 0, done.stderr[-3000:]
    grown_gib = float(done.stdout.strip().splitlines()[-1])
    assert grown_gib < 1.5, f"peak memory grew by {grown_gib:.2f} GiB"
