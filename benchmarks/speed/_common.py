"""Shared helpers of the speed scripts: one thread, a header, interleaved timing, data."""

from __future__ import annotations

import os
import platform
import statistics
import subprocess
import sys
import time
from collections.abc import Callable
from datetime import datetime, timezone
from pathlib import Path

import numpy as np
import torch

torch.set_num_threads(1)  # both sides of every comparison run on one thread


def header(title: str) -> None:
    """Print the title, the date, the machine, the versions and the current load."""
    import pytorch_lightning
    import sklearn

    print(f"# {title}")
    print(f"date: {datetime.now(timezone.utc):%Y-%m-%d %H:%M UTC}")
    cpu = platform.processor() or platform.machine()
    try:
        for line in Path("/proc/cpuinfo").read_text().splitlines():
            if line.startswith("model name"):
                cpu = line.split(":", 1)[1].strip()
                break
    except OSError:
        pass
    print(
        f"machine: {cpu}, {os.cpu_count()} logical CPUs, {platform.system()} {platform.release()}"
    )
    print(
        f"versions: python {platform.python_version()}, torch {torch.__version__}, "
        f"pytorch-lightning {pytorch_lightning.__version__}, numpy {np.__version__}, "
        f"scikit-learn {sklearn.__version__}"
    )
    print(f"torch threads: {torch.get_num_threads()}")
    print(f"load: {load()}")
    sys.stdout.flush()


def load() -> str:
    """The 1, 5 and 15 minute load averages (other users share the machine)."""
    try:
        return subprocess.run(["uptime"], capture_output=True, text=True).stdout.strip()
    except OSError:
        return " ".join(f"{x:.2f}" for x in os.getloadavg())


def clock() -> tuple[float, float]:
    """Wall-clock and process CPU seconds."""
    return time.perf_counter(), time.process_time()


def interleaved(
    funcs: dict[str, Callable[[], object]], repeats: int, warmup: int = 1
) -> dict[str, dict[str, list[float]]]:
    """Run the functions in turn (A B C A B C ...) ``repeats`` times after ``warmup`` rounds.

    Returns ``{name: {"wall": [...], "cpu": [...]}}``; interleaving spreads the
    machine's drift over all of them, and ratios are taken round by round.
    """
    times: dict[str, dict[str, list[float]]] = {k: {"wall": [], "cpu": []} for k in funcs}
    for r in range(warmup + repeats):
        for name, func in funcs.items():
            w0, c0 = clock()
            func()
            w1, c1 = clock()
            if r >= warmup:
                times[name]["wall"].append(w1 - w0)
                times[name]["cpu"].append(c1 - c0)
    return times


def median(values: list[float]) -> float:
    return statistics.median(values)


def ratio(times: dict, a: str, b: str, kind: str = "wall") -> float:
    """Median over rounds of the per-round ratio ``a / b``."""
    return median([x / y for x, y in zip(times[a][kind], times[b][kind])])


def adbench_train(name: str) -> np.ndarray:
    """The 70 % train part of an ADBench dataset, as the harness's ADBench protocol makes it."""
    from anomalib_ae.bench.loaders import read_npz
    from anomalib_ae.bench.protocols import adbench_split

    root = os.environ.get("AEOD_DATA_DIR")
    if not root:
        sys.exit("Set AEOD_DATA_DIR to the shared datasets folder (with adbench/Classical/).")
    path = Path(root) / "adbench" / "Classical" / f"{name}.npz"
    X, y = read_npz(path)
    return adbench_split(X, y, seed=0, dataset=name).X_train
