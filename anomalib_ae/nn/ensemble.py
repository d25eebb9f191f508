"""An ensemble of independent MLP autoencoders evaluated as one batched net."""

from __future__ import annotations

import math
from collections.abc import Sequence

import torch
from torch import nn

from anomalib_ae.nn.mlp import make_activation


class ParallelLinear(nn.Module):
    """``n_members`` independent linear layers applied to stacked inputs in one batched matmul.

    Parameters
    ----------
    n_members : int
        Number of independent layers.
    in_features, out_features : int
        Widths of each layer.

    Notes
    -----
    Each member is initialised as :class:`torch.nn.Linear` is (uniform in
    ``+-1/sqrt(in_features)``), independently of the others.

    Examples
    --------
    >>> layer = ParallelLinear(3, 4, 2)
    >>> layer(torch.zeros(3, 5, 4)).shape
    torch.Size([3, 5, 2])
    """

    def __init__(self, n_members: int, in_features: int, out_features: int) -> None:
        super().__init__()
        self.weight = nn.Parameter(torch.empty(n_members, in_features, out_features))
        self.bias = nn.Parameter(torch.empty(n_members, 1, out_features))
        bound = 1.0 / math.sqrt(max(in_features, 1))
        nn.init.uniform_(self.weight, -bound, bound)
        nn.init.uniform_(self.bias, -bound, bound)

    def forward(self, x: torch.Tensor) -> torch.Tensor:
        """Map ``(n_members, batch, in_features)`` to ``(n_members, batch, out_features)``."""
        return torch.baddbmm(self.bias, x, self.weight)


def _stack(sizes: Sequence[int], n_members: int, activation: str | None) -> nn.Sequential:
    layers: list[nn.Module] = []
    for i, (a, b) in enumerate(zip(sizes[:-1], sizes[1:])):
        layers.append(ParallelLinear(n_members, a, b))
        if i < len(sizes) - 2:
            layers.append(make_activation(activation))
    return nn.Sequential(*layers)


class AutoEncoderEnsembleNet(nn.Module):
    """``n_members`` MLP autoencoders of one shape, each with its own random weights.

    The members share nothing but their shape; they are stored as stacked
    weights so that a batch goes through all of them in one batched matmul per
    layer (for small nets about as fast as a single autoencoder).

    Parameters
    ----------
    n_features : int
        Input width.
    hidden_dims : sequence of int, default=(64, 32)
        Encoder hidden widths; the decoder mirrors them.
    latent_dim : int, default=8
        Code width of each member.
    n_members : int, default=5
        Number of autoencoders.
    activation : str or None, default="relu"
        Hidden activation (see :func:`~anomalib_ae.nn.make_activation`).

    Examples
    --------
    >>> net = AutoEncoderEnsembleNet(6, hidden_dims=(4,), latent_dim=2, n_members=3)
    >>> x = torch.zeros(5, 6)
    >>> net(x).shape, net.encode(x).shape
    (torch.Size([3, 5, 6]), torch.Size([5, 6]))
    """

    def __init__(
        self,
        n_features: int,
        hidden_dims: Sequence[int] = (64, 32),
        latent_dim: int = 8,
        n_members: int = 5,
        activation: str | None = "relu",
    ) -> None:
        super().__init__()
        self.n_features = int(n_features)
        self.n_members = int(n_members)
        sizes = [self.n_features, *map(int, hidden_dims), int(latent_dim)]
        self.encoder = _stack(sizes, self.n_members, activation)
        self.decoder = _stack(sizes[::-1], self.n_members, activation)

    def member_codes(self, x: torch.Tensor) -> torch.Tensor:
        """Codes of every member: ``(batch, n_features)`` to ``(n_members, batch, latent_dim)``."""
        return self.encoder(x.flatten(1).unsqueeze(0).expand(self.n_members, -1, -1))

    def encode(self, x: torch.Tensor) -> torch.Tensor:
        """The members' codes side by side: ``(batch, n_members * latent_dim)``."""
        codes = self.member_codes(x)
        return codes.permute(1, 0, 2).reshape(len(x), -1)

    def forward(self, x: torch.Tensor) -> torch.Tensor:
        """Every member's reconstruction: ``(n_members, batch, n_features)``."""
        return self.decoder(self.member_codes(x))
