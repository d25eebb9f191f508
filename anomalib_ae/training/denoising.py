"""The denoising system: corrupt the input during training, reconstruct the clean one."""

from __future__ import annotations

import torch
from torch import nn

from anomalib_ae.nn.noise import corrupt
from anomalib_ae.training.systems import ReconstructionSystem


class DenoisingSystem(ReconstructionSystem):
    """Train ``net`` to map a corrupted row back to the clean row (squared error).

    The corruption (:func:`anomalib_ae.nn.noise.corrupt`) is drawn from torch's
    global generator, which the detector's ``fit`` seeds, and is applied only
    in training mode: the validation loss (for early stopping) is measured on
    clean rows, as the detector's scores are.

    Parameters
    ----------
    net : torch.nn.Module
        Maps a batch to its reconstruction.
    noise : {"gaussian", "mask"}, default="gaussian"
        Corruption kind.
    noise_std : float, default=0.2
        Standard deviation of the Gaussian corruption.
    drop_prob : float, default=0.2
        Masking probability of the ``"mask"`` corruption.
    **kwargs
        ``lr``, ``weight_decay``, ``optimizer`` of :class:`ReconstructionSystem`.
    """

    def __init__(
        self,
        net: nn.Module,
        noise: str = "gaussian",
        noise_std: float = 0.2,
        drop_prob: float = 0.2,
        lr: float = 1e-3,
        weight_decay: float = 0.0,
        optimizer: str = "adam",
    ) -> None:
        super().__init__(net, lr=lr, weight_decay=weight_decay, optimizer=optimizer)
        self.noise = noise
        self.noise_std = noise_std
        self.drop_prob = drop_prob

    def sample_losses(self, x: torch.Tensor) -> torch.Tensor:
        """Per-row squared error between the clean ``x`` and the reconstruction of its corruption."""
        x_in = corrupt(x, self.noise, self.noise_std, self.drop_prob) if self.training else x
        return (self.net(x_in) - x).pow(2).flatten(1).mean(1)
