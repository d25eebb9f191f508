"""Multi-layer perceptrons and the MLP autoencoder net."""

from __future__ import annotations

from collections.abc import Sequence

import torch
from torch import nn

_ACTIVATIONS: dict[str, type[nn.Module]] = {
    "relu": nn.ReLU,
    "leaky_relu": nn.LeakyReLU,
    "elu": nn.ELU,
    "gelu": nn.GELU,
    "selu": nn.SELU,
    "tanh": nn.Tanh,
    "sigmoid": nn.Sigmoid,
    "identity": nn.Identity,
}

ACTIVATIONS = tuple(_ACTIVATIONS)
"""Names accepted wherever an ``activation`` parameter is taken."""


def make_activation(name: str | None) -> nn.Module:
    """Return a fresh activation module from its name.

    Parameters
    ----------
    name : str or None
        One of :data:`ACTIVATIONS`; ``None`` means the identity (a linear net).

    Returns
    -------
    torch.nn.Module

    Examples
    --------
    >>> make_activation("relu")
    ReLU()
    >>> make_activation(None)
    Identity()
    """
    if name is None:
        return nn.Identity()
    try:
        return _ACTIVATIONS[name]()
    except KeyError:
        raise ValueError(
            f"Unknown activation {name!r}; choose one of {sorted(_ACTIVATIONS)} or None."
        ) from None


class MLP(nn.Sequential):
    """A stack of ``Linear -> [BatchNorm] -> activation -> [Dropout]`` blocks.

    The last layer is linear (no activation, normalisation or dropout), so the
    output can take any real value.

    Parameters
    ----------
    dims : sequence of int
        Layer widths, input first and output last (at least two entries).
    activation : str or None, default="relu"
        Hidden activation, see :func:`make_activation`.
    dropout : float, default=0.0
        Dropout probability after each hidden activation.
    batch_norm : bool, default=False
        Whether to insert batch normalisation before each hidden activation.

    Examples
    --------
    >>> import torch
    >>> net = MLP([4, 8, 2])
    >>> net(torch.zeros(3, 4)).shape
    torch.Size([3, 2])
    """

    def __init__(
        self,
        dims: Sequence[int],
        activation: str | None = "relu",
        dropout: float = 0.0,
        batch_norm: bool = False,
    ) -> None:
        dims = [int(d) for d in dims]
        if len(dims) < 2 or min(dims) < 1:
            raise ValueError(f"MLP needs at least two positive widths, got {dims}.")
        layers: list[nn.Module] = []
        for i, (d_in, d_out) in enumerate(zip(dims[:-1], dims[1:])):
            layers.append(nn.Linear(d_in, d_out))
            if i < len(dims) - 2:
                if batch_norm:
                    layers.append(nn.BatchNorm1d(d_out))
                layers.append(make_activation(activation))
                if dropout > 0:
                    layers.append(nn.Dropout(dropout))
        super().__init__(*layers)


class EncoderDecoderNet(nn.Module):
    """An autoencoder made of ``self.encoder`` and ``self.decoder`` (set by subclasses).

    Gives every such net the same ``encode``, ``decode`` and ``forward``.
    """

    encoder: nn.Module
    decoder: nn.Module

    def encode(self, x: torch.Tensor) -> torch.Tensor:
        """Return the latent code of ``x``."""
        return self.encoder(x)

    def decode(self, z: torch.Tensor) -> torch.Tensor:
        """Return the reconstruction decoded from code ``z``."""
        return self.decoder(z)

    def forward(self, x: torch.Tensor) -> torch.Tensor:
        """Return the reconstruction of ``x``."""
        return self.decoder(self.encoder(x))


class AutoEncoderNet(EncoderDecoderNet):
    """A symmetric MLP autoencoder: ``decoder(encoder(x))``.

    The encoder maps ``n_features -> hidden_dims -> latent_dim``; the decoder
    mirrors it. The output layer is the identity, so standardised (negative)
    inputs can be reconstructed.

    Parameters
    ----------
    n_features : int
        Input width.
    hidden_dims : sequence of int, default=(64, 32)
        Widths of the encoder's hidden layers (the decoder uses them reversed).
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
    >>> net = AutoEncoderNet(5, hidden_dims=(4,), latent_dim=2)
    >>> net(torch.zeros(3, 5)).shape
    torch.Size([3, 5])
    >>> net.encode(torch.zeros(3, 5)).shape
    torch.Size([3, 2])
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
        dims = [n_features, *hidden_dims, latent_dim]
        self.encoder = MLP(dims, activation, dropout, batch_norm)
        self.decoder = MLP(dims[::-1], activation, dropout, batch_norm)
