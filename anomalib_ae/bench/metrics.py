"""Per-job metrics from test labels and anomaly scores (higher = more anomalous).

- ``auroc``: area under the ROC curve (:func:`sklearn.metrics.roc_auc_score`).
- ``auprc``: average precision (:func:`sklearn.metrics.average_precision_score`),
  as ADBench reports it.
- ``precision_at_k`` and ``f1_at_k``: flag the rows whose score is at least the
  k-th highest, k = the true number of anomalies in the test part (the true
  contamination). Without ties exactly k rows are flagged, so precision,
  recall and F1 coincide; tied scores at the threshold flag more rows, which
  lowers precision and lets the two differ.

Non-finite scores
-----------------
A detector may return ``+inf`` (PyOD's PCA divides by the variance of
components that have none). ``+inf`` means "more anomalous than anything
finite", so :func:`sanitize_scores` replaces it by a value above every finite
score (``-inf`` below every finite score), keeping the ranking the detector
gave, and reports how many values it replaced; the job row then carries
status ``warning`` with that note. NaN scores carry no ranking and make the job
an error.
"""

from __future__ import annotations

import numpy as np
from sklearn.metrics import average_precision_score, roc_auc_score

METRICS = ("auroc", "auprc", "f1_at_k", "precision_at_k")


def sanitize_scores(scores: np.ndarray) -> tuple[np.ndarray, str]:
    """Replace +-inf by values just beyond the finite range; return the scores and a note.

    The note also says when every score is the same (the detector ranks all
    rows alike, so its AUROC is 0.5 whatever the data): a degenerate fit that
    should not pass as a result.

    Examples
    --------
    >>> s, note = sanitize_scores(np.array([0.5, np.inf, 1.0]))
    >>> s.tolist(), note
    ([0.5, 2.0, 1.0], '1 infinite score(s) of 3 ranked above every finite score')
    >>> sanitize_scores(np.zeros(4))[1]
    'all 4 scores are equal (every row ranked alike)'
    """
    scores = np.asarray(scores, dtype=np.float64).ravel()
    if np.isnan(scores).any():
        raise ValueError(f"{int(np.isnan(scores).sum())} of {len(scores)} scores are NaN.")
    constant = len(scores) > 1 and bool((scores == scores[0]).all())
    equal = f"all {len(scores)} scores are equal (every row ranked alike)" if constant else ""
    infinite = np.isinf(scores)
    if not infinite.any():
        return scores, equal
    finite = scores[~infinite]
    lo, hi = (finite.min(), finite.max()) if len(finite) else (0.0, 0.0)
    span = max(hi - lo, 1.0)
    out = scores.copy()
    out[scores == np.inf] = hi + span
    out[scores == -np.inf] = lo - span
    note = f"{int(infinite.sum())} infinite score(s) of {len(scores)} ranked " + (
        "above every finite score"
        if (scores[infinite] > 0).all()
        else "beyond the finite range (+inf highest, -inf lowest)"
    )
    return out, "; ".join(n for n in (note, equal) if n)


def top_k_metrics(y: np.ndarray, scores: np.ndarray) -> tuple[float, float]:
    """Precision and F1 when flagging scores >= the k-th highest, k = number of anomalies."""
    y = np.asarray(y).astype(bool)
    k = int(y.sum())
    if k == 0:
        return float("nan"), float("nan")
    threshold = np.sort(scores)[-k]
    flagged = scores >= threshold
    tp = int((flagged & y).sum())
    precision = tp / int(flagged.sum())
    recall = tp / k
    f1 = 0.0 if tp == 0 else 2 * precision * recall / (precision + recall)
    return precision, f1


def compute_metrics(y: np.ndarray, scores: np.ndarray) -> dict[str, float]:
    """AUROC, AUPRC, precision@k and F1@k of finite ``scores`` against 0/1 labels ``y``.

    Examples
    --------
    >>> m = compute_metrics(np.array([0, 0, 1, 1]), np.array([0.1, 0.4, 0.35, 0.8]))
    >>> m["auroc"], m["precision_at_k"], m["f1_at_k"]
    (0.75, 0.5, 0.5)
    """
    y = np.asarray(y).ravel()
    precision, f1 = top_k_metrics(y, scores)
    return {
        "auroc": float(roc_auc_score(y, scores)),
        "auprc": float(average_precision_score(y, scores)),
        "f1_at_k": float(f1),
        "precision_at_k": float(precision),
    }
