"""Plots of a fitted :class:`~anomalib_ae.CooksDistanceDetector`."""

from __future__ import annotations

from typing import TYPE_CHECKING, Any

import numpy as np
from sklearn.utils.validation import check_is_fitted

from anomalib_ae.detectors._validation import validate_rows

if TYPE_CHECKING:
    from matplotlib.axes import Axes

    from anomalib_ae.detectors.cooks import CooksDistanceDetector


def _axes(ax: Axes | None) -> Axes:
    if ax is not None:
        return ax
    from matplotlib.figure import Figure

    return Figure().add_subplot()


def plot_cooks_distance(
    detector: CooksDistanceDetector, *, ax: Axes | None = None, annotate: int = 3
) -> Axes:
    """Index plot of the in-sample Cook's distances with the threshold line.

    Parameters
    ----------
    detector : CooksDistanceDetector
        A fitted detector.
    ax : matplotlib Axes or None, default=None
        Where to draw; ``None`` draws on a new figure (not registered with
        pyplot, so it works with any backend and leaks nothing).
    annotate : int, default=3
        Label this many rows with the largest distances by their index.

    Returns
    -------
    matplotlib Axes

    Examples
    --------
    >>> import numpy as np
    >>> from anomalib_ae import CooksDistanceDetector
    >>> X = np.random.default_rng(0).normal(size=(30, 3))
    >>> ax = plot_cooks_distance(CooksDistanceDetector(target=0).fit(X))
    >>> ax.get_ylabel()
    "Cook's distance"
    """
    check_is_fitted(detector)
    ax = _axes(ax)
    dist = detector.cooks_distance_
    index = np.arange(len(dist))
    ax.vlines(index, 0.0, dist, color="C0", linewidth=1)
    ax.plot(index, dist, "o", color="C0", markersize=3)
    ax.axhline(
        detector.threshold_,
        color="C3",
        linestyle="--",
        label=f"threshold {detector.threshold_:.3g}",
    )
    for i in np.argsort(dist)[::-1][: max(annotate, 0)]:
        ax.annotate(str(i), (i, dist[i]), textcoords="offset points", xytext=(3, 3), fontsize=8)
    ax.set_xlabel("row")
    ax.set_ylabel("Cook's distance")
    ax.legend(loc="upper right")
    return ax


def plot_influence(
    detector: CooksDistanceDetector,
    X: Any,
    *,
    target: int = 0,
    ax: Axes | None = None,
    **kwargs: Any,
) -> Axes:
    """statsmodels' influence plot (studentised residual against leverage) of one target.

    The detector keeps no statsmodels results, so the target's regression is
    refitted with ``statsmodels.OLS`` on the training rows ``X`` (aliased
    columns left out, as in the detector) and passed to
    ``statsmodels.graphics.regressionplots.influence_plot``.

    Parameters
    ----------
    detector : CooksDistanceDetector
        A fitted detector.
    X : array-like of shape (n_samples, n_features)
        The rows it was fitted on.
    target : int, default=0
        Which of ``detector.targets_`` to plot (a position in that array).
    ax : matplotlib Axes or None, default=None
        Where to draw; ``None`` draws on a new figure.
    **kwargs
        Passed to statsmodels' ``influence_plot`` (e.g. ``criterion="DFFITS"``).

    Returns
    -------
    matplotlib Axes

    Examples
    --------
    >>> import numpy as np
    >>> from anomalib_ae import CooksDistanceDetector
    >>> X = np.random.default_rng(0).normal(size=(30, 3))
    >>> ax = plot_influence(CooksDistanceDetector(target=0).fit(X), X)
    >>> ax.get_xlabel()
    'Leverage'
    """
    import statsmodels.api as sm

    check_is_fitted(detector)
    X = np.asarray(validate_rows(detector, X, reset=False), dtype=np.float64)
    if len(X) != detector.n_samples_fit_:
        raise ValueError(
            f"X has {len(X)} rows but the detector was fitted on {detector.n_samples_fit_}; "
            "pass the training rows."
        )
    if not 0 <= target < len(detector.targets_):
        raise ValueError(f"target={target} must be in [0, {len(detector.targets_)}).")
    if not detector.informative_targets_[target]:
        raise ValueError("This target is fitted exactly by the other columns; nothing to plot.")
    column = detector.targets_[target]
    regressors = detector.kept_columns_[detector.kept_columns_ != column]
    results = sm.OLS(X[:, column], sm.add_constant(X[:, regressors], has_constant="add")).fit()
    ax = _axes(ax)
    sm.graphics.influence_plot(results, ax=ax, **kwargs)
    return ax
