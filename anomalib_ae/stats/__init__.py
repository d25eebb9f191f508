"""Pure numerical statistics (numpy/scipy only) used by the detectors."""

from anomalib_ae.stats.influence import (
    Influence,
    LinearState,
    cooks_pvalues,
    fit_influence,
    score_influence,
)

__all__ = ["Influence", "LinearState", "cooks_pvalues", "fit_influence", "score_influence"]
