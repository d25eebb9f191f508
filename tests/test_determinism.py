"""Same ``random_state``, same data: bit-identical scores across refits, global seeds and processes."""

from __future__ import annotations

import hashlib
import json
import os
import subprocess
import sys
from pathlib import Path

import numpy as np
import pytest
import torch

from anomalib_ae import list_detectors
from tests.conftest import fast_detector

ROOT = Path(__file__).resolve().parents[1]


def _data():
    return np.random.default_rng(42).normal(size=(90, 5))


def score_hashes() -> dict[str, str]:
    """SHA-256 of each registered detector's scores (fast settings, ``random_state=0``)."""
    X = _data()
    out = {}
    for name in list_detectors():
        scores = fast_detector(name, random_state=0).fit(X).score_samples(X)
        out[name] = hashlib.sha256(np.ascontiguousarray(scores).tobytes()).hexdigest()
    return out


def test_identical_scores_in_a_fresh_process():
    threads = torch.get_num_threads()
    code = (
        f"import json, torch; torch.set_num_threads({threads}); "
        "from tests.test_determinism import score_hashes; print(json.dumps(score_hashes()))"
    )
    env = {**os.environ, "PYTHONPATH": str(ROOT) + os.pathsep + os.environ.get("PYTHONPATH", "")}
    result = subprocess.run(
        [sys.executable, "-c", code], cwd=ROOT, env=env, capture_output=True, text=True, timeout=600
    )
    assert result.returncode == 0, result.stderr[-2000:]
    other = json.loads(result.stdout.strip().splitlines()[-1])
    assert other == score_hashes()


def test_global_random_state_neither_matters_nor_changes(detector_name):
    X = _data()
    torch.manual_seed(1)
    np.random.seed(1)  # noqa: NPY002 - the legacy global RNG is what we test
    first = fast_detector(detector_name, random_state=5).fit(X).score_samples(X)
    torch.manual_seed(2)
    np.random.seed(2)  # noqa: NPY002
    torch_state, np_state = torch.get_rng_state(), np.random.get_state()  # noqa: NPY002
    second = fast_detector(detector_name, random_state=5).fit(X).score_samples(X)
    np.testing.assert_array_equal(first, second)
    assert torch.equal(torch.get_rng_state(), torch_state), "fit moved the global torch RNG"
    np_after = np.random.get_state()  # noqa: NPY002
    assert np.array_equal(np_after[1], np_state[1]), "fit moved numpy's global RNG"


def test_different_random_states_give_different_nets(detector_name):
    X = _data()
    a = fast_detector(detector_name, random_state=0).fit(X).score_samples(X)
    b = fast_detector(detector_name, random_state=1).fit(X).score_samples(X)
    if detector_name == "cooks_distance":  # closed form: its seed only splits off calibration rows
        np.testing.assert_array_equal(a, b)
    else:
        assert not np.array_equal(a, b)


@pytest.mark.slow  # starts worker processes: about a minute on 2 cores
def test_benchmark_rows_do_not_depend_on_n_jobs(tmp_path):
    from anomalib_ae.bench.datasets import select
    from anomalib_ae.bench.detectors import resolve
    from anomalib_ae.bench.jobs import Job
    from anomalib_ae.bench.runner import run_jobs
    from anomalib_ae.bench.store import ResultStore

    infos, _ = select(["wine"], "/nonexistent")
    spec = resolve("autoencoder", {"max_epochs": 2, "hidden_dims": (8,), "latent_dim": 2})
    jobs = [Job(info, spec, seed) for info in infos for seed in (0, 1, 2)]
    metrics = ("auroc", "auprc", "f1_at_k", "precision_at_k")

    def run(n_jobs: int) -> dict:
        rows = run_jobs(jobs, ResultStore(tmp_path / f"n{n_jobs}.csv"), n_jobs=n_jobs)
        assert all(r["status"] == "ok" for r in rows), rows
        return {r["key"]: tuple(r[m] for m in metrics) for r in rows}

    serial, parallel = run(1), run(2)
    assert len(serial) == 3 and serial == parallel
