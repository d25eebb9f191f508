"""The benchmark loses nothing: atomic rows, resume, error/timeout rows, bad dataset files.

Issue 11 ("Benchmark resilience"): SIGKILL mid-run then re-run completes the
grid without recomputing finished jobs and without duplicate or corrupt rows;
a raising or hanging detector becomes an error row; a corrupt or missing
dataset file is reported by name while the rest of the suite runs.
"""

from __future__ import annotations

import os
import signal
import subprocess
import sys
import time
from pathlib import Path

import numpy as np
import pytest

from anomalib_ae.bench.datasets import DatasetInfo, select
from anomalib_ae.bench.detectors import resolve
from anomalib_ae.bench.jobs import ROW_FIELDS, Job
from anomalib_ae.bench.runner import run_jobs
from anomalib_ae.bench.store import ResultStore

HELPERS = "tests.bench_helpers"
ROOT = Path(__file__).resolve().parents[1]


def _jobs(detector: str, seeds=(0, 1), datasets=("wine",), **params) -> list[Job]:
    infos, _ = select(list(datasets), "/nonexistent")
    spec = resolve(f"{HELPERS}:{detector}", params)
    return [Job(info, spec, seed) for info in infos for seed in seeds]


# ---- atomic rows and resume ----------------------------------------------------------------


def test_store_ignores_truncated_last_line_and_duplicates(tmp_path):
    store = ResultStore(tmp_path / "results.csv")
    store.append({"key": "a", "status": "ok", "auroc": 0.9})
    store.append({"key": "b", "status": "ok", "auroc": 0.8})
    store.append({"key": "a", "status": "ok", "auroc": 0.9})  # a duplicate row
    with open(store.path, "ab") as fh:  # a row cut short by a crash: no final newline
        fh.write(b"c,wine,autoenc")
    rows = store.read()
    assert [r["key"] for r in rows] == ["a", "b"]
    assert store.repair() == 2  # the cut-off line and the duplicate
    assert store.path.read_bytes().endswith(b"\n")
    assert [r["key"] for r in store.read()] == ["a", "b"]
    store.append({"key": "c", "status": "ok"})
    assert [r["key"] for r in store.read()] == ["a", "b", "c"]


def test_retry_errors_drops_only_the_error_rows_of_the_grid(tmp_path):
    store = ResultStore(tmp_path / "results.csv")
    for key, status in [("a", "error"), ("b", "error"), ("c", "ok")]:
        store.append({"key": key, "status": status})
    assert store.repair(drop_status={"error"}, keys={"a", "c"}) == 1
    assert [r["key"] for r in store.read()] == ["b", "c"]


def test_store_rows_are_single_lines(tmp_path):
    store = ResultStore(tmp_path / "results.csv")
    store.append({"key": "a", "status": "error", "error": 'multi\nline, "quoted"\ttext'})
    lines = store.path.read_text().splitlines()
    assert len(lines) == 2
    assert store.read()[0]["error"] == 'multi line, "quoted" text'


def test_store_refuses_a_file_with_other_columns(tmp_path):
    path = tmp_path / "results.csv"
    path.write_text("key,other\nx,1\n")
    with pytest.raises(ValueError, match="other columns"):
        ResultStore(path).append({"key": "a"})


def test_resume_after_interrupted_run_skips_finished_jobs(tmp_path):
    jobs = _jobs("SleepyDetector", seeds=(0, 1, 2, 3))
    store = ResultStore(tmp_path / "results.csv")
    first = run_jobs(jobs[:2], store, isolate=False)
    with open(store.path, "ab") as fh:  # the interrupted run was writing a third row
        fh.write(first[0]["key"][:5].encode() + b",wine,tests.bench")
    finished = {r["key"]: r["finished_at"] for r in store.read()}
    new = run_jobs(jobs, store, isolate=False)
    assert len(new) == 2  # only the two unfinished jobs ran
    rows = store.read()
    assert sorted(r["key"] for r in rows) == sorted(j.key for j in jobs)
    assert len(store.path.read_text().splitlines()) == 1 + len(jobs)
    for row in rows:  # finished rows are untouched
        if row["key"] in finished:
            assert row["finished_at"] == finished[row["key"]]
    assert run_jobs(jobs, store, isolate=False) == []  # nothing left to do


@pytest.mark.slow  # two real `aeod bench` processes: tens of seconds of interpreter start-up
def test_sigkill_mid_run_then_rerun_completes_without_duplicates(tmp_path):
    suite = tmp_path / "tiny.toml"
    suite.write_text(
        'datasets = ["wine", "breast_cancer"]\n'
        f'detectors = ["{HELPERS}:SleepyDetector"]\n'
        "seeds = [0, 1, 2, 3, 4, 5]\n"
        f'[params."{HELPERS}:SleepyDetector"]\ndelay = 0.3\n'
    )
    out = tmp_path / "out"
    cmd = [
        sys.executable,
        "-m",
        "anomalib_ae.cli",
        "bench",
        "--suite",
        str(suite),
        "--output",
        str(out),
    ]
    env = {**os.environ, "PYTHONPATH": str(ROOT)}
    proc = subprocess.Popen(
        cmd,
        cwd=ROOT,
        env=env,
        start_new_session=True,
        stdout=subprocess.DEVNULL,
        stderr=subprocess.DEVNULL,
    )
    csv_path = out / "results.csv"
    deadline = time.monotonic() + 120
    while time.monotonic() < deadline:
        if csv_path.exists() and len(csv_path.read_bytes().splitlines()) >= 4:
            break
        time.sleep(0.05)
    os.killpg(proc.pid, signal.SIGKILL)  # the runner, its forkserver and the running job
    proc.wait()
    before = {r["key"]: r["finished_at"] for r in ResultStore(csv_path).read()}
    assert 3 <= len(before) < 12, "the kill should land mid-run"

    done = subprocess.run(cmd, cwd=ROOT, env=env, capture_output=True, text=True, timeout=300)
    assert done.returncode == 0, done.stderr
    assert f"{len(before)} already done" in done.stderr
    lines = csv_path.read_text().splitlines()
    rows = ResultStore(csv_path).read()
    assert len(lines) == 1 + 12 and len(rows) == 12  # complete grid, no duplicates
    assert all(len(line.split(",")) >= len(ROW_FIELDS) for line in lines)
    assert {r["status"] for r in rows} == {"ok"}
    for row in rows:  # finished jobs were not recomputed
        if row["key"] in before:
            assert row["finished_at"] == before[row["key"]]
    assert (out / "report.md").exists()


# ---- failing jobs become rows -----------------------------------------------------------


def test_failing_detector_becomes_error_row_and_run_goes_on(tmp_path):
    store = ResultStore(tmp_path / "results.csv")
    rows = run_jobs(
        _jobs("FailingDetector", seeds=(0,)) + _jobs("SleepyDetector", seeds=(0,)),
        store,
        n_jobs=2,
    )
    by_detector = {r["detector"].rsplit(":", 1)[1]: r for r in rows}
    failed = by_detector["FailingDetector"]
    assert failed["status"] == "error"
    assert "fit: RuntimeError: this detector always fails" in failed["error"]
    assert failed["auroc"] == ""
    assert by_detector["SleepyDetector"]["status"] == "ok"
    assert len(store.read()) == 2


def test_hanging_detector_times_out_into_an_error_row(tmp_path):
    store = ResultStore(tmp_path / "results.csv")
    start = time.monotonic()
    rows = run_jobs(
        _jobs("HangingDetector", seeds=(0,)) + _jobs("SleepyDetector", seeds=(0,)),
        store,
        n_jobs=2,
        timeout=3,
    )
    assert time.monotonic() - start < 60
    by_detector = {r["detector"].rsplit(":", 1)[1]: r for r in rows}
    assert by_detector["HangingDetector"]["status"] == "error"
    assert "TimeoutError" in by_detector["HangingDetector"]["error"]
    assert by_detector["SleepyDetector"]["status"] == "ok"


def test_infinite_scores_are_a_visible_warning(tmp_path):
    (row,) = run_jobs(
        _jobs("InfiniteDetector", seeds=(0,)), ResultStore(tmp_path / "r.csv"), isolate=False
    )
    assert row["status"] == "warning"
    assert "infinite score(s)" in row["error"]
    assert 0.0 <= row["auroc"] <= 1.0


def test_a_degenerate_fit_is_a_visible_warning(tmp_path):
    # More columns than training rows: every column is fitted exactly by the others, so
    # Cook's distance is 0 for every row. The row says so instead of passing as a result.
    data = tmp_path / "data"
    data.mkdir()
    rng = np.random.default_rng(0)
    np.savez(data / "wide.npz", X=rng.normal(size=(40, 60)), y=(np.arange(40) < 6).astype(int))
    infos, _ = select(["wide"], data)
    job = Job(infos[0], resolve("cooks_distance"), 0)
    (row,) = run_jobs([job], ResultStore(tmp_path / "r.csv"), isolate=False)
    assert row["status"] == "warning"
    assert "CollinearityWarning: Near-singular design" in row["error"]
    assert "scores are equal (every row ranked alike)" in row["error"]
    assert row["auroc"] == 0.5


def test_library_warnings_outside_the_package_stay_out_of_the_row(tmp_path):
    (row,) = run_jobs(
        _jobs("DeprecatedDetector", seeds=(0,)), ResultStore(tmp_path / "r.csv"), isolate=False
    )
    assert row["status"] == "ok", row["error"]


# ---- bad dataset files ---------------------------------------------------------------------


def test_corrupt_and_missing_dataset_files_are_reported_by_name(tmp_path):
    data = tmp_path / "data"
    data.mkdir()
    rng = np.random.default_rng(0)
    np.savez(data / "good.npz", X=rng.normal(size=(100, 3)), y=(np.arange(100) < 10).astype(int))
    (data / "corrupt.npz").write_bytes(b"this is not a zip archive")
    infos, _ = select(["good", "corrupt"], data)
    missing = DatasetInfo("gone", "file", ".npz", str(data / "gone.npz"))
    spec = resolve(f"{HELPERS}:SleepyDetector")
    jobs = [Job(info, spec, 0) for info in [*infos, missing]]
    rows = {r["dataset"]: r for r in run_jobs(jobs, ResultStore(tmp_path / "r.csv"))}
    assert rows["good"]["status"] == "ok"
    assert rows["corrupt"]["status"] == "error"
    assert "corrupt.npz" in rows["corrupt"]["error"]
    assert rows["gone"]["status"] == "error"
    assert "gone.npz" in rows["gone"]["error"] and "not found" in rows["gone"]["error"]


def test_pyod_batch_larger_than_training_set_is_lowered_with_a_note(tmp_path):
    # PyOD drops incomplete batches: batch_size > training rows would train on nothing and crash.
    infos, _ = select(["wine"], "/nonexistent")
    spec = resolve("pyod_vae", {"epoch_num": 1, "batch_size": 500})
    (row,) = run_jobs([Job(infos[0], spec, 0)], ResultStore(tmp_path / "r.csv"), isolate=False)
    assert row["status"] == "warning"
    assert "batch_size lowered from 500 to the 98 training rows" in row["error"]
    assert 0.0 <= row["auroc"] <= 1.0
