"""The parameters that choose an autoencoder's score terms: ``error_scaling``, ``code_neighbors``.

(``neighbor_index`` chooses how the code-neighbour term searches.)

``error_scaling`` sets the :class:`~anomalib_ae.scoring.ReconstructionError`
term's per-feature scaling; ``code_neighbors`` adds a
:class:`~anomalib_ae.scoring.CodeNeighborDistance` term. A detector without
one of the parameters gets it off.
"""

from __future__ import annotations

from numbers import Integral
from typing import Any

from sklearn.utils._param_validation import Interval, StrOptions

from anomalib_ae.scoring import CodeDensity, CodeNeighborDistance, ReconstructionError, ScoreTerm

ERROR_SCALE_DEFAULTS: dict[str, Any] = {"error_scaling": "auto"}
ERROR_SCALE_CONSTRAINTS: dict[str, list] = {
    "error_scaling": [StrOptions({"auto", "median", "none"})],
}
CODE_SCORE_DEFAULTS: dict[str, Any] = {"code_neighbors": "auto", "neighbor_index": "auto"}
CODE_SCORE_CONSTRAINTS: dict[str, list] = {
    "code_neighbors": [Interval(Integral, 0, None, closed="left"), StrOptions({"auto"})],
    "neighbor_index": [StrOptions({"auto", "exact", "approximate"})],
}

CODE_DENSITY_DEFAULTS: dict[str, Any] = {"code_density": False}
CODE_DENSITY_CONSTRAINTS: dict[str, list] = {"code_density": ["boolean"]}

TABLE_CODE_NEIGHBORS = 5
"""The ``k`` of ``code_neighbors="auto"`` on tables (MLP nets); 1 on conv nets."""


def reconstruction_term(detector: Any) -> ReconstructionError:
    """The reconstruction term: ``"auto"`` scales errors on MLP nets, not on conv nets.

    Conv nets: a border pixel that is black in every training image has a
    median error of ~0, so scaling would blow its errors up.
    """
    mode = getattr(detector, "error_scaling", "none")
    if mode == "auto":
        mode = "none" if detector._uses_conv() else "median"
    return ReconstructionError(scaling=mode)


def neighbor_terms(detector: Any) -> list[ScoreTerm]:
    """The code-neighbour term, if ``code_neighbors`` asks for one (``"auto"``: 5 on tables, 1 on images)."""
    k = getattr(detector, "code_neighbors", 0)
    if k == "auto":
        k = 1 if detector._uses_conv() else TABLE_CODE_NEIGHBORS
    return [CodeNeighborDistance(k=int(k))] if k else []


def density_terms(detector: Any) -> list[ScoreTerm]:
    """The latent-density term (a MADE on the training codes), if ``code_density`` asks for it."""
    return [CodeDensity()] if getattr(detector, "code_density", False) else []
