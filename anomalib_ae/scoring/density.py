"""Score terms of density models: a MADE's negative log-likelihood in the input's units.

For a detector whose net is a :class:`~anomalib_ae.nn.made.MADENet` fitted on
scaled rows ``z = (x - shift) / scale``, the density of the unscaled row is
``p_x(x) = p_z(z) / prod_j scale_j`` (change of variables), so

``-log p_x(x) = -log p_z(z) + sum_j log scale_j``.

:class:`NegativeLogLikelihood` gives that value, and per feature each
conditional's ``-log p(z_j | z_<j) + log scale_j`` (averaged over the
orderings) as ``feature_values``.
"""

from __future__ import annotations

from functools import cached_property

import numpy as np
import torch

from anomalib_ae.scoring._base import ScoreTerm, register_term
from anomalib_ae.scoring.outputs import NetOutputs, TrainingOutputs


class MADEOutputs(NetOutputs):
    """The outputs of a :class:`~anomalib_ae.nn.made.MADENet` for one scaled batch.

    ``feature_nll`` ``(batch, n_features)``: each feature's conditional negative
    log-density in scaled units, averaged over the orderings; ``log_prob``
    ``(batch,)``: the ensemble's log-density of the scaled row; ``codes`` are
    the ``feature_nll`` (a MADE has no latent code: ``transform`` gives the
    per-feature surprise).
    """

    @cached_property
    def member_feature_log_probs(self) -> torch.Tensor:
        return self.net.feature_log_probs(self.x.flatten(1))

    @cached_property
    def feature_nll(self) -> torch.Tensor:
        return -self.member_feature_log_probs.mean(0)

    @cached_property
    def log_prob(self) -> torch.Tensor:
        members = self.member_feature_log_probs.sum(-1)
        return torch.logsumexp(members, dim=0) - np.log(members.shape[0])

    @cached_property
    def codes(self) -> torch.Tensor:
        return self.feature_nll


def log_scale(detector) -> np.ndarray:
    """``log scale_j`` of a fitted detector's input scaler (0 for ``scaler="none"``)."""
    return np.log(np.asarray(detector.scaler_.scale_, dtype=np.float64)).ravel()


@register_term
class NegativeLogLikelihood(ScoreTerm):
    """``-log p(x)`` of each row in the input's own units (nats), from a MADE's outputs.

    Parameters
    ----------
    weight : float, default=1.0

    Attributes
    ----------
    log_jacobian_ : float
        ``sum_j log scale_j`` of the detector's input scaling, added to the
        scaled rows' negative log-density.

    Examples
    --------
    >>> NegativeLogLikelihood()
    NegativeLogLikelihood(weight=1.0)
    """

    name = "made_nll"

    def fit(self, train: TrainingOutputs) -> np.ndarray:
        self.feature_log_scale_ = log_scale(train.detector)
        self.log_jacobian_ = float(self.feature_log_scale_.sum())
        return train.values(self)

    def values(self, out: NetOutputs) -> torch.Tensor:
        return -out.log_prob.double() + self.log_jacobian_

    def feature_values(self, out: NetOutputs) -> torch.Tensor:
        shift = torch.as_tensor(self.feature_log_scale_, dtype=torch.float64)
        return out.feature_nll.double() + shift
