"""The score-term contract, the name -> term table and the one combination rule."""

from __future__ import annotations

import inspect
from typing import TYPE_CHECKING, Any, ClassVar

import numpy as np
import torch

if TYPE_CHECKING:
    from anomalib_ae.scoring.outputs import NetOutputs, TrainingOutputs


class ScoreTerm:
    """One part of a neural detector's anomaly score (higher = more anomalous).

    A term has one job: it is fitted once on the training rows' net outputs,
    then turns the outputs of any scaled batch into one value per row. Its
    configuration is the arguments of its ``__init__``, stored under the same
    names; what ``fit`` learns is stored in attributes ending in ``_`` (plain
    numbers, arrays or tensors, so the detector file format saves them).

    Subclasses set :attr:`name`, are registered with :func:`register_term`, and
    implement:

    - ``fit(train)``: learn from :class:`~anomalib_ae.scoring.TrainingOutputs`
      and return the term's values on the training rows, shape ``(n,)``, or
      ``(n, n_members)`` for an ensemble's outputs (leave-one-out where a row
      would find itself), or ``None`` when the term does not apply to these
      rows (it is then left out of the score);
    - ``values(out)``: the term's values for one batch of
      :class:`~anomalib_ae.scoring.NetOutputs`, shaped like ``fit``'s;
    - optionally ``feature_values(out)``: per-feature parts ``(batch, n_features)``
      (``feature_scores`` of the detector), or ``None`` for none.

    Parameters
    ----------
    weight : float, default=1.0
        Weight of the term in :func:`combine`.

    Examples
    --------
    A term of the default autoencoder, and a user-written one in
    ``docs/guide/extending.md``:

    >>> from anomalib_ae.scoring import ReconstructionError
    >>> term = ReconstructionError(scaling="median")
    >>> term
    ReconstructionError(scaling='median', weight=1.0)
    >>> term.config()
    {'scaling': 'median', 'weight': 1.0}
    """

    name: ClassVar[str] = ""

    def __init__(self, weight: float = 1.0) -> None:
        self.weight = weight

    def fit(self, train: TrainingOutputs) -> np.ndarray | None:
        """Fit on the training rows; return their values (default: no state, just values)."""
        return train.values(self)

    def values(self, out: NetOutputs) -> torch.Tensor:
        """The term's value for each row of one batch."""
        raise NotImplementedError

    def feature_values(self, out: NetOutputs) -> torch.Tensor | None:
        """Per-feature parts of the term for one batch, or ``None``."""
        return None

    def config(self) -> dict[str, Any]:
        """The term's configuration: its ``__init__`` arguments, by name."""
        names = [p for p in inspect.signature(type(self).__init__).parameters if p != "self"]
        return {name: getattr(self, name) for name in names}

    def spec(self) -> str:
        """The term's name and configuration as one string (compared to detect changes)."""
        return f"{self.name}{sorted((k, repr(v)) for k, v in self.config().items())}"

    def __repr__(self) -> str:
        args = ", ".join(f"{k}={v!r}" for k, v in self.config().items())
        return f"{type(self).__name__}({args})"


TERMS: dict[str, type[ScoreTerm]] = {}
"""Registered score terms by name (the names detectors and suites use)."""


def register_term(cls: type[ScoreTerm]) -> type[ScoreTerm]:
    """Class decorator: add a :class:`ScoreTerm` subclass to :data:`TERMS` under its ``name``.

    Registered terms can be named in a detector's parameters and are saved by
    :mod:`anomalib_ae.persistence`.
    """
    if not cls.name:
        raise ValueError(f"{cls.__name__} needs a class attribute `name` to be registered.")
    TERMS[cls.name] = cls
    return cls


def positive_median(values: np.ndarray) -> np.ndarray:
    """Median over rows (axis 0), or the mean absolute value (or 1) where it is not positive.

    Examples
    --------
    >>> positive_median(np.array([[1.0, 0.0], [3.0, 0.0], [2.0, 0.0]])).tolist()
    [2.0, 1.0]
    """
    values = np.asarray(values, dtype=np.float64)
    if not len(values):
        return np.ones(values.shape[1:])
    median = np.median(values, axis=0)
    mean = np.mean(np.abs(values), axis=0)
    return np.where(median > 0, median, np.where(mean > 0, mean, 1.0))


def combine(
    values: np.ndarray, scales: list[np.ndarray] | None, weights: list[float]
) -> np.ndarray:
    """The anomaly score from the terms' values: the one combination rule.

    One term: its values as they are. Several: each term over its training
    median (``scales``), weighted and summed, ``sum_t w_t * v_t / s_t``, so
    that no term dominates by its units and a typical training row scores
    about ``sum_t w_t``. An ensemble's member axis is averaged last.

    Parameters
    ----------
    values : ndarray of shape (n, n_terms) or (n, n_terms, n_members)
    scales : list of ndarray or None
        Each term's training median (scalar, or one per member); None for one term.
    weights : list of float

    Returns
    -------
    ndarray of shape (n,)

    Examples
    --------
    >>> combine(np.array([[2.0, 3.0], [4.0, 6.0]]), [np.float64(2.0), np.float64(3.0)], [1, 1])
    array([2., 4.])
    """
    if values.shape[1] == 1:
        total = values[:, 0]
    else:
        total = sum(w * (values[:, t] / s) for t, (s, w) in enumerate(zip(scales, weights)))
    return total.mean(axis=1) if total.ndim == 2 else total
