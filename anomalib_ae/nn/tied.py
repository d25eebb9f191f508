"""An MLP autoencoder whose decoder reuses the transposed encoder weights."""

from __future__ import annotations

from collections.abc import Sequence

import torch
import torch.nn.functional as F
from torch import nn

from anomalib_ae.nn.mlp import MLP, EncoderDecoderNet, make_activation


class TiedLinear(nn.Module):
    """The transpose of a given linear layer, with a bias of its own.

    Computes ``x @ W + b`` where ``W`` is the (shared, not copied) weight of
    ``source``, so a gradient through this layer reaches ``source.weight``.

    Parameters
    ----------
    source : torch.nn.Linear
        The layer whose weight is shared (``in_features`` and ``out_features``
        are swapped here).

    Examples
    --------
    >>> import torch
    >>> lin = nn.Linear(5, 3)
    >>> TiedLinear(lin)(torch.zeros(2, 3)).shape
    torch.Size([2, 5])
    """

    def __init__(self, source: nn.Linear) -> None:
        super().__init__()
        self.source = source
        self.bias = nn.Parameter(torch.zeros(source.in_features))

    def forward(self, x: torch.Tensor) -> torch.Tensor:
        return F.linear(x, self.source.weight.t(), self.bias)


class TiedAutoEncoderNet(EncoderDecoderNet):
    """A symmetric MLP autoencoder with tied weights.

    The encoder is the same MLP as in :class:`~anomalib_ae.nn.AutoEncoderNet`;
    the decoder runs its linear layers backwards with transposed weights
    (:class:`TiedLinear`) and biases of its own, so the net has about half the
    parameters of the untied one. Hidden decoder layers get the same
    normalisation, activation and dropout as the untied decoder.

    Parameters
    ----------
    n_features : int
        Input width.
    hidden_dims : sequence of int, default=(64, 32)
        Widths of the encoder's hidden layers.
    latent_dim : int, default=8
        Width of the code.
    activation : str or None, default="relu"
        Hidden activation; ``None`` gives a linear autoencoder.
    dropout : float, default=0.0
        Dropout after hidden activations.
    batch_norm : bool, default=False
        Batch normalisation in hidden layers.

    Examples
    --------
    >>> import torch
    >>> net = TiedAutoEncoderNet(6, hidden_dims=(4,), latent_dim=2)
    >>> net(torch.zeros(3, 6)).shape
    torch.Size([3, 6])
    >>> sum(p.numel() for p in net.parameters() if p.dim() == 2)  # 6*4 + 4*2 weights, once
    32
    """

    def __init__(
        self,
        n_features: int,
        hidden_dims: Sequence[int] = (64, 32),
        latent_dim: int = 8,
        activation: str | None = "relu",
        dropout: float = 0.0,
        batch_norm: bool = False,
    ) -> None:
        super().__init__()
        self.encoder = MLP([n_features, *hidden_dims, latent_dim], activation, dropout, batch_norm)
        linears = [m for m in self.encoder if isinstance(m, nn.Linear)]
        layers: list[nn.Module] = []
        for i, lin in enumerate(reversed(linears)):
            layers.append(TiedLinear(lin))
            if i < len(linears) - 1:
                if batch_norm:
                    layers.append(nn.BatchNorm1d(lin.in_features))
                layers.append(make_activation(activation))
                if dropout > 0:
                    layers.append(nn.Dropout(dropout))
        self.decoder = nn.Sequential(*layers)
