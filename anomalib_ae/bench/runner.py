"""Run a grid of jobs: skip finished ones, isolate each job, append rows as they finish.

Every job runs in its own child process, started from a ``forkserver`` that has
imported the heavy libraries once (so starting a job is cheap). That makes a
job's failure its own: an exception, a crash of the interpreter or a job past
``timeout`` seconds (the child is killed) becomes an error row and the run
goes on. The parent process alone writes the CSV, one atomic line per job
(:class:`~anomalib_ae.bench.store.ResultStore`), so Ctrl-C or SIGKILL loses
at most the jobs still running, and re-running the same grid skips every job
that has a row.

``n_jobs`` jobs run at once (joblib threads, each waiting on one child
process); each child limits torch to ``threads_per_job`` threads (1 by
default) so parallel jobs do not fight over cores.
"""

from __future__ import annotations

import multiprocessing as mp
import os
import signal
from collections.abc import Callable, Iterable, Iterator

from joblib import Parallel, delayed

from anomalib_ae.bench.jobs import Job, error_row, run_job
from anomalib_ae.bench.store import ResultStore

WARMUP_ENV = "AEOD_WARMUP"
# Imported once by the forkserver, so each job process starts with them loaded; the
# modules of the grid's detectors are added to these (see ``_context``).
_PRELOAD = ["anomalib_ae.bench.jobs", "sklearn.datasets"]


def _context(targets: Iterable[str] = (), warm: Iterable[str] = ()) -> mp.context.BaseContext:
    """The forkserver context, preloading the modules of ``targets`` ("module:Class").

    ``warm`` names PyOD baselines whose numba kernels the server compiles once
    (:mod:`anomalib_ae.bench._warmup`). Preloading takes effect when the
    forkserver starts (the first isolated job of this process), so the first
    grid run in a process decides what is preloaded; later jobs import what
    else they need themselves.
    """
    ctx = mp.get_context("forkserver")
    modules = sorted({t.split(":")[0] for t in targets})
    warm = sorted(n for n in warm if n.startswith("pyod_"))
    if warm:
        os.environ[WARMUP_ENV] = ",".join(warm)
        modules.append("anomalib_ae.bench._warmup")
    ctx.set_forkserver_preload(_PRELOAD + modules)
    return ctx


def _limit_threads(threads: int) -> None:
    for var in ("OMP_NUM_THREADS", "MKL_NUM_THREADS", "OPENBLAS_NUM_THREADS"):
        os.environ[var] = str(threads)
    try:
        from threadpoolctl import threadpool_limits

        threadpool_limits(threads)
    except Exception:  # threadpoolctl is optional
        pass
    try:
        import torch

        torch.set_num_threads(threads)
    except ImportError:
        pass


def _child(conn, job: Job, threads: int) -> None:
    # Ctrl-C is the parent's to handle: it stops the run and writes nothing for this job,
    # which a re-run then computes (an interrupted job must not look finished).
    signal.signal(signal.SIGINT, signal.SIG_IGN)
    _limit_threads(threads)
    try:
        row = run_job(job)
    except BaseException as exc:  # even SystemExit from a detector: report, don't vanish
        row = error_row(job, f"{type(exc).__name__}: {exc}")
    conn.send(row)
    conn.close()


def run_isolated(job: Job, timeout: float | None = None, threads: int = 1) -> dict:
    """Run ``job`` in a child process; kill it after ``timeout`` seconds (error row)."""
    ctx = mp.get_context("forkserver")
    receiver, sender = ctx.Pipe(duplex=False)
    process = ctx.Process(target=_child, args=(sender, job, threads), daemon=True)
    process.start()
    sender.close()
    try:
        if receiver.poll(timeout):
            try:
                return receiver.recv()
            except EOFError:
                pass  # the child died before sending its row
        else:
            process.kill()
            return error_row(
                job, f"TimeoutError: job exceeded the {timeout:g} s timeout and was killed."
            )
        process.join()
        return error_row(job, f"the job's process died (exit code {process.exitcode}).")
    finally:
        receiver.close()
        process.join(5)
        if process.is_alive():
            process.kill()


def pending(jobs: Iterable[Job], store: ResultStore) -> list[Job]:
    """The jobs without a row in ``store`` (duplicates in ``jobs`` removed)."""
    done = store.done_keys()
    out, seen = [], set()
    for job in jobs:
        if job.key not in done and job.key not in seen:
            out.append(job)
            seen.add(job.key)
    return out


def run_jobs(
    jobs: Iterable[Job],
    store: ResultStore,
    *,
    n_jobs: int = 1,
    timeout: float | None = None,
    threads_per_job: int = 1,
    isolate: bool = True,
    on_row: Callable[[dict], None] | None = None,
    backend: str = "local",
    scheduler: str | None = None,
) -> list[dict]:
    """Run the jobs of ``jobs`` that ``store`` has no row for; return the new rows.

    Parameters
    ----------
    jobs : iterable of Job
    store : ResultStore
        Rows are appended here as each job finishes.
    n_jobs : int, default=1
        Jobs run at the same time.
    timeout : float or None, default=None
        Seconds a job may run before it is killed and recorded as an error.
    threads_per_job : int, default=1
        torch/BLAS threads of each job.
    isolate : bool, default=True
        Run each job in a child process. ``False`` runs them one after the
        other in this process (for debugging; ``timeout`` needs isolation).
    on_row : callable, optional
        Called with each new row (e.g. to advance a progress bar).
    backend : {"local", "dask"}, default="local"
        ``"dask"`` runs the jobs on a dask.distributed cluster through joblib's
        dask backend (:mod:`anomalib_ae.bench.distributed`; the ``dask`` extra).
    scheduler : str or None, default=None
        With ``backend="dask"``: a scheduler address, or ``None`` for a local
        cluster of ``n_jobs`` worker processes.
    """
    if timeout is not None and timeout <= 0:
        raise ValueError(f"timeout must be positive seconds, got {timeout}.")
    if n_jobs < 1:
        raise ValueError(f"n_jobs must be at least 1, got {n_jobs}.")
    if not isolate and (timeout is not None or n_jobs > 1):
        raise ValueError("timeout and n_jobs > 1 need isolate=True.")
    if backend not in ("local", "dask"):
        raise ValueError(f"backend must be 'local' or 'dask', got {backend!r}.")
    store.repair()
    todo = pending(jobs, store)
    if isolate and todo:
        _context(
            targets={job.detector.target for job in todo},
            warm={job.detector.label for job in todo},
        )
    rows: list[dict] = []
    if backend == "dask":
        from anomalib_ae.bench.distributed import run_on_dask

        results = run_on_dask(
            todo, scheduler=scheduler, n_workers=n_jobs, timeout=timeout, threads=threads_per_job
        )
    else:
        results = _execute(todo, n_jobs, timeout, threads_per_job, isolate)
    for row in results:
        store.append(row)
        rows.append(row)
        if on_row is not None:
            on_row(row)
    return rows


def _execute(
    todo: list[Job], n_jobs: int, timeout: float | None, threads: int, isolate: bool
) -> Iterator[dict]:
    if not todo:
        return
    if not isolate:
        _limit_threads(threads)
        yield from (run_job(job) for job in todo)
        return
    if n_jobs == 1:
        yield from (run_isolated(job, timeout, threads) for job in todo)
        return
    parallel = Parallel(n_jobs=n_jobs, backend="threading", return_as="generator_unordered")
    yield from parallel(delayed(run_isolated)(job, timeout, threads) for job in todo)
