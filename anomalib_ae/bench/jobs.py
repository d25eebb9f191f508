"""A benchmark job: (dataset, detector, params, seed, protocol) -> one result row.

:func:`run_job` never raises for a failing detector or dataset: the failure
becomes the row's ``status="error"`` with the error text, so a run goes on.

Row fields (:data:`ROW_FIELDS`)
-------------------------------
``key``
    A hash of everything that defines the job (dataset name, detector label,
    import target and parameters, seed, protocol and its options); a re-run
    skips a job whose key is already in the results.
``auroc``, ``auprc``, ``f1_at_k``, ``precision_at_k``
    See :mod:`anomalib_ae.bench.metrics`.
``fit_seconds``, ``score_seconds``
    Wall time of ``fit`` on the train part and of scoring the test part.
``peak_memory_mb``
    Growth of the job process's peak resident set size (``ru_maxrss``) during
    fit + score, in MiB: the memory the detector needed beyond the loaded
    split. Jobs run in their own process (see :mod:`~anomalib_ae.bench.runner`),
    so this is per job; run in-process it is only a lower bound (0 when an
    earlier job already touched that much memory).
``status``
    ``ok``; ``warning`` (metrics computed, see ``error`` for the note, e.g.
    infinite scores, or a PyOD batch size lowered to the training-set size);
    ``error`` (no metrics; ``error`` holds the reason, including timeouts and
    crashed processes).
"""

from __future__ import annotations

import hashlib
import json
import resource
import sys
import time
import traceback
import warnings
from dataclasses import dataclass, field
from datetime import datetime, timezone

import numpy as np

from anomalib_ae.bench.datasets import DatasetInfo, load
from anomalib_ae.bench.detectors import Adapter, DetectorSpec
from anomalib_ae.bench.metrics import METRICS, compute_metrics, sanitize_scores
from anomalib_ae.bench.protocols import derive_seed, get_protocol

ROW_FIELDS = (
    "key",
    "dataset",
    "detector",
    "protocol",
    "seed",
    *METRICS,
    "fit_seconds",
    "score_seconds",
    "peak_memory_mb",
    "n_train",
    "n_test",
    "n_features",
    "contamination",
    "status",
    "error",
    "params",
    "finished_at",
)


@dataclass(frozen=True)
class Job:
    """One cell of the benchmark grid."""

    dataset: DatasetInfo
    detector: DetectorSpec
    seed: int
    protocol: str = "adbench"
    protocol_options: dict = field(default_factory=dict)

    @property
    def params_json(self) -> str:
        return json.dumps(self.detector.params, sort_keys=True, default=repr)

    @property
    def key(self) -> str:
        """A stable hash of what defines the job (not of where the data file lives)."""
        payload = json.dumps(
            [
                self.dataset.name,
                self.detector.label,
                self.detector.target,
                self.params_json,
                int(self.seed),
                self.protocol,
                json.dumps(self.protocol_options, sort_keys=True, default=repr),
            ]
        )
        return hashlib.sha1(payload.encode()).hexdigest()[:16]

    @property
    def dataset_label(self) -> str:
        """The row's dataset: the name, plus ``/<class>`` for a one-class job (``mnist_t10k/3``)."""
        if "normal_class" in self.protocol_options:
            return f"{self.dataset.name}/{self.protocol_options['normal_class']}"
        return self.dataset.name

    def describe(self) -> str:
        return f"{self.dataset_label} / {self.detector.label} / seed {self.seed}"


def _peak_rss_mb() -> float:
    peak = resource.getrusage(resource.RUSAGE_SELF).ru_maxrss
    return peak / 2**20 if sys.platform == "darwin" else peak / 2**10


def one_line(exc: BaseException) -> str:
    """``Type: message`` on one line, with the innermost frame, for an error row."""
    frames = traceback.extract_tb(exc.__traceback__)
    where = f" (at {frames[-1].filename.rsplit('/', 1)[-1]}:{frames[-1].lineno})" if frames else ""
    text = f"{type(exc).__name__}: {exc}{where}"
    return " ".join(text.split())[:1000]


def base_row(job: Job) -> dict:
    """The identifying fields of a job's row, metrics empty."""
    row = dict.fromkeys(ROW_FIELDS, "")
    row.update(
        key=job.key,
        dataset=job.dataset_label,
        detector=job.detector.label,
        protocol=job.protocol,
        seed=int(job.seed),
        params=job.params_json,
    )
    return row


def error_row(job: Job, message: str) -> dict:
    """The row of a job that produced no metrics."""
    row = base_row(job)
    row.update(status="error", error=message, finished_at=_now())
    return row


def _now() -> str:
    return datetime.now(timezone.utc).isoformat(timespec="seconds")


def own_warnings(caught: list[warnings.WarningMessage]) -> list[str]:
    """The distinct warnings of anomalib_ae's own categories, each as ``Category: message``.

    A job records these in its row (status ``warning``), as they say the fit is
    degenerate (e.g. :class:`~anomalib_ae.detectors.CollinearityWarning`); the
    libraries' other warnings (deprecations, Lightning's hints) stay out.

    Examples
    --------
    >>> import warnings
    >>> from anomalib_ae.detectors import CollinearityWarning
    >>> with warnings.catch_warnings(record=True) as caught:
    ...     warnings.simplefilter("always")
    ...     warnings.warn("x is constant", CollinearityWarning)
    ...     warnings.warn("deprecated", DeprecationWarning)
    >>> own_warnings(caught)
    ['CollinearityWarning: x is constant']
    """
    texts = [
        f"{w.category.__name__}: {' '.join(str(w.message).split())}"[:300]
        for w in caught
        if w.category.__module__.startswith("anomalib_ae")
    ]
    return list(dict.fromkeys(texts))


def run_job(job: Job) -> dict:
    """Run one job in this process and return its row (errors become error rows)."""
    row = base_row(job)
    stage = "loading dataset"
    try:
        X, y = load(job.dataset)
        stage = "splitting"
        split = get_protocol(job.protocol)(
            X, y, job.seed, dataset=job.dataset.name, **job.protocol_options
        )
        row.update(
            n_train=len(split.X_train),
            n_test=len(split.X_test),
            n_features=int(np.prod(split.X_train.shape[1:])),
            contamination=round(split.contamination, 6),
        )
        stage = "building detector"
        detector = Adapter(job.detector, seed=derive_seed(job.dataset.name, job.seed) % 2**31)
        rss0 = _peak_rss_mb()
        stage = "fit"
        with warnings.catch_warnings(record=True) as caught:
            warnings.simplefilter("default")  # each distinct warning once
            start = time.perf_counter()
            detector.fit(split.X_train)
            row["fit_seconds"] = time.perf_counter() - start
            stage = "scoring"
            start = time.perf_counter()
            scores = detector.anomaly_scores(split.X_test)
            row["score_seconds"] = time.perf_counter() - start
        row["peak_memory_mb"] = round(max(_peak_rss_mb() - rss0, 0.0), 3)
        stage = "metrics"
        if len(scores) != len(split.y_test):
            raise ValueError(f"got {len(scores)} scores for {len(split.y_test)} test rows.")
        scores, note = sanitize_scores(scores)
        row.update(compute_metrics(split.y_test, scores))
        notes = "; ".join(n for n in [note, *detector.notes, *own_warnings(caught)] if n)
        row.update(status="warning" if notes else "ok", error=notes)
    except Exception as exc:
        row.update(status="error", error=f"{stage}: {one_line(exc)}")
    row["finished_at"] = _now()
    return row
