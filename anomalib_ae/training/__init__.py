"""Lightning training core: systems, the DataModule, the trainer factory, batched inference."""

from anomalib_ae.training.data import ArrayBatches, ArrayDataModule
from anomalib_ae.training.denoising import DenoisingSystem
from anomalib_ae.training.inference import predict_batches
from anomalib_ae.training.systems import ReconstructionSystem, TrainingDivergedError
from anomalib_ae.training.trainer import cpu_threads, make_trainer, quiet_lightning
from anomalib_ae.training.vae import VAESystem

__all__ = [
    "ArrayBatches",
    "ArrayDataModule",
    "DenoisingSystem",
    "ReconstructionSystem",
    "TrainingDivergedError",
    "VAESystem",
    "cpu_threads",
    "make_trainer",
    "predict_batches",
    "quiet_lightning",
]
