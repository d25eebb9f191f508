"""GANomaly's score terms: the latent distance ``||z - z_hat||^2`` and the discriminator-feature distance."""

from __future__ import annotations

from functools import cached_property

import torch

from anomalib_ae.scoring._base import ScoreTerm, register_term
from anomalib_ae.scoring.outputs import NetOutputs


class GANomalyOutputs(NetOutputs):
    """The outputs of a :class:`~anomalib_ae.nn.ganomaly.GANomalyNet`: also ``recode`` and ``features``."""

    @cached_property
    def recode(self) -> torch.Tensor:
        """``z_hat``: the second encoder's code of the reconstruction."""
        return self.net.recode(self.reconstruction).flatten(1)

    @cached_property
    def feature_gap(self) -> torch.Tensor:
        """Squared gap between the discriminator features of ``x`` and of its reconstruction."""
        return (self.net.features(self.x) - self.net.features(self.reconstruction)).pow(2)


@register_term
class LatentDistance(ScoreTerm):
    """GANomaly's score: mean squared distance between ``z = E(x)`` and ``z_hat = E2(G(z))``.

    Examples
    --------
    >>> from anomalib_ae.nn.ganomaly import GANomalyNet
    >>> out = GANomalyOutputs(GANomalyNet(3, hidden_dims=(4,), latent_dim=2), torch.zeros(5, 3))
    >>> LatentDistance().values(out).shape
    torch.Size([5])
    """

    name = "latent_distance"

    def values(self, out: NetOutputs) -> torch.Tensor:
        return (out.codes - out.recode).pow(2).mean(1)


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
