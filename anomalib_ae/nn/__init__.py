"""Pure torch modules: encoders, decoders and autoencoder nets (no Lightning, no sklearn)."""

from anomalib_ae.nn.mlp import MLP, AutoEncoderNet, make_activation

__all__ = ["MLP", "AutoEncoderNet", "make_activation"]
