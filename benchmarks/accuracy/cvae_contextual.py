"""Contextual anomalies: ConditionalVAEDetector against the context-blind VAE and autoencoder.

The data of ``tests/test_cvae.py``: a context column ``c`` (binary, ``{0, 1}``, or continuous,
``U(-2, 2)``), target columns that depend on it (binary: ``N(+-2, 0.3)``; continuous:
``(2 sin 1.5c, c^2 - 1.3)`` + ``N(0, 0.1)``) and ``--noise`` pure-noise target columns; 1,000
training rows, 1,000 normal and 50 anomalous test rows, whose targets are those of another
context (binary: the other one; continuous: ``c -+ 2``). Every detector at its library defaults
on all the columns (the CVAE told ``condition=0``). Prints one AUROC line per data set and seed.

    PYTHONPATH=. python benchmarks/accuracy/cvae_contextual.py --noise 3 --seeds 5
    PYTHONPATH=. python benchmarks/accuracy/cvae_contextual.py --noise 3 --score-type elbo
"""

from __future__ import annotations

import argparse
import sys
from pathlib import Path

import numpy as np
from sklearn.metrics import roc_auc_score

sys.path.insert(0, str(Path(__file__).resolve().parents[2]))

from anomalib_ae import AutoEncoderDetector, ConditionalVAEDetector, VAEDetector  # noqa: E402
from tests.test_cvae import _context_pairs  # noqa: E402


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--noise", type=int, default=3, help="pure-noise target columns")
    parser.add_argument("--seeds", type=int, default=5)
    parser.add_argument("--score-type", default="calibrated_elbo", help="the CVAE's score_type")
    args = parser.parse_args()
    means: dict[str, list[float]] = {}
    for kind in ("binary", "continuous"):
        for seed in range(args.seeds):
            X_train, X_test, y = _context_pairs(kind, seed, n_noise=args.noise)
            detectors = {
                "cvae": ConditionalVAEDetector(
                    condition=0, score_type=args.score_type, random_state=seed
                ),
                "vae": VAEDetector(random_state=seed),
                "ae": AutoEncoderDetector(random_state=seed),
            }
            line = []
            for name, det in detectors.items():
                auroc = roc_auc_score(y, det.fit(X_train).anomaly_score(X_test))
                means.setdefault(f"{kind} {name}", []).append(auroc)
                line.append(f"{name} {auroc:.3f}")
            print(f"{kind:10s} seed {seed}: " + ", ".join(line), flush=True)
    for key, values in means.items():
        print(f"mean {key}: {np.mean(values):.3f} (min {np.min(values):.3f})")


if __name__ == "__main__":
    main()
