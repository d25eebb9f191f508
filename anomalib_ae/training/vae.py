"""The VAE system: negative ELBO with a ``beta``-weighted, optionally warmed-up KL term."""

from __future__ import annotations

import torch

from anomalib_ae.nn.vae import VAENet, gaussian_kl, gaussian_nll
from anomalib_ae.training.systems import ReconstructionSystem


class VAESystem(ReconstructionSystem):
    """Train a :class:`~anomalib_ae.nn.vae.VAENet` on ``reconstruction + beta * KL``.

    Per row, the loss is ``0.5 * ||x - decode(z)||^2 + w * KL(q(z|x) || N(0, I))``
    with one reparameterised draw ``z = mu + exp(logvar / 2) * eps`` (``eps``
    from torch's global generator, which the detector's ``fit`` seeds). With
    ``w = beta = 1`` this is the negative ELBO in nats, up to the constant
    ``d/2 * log(2 pi)`` of the unit-variance Gaussian decoder.

    Parameters
    ----------
    net : VAENet
        The net to train.
    beta : float, default=1.0
        Weight of the KL term (``beta``-VAE, Higgins et al. 2017).
    kl_warmup_epochs : int, default=0
        KL warm-up: the weight ``w`` grows linearly from 0 in the first epoch
        to ``beta`` at epoch ``kl_warmup_epochs`` and stays there (0: ``w = beta``
        throughout). The validation loss always uses ``beta``.
    lr, weight_decay, optimizer
        As in :class:`ReconstructionSystem`.

    Attributes
    ----------
    history : list of dict
        Per epoch ``train_loss``, ``train_kl`` (mean KL per row, unweighted),
        ``kl_weight`` (and ``val_loss``).
    """

    def __init__(
        self,
        net: VAENet,
        beta: float = 1.0,
        kl_warmup_epochs: int = 0,
        lr: float = 1e-3,
        weight_decay: float = 0.0,
        optimizer: str = "adam",
    ) -> None:
        super().__init__(net, lr=lr, weight_decay=weight_decay, optimizer=optimizer)
        self.beta = beta
        self.kl_warmup_epochs = kl_warmup_epochs
        self._kl_sum = torch.zeros(())
        self._kl_batches = 0

    def kl_weight(self) -> float:
        """The weight of the KL term now (``beta`` after the warm-up and in validation)."""
        if not self.training or self.kl_warmup_epochs <= 0:
            return float(self.beta)
        return float(self.beta) * min(1.0, self.current_epoch / self.kl_warmup_epochs)

    def loss_terms(self, x: torch.Tensor) -> tuple[torch.Tensor, torch.Tensor]:
        """Per-row reconstruction term (one reparameterised draw) and KL term of batch ``x``."""
        x = x.flatten(1)
        mu, logvar = self.net.posterior(x)
        z = self.net.reparameterize(mu, logvar)
        return gaussian_nll(x, self.net.decode(z)), gaussian_kl(mu, logvar)

    def sample_losses(self, x: torch.Tensor) -> torch.Tensor:
        """Per-row ``reconstruction + kl_weight() * KL``."""
        recon, kl = self.loss_terms(x)
        if self.training:
            self._kl_sum = self._kl_sum + kl.detach().mean().cpu()
            self._kl_batches += 1
        return recon + self.kl_weight() * kl

    def on_train_epoch_start(self) -> None:
        super().on_train_epoch_start()
        self._kl_sum = torch.zeros(())
        self._kl_batches = 0

    def on_train_epoch_end(self) -> None:
        weight = self.kl_weight()
        super().on_train_epoch_end()
        self.history[-1]["train_kl"] = float(self._kl_sum) / max(self._kl_batches, 1)
        self.history[-1]["kl_weight"] = weight
