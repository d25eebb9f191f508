"""The MLP variational autoencoder net and its two loss terms (pure torch).

Units: the decoder is a Gaussian with unit variance, so the reconstruction term
of the negative ELBO is ``0.5 * ||x - x_hat||^2`` summed over features (the
negative log-likelihood up to the constant ``d/2 * log(2 pi)``), and the KL term
is the closed form of ``KL(N(mu, diag(exp(logvar))) || N(0, I))`` summed over
the code. Both are in nats per row.
"""

from __future__ import annotations

from collections.abc import Sequence

import torch
from torch import nn

from anomalib_ae.nn.mlp import MLP

LOGVAR_BOUNDS = (-10.0, 10.0)
"""Range the encoder's log-variance is clamped to (std from 0.0067 to 148)."""


def gaussian_nll(x: torch.Tensor, x_hat: torch.Tensor) -> torch.Tensor:
    """Per-row ``0.5 * sum((x - x_hat)**2)``: unit-variance Gaussian NLL without its constant.

    Broadcasts over leading axes (e.g. Monte-Carlo draws); sums the last axis.

    Examples
    --------
    >>> gaussian_nll(torch.zeros(2, 3), torch.ones(2, 3))
    tensor([1.5000, 1.5000])
    """
    return 0.5 * (x - x_hat).pow(2).sum(-1)


def gaussian_kl(mu: torch.Tensor, logvar: torch.Tensor) -> torch.Tensor:
    """Per-row ``KL(N(mu, exp(logvar)) || N(0, I))`` summed over the code.

    Examples
    --------
    >>> gaussian_kl(torch.zeros(1, 2), torch.zeros(1, 2))
    tensor([0.])
    >>> gaussian_kl(torch.ones(1, 2), torch.zeros(1, 2))
    tensor([1.])
    """
    return 0.5 * (mu.pow(2) + logvar.exp() - 1.0 - logvar).sum(-1)


class VAENet(nn.Module):
    """MLP variational autoencoder: Gaussian encoder ``q(z|x)``, identity-output decoder.

    The encoder maps ``n_features -> hidden_dims -> 2 * latent_dim``; the last
    layer's two halves are the mean and log-variance heads. The log-variance is
    clamped to :data:`LOGVAR_BOUNDS` so ``exp`` can neither overflow nor vanish.
    The decoder mirrors the encoder and ends in a linear layer (identity
    output), so standardised, negative inputs can be reconstructed.

    Parameters
    ----------
    n_features : int
        Input width.
    hidden_dims : sequence of int, default=(64, 32)
        Encoder hidden widths (the decoder uses them reversed).
    latent_dim : int, default=8
        Width of the code ``z``.
    activation : str or None, default="relu"
        Hidden activation.
    dropout : float, default=0.0
        Dropout after hidden activations.
    batch_norm : bool, default=False
        Batch normalisation in hidden layers.
    n_condition : int, default=0
        Width of a condition ``c`` that both the encoder and the decoder also
        see (a conditional VAE, ``q(z|x, c)`` and ``p(x|z, c)``): it is
        concatenated to the input and to the code. 0 gives the plain VAE.

    Examples
    --------
    >>> net = VAENet(5, hidden_dims=(4,), latent_dim=2)
    >>> mu, logvar = net.posterior(torch.zeros(3, 5))
    >>> mu.shape, logvar.shape, net(torch.zeros(3, 5)).shape
    (torch.Size([3, 2]), torch.Size([3, 2]), torch.Size([3, 5]))
    >>> cvae = VAENet(5, hidden_dims=(4,), latent_dim=2, n_condition=1)
    >>> cvae(torch.zeros(3, 5), torch.ones(3, 1)).shape
    torch.Size([3, 5])
    """

    def __init__(
        self,
        n_features: int,
        hidden_dims: Sequence[int] = (64, 32),
        latent_dim: int = 8,
        activation: str | None = "relu",
        dropout: float = 0.0,
        batch_norm: bool = False,
        n_condition: int = 0,
    ) -> None:
        super().__init__()
        self.latent_dim = int(latent_dim)
        self.n_condition = int(n_condition)
        self.encoder = MLP(
            [n_features + n_condition, *hidden_dims, 2 * latent_dim],
            activation,
            dropout,
            batch_norm,
        )
        self.decoder = MLP(
            [latent_dim + n_condition, *reversed(hidden_dims), n_features],
            activation,
            dropout,
            batch_norm,
        )

    @staticmethod
    def _with(t: torch.Tensor, c: torch.Tensor | None) -> torch.Tensor:
        """``t`` with condition ``c`` appended (``c`` broadcast over ``t``'s leading axes)."""
        if c is None:
            return t
        return torch.cat([t, c.expand(*t.shape[:-1], c.shape[-1])], dim=-1)

    def posterior(
        self, x: torch.Tensor, c: torch.Tensor | None = None
    ) -> tuple[torch.Tensor, torch.Tensor]:
        """Mean and (clamped) log-variance of ``q(z|x)`` (``q(z|x, c)`` given a condition)."""
        mu, logvar = self.encoder(self._with(x, c)).chunk(2, dim=-1)
        return mu, logvar.clamp(*LOGVAR_BOUNDS)

    @staticmethod
    def reparameterize(
        mu: torch.Tensor, logvar: torch.Tensor, eps: torch.Tensor | None = None
    ) -> torch.Tensor:
        """``z = mu + exp(logvar / 2) * eps``, with ``eps ~ N(0, I)`` unless given."""
        if eps is None:
            eps = torch.randn_like(mu)
        return mu + (0.5 * logvar).exp() * eps

    def encode(self, x: torch.Tensor, c: torch.Tensor | None = None) -> torch.Tensor:
        """The posterior mean: the deterministic code of ``x`` (given condition ``c``)."""
        return self.posterior(x, c)[0]

    def decode(self, z: torch.Tensor, c: torch.Tensor | None = None) -> torch.Tensor:
        """The decoder's mean for code ``z`` (any leading axes; given condition ``c``)."""
        return self.decoder(self._with(z, c))

    def forward(self, x: torch.Tensor, c: torch.Tensor | None = None) -> torch.Tensor:
        """Reconstruction of ``x`` decoded from its posterior mean (deterministic)."""
        return self.decode(self.encode(x, c), c)
