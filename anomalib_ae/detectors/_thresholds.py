"""Thresholds without labels: conformal p-values, conformal cuts, and rules on training scores.

All functions take *anomaly* scores (higher = more anomalous), as
``-score_samples`` gives them.

- Split-conformal p-values (Vovk et al., 2005; Bates et al., 2023): with
  ``n`` clean calibration scores ``c_i``, a new row's p-value is
  ``(1 + #{i : c_i >= s}) / (n + 1)``. When the calibration rows and the new
  inliers are exchangeable, ``P(p <= alpha) <= alpha`` for every ``alpha``
  (marginally, over the draw of the calibration set too).
- The calibration-conditional correction of Bates, Candes, Lei, Romano and
  Sesia (2023) maps ``p = i / (n + 1)`` to ``min(1, i / n + eps)`` with the
  Dvoretzky-Kiefer-Wolfowitz-Massart margin ``eps = sqrt(log(2 / delta) / (2 n))``:
  then, with probability at least ``1 - delta`` over the calibration set,
  ``P(p <= alpha | calibration set) <= alpha`` for every ``alpha`` at once.
- Benjamini-Hochberg over a batch of conformal p-values controls the false
  discovery rate (Bates et al., 2023, Theorem 3: the p-values are PRDS).
- Without clean calibration rows: Tukey's IQR rule and a MAD rule on the
  training rows' scores, or any PyThresh thresholder.
"""

from __future__ import annotations

import math
import warnings
from typing import Any

import numpy as np
from scipy.stats import false_discovery_control


def _sorted(calibration: np.ndarray) -> np.ndarray:
    return np.sort(np.asarray(calibration, dtype=np.float64))


def conformal_p_values(
    calibration: np.ndarray, scores: np.ndarray, delta: float | None = None
) -> np.ndarray:
    """Split-conformal p-values of ``scores`` against clean ``calibration`` scores.

    Parameters
    ----------
    calibration : ndarray of shape (n,)
        Anomaly scores of clean calibration rows.
    scores : ndarray of shape (m,)
        Anomaly scores of the rows to test.
    delta : float in (0, 1) or None, default=None
        None: marginal p-values. A float: calibration-conditional p-values,
        valid for the calibration set in hand with probability ``1 - delta``.

    Returns
    -------
    ndarray of shape (m,), values in (0, 1]

    Examples
    --------
    >>> conformal_p_values(np.array([1.0, 2.0, 3.0]), np.array([0.5, 2.5, 9.0])).tolist()
    [1.0, 0.5, 0.25]
    """
    cal = _sorted(calibration)
    n = len(cal)
    at_least = n - np.searchsorted(cal, np.asarray(scores, dtype=np.float64), side="left")
    if delta is None:
        return (1.0 + at_least) / (n + 1.0)
    eps = math.sqrt(math.log(2.0 / delta) / (2.0 * n))
    rank = 1.0 + at_least  # p = rank / (n + 1)
    return np.where(rank > n, 1.0, np.minimum(1.0, rank / n + eps))


def conformal_cut(calibration: np.ndarray, fpr: float) -> float:
    """The anomaly-score cut that flags a row exactly when its conformal p-value is <= ``fpr``.

    A row is flagged when its score is above the cut; fresh inliers are then
    flagged with probability ``floor(fpr * (n + 1)) / (n + 1) <= fpr``.

    Examples
    --------
    >>> conformal_cut(np.arange(1.0, 20.0), 0.1)  # 19 rows: p <= 0.1 for scores above 18
    18.0
    """
    cal = _sorted(calibration)
    n = len(cal)
    k = math.floor(fpr * (n + 1) + 1e-9)  # the largest rank with rank / (n + 1) <= fpr
    if k < 1:
        raise ValueError(
            f"fpr={fpr} needs at least {math.ceil(1.0 / fpr - 1.0 - 1e-9)} calibration rows "
            f"(a conformal p-value is at least 1 / (n + 1)), got {n}; pass more calibration "
            "rows or a larger fpr."
        )
    # p <= fpr  <=>  1 + #{c >= s} <= k  <=>  s > the k-th largest calibration score
    return float(cal[n - k])


def benjamini_hochberg(p_values: np.ndarray, fdr: float) -> np.ndarray:
    """Which p-values Benjamini-Hochberg rejects at level ``fdr`` (boolean array).

    Examples
    --------
    >>> benjamini_hochberg(np.array([0.001, 0.02, 0.5]), 0.05).tolist()
    [True, True, False]
    """
    p = np.asarray(p_values, dtype=np.float64)
    if not len(p):
        return np.zeros(0, dtype=bool)
    return false_discovery_control(p, method="bh") <= fdr


def rule_cut(train: np.ndarray, rule: Any) -> float:
    """The anomaly-score cut (flag above it) of a rule applied to the training rows' scores.

    Parameters
    ----------
    train : ndarray of shape (n,)
        Anomaly scores of the training rows.
    rule : {"iqr", "mad"} or a PyThresh thresholder
        ``"iqr"``: Tukey's fence ``Q3 + 1.5 * (Q3 - Q1)``; ``"mad"``: the
        median plus 3 robust standard deviations, ``median + 3 * 1.4826 *
        MAD``; a thresholder (an object with ``eval(scores)`` returning 1 for
        outliers, as in PyThresh): the largest score it labels an inlier.

    Examples
    --------
    >>> s = np.r_[np.arange(10.0), 100.0]
    >>> rule_cut(s, "iqr"), rule_cut(s, "mad")
    (15.0, 18.3434)
    """
    train = np.asarray(train, dtype=np.float64)
    if rule == "iqr":
        q1, q3 = np.percentile(train, [25.0, 75.0])
        return float(q3 + 1.5 * (q3 - q1))
    if rule == "mad":
        median = float(np.median(train))
        return median + 3.0 * 1.4826 * float(np.median(np.abs(train - median)))
    if not hasattr(rule, "eval"):
        raise ValueError(f"threshold must be 'iqr', 'mad' or a thresholder, got {rule!r}.")
    if np.ptp(train) == 0:  # thresholders normalise by the range: nothing to separate
        return float(train[0])
    with warnings.catch_warnings():
        warnings.simplefilter("ignore", RuntimeWarning)
        labels = np.asarray(rule.eval(train)).ravel()
    if labels.shape != train.shape:
        raise ValueError(
            f"The thresholder {type(rule).__name__} returned {labels.shape[0]} labels for "
            f"{len(train)} scores; it must label each score (1 = outlier)."
        )
    inliers = train[labels == 0]
    return float(inliers.max()) if len(inliers) else -np.inf
