"""A neural detector's score from top to bottom: net -> terms -> combination -> offset.

Every neural detector scores through these functions; a detector only says
which terms make its score (``_score_terms``) and how its net's outputs come
out (``_outputs``, a :class:`~anomalib_ae.scoring.NetOutputs` class).

1. **net**: the trained net in the scoring precision (:func:`scoring_net`).
2. **terms**: each term is fitted on the training rows' outputs and gives
   one value per row (:class:`~anomalib_ae.scoring.ScoreTerm`).
3. **combination**: :func:`~anomalib_ae.scoring.combine`, each term over its
   training median when there are several.
4. **offset**: the ``contamination`` quantile of the training rows' scores.
"""

from __future__ import annotations

from typing import Any

import numpy as np
import torch

from anomalib_ae.scoring._base import ScoreTerm, combine, positive_median
from anomalib_ae.scoring.approximate import make_index
from anomalib_ae.scoring.outputs import NetOutputs, TrainingOutputs, collect
from anomalib_ae.scoring.precision import scoring_net


def _spec(terms: list[ScoreTerm]) -> list[str]:
    return [term.spec() for term in terms]


def fit_score(detector: Any, X: np.ndarray) -> None:
    """Fit the score of a detector whose net is trained, on its training rows ``X``.

    Sets ``code_index_`` (the training codes, for ``kneighbors`` and the
    code-space terms; exact or approximate search as ``neighbor_index`` says), ``score_terms_`` (the fitted terms that apply),
    ``score_scales_`` (their training medians, or None for one term) and
    ``offset_``.
    """
    # 1. net
    net, dtype = scoring_net(detector)
    train = TrainingOutputs(detector, X, net, dtype)
    codes = train.get("codes")
    detector._n_features_out = int(codes.shape[1])
    detector.code_index_ = make_index(codes, getattr(detector, "neighbor_index", "auto"))
    del codes
    # 2. terms
    declared = detector._score_terms()
    fitted = [(term, train.fit(term)) for term in declared]
    fitted = [(term, values) for term, values in fitted if values is not None]
    detector.score_terms_ = [term for term, _ in fitted]
    detector.score_spec_ = _spec(declared)
    values = np.stack([values for _, values in fitted], axis=1)
    # 3. combination
    detector.score_scales_ = [positive_median(v) for _, v in fitted] if len(fitted) > 1 else None
    scores = combine(values, detector.score_scales_, _weights(detector))
    # 4. offset
    detector._set_offset(-scores)


def anomaly_scores(detector: Any, X: np.ndarray) -> np.ndarray:
    """Anomaly scores (higher = more anomalous) of validated rows ``X``."""
    terms = fitted_terms(detector)
    values = collect(detector, X, lambda out: torch.stack([t.values(out) for t in terms], 1))
    return combine(values, detector.score_scales_, _weights(detector))


def feature_scores(detector: Any, X: np.ndarray) -> np.ndarray:
    """Per-feature parts of the first term that has them, else the net's per-feature errors."""
    terms = fitted_terms(detector)

    def read(out: NetOutputs) -> torch.Tensor:
        for term in terms:
            parts = term.feature_values(out)
            if parts is not None:
                return parts
        errors = out.errors
        return errors.mean(1) if errors.ndim == 3 else errors  # an ensemble's members averaged

    return collect(detector, X, read)


def codes(detector: Any, X: np.ndarray) -> np.ndarray:
    """Latent codes of validated rows ``X`` (``transform``)."""
    return collect(detector, X, lambda out: out.codes).reshape(len(X), -1)


def fitted_terms(detector: Any) -> list[ScoreTerm]:
    """The fitted terms, after checking that the score parameters are still those of ``fit``."""
    declared = _spec(detector._score_terms())
    if declared != detector.score_spec_:
        raise ValueError(
            f"The score parameters of this {type(detector).__name__} changed after fit "
            f"(fitted terms {detector.score_spec_}, now {declared}); its terms were fitted "
            "for the old ones. Refit it (with the same random_state the net is the same)."
        )
    return detector.score_terms_


def _weights(detector: Any) -> list[float]:
    return [term.weight for term in detector.score_terms_]
