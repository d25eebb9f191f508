"""Score terms of the autoregressive pixel models: bits per dimension and likelihood ratios.

A :class:`~anomalib_ae.nn.causal.DensityPairNet` gives ``log p(x_i | x_<i)``
of every pixel (feature). On images the likelihood is discrete (quantised
pixel values), so it needs no change of variables; on tables it is a density
of the scaled row and, as MADE's, ``sum_j log scale_j`` of the input scaling
turns it into the density in the input's own units (it cancels in a ratio).
"""

from __future__ import annotations

import math
from functools import cached_property

import torch

from anomalib_ae.scoring._base import register_term
from anomalib_ae.scoring.density import NegativeLogLikelihood
from anomalib_ae.scoring.outputs import NetOutputs


class PixelCNNOutputs(NetOutputs):
    """The outputs of a :class:`~anomalib_ae.nn.causal.DensityPairNet` for one scaled batch.

    ``feature_nll`` ``(batch, n_features)``: each pixel's (feature's)
    ``-log p(x_i | x_<i)`` under the model (nats); ``log_prob`` and
    ``background_log_prob`` ``(batch,)``: the row's log-likelihood under the
    model and the background model; ``codes`` are the ``feature_nll`` (no latent code).
    """

    @cached_property
    def feature_nll(self) -> torch.Tensor:
        return -self.net.feature_log_probs(self.x.flatten(1))

    @cached_property
    def log_prob(self) -> torch.Tensor:
        return -self.feature_nll.double().sum(1)

    @cached_property
    def background_log_prob(self) -> torch.Tensor:
        return self.net.background_feature_log_probs(self.x.flatten(1)).double().sum(1)

    @cached_property
    def codes(self) -> torch.Tensor:
        return self.feature_nll


class _PixelTerm(NegativeLogLikelihood):
    """Shared state: the per-feature log-scales (tables) and the per-pixel NLL maps
    (:class:`~anomalib_ae.scoring.density.NegativeLogLikelihood`'s fit and feature values)."""


@register_term
class BitsPerDim(_PixelTerm):
    """The model's negative log-likelihood in bits per dimension (higher = more anomalous).

    Examples
    --------
    >>> BitsPerDim()
    BitsPerDim(weight=1.0)
    """

    name = "bits_per_dim"

    def values(self, out: NetOutputs) -> torch.Tensor:
        d = out.x.flatten(1).shape[1]
        return (-out.log_prob + self.log_jacobian_) / (d * math.log(2.0))


@register_term
class LikelihoodRatio(_PixelTerm):
    """``log p_background(x) - log p_model(x)`` (nats; higher = more anomalous).

    Ren et al. (2019): the background model, trained on perturbed rows, captures
    the population-level statistics (smoothness, amount of ink, ...) that dominate
    the raw likelihood; the ratio keeps the part that is specific to the
    training distribution.

    Examples
    --------
    >>> LikelihoodRatio()
    LikelihoodRatio(weight=1.0)
    """

    name = "likelihood_ratio"

    def values(self, out: NetOutputs) -> torch.Tensor:
        return out.background_log_prob - out.log_prob
