"""Pure torch modules: encoders, decoders and autoencoder nets (no Lightning, no sklearn)."""

from anomalib_ae.nn.mlp import MLP, AutoEncoderNet, make_activation
from anomalib_ae.nn.noise import corrupt
from anomalib_ae.nn.vae import VAENet, gaussian_kl, gaussian_nll

__all__ = [
    "MLP",
    "AutoEncoderNet",
    "VAENet",
    "corrupt",
    "gaussian_kl",
    "gaussian_nll",
    "make_activation",
]
