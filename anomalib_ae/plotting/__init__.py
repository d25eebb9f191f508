"""Diagnostic plots (matplotlib; each function takes and returns an Axes)."""

from anomalib_ae.plotting.cooks import plot_cooks_distance, plot_influence

__all__ = ["plot_cooks_distance", "plot_influence"]
