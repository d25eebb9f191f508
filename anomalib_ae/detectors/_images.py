"""Image input for the neural detectors: shapes, validation, scaling, conv-net settings.

A detector that mixes in :class:`ImageInputMixin` (and takes the parameters of
:data:`IMAGE_DEFAULTS`) accepts

- images ``(n, H, W)`` or ``(n, C, H, W)``;
- flattened rows ``(n, C*H*W)`` with ``image_shape=(H, W)`` or ``(C, H, W)``,
  so that it fits 2-D scikit-learn pipelines;
- plain tables ``(n, d)``, validated exactly as before (``validate_data``).

Inside, images are always flattened rows: the scaling, the DataModule and the
batched inference are those of tables, and the conv nets
(:mod:`anomalib_ae.nn.conv`) reshape each batch themselves.
"""

from __future__ import annotations

from typing import Any

import numpy as np
import pandas as pd
from sklearn.utils._param_validation import StrOptions

from anomalib_ae.detectors._scaling import InputScaler
from anomalib_ae.detectors._terms import CODE_SCORE_CONSTRAINTS, CODE_SCORE_DEFAULTS
from anomalib_ae.detectors._validation import validate_rows
from anomalib_ae.nn.conv import check_image_shape
from anomalib_ae.training.sparse import SparseRows

IMAGE_DEFAULTS: dict[str, Any] = {
    "max_epochs": "auto",  # 20 for tables; conv nets: at least IMAGE_STEPS steps
    "image_shape": None,
    "architecture": "auto",
    "channels": (32, 64),
    **CODE_SCORE_DEFAULTS,
}
"""The image parameters of the autoencoder, denoising autoencoder and VAE detectors."""

IMAGE_CONSTRAINTS: dict[str, list] = {
    "image_shape": ["array-like", None],
    "architecture": [StrOptions({"auto", "conv", "mlp"})],
    "channels": ["array-like"],
    **CODE_SCORE_CONSTRAINTS,
}


def _ndim(X: Any) -> int:
    if isinstance(X, pd.DataFrame):
        return 2
    return X.ndim if hasattr(X, "ndim") else np.asarray(X).ndim


def _flatten(X: Any) -> np.ndarray:
    """``(n, ...)`` -> ``(n, prod(...))`` (a view for contiguous arrays and memory maps)."""
    X = X if isinstance(X, np.ndarray) else np.asarray(X)
    return X.reshape(X.shape[0], int(np.prod(X.shape[1:])))


class ImageScaler(InputScaler):
    """One shift and one scale for every pixel (global standard or min-max scaling).

    Per-pixel scaling suits images badly: a border pixel that is almost always
    0 in training gets a tiny scale and blows up on any test image that inks
    it. Scaling all pixels alike keeps the images' contrast. ``shift_`` and
    ``scale_`` are stored per feature (all equal), like :class:`InputScaler`.

    Examples
    --------
    >>> s = ImageScaler("minmax").fit(np.array([[0.0, 2.0], [4.0, 1.0]]))
    >>> s.shift_.tolist(), s.scale_.tolist()
    ([0.0, 0.0], [4.0, 4.0])
    """

    def fit(self, X: np.ndarray) -> ImageScaler:
        """Learn one shift and scale from all values of ``X`` (rows of pixels)."""
        d = int(np.prod(X.shape[1:]))
        if isinstance(X, SparseRows):  # from the stored values, never densified
            mean, std, lo, hi = X.pooled_moments()
            shift, scale = {"standard": (mean, std), "minmax": (lo, hi - lo)}.get(
                self.kind, (0.0, 1.0)
            )
            scale = scale if scale > np.finfo(np.float64).eps * max(abs(shift), 1.0) else 1.0
        else:
            pooled = InputScaler(self.kind).fit(np.asarray(X).reshape(-1, 1))
            shift, scale = pooled.shift_[0], pooled.scale_[0]
        self.shift_ = np.full(d, shift)
        self.scale_ = np.full(d, scale)
        return self


class ImageInputMixin:
    """Image handling for a :class:`~anomalib_ae.detectors.base.BaseNeuralDetector`.

    Put it first among the bases. It is active only when the detector has the
    ``architecture`` parameter (so subclasses built on other parameter tables
    keep the tabular behaviour). Sets the fitted attribute ``image_shape_``:
    ``(C, H, W)`` for image input, ``None`` for tables.
    """

    # ---- validation --------------------------------------------------------------------
    def _validate(self, X: Any, *, reset: bool) -> np.ndarray:
        if not hasattr(self, "architecture"):
            return super()._validate(X, reset=reset)
        return self._validate_fit(X) if reset else self._validate_score(X)

    def _validate_fit(self, X: Any) -> np.ndarray:
        name = type(self).__name__
        ndim = _ndim(X)
        if ndim in (3, 4):
            shape = check_image_shape(np.shape(X)[1:])
            if self.image_shape is not None and self._given_shape() != shape:
                raise ValueError(
                    f"{name}: image_shape={tuple(self.image_shape)} does not match the images "
                    f"of X, shaped {tuple(np.shape(X)[1:])}; drop image_shape or fix it."
                )
            X = validate_rows(self, _flatten(X), reset=True)
        elif ndim > 4:
            raise ValueError(
                f"{name} expects rows (n, d), images (n, H, W) or (n, C, H, W); got an array "
                f"of shape {np.shape(X)}."
            )
        else:
            X = validate_rows(self, X, reset=True)
            shape = None
            if self.image_shape is not None:
                shape = self._given_shape()
                if int(np.prod(shape)) != X.shape[1]:
                    raise ValueError(
                        f"{name}: image_shape={tuple(self.image_shape)} holds "
                        f"{int(np.prod(shape))} pixels but X has {X.shape[1]} features per "
                        "row; pass the shape of one image, e.g. (8, 8) for 64 features."
                    )
            elif self.architecture == "conv":
                raise ValueError(
                    f"{name}(architecture='conv') needs images: pass X shaped (n, H, W) or "
                    "(n, C, H, W), or flattened rows with image_shape=(H, W) or (C, H, W)."
                )
        self._check_channels()
        self.image_shape_ = shape
        return X

    def _validate_score(self, X: Any) -> np.ndarray:
        ndim = _ndim(X)
        if ndim >= 3:
            fitted = getattr(self, "image_shape_", None)
            given = tuple(np.shape(X)[1:])
            name = type(self).__name__
            if fitted is None:
                raise ValueError(
                    f"{name} was fitted on rows of {self.n_features_in_} features, got images "
                    f"of shape {given}; flatten them (X.reshape(len(X), -1)) or refit on images."
                )
            fitted = tuple(int(s) for s in fitted)
            if given != fitted and not (fitted[0] == 1 and given == fitted[1:]):
                raise ValueError(
                    f"{name} was fitted on images of shape (C, H, W) = {fitted}, got images of "
                    f"shape {given}; resize them to {fitted[1:]} with {fitted[0]} channel(s)."
                )
            X = _flatten(X)
        return validate_rows(self, X, reset=False)

    def _given_shape(self) -> tuple[int, int, int]:
        try:
            return check_image_shape(self.image_shape)
        except (TypeError, ValueError):
            raise ValueError(
                f"image_shape must be (H, W) or (C, H, W) with positive sizes, got "
                f"{self.image_shape!r}."
            ) from None

    def _check_channels(self) -> None:
        channels = list(self.channels)
        if not channels or not all(
            isinstance(c, int | np.integer) and not isinstance(c, bool) and c > 0 for c in channels
        ):
            raise ValueError(
                f"channels must be a non-empty sequence of positive ints, got {self.channels!r}."
            )

    # ---- what to build -----------------------------------------------------------------
    def _uses_conv(self) -> bool:
        """Whether ``fit`` builds a conv net (image input and ``architecture != "mlp"``)."""
        return getattr(self, "image_shape_", None) is not None and self.architecture != "mlp"

    def _conv_kwargs(self) -> dict[str, Any]:
        """Arguments of :class:`~anomalib_ae.nn.conv.ConvAutoEncoderNet` / ``ConvVAENet``."""
        return {
            "image_shape": tuple(self.image_shape_),
            "channels": tuple(int(c) for c in self.channels),
            "latent_dim": self.latent_dim,
            "activation": self.activation,
            "dropout": self.dropout,
            "batch_norm": self.batch_norm,
        }

    def _make_scaler(self) -> InputScaler:
        if getattr(self, "image_shape_", None) is None:
            return super()._make_scaler()
        return ImageScaler(self.scaler)

    # ---- outputs shaped like the input -------------------------------------------------
    def feature_scores(self, X: Any) -> np.ndarray:
        """Per-feature (per-pixel) error of each row or image.

        Shaped like ``X``: images in, error maps ``(n, H, W)`` or
        ``(n, C, H, W)`` out; rows in, rows out.
        """
        errors = super().feature_scores(X)
        if _ndim(X) >= 3:
            return errors.reshape(np.shape(X))
        return errors
