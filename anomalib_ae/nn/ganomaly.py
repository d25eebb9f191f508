"""The GANomaly net: an encoder-decoder-encoder generator and a discriminator (Akcay et al., 2018)."""

from __future__ import annotations

from collections.abc import Sequence

import torch
from torch import nn

from anomalib_ae.nn.conv import ConvAutoEncoderNet, ConvEncoder, check_image_shape
from anomalib_ae.nn.mlp import MLP, AutoEncoderNet, EncoderDecoderNet


class GANomalyNet(EncoderDecoderNet):
    """Generator ``x -> z -> x_hat -> z_hat`` and a discriminator ``x -> features -> logit``.

    ``encode``/``decode``/``forward`` are those of the generator's autoencoder,
    so the reconstruction score terms read it as any autoencoder;
    :meth:`recode` is the second encoder and :meth:`features` the
    discriminator's last hidden layer.

    Parameters
    ----------
    n_features : int
        Input width (``C*H*W`` for images).
    hidden_dims : sequence of int, default=(64, 32)
        Hidden widths of the MLP encoders, decoder and discriminator.
    latent_dim : int, default=8
        Width of the code ``z``.
    activation : str or None, default="relu"
    image_shape : tuple of int or None, default=None
        ``(C, H, W)``: build the conv nets of :mod:`anomalib_ae.nn.conv` instead.
    channels : sequence of int, default=(32, 64)
        Channels of the conv nets.

    Examples
    --------
    >>> net = GANomalyNet(5, hidden_dims=(4,), latent_dim=2)
    >>> x = torch.zeros(3, 5)
    >>> net(x).shape, net.recode(net(x)).shape, net.discriminate(x).shape
    (torch.Size([3, 5]), torch.Size([3, 2]), torch.Size([3]))
    >>> GANomalyNet(16, latent_dim=2, image_shape=(4, 4), channels=(2,))(torch.zeros(1, 16)).shape
    torch.Size([1, 16])
    """

    def __init__(
        self,
        n_features: int,
        hidden_dims: Sequence[int] = (64, 32),
        latent_dim: int = 8,
        activation: str | None = "relu",
        image_shape: Sequence[int] | None = None,
        channels: Sequence[int] = (32, 64),
    ) -> None:
        super().__init__()
        if image_shape is not None:
            shape = check_image_shape(image_shape)
            ae = ConvAutoEncoderNet(shape, channels, latent_dim, activation)
            self.encoder2: nn.Module = ConvEncoder(shape, channels, latent_dim, activation)
            width = int(channels[-1])
            self.critic: nn.Module = nn.Sequential(
                ConvEncoder(shape, channels, width, activation), nn.LeakyReLU(0.2)
            )
        else:
            dims = [n_features, *[int(h) for h in hidden_dims], latent_dim]
            ae = AutoEncoderNet(n_features, tuple(dims[1:-1]), latent_dim, activation)
            self.encoder2 = MLP(dims, activation)
            width = dims[1] if len(dims) > 2 else latent_dim
            self.critic = nn.Sequential(MLP([n_features, width], activation), nn.LeakyReLU(0.2))
        self.encoder, self.decoder = ae.encoder, ae.decoder
        self.head = nn.Linear(width, 1)

    def recode(self, x_hat: torch.Tensor) -> torch.Tensor:
        """The second encoder: the code ``z_hat`` of a reconstruction."""
        return self.encoder2(x_hat)

    def features(self, x: torch.Tensor) -> torch.Tensor:
        """The discriminator's last hidden layer (feature matching)."""
        return self.critic(x)

    def discriminate(self, x: torch.Tensor) -> torch.Tensor:
        """The discriminator's logit that ``x`` is a real row, shape ``(batch,)``."""
        return self.head(self.features(x)).squeeze(-1)

    def generator_parameters(self) -> list[nn.Parameter]:
        """Parameters of the encoder, decoder and second encoder."""
        mods = (self.encoder, self.decoder, self.encoder2)
        return [p for m in mods for p in m.parameters()]

    def discriminator_parameters(self) -> list[nn.Parameter]:
        """Parameters of the discriminator."""
        return [*self.critic.parameters(), *self.head.parameters()]
