"""Version of the anomalib_ae package."""

__version__ = "0.1.0"
