"""Per-feature error scaling: each feature's squared error in units of its training median.

A plain reconstruction score averages the squared errors over features, so a
feature that is always rebuilt badly (a noisy one) dominates it, and a feature
that is normally rebuilt almost exactly counts for little when it is off,
though that is the surprise an anomaly score should catch.
:class:`FeatureErrorScaleMixin` divides each feature's squared error by its
median over the training rows before the average:

``score = mean_j( e_j(x) / median_i e_j(x_i) )``

so a typical training row scores about 1 on every feature. In the ADBench
ablation (29 classical datasets, seed 0, one autoencoder) it was the largest
single gain, 0.784 to 0.828 mean AUROC; with trimmed training, a shorter
training and the code-neighbour term it took the plain autoencoder's defaults
from 0.764 to 0.826 over 3 seeds (``docs/defaults.md``).
"""

from __future__ import annotations

import copy
from typing import Any

import numpy as np
import torch
from sklearn.utils._param_validation import StrOptions
from torch import nn

ERROR_SCALE_DEFAULTS: dict[str, Any] = {"error_scaling": "auto"}
"""The parameter of :class:`FeatureErrorScaleMixin` and its default."""

ERROR_SCALE_CONSTRAINTS: dict[str, list] = {
    "error_scaling": [StrOptions({"auto", "median", "none"})],
}


def robust_feature_scale(squares: np.ndarray) -> np.ndarray:
    """Median over rows of non-negative ``squares`` ``(n, n_features)``, floored.

    A feature whose error is ~0 on most rows (a constant one, rebuilt exactly)
    gets the mean error over all features and rows instead, so that no
    division blows up.

    Examples
    --------
    >>> robust_feature_scale(np.array([[1.0, 0.0], [3.0, 0.0], [2.0, 0.0]])).tolist()
    [2.0, 1.0]
    """
    median = np.median(squares, axis=0)
    floor = max(float(np.mean(squares)), 1e-12)
    return np.where(median > 1e-6 * floor, median, floor)


class FeatureErrorScaleMixin:
    """Score a neural detector by its per-feature squared errors over their training medians.

    For a :class:`~anomalib_ae.detectors.base.BaseNeuralDetector` scored by the
    mean of ``_feature_errors_batch`` (autoencoders); put it before the base
    classes. ``error_scaling="auto"`` scales on MLP nets (tables) and not on
    conv nets (images, where a border pixel that is black in every training
    image has a median error of ~0). Fitted attribute:
    ``feature_error_scale_`` (one divisor per input feature, or None).

    Examples
    --------
    >>> import numpy as np
    >>> from anomalib_ae import AutoEncoderDetector
    >>> X = np.random.default_rng(0).normal(size=(60, 3))
    >>> det = AutoEncoderDetector(hidden_dims=(4,), latent_dim=2, max_epochs=2,
    ...                           random_state=0).fit(X)
    >>> det.feature_error_scale_.shape
    (3,)
    """

    def _scales_errors(self) -> bool:
        mode = getattr(self, "error_scaling", "none")  # subclasses without it: off
        if mode == "auto":
            return not self._uses_conv()
        return mode == "median"

    def _calibrate(self, X: np.ndarray) -> None:
        self.feature_error_scale_ = None  # raw errors while the scale is measured
        super()._calibrate(X)
        if self._scales_errors():
            squares = self._feature_errors(X).reshape(len(X), -1)
            self.feature_error_scale_ = robust_feature_scale(squares)

    def _model_scores(
        self, X: np.ndarray, net: nn.Module | None = None, dtype: torch.dtype | None = None
    ) -> np.ndarray:
        # Scaled errors are summed over features: on MLP nets a float64 copy of the net
        # makes a row's score independent of the other rows of its batch (float32
        # kernels differ by ~1e-7 with the batch shape, which the division by small
        # medians magnifies). Conv nets stay float32 (float64 convolutions are slow).
        if net is None and dtype is None and not self._uses_conv():
            net, dtype = copy.deepcopy(self.net_).double(), torch.float64
        return super()._model_scores(X, net, torch.float32 if dtype is None else dtype)

    def _feature_errors_batch(self, net: nn.Module, x: torch.Tensor) -> torch.Tensor:
        errors = super()._feature_errors_batch(net, x)
        scale = getattr(self, "feature_error_scale_", None)
        if scale is None:
            return errors
        divisor = torch.as_tensor(scale, dtype=errors.dtype, device=errors.device)
        return errors.div_(divisor.reshape(errors.shape[1:]))
