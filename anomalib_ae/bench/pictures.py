"""Pictures of an image suite: reconstructions, error maps and the VAE's latent space.

Written by ``aeod bench`` for every image dataset of a suite (see
:mod:`anomalib_ae.plotting.images`), into ``<output>/pictures/``, and listed
by the report. They need fitted detectors, so this module fits two small
ones per dataset on the seed-0 one-class split (cheap next to the benchmark):

- a conv :class:`~anomalib_ae.AutoEncoderDetector` trained on the normal
  class, whose most and least anomalous test images are shown;
- a conv :class:`~anomalib_ae.VAEDetector` with a 2-D code trained on (up to
  2,000) train-part images of every class: latent scatter, traversal and
  interpolation.
"""

from __future__ import annotations

from pathlib import Path

import numpy as np

from anomalib_ae.bench.datasets import DatasetInfo, load
from anomalib_ae.bench.protocols import derive_seed

PICTURES = "pictures"


def write_image_pictures(
    output: str | Path,
    dataset: DatasetInfo,
    *,
    normal_class: int | None = None,
    ae_params: dict | None = None,
    vae_epochs: int = 20,
) -> list[Path]:
    """Fit the two picture detectors on ``dataset`` and write its four PNGs; return their paths."""
    import torch

    from anomalib_ae import AutoEncoderDetector, VAEDetector
    from anomalib_ae.plotting.images import (
        plot_interpolation,
        plot_latent_scatter,
        plot_latent_traversal,
        plot_reconstructions,
    )

    folder = Path(output) / PICTURES
    X, y = load(dataset)
    c = np.unique(y)[0] if normal_class is None else normal_class
    X_train, X_test, y_train, y_test = _seed0_split(X, y, dataset.name)
    seed = derive_seed(dataset.name, 0) % 2**31
    rng = np.random.default_rng(seed)
    paths = []
    with torch.random.fork_rng(devices=[]):
        ae = AutoEncoderDetector(random_state=seed, **(ae_params or {}))
        ae.fit(X_train[y_train == c])
        path = folder / f"{dataset.name}_class{c}_reconstructions.png"
        plot_reconstructions(ae, X_test, n=8, path=path)
        paths.append(path)

        keep = rng.permutation(len(X_train))[:2000]
        vae = VAEDetector(latent_dim=2, max_epochs=vae_epochs, random_state=seed)
        vae.fit(X_train[keep])
        shown = rng.permutation(len(X_test))[:2000]
        path = folder / f"{dataset.name}_latent_scatter.png"
        plot_latent_scatter(vae, X_test[shown], y_test[shown], path=path)
        paths.append(path)
        first = X_test[0]
        other = X_test[np.flatnonzero(y_test != y_test[0])[0]]
        path = folder / f"{dataset.name}_traversal.png"
        plot_latent_traversal(vae, first, values=np.linspace(-2.5, 2.5, 9), path=path)
        paths.append(path)
        path = folder / f"{dataset.name}_interpolation.png"
        plot_interpolation(vae, first, other, steps=8, path=path)
        paths.append(path)
    return paths


def _seed0_split(X: np.ndarray, y: np.ndarray, name: str):
    """The seed-0 stratified 70/30 split of all images (as ``one_class``), scaled into [0, 1]."""
    from sklearn.model_selection import train_test_split

    train_idx, test_idx = train_test_split(
        np.arange(len(X)), test_size=0.3, stratify=y, random_state=derive_seed(name, 0)
    )
    train_idx, test_idx = np.sort(train_idx), np.sort(test_idx)
    train = np.asarray(X[train_idx], dtype=np.float64)
    lo, hi = float(train.min()), float(train.max())
    scale = hi - lo if hi > lo else 1.0
    test = (np.asarray(X[test_idx], dtype=np.float64) - lo) / scale
    return (train - lo) / scale, test, y[train_idx], y[test_idx]
