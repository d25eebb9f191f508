"""Convolutional encoders/decoders for images, on flattened rows.

The nets take and return *flattened* rows ``(batch, C*H*W)`` and reshape to
``(batch, C, H, W)`` inside, so the detectors' data pipeline (scaling, the
DataModule, batched inference) stays the same for tables and images.

Any ``H`` and ``W`` work: the image is zero-padded (bottom and right) to a
multiple of ``2**len(channels)``, each stride-2 convolution halves the size
exactly, each stride-2 transposed convolution doubles it exactly, and the
output is cropped back to ``H x W``.
"""

from __future__ import annotations

import math
from collections.abc import Sequence

import torch
from torch import nn
from torch.nn import functional as F

from anomalib_ae.nn.mlp import EncoderDecoderNet, make_activation
from anomalib_ae.nn.vae import LOGVAR_BOUNDS, VAENet


def check_image_shape(image_shape: Sequence[int]) -> tuple[int, int, int]:
    """``(C, H, W)`` from ``(H, W)`` or ``(C, H, W)``; raises ``ValueError`` otherwise.

    Examples
    --------
    >>> check_image_shape((8, 8))
    (1, 8, 8)
    >>> check_image_shape((3, 5, 7))
    (3, 5, 7)
    """
    shape = tuple(int(s) for s in image_shape)
    if len(shape) == 2:
        shape = (1, *shape)
    if len(shape) != 3 or min(shape) < 1:
        raise ValueError(
            f"image_shape must be (H, W) or (C, H, W) with positive sizes, got {tuple(image_shape)}."
        )
    return shape


class ConvEncoder(nn.Module):
    """Strided 3x3 convolutions (each halves H and W), then a linear map to ``out_dim``.

    Parameters
    ----------
    image_shape : tuple of int
        ``(C, H, W)`` of one image.
    channels : sequence of int
        Output channels of each convolution.
    out_dim : int
        Width of the output (the code, or twice it for a VAE).
    activation : str or None
        Activation after each convolution.
    batch_norm : bool
        Batch normalisation after each convolution.
    dropout : float
        Dropout before the linear head.
    """

    def __init__(
        self,
        image_shape: tuple[int, int, int],
        channels: Sequence[int],
        out_dim: int,
        activation: str | None = "relu",
        batch_norm: bool = False,
        dropout: float = 0.0,
    ) -> None:
        super().__init__()
        c, h, w = image_shape
        self.image_shape = (c, h, w)
        factor = 2 ** len(channels)
        self.padded = (math.ceil(h / factor) * factor, math.ceil(w / factor) * factor)
        self.grid = (self.padded[0] // factor, self.padded[1] // factor)
        layers: list[nn.Module] = []
        for c_out in channels:
            layers.append(nn.Conv2d(c, c_out, 3, stride=2, padding=1))
            if batch_norm:
                layers.append(nn.BatchNorm2d(c_out))
            layers.append(make_activation(activation))
            c = c_out
        self.convs = nn.Sequential(*layers)
        self.dropout = nn.Dropout(dropout) if dropout > 0 else nn.Identity()
        self.head = nn.Linear(c * self.grid[0] * self.grid[1], out_dim)

    def forward(self, x: torch.Tensor) -> torch.Tensor:
        c, h, w = self.image_shape
        images = x.reshape(-1, c, h, w)
        images = F.pad(images, (0, self.padded[1] - w, 0, self.padded[0] - h))
        return self.head(self.dropout(self.convs(images).flatten(1)))


class ConvDecoder(nn.Module):
    """A linear map to a coarse grid, then stride-2 transposed convolutions back to ``(C, H, W)``.

    Mirrors :class:`ConvEncoder` (``channels`` given in the encoder's order).
    The last layer is linear (no activation), so standardised inputs can be
    rebuilt; the output is cropped to ``H x W`` and flattened.
    """

    def __init__(
        self,
        image_shape: tuple[int, int, int],
        channels: Sequence[int],
        in_dim: int,
        activation: str | None = "relu",
        batch_norm: bool = False,
    ) -> None:
        super().__init__()
        c, h, w = image_shape
        self.image_shape = (c, h, w)
        factor = 2 ** len(channels)
        self.grid = (math.ceil(h / factor), math.ceil(w / factor))
        widths = list(reversed(channels))
        self.head = nn.Sequential(
            nn.Linear(in_dim, widths[0] * self.grid[0] * self.grid[1]), make_activation(activation)
        )
        layers: list[nn.Module] = []
        for i, c_in in enumerate(widths):
            last = i == len(widths) - 1
            c_out = c if last else widths[i + 1]
            layers.append(nn.ConvTranspose2d(c_in, c_out, 4, stride=2, padding=1))
            if not last:
                if batch_norm:
                    layers.append(nn.BatchNorm2d(c_out))
                layers.append(make_activation(activation))
        self.deconvs = nn.Sequential(*layers)

    def forward(self, z: torch.Tensor) -> torch.Tensor:
        c, h, w = self.image_shape
        lead = z.shape[:-1]
        grid = self.head(z.reshape(-1, z.shape[-1]))
        grid = grid.reshape(-1, grid.shape[1] // (self.grid[0] * self.grid[1]), *self.grid)
        images = self.deconvs(grid)[:, :, :h, :w]
        return images.reshape(*lead, c * h * w)


class ConvAutoEncoderNet(EncoderDecoderNet):
    """Convolutional autoencoder on flattened images ``(batch, C*H*W)``.

    Parameters
    ----------
    image_shape : tuple of int
        ``(H, W)`` or ``(C, H, W)``.
    channels : sequence of int, default=(32, 64)
        Channels of the strided convolutions (the decoder mirrors them).
    latent_dim : int, default=8
        Width of the code.
    activation : str or None, default="relu"
        Hidden activation.
    dropout : float, default=0.0
        Dropout before the encoder's linear head.
    batch_norm : bool, default=False
        Batch normalisation after hidden convolutions.

    Examples
    --------
    >>> net = ConvAutoEncoderNet((5, 7), channels=(4, 8), latent_dim=3)
    >>> net(torch.zeros(2, 35)).shape, net.encode(torch.zeros(2, 35)).shape
    (torch.Size([2, 35]), torch.Size([2, 3]))
    """

    def __init__(
        self,
        image_shape: Sequence[int],
        channels: Sequence[int] = (32, 64),
        latent_dim: int = 8,
        activation: str | None = "relu",
        dropout: float = 0.0,
        batch_norm: bool = False,
    ) -> None:
        super().__init__()
        shape = check_image_shape(image_shape)
        self.encoder = ConvEncoder(shape, channels, latent_dim, activation, batch_norm, dropout)
        self.decoder = ConvDecoder(shape, channels, latent_dim, activation, batch_norm)


class ConvVAENet(nn.Module):
    """Convolutional VAE on flattened images: Gaussian ``q(z|x)``, linear-output decoder.

    Same interface as :class:`~anomalib_ae.nn.VAENet` (``posterior``,
    ``reparameterize``, ``encode``, ``decode``, ``forward``); parameters as
    :class:`ConvAutoEncoderNet`.

    Examples
    --------
    >>> net = ConvVAENet((1, 8, 8), channels=(4,), latent_dim=2)
    >>> mu, logvar = net.posterior(torch.zeros(3, 64))
    >>> mu.shape, net.decode(torch.zeros(5, 3, 2)).shape
    (torch.Size([3, 2]), torch.Size([5, 3, 64]))
    """

    def __init__(
        self,
        image_shape: Sequence[int],
        channels: Sequence[int] = (32, 64),
        latent_dim: int = 8,
        activation: str | None = "relu",
        dropout: float = 0.0,
        batch_norm: bool = False,
    ) -> None:
        super().__init__()
        shape = check_image_shape(image_shape)
        self.latent_dim = int(latent_dim)
        self.encoder = ConvEncoder(shape, channels, 2 * latent_dim, activation, batch_norm, dropout)
        self.decoder = ConvDecoder(shape, channels, latent_dim, activation, batch_norm)

    def posterior(self, x: torch.Tensor) -> tuple[torch.Tensor, torch.Tensor]:
        """Mean and (clamped) log-variance of ``q(z|x)``."""
        mu, logvar = self.encoder(x).chunk(2, dim=-1)
        return mu, logvar.clamp(*LOGVAR_BOUNDS)

    reparameterize = staticmethod(VAENet.reparameterize)

    def encode(self, x: torch.Tensor) -> torch.Tensor:
        """The posterior mean: the deterministic code of ``x``."""
        return self.posterior(x)[0]

    def decode(self, z: torch.Tensor) -> torch.Tensor:
        """Decoder mean (flattened images) for codes ``z`` (any leading axes)."""
        return self.decoder(z)

    def forward(self, x: torch.Tensor) -> torch.Tensor:
        """Reconstruction decoded from the posterior mean (deterministic)."""
        return self.decode(self.encode(x))
