"""The harness on a dask.distributed LocalCluster gives the rows of the serial run."""

from __future__ import annotations

import pytest

from anomalib_ae.bench.datasets import select
from anomalib_ae.bench.detectors import resolve
from anomalib_ae.bench.jobs import Job
from anomalib_ae.bench.metrics import METRICS
from anomalib_ae.bench.runner import run_jobs
from anomalib_ae.bench.store import ResultStore

# What defines a row; timings and dates differ from run to run.
SAME = ("key", "dataset", "detector", "protocol", "seed", "status", "n_train", "n_test", *METRICS)


def _suite() -> list[Job]:
    infos, _ = select(["wine"], "/nonexistent")  # embedded: no data directory needed
    specs = [
        resolve("autoencoder", {"max_epochs": 2, "hidden_dims": [8], "latent_dim": 2}),
        resolve("sklearn_iforest", {}),
    ]
    return [Job(info, spec, seed) for info in infos for spec in specs for seed in (0, 1)]


def _rows(rows: list[dict]) -> dict:
    return {r["key"]: {k: r.get(k) for k in SAME} for r in rows}


@pytest.mark.slow  # a 2-worker LocalCluster, each worker and its job process importing torch
def test_local_cluster_gives_the_serial_rows(tmp_path):
    pytest.importorskip("distributed", reason='dask backend not installed: pip install ".[dask]"')
    jobs = _suite()
    serial = run_jobs(jobs, ResultStore(tmp_path / "serial.csv"), isolate=False)
    on_dask = run_jobs(jobs, ResultStore(tmp_path / "dask.csv"), n_jobs=2, backend="dask")
    assert len(serial) == len(on_dask) == 4
    assert {r["status"] for r in on_dask} == {"ok"}
    assert _rows(on_dask) == _rows(serial)
    # the parent wrote every row, and a re-run on dask finds nothing left to do
    assert len(ResultStore(tmp_path / "dask.csv").read()) == 4
    assert run_jobs(jobs, ResultStore(tmp_path / "dask.csv"), backend="dask") == []


def test_unknown_backend_is_a_clear_error(tmp_path):
    with pytest.raises(ValueError, match="backend must be 'local' or 'dask'"):
        run_jobs(_suite(), ResultStore(tmp_path / "r.csv"), backend="spark")
