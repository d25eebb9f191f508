"""GANomaly's score terms: the latent distance ``||z - z_hat||^2`` and the discriminator-feature distance."""

from __future__ import annotations

from functools import cached_property

import numpy as np
import torch

from anomalib_ae.scoring._base import ScoreTerm, register_term
from anomalib_ae.scoring.outputs import NetOutputs, TrainingOutputs


class GANomalyOutputs(NetOutputs):
    """The outputs of a :class:`~anomalib_ae.nn.ganomaly.GANomalyNet`: also ``recode`` and ``features``."""

    @cached_property
    def recode(self) -> torch.Tensor:
        """``z_hat``: the second encoder's code of the reconstruction."""
        return self.net.recode(self.reconstruction).flatten(1)

    @cached_property
    def latent_gap(self) -> torch.Tensor:
        """``z - z_hat``, one column per code dimension."""
        return self.codes - self.recode

    @cached_property
    def feature_gap(self) -> torch.Tensor:
        """Squared gap between the discriminator features of ``x`` and of its reconstruction."""
        return (self.net.features(self.x) - self.net.features(self.reconstruction)).pow(2)


@register_term
class LatentDistance(ScoreTerm):
    """GANomaly's score: mean squared distance between ``z = E(x)`` and ``z_hat = E2(G(z))``.

    With ``scaling="std"`` each code dimension's gap ``z_j - z_hat_j`` is first
    centred on its mean ``m_j`` over the training rows and divided by its
    standard deviation ``s_j`` there: ``mean_j(((z_j - z_hat_j - m_j) / s_j)**2)``.
    The raw distance depends on the codes' scale, which nothing in GANomaly's
    training fixes: the latent loss ``||z - z_hat||^2`` is smallest when the
    encoder shrinks its codes, so the trained codes are small (standard
    deviations of 0.03 to 0.1 in the conv nets of MNIST digits), and the raw
    distance weighs each dimension by whatever scale training happened to give
    it. Standardised, the training rows score 1 on average.

    Parameters
    ----------
    scaling : {"none", "std"}, default="none"
    weight : float, default=1.0

    Attributes
    ----------
    center_, scale_ : ndarray of shape (latent_dim,) or None
        The training rows' mean and (floored) standard deviation of each
        dimension's gap; None without scaling.

    Examples
    --------
    >>> from anomalib_ae.nn.ganomaly import GANomalyNet
    >>> out = GANomalyOutputs(GANomalyNet(3, hidden_dims=(4,), latent_dim=2), torch.zeros(5, 3))
    >>> LatentDistance().values(out).shape
    torch.Size([5])
    """

    name = "latent_distance"

    def __init__(self, scaling: str = "none", weight: float = 1.0) -> None:
        super().__init__(weight)
        self.scaling = scaling

    def fit(self, train: TrainingOutputs) -> np.ndarray:
        self.center_ = self.scale_ = None  # raw gaps while they are measured
        if self.scaling == "std":
            gap = np.asarray(train.sample("latent_gap"), dtype=np.float64)
            std = gap.std(axis=0)
            floor = max(float(std.mean()) * 1e-6, 1e-12)
            self.center_, self.scale_ = gap.mean(axis=0), np.maximum(std, floor)
        return train.values(self)

    def values(self, out: NetOutputs) -> torch.Tensor:
        gap = out.latent_gap
        # no scale_ (unfitted, or loaded from a file saved before the scaling): the raw distance
        if getattr(self, "scale_", None) is not None:
            center = torch.as_tensor(self.center_, dtype=gap.dtype)
            gap = (gap - center) / torch.as_tensor(self.scale_, dtype=gap.dtype)
        return gap.pow(2).mean(1)


@register_term
class DiscriminatorFeatureDistance(ScoreTerm):
    """Mean squared distance between the discriminator features of ``x`` and of ``G(x)``.

    Examples
    --------
    >>> from anomalib_ae.nn.ganomaly import GANomalyNet
    >>> out = GANomalyOutputs(GANomalyNet(3, hidden_dims=(4,), latent_dim=2), torch.zeros(5, 3))
    >>> DiscriminatorFeatureDistance().values(out).shape
    torch.Size([5])
    """

    name = "discriminator_features"

    def values(self, out: NetOutputs) -> torch.Tensor:
        return out.feature_gap.mean(1)
