"""Thresholds people can defend without labels, for every detector: calibration and p-values.

:class:`CalibrationMixin` gives a detector (through
:class:`~anomalib_ae.detectors.BaseDetector`)

- ``calibrate(X_cal)``: keep the scores of clean calibration rows (no refit);
  the ``calibration`` parameter holds out that share of the rows given to ``fit``;
- ``p_values(X)``: split-conformal p-values against them;
- ``flag(X, fdr=q)``: Benjamini-Hochberg over a batch's p-values;
- the threshold ``offset_``: the ``contamination`` quantile of the training
  scores (default), a rule on them (``threshold="iqr"``, ``"mad"`` or a
  PyThresh thresholder), or, with ``fpr`` set, the conformal cut that flags
  about that share of fresh inliers.

The arithmetic is in :mod:`anomalib_ae.detectors._thresholds`.
"""

from __future__ import annotations

import warnings
from numbers import Real
from typing import Any

import numpy as np
from sklearn.utils import _safe_indexing
from sklearn.utils._param_validation import HasMethods, Interval, StrOptions
from sklearn.utils.validation import _num_samples, check_is_fitted

from anomalib_ae.detectors._params import seed_from
from anomalib_ae.detectors._thresholds import (
    benjamini_hochberg,
    conformal_cut,
    conformal_p_values,
    rule_cut,
)
from anomalib_ae.detectors._validation import check_finite_scores
from anomalib_ae.detectors._warnings import caller_stacklevel
from anomalib_ae.training.sparse import SparseRows, take_rows

RULES = ("iqr", "mad")

CALIBRATION_DEFAULTS: dict[str, Any] = {"calibration": None, "fpr": None, "threshold": None}
"""The calibration and threshold parameters every detector takes, and their defaults."""

CALIBRATION_CONSTRAINTS: dict[str, list] = {
    "calibration": [Interval(Real, 0, 1, closed="neither"), None],
    "fpr": [Interval(Real, 0, 1, closed="neither"), None],
    "threshold": [StrOptions(set(RULES)), HasMethods(["eval"]), None],
}


class CalibrationMixin:
    """``calibrate``, ``p_values``, ``flag`` and the threshold rules (see the module)."""

    # ---- in fit ------------------------------------------------------------------------
    def _split_calibration(self, X: Any) -> tuple[Any, Any | None]:
        """``(fit rows, calibration rows)``: a random ``calibration`` share held out of ``X``.

        Called in ``fit`` on the validated rows, before anything is trained on
        them (so the calibration rows are also kept apart from an early-stopping
        split, which ``fit`` takes from the rows left).
        """
        share = getattr(self, "calibration", None)
        if share is None:
            return X, None
        n = _num_samples(X)
        n_cal = int(round(share * n))
        if not 1 <= n_cal <= n - 1:
            raise ValueError(
                f"calibration={share} of {n} rows leaves {n_cal} calibration and {n - n_cal} "
                "training rows; both need at least one. Pass more rows or another share."
            )
        seed = seed_from(getattr(self, "random_state", None))
        order = np.random.default_rng([seed, 0xCA1]).permutation(n)
        if isinstance(X, SparseRows):  # sparse rows stay sparse
            return take_rows(X, np.sort(order[n_cal:])), take_rows(X, np.sort(order[:n_cal]))
        return _safe_indexing(X, np.sort(order[n_cal:])), _safe_indexing(X, np.sort(order[:n_cal]))

    def _set_offset(self, train_scores: np.ndarray) -> None:
        """``offset_`` from the training rows' ``score_samples``: ``contamination`` or a rule."""
        rule = getattr(self, "threshold", None)
        if rule is None:
            self.offset_ = float(np.percentile(train_scores, 100.0 * self.contamination))
        else:
            self.offset_ = -rule_cut(-np.asarray(train_scores, dtype=np.float64), rule)

    def _finish_calibration(self, X_cal: Any | None) -> None:
        """The last step of ``fit``: calibrate on the held-out (validated) rows, if any."""
        self.calibration_scores_ = None
        if X_cal is not None:
            scores = np.asarray(self._anomaly_scores(X_cal), dtype=np.float64)
            self._store_calibration(check_finite_scores(scores))
        elif getattr(self, "fpr", None) is not None:
            warnings.warn(
                f"fpr={self.fpr} sets the threshold from calibration rows, and there are none "
                "yet: offset_ follows contamination until calibrate(X_cal) is called with clean "
                "rows (or fit with calibration=0.2 to hold out a share of X).",
                UserWarning,
                stacklevel=caller_stacklevel(),
            )

    # ---- after fit ---------------------------------------------------------------------
    def calibrate(self, X: Any) -> Any:
        """Keep the anomaly scores of clean calibration rows ``X`` (no refit).

        They give :meth:`p_values` and :meth:`flag`, and with ``fpr`` set they
        move ``offset_`` to the conformal cut at that false-positive rate. The
        rows must be inliers drawn like the rows to be tested (exchangeable)
        and not used in ``fit``; anomalies among them make the p-values
        conservative (larger), not invalid.

        Parameters
        ----------
        X : array-like of shape (n_samples, n_features)

        Returns
        -------
        self
        """
        check_is_fitted(self)
        self._store_calibration(self.anomaly_score(X))
        return self

    def _store_calibration(self, anomaly_scores: np.ndarray) -> None:
        scores = np.sort(np.asarray(anomaly_scores, dtype=np.float64))
        fpr = getattr(self, "fpr", None)
        offset = -conformal_cut(scores, fpr) if fpr is not None else None  # raises first
        self.calibration_scores_ = scores
        if offset is not None:
            self.offset_ = offset

    def _calibration(self) -> np.ndarray:
        check_is_fitted(self)
        scores = getattr(self, "calibration_scores_", None)
        if scores is None:
            raise ValueError(
                f"This {type(self).__name__} has no calibration scores: call "
                "calibrate(X_cal) with clean rows not used in fit, or fit with calibration=0.2 "
                "to hold out a share of the training rows."
            )
        return scores

    def p_values(self, X: Any, delta: float | None = None) -> np.ndarray:
        """Conformal p-value of each row: small when the row scores above the calibration rows.

        ``(1 + #{calibration scores >= s}) / (n_cal + 1)`` for a row with
        anomaly score ``s``. For an inlier exchangeable with the calibration
        rows, ``P(p <= alpha) <= alpha``.

        Parameters
        ----------
        X : array-like of shape (n_samples, n_features)
        delta : float in (0, 1) or None, default=None
            None: marginal p-values (valid on average over calibration sets).
            A float: the calibration-conditional p-values of Bates et al. (2023),
            valid for the calibration set in hand with probability ``1 - delta``
            (larger p-values).

        Returns
        -------
        ndarray of shape (n_samples,)
        """
        calibration = self._calibration()
        if delta is not None and not (isinstance(delta, Real) and 0 < delta < 1):
            raise ValueError(f"delta must be a float in (0, 1) or None, got {delta!r}.")
        return conformal_p_values(calibration, self.anomaly_score(X), delta)

    def flag(self, X: Any, fdr: float = 0.1, delta: float | None = None) -> np.ndarray:
        """Flag the rows of a batch with the false discovery rate controlled at ``fdr``.

        Benjamini-Hochberg over the batch's :meth:`p_values`: among the flagged
        rows, the expected share of inliers is at most ``fdr``. Unlike
        ``predict``, a row's flag depends on the other rows of its batch.

        Parameters
        ----------
        X : array-like of shape (n_samples, n_features)
        fdr : float in (0, 1), default=0.1
        delta : float or None, default=None
            Passed to :meth:`p_values`.

        Returns
        -------
        ndarray of bool, shape (n_samples,)
            True for flagged rows.
        """
        if not (isinstance(fdr, Real) and 0 < fdr < 1):
            raise ValueError(f"fdr must be a float in (0, 1), got {fdr!r}.")
        return benjamini_hochberg(self.p_values(X, delta), fdr)
