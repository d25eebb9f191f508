"""Pure torch modules: encoders, decoders and autoencoder nets (no Lightning, no sklearn)."""

from anomalib_ae.nn.cvae import ConditionalVAENet
from anomalib_ae.nn.ensemble import AutoEncoderEnsembleNet, ParallelLinear
from anomalib_ae.nn.jacobian import jacobian_frobenius
from anomalib_ae.nn.made import MADENet, MaskedParallelLinear
from anomalib_ae.nn.mlp import MLP, AutoEncoderNet, make_activation
from anomalib_ae.nn.noise import corrupt
from anomalib_ae.nn.tied import TiedAutoEncoderNet, TiedLinear
from anomalib_ae.nn.vae import VAENet, gaussian_kl, gaussian_nll

__all__ = [
    "MLP",
    "ParallelLinear",
    "AutoEncoderEnsembleNet",
    "AutoEncoderNet",
    "ConditionalVAENet",
    "MADENet",
    "MaskedParallelLinear",
    "TiedAutoEncoderNet",
    "TiedLinear",
    "VAENet",
    "corrupt",
    "gaussian_kl",
    "gaussian_nll",
    "jacobian_frobenius",
    "make_activation",
]
