"""Reconstruction with penalties on the code: sparse (L1) and contractive (Jacobian norm)."""

from __future__ import annotations

import torch
from torch import nn

from anomalib_ae.nn.jacobian import jacobian_frobenius
from anomalib_ae.training.systems import ReconstructionSystem


class PenalizedReconstructionSystem(ReconstructionSystem):
    """Mean squared reconstruction error plus penalties on the code.

    The per-row loss is ``mse(x, decode(z)) + code_l1 * mean_j |z_j|
    + contractive * ||dz/dx||_F^2`` with ``z = encode(x)``. The L1 term makes
    codes sparse, which is what stops an autoencoder whose code is as wide as
    its input (or wider) from learning the identity; the contractive term makes
    the code insensitive to small moves of the input (Rifai et al., 2011).

    Parameters
    ----------
    net : torch.nn.Module
        An autoencoder with ``encode``, ``decode`` and an ``encoder`` module.
    code_l1 : float, default=0.0
        Weight of the L1 penalty on the code.
    contractive : float, default=0.0
        Weight of the squared Frobenius norm of the encoder's Jacobian.
    **kwargs
        ``lr``, ``weight_decay``, ``optimizer`` of
        :class:`~anomalib_ae.training.ReconstructionSystem`.

    Examples
    --------
    >>> import torch
    >>> from anomalib_ae.nn import AutoEncoderNet
    >>> system = PenalizedReconstructionSystem(AutoEncoderNet(4, (3,), 2), code_l1=0.1)
    >>> system.sample_losses(torch.zeros(5, 4)).shape
    torch.Size([5])
    """

    def __init__(
        self, net: nn.Module, code_l1: float = 0.0, contractive: float = 0.0, **kwargs
    ) -> None:
        super().__init__(net, **kwargs)
        self.code_l1 = code_l1
        self.contractive = contractive

    def sample_losses(self, x: torch.Tensor) -> torch.Tensor:
        z = self.net.encode(x)
        losses = (self.net.decode(z) - x).pow(2).flatten(1).mean(1)
        if self.code_l1 > 0:
            losses = losses + self.code_l1 * z.abs().flatten(1).mean(1)
        if self.contractive > 0:
            losses = losses + self.contractive * jacobian_frobenius(self.net.encoder, x)
        return losses
