"""Pictures of image detectors: reconstructions, error maps, VAE latent traversals and scatters.

Every function takes a fitted detector (fitted on images, or on flattened
images with ``image_shape``), draws on a new matplotlib ``Figure`` (not
registered with pyplot, so it works in notebooks and headless alike), saves
it as PNG when ``path`` is given, and returns the figure.
"""

from __future__ import annotations

from pathlib import Path
from typing import TYPE_CHECKING, Any

import numpy as np
import torch
from sklearn.utils.validation import check_is_fitted

if TYPE_CHECKING:
    from matplotlib.figure import Figure


def _figure(width: float, height: float) -> Figure:
    from matplotlib.figure import Figure

    return Figure(figsize=(width, height), layout="constrained")


def _save(fig: Figure, path: str | Path | None) -> Figure:
    if path is not None:
        Path(path).parent.mkdir(parents=True, exist_ok=True)
        fig.savefig(path, dpi=110)
    return fig


def _image_shape(detector: Any) -> tuple[int, int, int]:
    check_is_fitted(detector)
    shape = getattr(detector, "image_shape_", None)
    if shape is None:
        raise ValueError(
            f"{type(detector).__name__} was fitted on table rows, not images; fit it on "
            "images (n, H, W) or pass image_shape= to draw pictures."
        )
    return tuple(int(s) for s in shape)


def _as_image(row: np.ndarray, shape: tuple[int, int, int]) -> np.ndarray:
    image = np.asarray(row, dtype=np.float64).reshape(shape)
    return image[0] if shape[0] == 1 else np.moveaxis(image, 0, -1)


def _show(ax, image: np.ndarray, cmap: str = "gray", vmin=None, vmax=None) -> None:
    if image.ndim == 3:  # colour: rescale into [0, 1] for imshow
        lo, hi = image.min(), image.max()
        image = (image - lo) / (hi - lo) if hi > lo else image * 0
    ax.imshow(image, cmap=cmap, vmin=vmin, vmax=vmax, interpolation="nearest")
    ax.set_xticks([])
    ax.set_yticks([])


def reconstruct(detector: Any, X: Any) -> np.ndarray:
    """Reconstructions of ``X`` in its original units, flattened ``(n, C*H*W)``.

    For a VAE, the decoded posterior mean.

    Examples
    --------
    >>> import numpy as np
    >>> from anomalib_ae import AutoEncoderDetector
    >>> X = np.random.default_rng(0).random((40, 6, 6))
    >>> det = AutoEncoderDetector(channels=(4,), max_epochs=2, random_state=0).fit(X)
    >>> reconstruct(det, X[:3]).shape
    (3, 36)
    """
    check_is_fitted(detector)
    rows = detector._validate(X, reset=False)
    scaler = detector.scaler_
    with torch.inference_mode():
        out = detector.net_(torch.from_numpy(scaler.transform(rows))).double().numpy()
    return out * scaler.scale_ + scaler.shift_


def plot_reconstructions(
    detector: Any, X: Any, *, n: int = 6, path: str | Path | None = None
) -> Figure:
    """Inputs, reconstructions and error maps of the ``n`` most and ``n`` least anomalous images.

    Parameters
    ----------
    detector : fitted AutoEncoderDetector, DenoisingAutoEncoderDetector or VAEDetector
    X : array-like of shape (n_images, H, W), (n_images, C, H, W) or flattened rows
        Images to rank by anomaly score (``-score_samples``).
    n : int, default=6
        Images per group.
    path : str, path or None, default=None
        Where to save the PNG.

    Returns
    -------
    matplotlib.figure.Figure
        Six rows (input / reconstruction / error for the most anomalous, then
        for the least anomalous), ``n`` columns, each titled with its score.

    Examples
    --------
    >>> import numpy as np
    >>> from anomalib_ae import AutoEncoderDetector
    >>> X = np.random.default_rng(0).random((40, 6, 6))
    >>> det = AutoEncoderDetector(channels=(4,), latent_dim=2, max_epochs=1, random_state=0).fit(X)
    >>> len(plot_reconstructions(det, X, n=3).axes)
    18
    """
    shape = _image_shape(detector)
    rows = detector._validate(X, reset=False)
    scores = -detector.score_samples(rows)
    order = np.argsort(scores)
    n = int(min(n, len(rows) // 2 if len(rows) > 1 else 1))
    groups = (("most anomalous", order[::-1][:n]), ("least anomalous", order[:n]))
    fig = _figure(1.3 * n + 1.2, 8.0)
    axes = fig.subplots(6, n, squeeze=False)
    for g, (label, idx) in enumerate(groups):
        recon = reconstruct(detector, rows[idx])
        errors = detector.feature_scores(rows[idx])
        vmax = float(errors.max()) if errors.size else None
        for j, i in enumerate(idx):
            _show(axes[3 * g, j], _as_image(rows[i], shape))
            axes[3 * g, j].set_title(f"{scores[i]:.3g}", fontsize=8)
            _show(axes[3 * g + 1, j], _as_image(recon[j], shape))
            err = _as_image(errors[j], shape)
            _show(axes[3 * g + 2, j], err if err.ndim == 2 else err.mean(-1), "magma", 0, vmax)
        for r, name in enumerate(("input", "reconstruction", "error")):
            axes[3 * g + r, 0].set_ylabel(f"{label}\n{name}" if r == 0 else name, fontsize=8)
    fig.suptitle(f"{type(detector).__name__}: inputs, reconstructions and squared errors")
    return _save(fig, path)


def _check_vae(detector: Any) -> None:
    if not hasattr(detector, "traverse"):
        raise TypeError(f"a VAEDetector is needed, got {type(detector).__name__}.")


def plot_latent_traversal(
    vae: Any,
    x: Any,
    *,
    dims: Any = None,
    values: Any = None,
    path: str | Path | None = None,
) -> Figure:
    """Decode a row's code with one latent dimension varied at a time (rows: dims, columns: values).

    Parameters
    ----------
    vae : fitted VAEDetector
    x : array-like, one image ``(H, W)`` / ``(C, H, W)`` or one flattened row
        The starting image; its posterior mean is the code that is varied.
    dims : sequence of int or None, default=None
        Latent dimensions (rows); ``None``: all, at most 10.
    values : sequence of float or None, default=None
        Values given to each dimension (columns); ``None``: 7 values in [-3, 3].
    path : str, path or None, default=None
        Where to save the PNG.

    Returns
    -------
    matplotlib.figure.Figure

    Examples
    --------
    >>> import numpy as np
    >>> from anomalib_ae import VAEDetector
    >>> X = np.random.default_rng(0).random((40, 6, 6))
    >>> vae = VAEDetector(channels=(4,), latent_dim=2, max_epochs=1, random_state=0).fit(X)
    >>> len(plot_latent_traversal(vae, X[0], values=[-1.0, 0.0, 1.0]).axes)
    6
    """
    _check_vae(vae)
    shape = _image_shape(vae)
    row = np.asarray(x, dtype=np.float64).reshape(1, -1)
    dims = list(range(min(vae._n_features_out, 10))) if dims is None else list(dims)
    values = np.linspace(-3.0, 3.0, 7) if values is None else np.asarray(values, dtype=float)
    fig = _figure(1.1 * len(values) + 1.0, 1.1 * len(dims) + 0.8)
    axes = fig.subplots(len(dims), len(values), squeeze=False)
    for r, dim in enumerate(dims):
        images = vae.traverse(row, dim, values)
        for c, image in enumerate(images):
            _show(axes[r, c], _as_image(image, shape))
            if r == 0:
                axes[r, c].set_title(f"{values[c]:.2g}", fontsize=8)
        axes[r, 0].set_ylabel(f"z{dim}", fontsize=8)
    fig.suptitle("VAE latent traversal (one dimension varied per row)")
    return _save(fig, path)


def plot_interpolation(
    vae: Any, x_a: Any, x_b: Any, *, steps: int = 8, path: str | Path | None = None
) -> Figure:
    """A strip of images decoded along the line between the codes of two images.

    Parameters
    ----------
    vae : fitted VAEDetector
    x_a, x_b : array-like, one image or one flattened row each
        The two end images (shown at both ends of the strip, as given).
    steps : int, default=8
        Decoded points, ends included.
    path : str, path or None, default=None
        Where to save the PNG.

    Returns
    -------
    matplotlib.figure.Figure

    Examples
    --------
    >>> import numpy as np
    >>> from anomalib_ae import VAEDetector
    >>> X = np.random.default_rng(0).random((40, 6, 6))
    >>> vae = VAEDetector(channels=(4,), latent_dim=2, max_epochs=1, random_state=0).fit(X)
    >>> len(plot_interpolation(vae, X[0], X[1], steps=4).axes)
    6
    """
    _check_vae(vae)
    shape = _image_shape(vae)
    a = np.asarray(x_a, dtype=np.float64).reshape(1, -1)
    b = np.asarray(x_b, dtype=np.float64).reshape(1, -1)
    images = vae.interpolate(a, b, steps=steps)
    fig = _figure(1.1 * (steps + 2), 1.6)
    axes = fig.subplots(1, steps + 2, squeeze=False)[0]
    for ax, image, title in zip(
        axes, [a[0], *images, b[0]], ["A", *[""] * steps, "B"], strict=True
    ):
        _show(ax, _as_image(image, shape))
        ax.set_title(title, fontsize=8)
    fig.suptitle("VAE interpolation between the codes of A and B")
    return _save(fig, path)


def plot_latent_scatter(
    detector: Any, X: Any, labels: Any, *, path: str | Path | None = None
) -> Figure:
    """Latent codes (``transform``) of ``X`` in 2-D, coloured by label.

    Codes wider than 2 are projected on their first two principal components.

    Parameters
    ----------
    detector : fitted neural detector
    X : array-like of images or rows
    labels : array-like of shape (n_images,)
        Colour of each point (e.g. the digit).
    path : str, path or None, default=None
        Where to save the PNG.

    Returns
    -------
    matplotlib.figure.Figure

    Examples
    --------
    >>> import numpy as np
    >>> from anomalib_ae import AutoEncoderDetector
    >>> X = np.random.default_rng(0).random((40, 6, 6))
    >>> det = AutoEncoderDetector(channels=(4,), latent_dim=2, max_epochs=1, random_state=0).fit(X)
    >>> plot_latent_scatter(det, X, labels=np.arange(40) % 2).axes[0].get_xlabel()
    'z0'
    """
    codes = detector.transform(X)
    labels = np.asarray(labels).ravel()
    if len(labels) != len(codes):
        raise ValueError(f"got {len(labels)} labels for {len(codes)} images.")
    axis_names = ("z0", "z1")
    if codes.shape[1] > 2:
        from sklearn.decomposition import PCA

        codes = PCA(n_components=2).fit_transform(codes)
        axis_names = ("PC1 of z", "PC2 of z")
    elif codes.shape[1] == 1:
        codes = np.c_[codes, np.zeros(len(codes))]
    fig = _figure(6.0, 5.0)
    ax = fig.add_subplot()
    for value in np.unique(labels):
        mask = labels == value
        ax.scatter(codes[mask, 0], codes[mask, 1], s=6, alpha=0.7, label=str(value))
    ax.set_xlabel(axis_names[0])
    ax.set_ylabel(axis_names[1])
    ax.legend(markerscale=3, fontsize=8, title="label", loc="best")
    ax.set_title(f"{type(detector).__name__}: latent codes by label")
    return _save(fig, path)
