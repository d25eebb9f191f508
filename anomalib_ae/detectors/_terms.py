"""The parameters that choose an autoencoder's score terms: ``error_scaling``, ``code_neighbors``,
``input_neighbors``.

(``neighbor_index`` chooses how the neighbour terms search.)

``error_scaling`` sets the :class:`~anomalib_ae.scoring.ReconstructionError`
term's per-feature scaling; ``code_neighbors`` adds a
:class:`~anomalib_ae.scoring.CodeNeighborDistance` term; ``input_neighbors``
scores wide tables by an :class:`~anomalib_ae.scoring.InputNeighborDistance`
instead of the net's terms. A detector without one of the parameters gets it off.
"""

from __future__ import annotations

import math
from numbers import Integral
from typing import Any

from sklearn.utils._param_validation import Interval, StrOptions

from anomalib_ae.scoring import (
    CodeDensity,
    CodeNeighborDistance,
    InputNeighborDistance,
    ReconstructionError,
    ScoreTerm,
)

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

INPUT_NEIGHBOR_DEFAULTS: dict[str, Any] = {"input_neighbors": "auto"}
INPUT_NEIGHBOR_CONSTRAINTS: dict[str, list] = {"input_neighbors": [StrOptions({"auto"}), None]}

WIDE_KEEP = 0.5
"""A table is wide when ``ceil(WIDE_KEEP * n_rows) <= n_features`` (:func:`is_wide`)."""

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


def is_wide(n_rows: int, n_features: int, keep: float = WIDE_KEEP) -> bool:
    """Whether ``keep`` of the ``n_rows`` training rows are no more than the features.

    The shape where a covariance (or a net) fitted on those rows is not to be
    trusted and the input-space neighbour distance scores better: image and
    text embeddings of a few hundred rows (``docs/defaults.md``). One row has
    no neighbour, so it is never wide.

    Examples
    --------
    >>> is_wide(300, 512), is_wide(1100, 512), is_wide(1, 10)
    (True, False, False)
    """
    return 2 <= n_rows and math.ceil(keep * n_rows) <= n_features


def table_terms(detector: Any, net_terms: list[ScoreTerm]) -> list[ScoreTerm]:
    """``net_terms``, or the input-neighbour term on wide tables when ``input_neighbors="auto"``.

    Conv nets (images) always keep their terms. Called once the training
    codes are indexed (``code_index_`` holds the training rows' count).
    """
    if getattr(detector, "input_neighbors", None) != "auto" or detector._uses_conv():
        return net_terms
    if is_wide(detector.code_index_.n_samples, detector.n_features_in_):
        return [InputNeighborDistance()]
    return net_terms
