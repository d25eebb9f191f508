"""scikit-learn-compatible outlier detectors."""

from anomalib_ae.detectors.autoencoder import AutoEncoderDetector
from anomalib_ae.detectors.base import BaseDetector, BaseNeuralDetector

__all__ = ["AutoEncoderDetector", "BaseDetector", "BaseNeuralDetector"]
