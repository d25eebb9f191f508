"""Imported by the job forkserver: compile the baselines' numba kernels once.

PyOD's deep models and some of its scorers call numba functions that are
compiled (tens of seconds on a busy machine) the first time they run in a
process. Running each baseline once on a tiny table here, in the process that
every job process is forked from, does that compilation once per benchmark run
instead of once per job. Importing this module has that side effect only, for
the baselines named in the ``AEOD_WARMUP`` environment variable (comma-separated),
which the runner sets to the PyOD baselines of the grid before the forkserver starts.
"""

from __future__ import annotations

import os
import warnings

import numpy as np

from anomalib_ae.bench.runner import WARMUP_ENV


def warm_up(names: list[str]) -> None:
    """Fit and score the named baselines once on a tiny random table (errors ignored)."""
    from anomalib_ae.bench.detectors import BASELINES, Adapter, resolve

    X = np.random.default_rng(0).normal(size=(40, 3))
    small = {"pyod_autoencoder": {"epoch_num": 1}, "pyod_vae": {"epoch_num": 1}}
    with warnings.catch_warnings():
        warnings.simplefilter("ignore")
        for name in names:
            if name not in BASELINES:
                continue
            try:
                Adapter(resolve(name, small.get(name)), seed=0).fit(X).anomaly_scores(X)
            except Exception:  # a broken baseline fails in its own job, with its own message
                pass


warm_up([n for n in os.environ.get(WARMUP_ENV, "").split(",") if n])
