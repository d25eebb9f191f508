"""The conditional VAE system: the VAE's loss on the target columns, given the context columns."""

from __future__ import annotations

import torch

from anomalib_ae.nn.vae import gaussian_kl, gaussian_nll
from anomalib_ae.training.vae import VAESystem


class ConditionalVAESystem(VAESystem):
    """Train a :class:`~anomalib_ae.nn.ConditionalVAENet` on whole rows.

    Each batch is split into target columns ``x`` and context columns ``c``;
    the loss is the (``beta``-weighted, warmed-up) negative conditional ELBO
    ``0.5 * ||x - decode(z, c)||^2 + w * KL(q(z|x, c) || N(0, I))``. Everything
    else is :class:`~anomalib_ae.training.vae.VAESystem`.

    Examples
    --------
    >>> from anomalib_ae.nn.cvae import ConditionalVAENet
    >>> system = ConditionalVAESystem(ConditionalVAENet(3, condition=[0], hidden_dims=(4,)))
    >>> [t.shape for t in system.loss_terms(torch.zeros(5, 3))]
    [torch.Size([5]), torch.Size([5])]
    """

    def loss_terms(self, rows: torch.Tensor) -> tuple[torch.Tensor, torch.Tensor]:
        """Per-row reconstruction term of the target columns and KL term, given the context."""
        x, c = self.net.split(rows.flatten(1))
        mu, logvar = self.net.posterior(x, c)
        z = self.net.reparameterize(mu, logvar)
        return gaussian_nll(x, self.net.decode(z, c)), gaussian_kl(mu, logvar)
