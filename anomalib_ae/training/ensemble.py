"""Training an autoencoder ensemble with a trimmed (robust) reconstruction loss."""

from __future__ import annotations

import torch
from torch import nn

from anomalib_ae.training.systems import ReconstructionSystem, trimmed_weights

__all__ = ["EnsembleReconstructionSystem", "trimmed_weights"]


class EnsembleReconstructionSystem(ReconstructionSystem):
    """Train every member of an ensemble net on the same batches, each with a trimmed loss.

    Once ``trim_warmup`` of the epochs have run, each member ignores the
    ``trim_fraction`` rows of every batch that it reconstructs worst: on
    contaminated training data these are mostly the outliers, which then
    stop pulling the net towards rebuilding them (the idea of robust and
    trimmed autoencoders). The warm-up lets the net first learn the bulk of
    the data, so that the ranking of the losses means something.

    Parameters
    ----------
    net : torch.nn.Module
        Maps a batch ``(batch, d)`` to the members' reconstructions
        ``(n_members, batch, d)``, e.g. :class:`~anomalib_ae.nn.AutoEncoderEnsembleNet`.
    trim_fraction : float, default=0.0
        Share of each batch each member ignores, in [0, 1).
    trim_warmup : float, default=0.2
        Share of ``max_epochs`` trained on the full loss before trimming starts.
    **kwargs
        ``lr``, ``weight_decay``, ``optimizer`` of :class:`ReconstructionSystem`.
    """

    def __init__(
        self,
        net: nn.Module,
        trim_fraction: float = 0.0,
        trim_warmup: float = 0.2,
        lr: float = 1e-3,
        weight_decay: float = 0.0,
        optimizer: str = "adam",
    ) -> None:
        super().__init__(net, lr=lr, weight_decay=weight_decay, optimizer=optimizer)
        self.set_trimming(trim_fraction, trim_warmup)

    def sample_losses(self, x: torch.Tensor) -> torch.Tensor:
        """Per-row loss: the members' (trimmed-mean-weighted) squared errors, averaged."""
        x = x.flatten(1)
        losses = (self.net(x) - x).pow(2).mean(-1)  # (n_members, batch)
        if self._trimming() and losses.shape[-1] > 1:
            losses = losses * self.trim_weights(losses)
        return losses.mean(0)

    def batch_loss(self, x: torch.Tensor) -> torch.Tensor:
        """The mean of :meth:`sample_losses`, already trimmed per member."""
        return self.sample_losses(x).mean()
