"""Lightning training core: systems, the DataModule, the trainer factory, batched inference."""

from anomalib_ae.training.data import ArrayBatches, ArrayDataModule
from anomalib_ae.training.inference import predict_batches
from anomalib_ae.training.systems import ReconstructionSystem, TrainingDivergedError
from anomalib_ae.training.trainer import make_trainer, quiet_lightning

__all__ = [
    "ArrayBatches",
    "ArrayDataModule",
    "ReconstructionSystem",
    "TrainingDivergedError",
    "make_trainer",
    "predict_batches",
    "quiet_lightning",
]
