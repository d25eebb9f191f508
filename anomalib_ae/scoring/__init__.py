"""Score terms: the small parts a neural detector's anomaly score is made of.

A score is a list of :class:`ScoreTerm` objects, each fitted on the training
rows' net outputs and then scoring batches, combined by :func:`combine`;
:mod:`anomalib_ae.scoring.path` runs them (net -> terms -> combination ->
offset). :data:`TERMS` lists the registered terms by name.
"""

from anomalib_ae.scoring._base import TERMS, ScoreTerm, combine, positive_median, register_term
from anomalib_ae.scoring.approximate import EXACT_MAX_ROWS, IVFIndex, SubsetIndex, make_index
from anomalib_ae.scoring.density import CodeDensity, MADEOutputs, NegativeLogLikelihood
from anomalib_ae.scoring.input_neighbors import InputNeighborDistance
from anomalib_ae.scoring.mahalanobis import CodeDeviation, CodeMahalanobis, ResidualMahalanobis
from anomalib_ae.scoring.neighbors import CodeNeighborDistance, ExactIndex, NeighborIndex
from anomalib_ae.scoring.outputs import (
    ConditionalVAEOutputs,
    EnsembleOutputs,
    NetOutputs,
    TrainingOutputs,
    VAEOutputs,
)
from anomalib_ae.scoring.reconstruction import ReconstructionError
from anomalib_ae.scoring.vae import (
    CalibratedELBO,
    KLDivergence,
    NegativeELBO,
    ReconstructionProbability,
    VAEReconstruction,
)

__all__ = [
    "EXACT_MAX_ROWS",
    "TERMS",
    "CalibratedELBO",
    "CodeDensity",
    "CodeDeviation",
    "CodeMahalanobis",
    "CodeNeighborDistance",
    "ConditionalVAEOutputs",
    "EnsembleOutputs",
    "ExactIndex",
    "IVFIndex",
    "InputNeighborDistance",
    "KLDivergence",
    "MADEOutputs",
    "NegativeELBO",
    "NegativeLogLikelihood",
    "NeighborIndex",
    "NetOutputs",
    "ReconstructionError",
    "ReconstructionProbability",
    "ResidualMahalanobis",
    "ScoreTerm",
    "SubsetIndex",
    "TrainingOutputs",
    "VAEOutputs",
    "VAEReconstruction",
    "combine",
    "make_index",
    "positive_median",
    "register_term",
]
