"""Diagnostic plots (matplotlib; each function takes and returns an Axes)."""

from anomalib_ae.plotting.cooks import plot_cooks_distance, plot_influence
from anomalib_ae.plotting.images import (
    plot_interpolation,
    plot_latent_scatter,
    plot_latent_traversal,
    plot_reconstructions,
    reconstruct,
)

__all__ = [
    "plot_cooks_distance",
    "plot_influence",
    "plot_interpolation",
    "plot_latent_scatter",
    "plot_latent_traversal",
    "plot_reconstructions",
    "reconstruct",
]
