"""The MADE system: maximum likelihood of the scaled rows (negative log-density as the loss)."""

from __future__ import annotations

import torch

from anomalib_ae.training.systems import ReconstructionSystem


class MADESystem(ReconstructionSystem):
    """Train a :class:`~anomalib_ae.nn.made.MADENet` by maximum likelihood.

    The per-row loss is the members' mean negative log-density
    ``-(1/K) sum_k log p_k(x)`` of the scaled row: each member is fitted on its
    own likelihood (the members share no weights, so this is K independent
    fits in one pass). Everything else (optimiser, grouped steps, trimming,
    epoch history, divergence check) is :class:`ReconstructionSystem`'s.

    Parameters
    ----------
    net : anomalib_ae.nn.made.MADENet
    lr, weight_decay, optimizer
        As in :class:`ReconstructionSystem`.

    Examples
    --------
    >>> from anomalib_ae.nn.made import MADENet
    >>> net = MADENet(3, hidden_dims=(8,), n_orderings=2)
    >>> MADESystem(net).sample_losses(torch.zeros(4, 3)).shape
    torch.Size([4])
    """

    def sample_losses(self, x: torch.Tensor) -> torch.Tensor:
        """Per-row mean negative log-density over the members (nats, scaled units)."""
        return -self.net.member_log_probs(x.flatten(1)).mean(0)
