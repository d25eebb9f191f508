"""The ``aeod`` command line: parses options and calls the library."""

from __future__ import annotations

import click

from anomalib_ae._version import __version__


@click.group()
@click.version_option(__version__, prog_name="aeod")
def main() -> None:
    """anomalib_ae: autoencoder anomaly detectors and their benchmark."""


@main.command()
@click.option("--seed", default=0, show_default=True, help="Random seed.")
def bench(seed: int) -> None:
    """Fit the AutoEncoderDetector on embedded breast-cancer data and print its AUROC."""
    import numpy as np
    from sklearn.datasets import load_breast_cancer
    from sklearn.metrics import roc_auc_score

    from anomalib_ae import AutoEncoderDetector

    X, target = load_breast_cancer(return_X_y=True)
    y = (target == 0).astype(int)
    rng = np.random.default_rng(seed)
    keep = np.sort(np.r_[np.flatnonzero(y == 0), rng.choice(np.flatnonzero(y == 1), 19, False)])
    X, y = X[keep], y[keep]
    det = AutoEncoderDetector(max_epochs=10, random_state=seed).fit(X)
    auroc = roc_auc_score(y, det.anomaly_score(X))
    click.echo(f"breast_cancer_5pct  AutoEncoderDetector  AUROC={auroc:.3f}")
