"""DenoisingAutoEncoderDetector: an autoencoder trained to undo input corruption."""

from __future__ import annotations

from numbers import Real

import pytorch_lightning as pl
from sklearn.utils._param_validation import Interval, StrOptions
from torch import nn

from anomalib_ae.detectors._docs import fill_doc
from anomalib_ae.detectors._images import IMAGE_CONSTRAINTS, IMAGE_DEFAULTS, ImageInputMixin
from anomalib_ae.detectors._params import neural_init
from anomalib_ae.detectors._terms import (
    ERROR_SCALE_CONSTRAINTS,
    ERROR_SCALE_DEFAULTS,
    INPUT_NEIGHBOR_CONSTRAINTS,
    INPUT_NEIGHBOR_DEFAULTS,
    neighbor_terms,
    reconstruction_term,
    table_terms,
)
from anomalib_ae.detectors.base import BaseNeuralDetector
from anomalib_ae.nn.conv import ConvAutoEncoderNet
from anomalib_ae.nn.mlp import AutoEncoderNet
from anomalib_ae.nn.noise import NOISES
from anomalib_ae.scoring import ScoreTerm
from anomalib_ae.training.denoising import DenoisingSystem


@fill_doc
class DenoisingAutoEncoderDetector(ImageInputMixin, BaseNeuralDetector):
    """Denoising autoencoder outlier detector scored by the clean reconstruction error.

    During training each (scaled) row is corrupted and the net learns to rebuild
    the clean row, which keeps it from learning the identity and makes it
    project rows onto the training data's manifold. Scoring uses the clean
    input, with no noise: the score is the reconstruction score of
    :class:`AutoEncoderDetector` (with the same ``error_scaling`` and
    ``code_neighbors``), and is deterministic.

    Parameters
    ----------
    noise : {"gaussian", "mask"}, default="gaussian"
        Training corruption: ``"gaussian"`` adds ``N(0, noise_std**2)`` noise
        to every scaled value; ``"mask"`` sets each scaled value to 0 (the
        feature mean under the default standard scaling) with probability
        ``drop_prob``, without rescaling the others.
    noise_std : float, default=0.2
        Standard deviation of the Gaussian corruption, in scaled units (used
        when ``noise="gaussian"``).
    drop_prob : float, default=0.2
        Probability of masking a value, in [0, 1) (used when ``noise="mask"``).
    {error_scaling_params}
    {input_neighbor_params}
    {image_params}
    {neural_params}

    Attributes
    ----------
    {neural_attributes}

    See Also
    --------
    AutoEncoderDetector, VAEDetector

    Notes
    -----
    The corruption is drawn from torch's generator seeded inside ``fit`` (so an
    integer ``random_state`` gives identical fits) and only in training mode:
    the validation loss of early stopping is measured on clean rows.
    ``feature_scores`` gives the per-feature (scaled) squared errors whose
    mean is the row's reconstruction score.

    References
    ----------
    .. [1] Vincent, P., Larochelle, H., Bengio, Y. and Manzagol, P.-A. (2008).
       Extracting and composing robust features with denoising autoencoders.
       ICML.

    Examples
    --------
    >>> import numpy as np
    >>> from anomalib_ae import DenoisingAutoEncoderDetector
    >>> X = np.random.default_rng(0).normal(size=(200, 4))
    >>> det = DenoisingAutoEncoderDetector(noise="mask", drop_prob=0.3, hidden_dims=(8,),
    ...                                    latent_dim=2, max_epochs=5, random_state=0).fit(X)
    >>> det.score_samples(X[:3]).shape, det.transform(X[:3]).shape
    ((3,), (3, 2))
    """

    _parameter_constraints: dict = {
        **BaseNeuralDetector._parameter_constraints,
        "noise": [StrOptions(set(NOISES))],
        "noise_std": [Interval(Real, 0, None, closed="left")],
        "drop_prob": [Interval(Real, 0, 1, closed="left")],
        **ERROR_SCALE_CONSTRAINTS,
        **INPUT_NEIGHBOR_CONSTRAINTS,
        **IMAGE_CONSTRAINTS,
    }

    __init__ = neural_init(
        noise="gaussian",
        noise_std=0.2,
        drop_prob=0.2,
        scaler="minmax",
        **ERROR_SCALE_DEFAULTS,
        **INPUT_NEIGHBOR_DEFAULTS,
        **IMAGE_DEFAULTS,
    )

    def _build_net(self, n_features: int) -> nn.Module:
        if self._uses_conv():
            return ConvAutoEncoderNet(**self._conv_kwargs())
        return AutoEncoderNet(
            n_features,
            **self._mlp_kwargs(),
        )

    def _build_system(self, net: nn.Module) -> pl.LightningModule:
        return DenoisingSystem(
            net,
            noise=self.noise,
            noise_std=self.noise_std,
            drop_prob=self.drop_prob,
            **self._optimizer_kwargs(),
        )

    def _score_terms(self) -> list[ScoreTerm]:
        return table_terms(self, [reconstruction_term(self), *neighbor_terms(self)])
