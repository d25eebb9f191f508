"""anomalib_ae: autoencoder, VAE and regression-influence anomaly detectors.

Every detector follows scikit-learn's outlier-detector contract (``fit``,
``score_samples``, ``decision_function``, ``predict``) and the neural ones are
trained with PyTorch Lightning.
"""

from anomalib_ae._version import __version__
from anomalib_ae.detectors import (
    AutoEncoderDetector,
    AutoEncoderEnsembleDetector,
    ConditionalVAEDetector,
    ContractiveAutoEncoderDetector,
    CooksDistanceDetector,
    DenoisingAutoEncoderDetector,
    GANomalyDetector,
    MADEDetector,
    PixelCNNDetector,
    SeedEnsembleDetector,
    VAEDetector,
)
from anomalib_ae.persistence import load
from anomalib_ae.registry import get_detector, list_detectors, register

__all__ = [
    "AutoEncoderDetector",
    "ConditionalVAEDetector",
    "AutoEncoderEnsembleDetector",
    "ContractiveAutoEncoderDetector",
    "CooksDistanceDetector",
    "DenoisingAutoEncoderDetector",
    "MADEDetector",
    "PixelCNNDetector",
    "GANomalyDetector",
    "SeedEnsembleDetector",
    "VAEDetector",
    "__version__",
    "get_detector",
    "list_detectors",
    "load",
    "register",
]
