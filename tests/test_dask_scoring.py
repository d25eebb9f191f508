"""Scoring a dask array / DataFrame partition by partition gives the in-process scores."""

from __future__ import annotations

import numpy as np
import pandas as pd
import pytest

from anomalib_ae import AutoEncoderDetector

da = pytest.importorskip("dask.array", reason='dask not installed: pip install ".[dask]"')
from anomalib_ae.dask import score_dask  # noqa: E402


@pytest.fixture(scope="module")
def fitted():
    X = np.random.default_rng(0).normal(size=(400, 5))
    det = AutoEncoderDetector(hidden_dims=(8,), latent_dim=2, max_epochs=2, random_state=0)
    return det.fit(X), X


@pytest.mark.parametrize("method", ["score_samples", "decision_function", "predict"])
def test_dask_array_scores_match_for_any_chunking(fitted, method):
    det, X = fitted
    expected = getattr(det, method)(X)
    for chunks in ((400, 5), (33, 5), (101, 2)):
        got = score_dask(det, da.from_array(X, chunks=chunks), method).compute()
        np.testing.assert_array_equal(got, expected)


def test_dask_dataframe_partitions(fitted):
    dd = pytest.importorskip("dask.dataframe")
    det, X = fitted
    frame = dd.from_pandas(pd.DataFrame(X, columns=list("abcde")), npartitions=3)
    det_df = AutoEncoderDetector(hidden_dims=(8,), latent_dim=2, max_epochs=2, random_state=0)
    det_df.fit(pd.DataFrame(X, columns=list("abcde")))
    got = score_dask(det_df, frame).compute()
    assert isinstance(got, pd.Series) and got.index.equals(pd.RangeIndex(400))
    np.testing.assert_array_equal(got.to_numpy(), det_df.score_samples(frame.compute()))


def test_bad_input_is_refused(fitted):
    det, X = fitted
    with pytest.raises(TypeError, match="dask array or dask DataFrame"):
        score_dask(det, X)
    with pytest.raises(ValueError, match="method"):
        score_dask(det, da.from_array(X), "fit")
    with pytest.raises(ValueError, match="2-D"):
        score_dask(det, da.from_array(X[:, 0]))


@pytest.mark.parametrize(
    "processes",
    [False, pytest.param(True, marks=pytest.mark.slow)],  # worker processes each import torch
)
def test_local_cluster_scores_match(fitted, processes):
    distributed = pytest.importorskip("distributed", reason="dask.distributed not installed")
    det, X = fitted
    cluster = distributed.LocalCluster(
        n_workers=2, threads_per_worker=1, processes=processes, dashboard_address=None
    )
    with cluster:
        with distributed.Client(cluster):
            got = score_dask(det, da.from_array(X, chunks=(90, 5))).compute()
    np.testing.assert_array_equal(got, det.score_samples(X))
