"""scikit-learn-compatible outlier detectors."""

from anomalib_ae.detectors.autoencoder import AutoEncoderDetector
from anomalib_ae.detectors.base import BaseDetector, BaseNeuralDetector
from anomalib_ae.detectors.contractive import ContractiveAutoEncoderDetector
from anomalib_ae.detectors.cooks import CollinearityWarning, CooksDistanceDetector
from anomalib_ae.detectors.cvae import ConditionalVAEDetector
from anomalib_ae.detectors.denoising import DenoisingAutoEncoderDetector
from anomalib_ae.detectors.ensemble import AutoEncoderEnsembleDetector
from anomalib_ae.detectors.ganomaly import GANomalyDetector
from anomalib_ae.detectors.made import MADEDetector
from anomalib_ae.detectors.pixelcnn import PixelCNNDetector
from anomalib_ae.detectors.seed_ensemble import SeedEnsembleDetector
from anomalib_ae.detectors.vae import VAEDetector

__all__ = [
    "AutoEncoderDetector",
    "AutoEncoderEnsembleDetector",
    "BaseDetector",
    "BaseNeuralDetector",
    "CollinearityWarning",
    "ConditionalVAEDetector",
    "ContractiveAutoEncoderDetector",
    "CooksDistanceDetector",
    "DenoisingAutoEncoderDetector",
    "MADEDetector",
    "PixelCNNDetector",
    "GANomalyDetector",
    "SeedEnsembleDetector",
    "VAEDetector",
]
