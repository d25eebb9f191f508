"""AUROC of our AE, denoising AE and VAE next to PyOD's AutoEncoder and VAE on ADBench splits.

Protocol (``anomalib_ae.bench.protocols.adbench_split``): ADBench ``.npz`` files
from ``$AEOD_DATA_DIR/adbench/Classical``; subsample to 10,000 rows if larger
(stratified); stratified 70/30 train/test split; min-max scaling fitted on the
train part; every detector is fitted on the (contaminated) train part without
labels and ranks the test part; AUROC on the test part. Seeds 0, 1, 2 give three
splits per dataset; each detector gets the run seed as ``random_state``.

All detectors use their defaults (PyOD's only with ``verbose=0``). Anomaly
scores: ours ``-score_samples``, PyOD's ``decision_function`` (both higher =
more anomalous).

Usage::

    AEOD_DATA_DIR=/work/shared/datasets python benchmarks/dae_vae_vs_pyod.py \
        [--datasets 6_cardio 38_thyroid] [--seeds 0 1 2] [--out report.md]

Prints a Markdown table of AUROC mean +- std over seeds (and mean fit time);
``--out`` also writes it, with the command, versions, machine and date, to a file.
"""

from __future__ import annotations

import argparse
import datetime
import os
import platform
import sys
import time
import warnings
from collections.abc import Callable
from pathlib import Path

import numpy as np
import torch
from sklearn.metrics import roc_auc_score

from anomalib_ae import AutoEncoderDetector, DenoisingAutoEncoderDetector, VAEDetector
from anomalib_ae.bench.protocols import adbench_split


def _ours(cls: type) -> Callable[[int], tuple[Callable, Callable]]:
    def make(seed: int):
        det = cls(random_state=seed)
        return det.fit, lambda X: -det.score_samples(X)

    return make


def _pyod(name: str) -> Callable[[int], tuple[Callable, Callable]]:
    def make(seed: int):
        if name == "AutoEncoder":
            from pyod.models.auto_encoder import AutoEncoder as cls
        else:
            from pyod.models.vae import VAE as cls
        det = cls(random_state=seed, verbose=0)
        return det.fit, det.decision_function

    return make


DETECTORS: dict[str, Callable[[int], tuple[Callable, Callable]]] = {
    "AutoEncoderDetector": _ours(AutoEncoderDetector),
    "DenoisingAutoEncoderDetector": _ours(DenoisingAutoEncoderDetector),
    "VAEDetector": _ours(VAEDetector),
    "PyOD AutoEncoder": _pyod("AutoEncoder"),
    "PyOD VAE": _pyod("VAE"),
}


def run(root: Path, datasets: list[str], seeds: list[int]) -> dict:
    """AUROC and fit seconds of every detector: ``{(dataset, detector): [(auroc, secs), ...]}``."""
    results: dict[tuple[str, str], list[tuple[float, float]]] = {}
    for dataset in datasets:
        data = np.load(root / "adbench" / "Classical" / f"{dataset}.npz", allow_pickle=False)
        for seed in seeds:
            split = adbench_split(data["X"], data["y"], seed, dataset=dataset)
            for name, make in DETECTORS.items():
                fit, anomaly_scores = make(seed)
                start = time.perf_counter()
                with warnings.catch_warnings():
                    warnings.simplefilter("ignore")
                    fit(split.X_train)
                secs = time.perf_counter() - start
                auroc = roc_auc_score(split.y_test, anomaly_scores(split.X_test))
                results.setdefault((dataset, name), []).append((float(auroc), secs))
                print(
                    f"{dataset} seed={seed} {name}: AUROC {auroc:.4f} ({secs:.1f}s)",
                    file=sys.stderr,
                )
    return results


def table(results: dict, datasets: list[str]) -> str:
    """Markdown table: one row per detector, one AUROC column per dataset, mean fit time."""
    names = list(DETECTORS)
    lines = [
        "| detector | " + " | ".join(datasets) + " | mean fit s |",
        "|---|" + "---|" * len(datasets) + "---|",
    ]
    for name in names:
        cells, secs = [], []
        for dataset in datasets:
            runs = results[(dataset, name)]
            aurocs = np.array([a for a, _ in runs])
            secs += [s for _, s in runs]
            cells.append(f"{aurocs.mean():.4f} ± {aurocs.std(ddof=0):.4f}")
        lines.append(f"| {name} | " + " | ".join(cells) + f" | {np.mean(secs):.1f} |")
    return "\n".join(lines)


def _cpu_name() -> str:
    try:
        for line in Path("/proc/cpuinfo").read_text().splitlines():
            if line.startswith("model name"):
                return line.split(":", 1)[1].strip()
    except OSError:
        pass
    return platform.processor() or platform.machine()


def header(args: argparse.Namespace) -> str:
    import pyod
    import pytorch_lightning
    import sklearn

    return "\n".join(
        [
            "# Denoising AE and VAE vs PyOD (ADBench split, test AUROC)",
            "",
            f"- command: `AEOD_DATA_DIR={os.environ.get('AEOD_DATA_DIR', '')} python "
            + " ".join(["benchmarks/dae_vae_vs_pyod.py", *sys.argv[1:]])
            + "`",
            f"- date: {datetime.datetime.now(datetime.timezone.utc):%Y-%m-%d %H:%M} UTC",
            f"- machine: {_cpu_name()}, {os.cpu_count()}-core CPU, "
            f"torch threads={torch.get_num_threads()} (fit times are wall-clock seconds on a "
            "machine that may be shared: indicative only)",
            f"- versions: python {platform.python_version()}, torch {torch.__version__}, "
            f"pytorch-lightning {pytorch_lightning.__version__}, scikit-learn {sklearn.__version__}, "
            f"pyod {pyod.__version__}",
            f"- seeds: {', '.join(map(str, args.seeds))}; AUROC mean ± std (population) over seeds; "
            "all detectors at their defaults, `random_state` = seed",
            "- protocol: `anomalib_ae.bench.protocols.adbench_split` (subsample to 10k, "
            "stratified 70/30, min-max fitted on train, unlabelled fit on train, AUROC on test)",
            "",
            "",
        ]
    )


def main(argv: list[str] | None = None) -> None:
    parser = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    parser.add_argument("--datasets", nargs="+", default=["6_cardio", "38_thyroid"])
    parser.add_argument("--seeds", nargs="+", type=int, default=[0, 1, 2])
    parser.add_argument("--out", type=Path, help="also write the report to this Markdown file")
    args = parser.parse_args(argv)
    root = os.environ.get("AEOD_DATA_DIR")
    if not root or not Path(root).is_dir():
        sys.exit("Set AEOD_DATA_DIR to the directory that holds adbench/Classical/*.npz.")
    torch.set_num_threads(1)
    results = run(Path(root), args.datasets, args.seeds)
    report = header(args) + table(results, args.datasets) + "\n"
    print(report)
    if args.out is not None:
        args.out.write_text(report, encoding="utf-8")


if __name__ == "__main__":
    main()
