"""Run benchmark jobs on a dask.distributed cluster (the optional ``anomalib_ae[dask]`` extra).

The jobs go through joblib, as on one machine, with joblib's ``dask``
backend: a suite spreads over every worker of a running scheduler
(``scheduler="tcp://host:8786"``) or of a :class:`distributed.LocalCluster`
started for the run (``scheduler=None``, ``n_workers`` processes). Each job
returns its row to this process, which alone writes the CSV, so resuming and
error rows work as with the local backend.

On a worker that may start processes (non-daemonic, as in the local cluster
started here), each job runs in its own child process, so ``timeout`` and
crashes become error rows exactly as locally. On daemonic workers (dask's
default for ``dask worker``) the job runs in the worker process itself:
failures still become error rows, but ``timeout`` cannot be enforced there.
"""

from __future__ import annotations

import contextlib
import multiprocessing as mp
from collections.abc import Iterator

from joblib import Parallel, delayed, parallel_config

from anomalib_ae.bench.jobs import Job, error_row, run_job

INSTALL_HINT = 'the dask backend needs dask.distributed: pip install "anomalib_ae[dask]"'


def _distributed():
    try:
        import distributed
    except ImportError as exc:
        raise ImportError(INSTALL_HINT) from exc
    return distributed


@contextlib.contextmanager
def dask_client(scheduler: str | None = None, n_workers: int = 1) -> Iterator[object]:
    """A ``distributed.Client`` of ``scheduler``, or of a local cluster of ``n_workers`` processes.

    Parameters
    ----------
    scheduler : str or None, default=None
        Address of a running dask scheduler; ``None`` starts a
        ``LocalCluster`` (one thread per worker) for the duration of the block.
    n_workers : int, default=1
        Worker processes of the local cluster.
    """
    distributed = _distributed()
    if scheduler:
        with distributed.Client(scheduler) as client:
            yield client
        return
    import dask

    # Non-daemonic workers may start a child process per job (timeouts, crash isolation).
    with dask.config.set({"distributed.worker.daemon": False}):
        with (
            distributed.LocalCluster(
                n_workers=n_workers, threads_per_worker=1, processes=True, dashboard_address=None
            ) as cluster,
            distributed.Client(cluster) as client,
        ):
            yield client


def run_on_worker(job: Job, timeout: float | None, threads: int) -> dict:
    """Run one job on a dask worker and return its row (failures become error rows)."""
    from anomalib_ae.bench.runner import _limit_threads, run_isolated

    if not mp.current_process().daemon:
        return run_isolated(job, timeout, threads)
    _limit_threads(threads)
    try:
        return run_job(job)
    except BaseException as exc:  # a job's failure is its row, never the run's
        return error_row(job, f"{type(exc).__name__}: {exc}")


def run_on_dask(
    todo: list[Job],
    *,
    scheduler: str | None = None,
    n_workers: int = 1,
    timeout: float | None = None,
    threads: int = 1,
) -> Iterator[dict]:
    """Rows of ``todo`` as they finish on the cluster (see :func:`dask_client`)."""
    if not todo:
        return
    with dask_client(scheduler, n_workers), parallel_config(backend="dask"):
        parallel = Parallel(return_as="generator_unordered")
        yield from parallel(delayed(run_on_worker)(job, timeout, threads) for job in todo)
