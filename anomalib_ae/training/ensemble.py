"""Training an autoencoder ensemble with a trimmed (robust) reconstruction loss."""

from __future__ import annotations

import math

import torch
from torch import nn

from anomalib_ae.training.systems import ReconstructionSystem


def trimmed_weights(losses: torch.Tensor, trim_fraction: float) -> torch.Tensor:
    """Weights that drop the largest ``trim_fraction`` of each row of ``losses``.

    Kept entries get ``n / n_kept`` so that the mean of ``weights * losses`` over
    a row equals the mean of the kept losses (a trimmed mean).

    Parameters
    ----------
    losses : Tensor of shape (n_members, batch)
        Per-member, per-row losses.
    trim_fraction : float
        Share of each member's batch to drop, in [0, 1).

    Returns
    -------
    Tensor of the same shape (no gradient).

    Examples
    --------
    >>> trimmed_weights(torch.tensor([[1.0, 5.0, 2.0, 3.0]]), 0.25).tolist()
    [[1.3333333730697632, 0.0, 1.3333333730697632, 1.3333333730697632]]
    """
    n = losses.shape[-1]
    keep = max(1, n - int(math.floor(trim_fraction * n)))
    if keep == n:
        return torch.ones_like(losses)
    kept = torch.topk(losses.detach(), keep, dim=-1, largest=False).indices
    weights = torch.zeros_like(losses)
    return weights.scatter_(-1, kept, n / keep)


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
        self.trim_fraction = trim_fraction
        self.trim_warmup = trim_warmup

    def _trimming(self) -> bool:
        if not (self.training and self.trim_fraction > 0):
            return False
        trainer = self._trainer
        max_epochs = trainer.max_epochs if trainer is not None and trainer.max_epochs else 1
        return self.current_epoch >= self.trim_warmup * max_epochs

    def sample_losses(self, x: torch.Tensor) -> torch.Tensor:
        """Per-row loss: the members' (trimmed-mean-weighted) squared errors, averaged."""
        x = x.flatten(1)
        losses = (self.net(x) - x).pow(2).mean(-1)  # (n_members, batch)
        if self._trimming() and losses.shape[-1] > 1:
            losses = losses * trimmed_weights(losses, self.trim_fraction)
        return losses.mean(0)
