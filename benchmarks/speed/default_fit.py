"""Issue 20: fit time of the default detector against PyOD's AutoEncoder at its defaults, per group.

The target: the detector the README tells a newcomer to use, at its defaults,
fits in at most 2x the time of PyOD's ``AutoEncoder()`` (``verbose=0``,
otherwise its defaults) on the same data. The default detector is
``AutoEncoderEnsembleDetector()`` for tables and ``AutoEncoderDetector()``
for images (README, "Which to start with"). Groups, from ``$AEOD_DATA_DIR``:

- ``classical``: the ADBench classical sets, the train part of the
  ``adbench`` suite's split (seed 0; at most 10,000 rows, min-max scaled);
- ``resnet18`` / ``vit``: the MVTec-AD embedding sets, the same split;
- ``mnist``: MNIST's one-class splits (seed 0, 70/30, global min-max
  scaling), one per digit; ours gets the ``(n, 28, 28)`` images (a conv
  net), PyOD the flattened pixels (an MLP), as in the ``images`` suite.

One torch thread on both sides; one warm-up fit of each before the first
timing; then, per data set, ``--repeats`` interleaved rounds (PyOD, ours).
Per group: the total fit seconds of each side and their ratio (what a user
fitting every set waits), and the median over sets of the per-set ratio.

Usage::

    AEOD_DATA_DIR=../shared/datasets python benchmarks/speed/default_fit.py \
        [--groups classical resnet18 vit mnist] [--repeats 1]
"""

from __future__ import annotations

import argparse
import os
import sys
from collections.abc import Callable

import numpy as np
from _common import header, interleaved, median
from _common import load as load_average

from anomalib_ae import AutoEncoderDetector, AutoEncoderEnsembleDetector
from anomalib_ae.bench.datasets import load, select
from anomalib_ae.bench.protocols import adbench_split, one_class_split

GROUPS = {
    "classical": "adbench/Classical/*",
    "resnet18": "adbench/CV_by_ResNet18/*",
    "vit": "adbench/CV_by_ViT/*",
    "mnist": "mnist*",
}


def splits(group: str, data_dir: str) -> list[tuple[str, np.ndarray]]:
    """``(name, training part)`` of every data set of ``group``, as the suites split them."""
    infos, _ = select([GROUPS[group]], data_dir)
    out = []
    for info in sorted(infos, key=lambda i: i.name):
        X, y = load(info)
        if group == "mnist":
            for digit in range(10):
                split = one_class_split(
                    X, y, 0, dataset=info.name, normal_class=digit, scaling="global"
                )
                out.append((f"{info.name}/{digit}", split.X_train))
        else:
            out.append((info.name, adbench_split(X, y, 0, dataset=info.name).X_train))
    return out


def ours(group: str) -> Callable[[], object]:
    """The default detector for the group's data (ensemble for tables, autoencoder for images)."""
    return AutoEncoderDetector if group == "mnist" else AutoEncoderEnsembleDetector


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--groups", nargs="+", choices=list(GROUPS), default=list(GROUPS))
    parser.add_argument("--repeats", type=int, default=1)
    parser.add_argument("--data-dir", default=os.environ.get("AEOD_DATA_DIR"))
    args = parser.parse_args()
    if not args.data_dir:
        sys.exit("Set AEOD_DATA_DIR (or --data-dir) to the shared datasets folder.")
    import pyod
    from pyod.models.auto_encoder import AutoEncoder

    header("default detector fit vs PyOD AutoEncoder() fit (target: ours / PyOD <= 2)")
    print(f"pyod {pyod.__version__}; repeats {args.repeats}, interleaved (PyOD, ours)\n")
    rows = []
    for group in args.groups:
        data = splits(group, args.data_dir)
        if not data:
            print(f"{group}: no data sets under {args.data_dir}; skipped\n")
            continue
        cls = ours(group)
        flat = data[0][1].reshape(len(data[0][1]), -1)
        AutoEncoder(verbose=0).fit(flat)  # warm-up: first-call costs (threads, kernels)
        cls(random_state=0).fit(data[0][1])
        print(f"## {group}: ours = {cls.__name__}()\n")
        print("| data set | rows x features | PyOD s | ours s | ours / PyOD |")
        print("|---|---|---|---|---|")
        totals = [0.0, 0.0]
        ratios = []
        for name, X in data:
            flat = X.reshape(len(X), -1)
            times = interleaved(
                {
                    "pyod": lambda: AutoEncoder(verbose=0).fit(flat),  # noqa: B023
                    "ours": lambda: cls(random_state=0).fit(X),  # noqa: B023
                },
                repeats=args.repeats,
                warmup=0,
            )
            p, o = median(times["pyod"]["wall"]), median(times["ours"]["wall"])
            totals[0] += p
            totals[1] += o
            ratios.append(o / p)
            print(
                f"| {name} | {flat.shape[0]} x {flat.shape[1]} | {p:.2f} | {o:.2f} | {o / p:.2f} |"
            )
            sys.stdout.flush()
        rows.append((group, len(data), *totals, totals[1] / totals[0], median(ratios)))
        print()
    print("| group | sets | PyOD total s | ours total s | total ratio | median per-set ratio |")
    print("|---|---|---|---|---|---|")
    for group, n, p, o, r, m in rows:
        print(f"| {group} | {n} | {p:.1f} | {o:.1f} | **{r:.2f}** | {m:.2f} |")
    print(f"\nload at the end: {load_average()}")


if __name__ == "__main__":
    main()
