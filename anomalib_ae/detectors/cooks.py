"""CooksDistanceDetector: the linear-regression influence baseline."""

from __future__ import annotations

import warnings
from numbers import Integral, Real
from typing import Any

import numpy as np
from scipy import stats
from sklearn.base import _fit_context
from sklearn.utils._param_validation import HasMethods, Interval, StrOptions
from sklearn.utils.validation import check_is_fitted

from anomalib_ae.detectors._calibration import RULES
from anomalib_ae.detectors._warnings import caller_stacklevel
from anomalib_ae.detectors.base import BaseDetector
from anomalib_ae.stats.influence import (
    Degeneracies,
    Influence,
    LinearState,
    cooks_pvalues,
    fit_influence,
    new_row_cooks_distance,
    score_influence,
)


class CollinearityWarning(UserWarning):
    """The design is (near-)singular: columns were dropped or targets are fitted exactly.

    Examples
    --------
    >>> import warnings
    >>> import numpy as np
    >>> from anomalib_ae.detectors import CooksDistanceDetector
    >>> x = np.arange(10.0)
    >>> X = np.column_stack([x, 2 * x, np.sin(x)])  # column 1 is twice column 0
    >>> with warnings.catch_warnings(record=True) as caught:
    ...     warnings.simplefilter("always")
    ...     _ = CooksDistanceDetector().fit(X)
    >>> any(issubclass(w.category, CollinearityWarning) for w in caught)
    True
    """


class CooksDistanceDetector(BaseDetector):
    """Outlier detector scoring each row by its Cook's distance in a linear regression.

    Cook's distance measures how much a row moves an ordinary least squares
    fit: ``D = e**2 / (k * MSE) * h / (1 - h)**2`` with the row's residual
    ``e``, its leverage ``h`` and ``k`` parameters. It is large for rows that
    are both far out in the regressors (high leverage) and off the fitted
    plane (large residual).

    With ``target`` set, that column is regressed on all the other columns
    (with an intercept). With ``target=None`` every column is regressed on
    all the others and the per-column distances are averaged (or their
    maximum taken), which works on any numeric table; a single column is then
    regressed on the intercept alone (leverage ``1/n``).

    Parameters
    ----------
    target : int, str or None, default=None
        The response column: a position (negative counts from the end) or,
        for a pandas DataFrame with string column names, a name. ``None``
        regresses every column on the others. ``y`` passed to ``fit`` is
        ignored, as for every outlier detector (``GridSearchCV`` passes the
        anomaly labels there); to model a separate response, add it as a
        column: ``fit(np.column_stack([X, y]))`` with ``target=-1``.
    aggregate : {"mean", "max"}, default="mean"
        How the per-target distances of a row are combined when there are
        several targets. Targets that the other columns fit exactly are left
        out.
    threshold : {"4/n", "f_median", "iqr", "mad"}, float, thresholder or None, default=None
        Cook's distance above which ``predict`` flags a row: ``"4/n"`` (a
        common rule of thumb, ``n`` training rows), ``"f_median"`` (the
        median of F(k, n - k), Cook's own yardstick) or a positive number;
        ``"iqr"``, ``"mad"`` or a PyThresh thresholder apply that rule to the
        training rows' distances, as for every detector. ``None`` thresholds
        by ``contamination`` instead.
    contamination : float, default=0.1
        Share of training rows ``predict`` flags when ``threshold=None``, in
        (0, 0.5].
    calibration : float or None, default=None
        Share of the rows given to ``fit`` held out as clean calibration rows
        (for ``p_values``, ``flag`` and ``fpr``; see :class:`AutoEncoderDetector`).
    fpr : float or None, default=None
        Target false-positive rate of ``predict`` on fresh inliers, from the
        calibration rows (see :class:`AutoEncoderDetector`).
    random_state : int, RandomState or None, default=None
        Seeds the ``calibration`` split; the fit itself is deterministic.

    Attributes
    ----------
    cooks_distance_ : ndarray of shape (n_samples,)
        In-sample Cook's distance of each training row (aggregated over the
        targets); for a single target it equals statsmodels'
        ``OLSInfluence(...).cooks_distance[0]``.
    cooks_distance_per_target_ : ndarray of shape (n_samples, n_targets)
        In-sample Cook's distance of each training row in each target's regression.
    leverage_ : ndarray of shape (n_samples, n_targets)
        In-sample leverage (hat-matrix diagonal): large for outliers in the regressors.
    studentized_residuals_ : ndarray of shape (n_samples, n_targets)
        In-sample externally studentised residuals: large for outliers in the target.
    threshold_ : float
        The distance threshold of ``predict`` (``-offset_``).
    offset_ : float
        Threshold on ``score_samples``: ``-threshold`` when ``threshold`` is
        given, else the ``contamination`` quantile of the training rows'
        ``score_samples``.
    targets_ : ndarray of int
        Column positions of the targets.
    informative_targets_ : ndarray of bool, shape (n_targets,)
        False for targets the other columns fit exactly (constant or aliased
        columns, or no more rows than parameters): their distances are 0.
    n_params_ : int
        Parameters of each informative target's regression, intercept included.
    location_, scale_ : ndarray of shape (n_features,)
        Column means and centred norms (1 for constant columns).
    kept_columns_ : ndarray of int
        Columns used as regressors; the others are constant or aliased.
    gram_inv_ : ndarray of shape (n_kept, n_kept)
        Inverse Gram matrix of the kept columns, centred and scaled.
    rss_ : ndarray of shape (n_targets,)
        Residual sum of squares of each target's regression.
    n_samples_fit_ : int
        Number of training rows.
    n_features_in_ : int
        Number of features seen in ``fit``.
    feature_names_in_ : ndarray of str
        Column names seen in ``fit`` (DataFrame input only).

    See Also
    --------
    anomalib_ae.plotting.plot_cooks_distance, anomalib_ae.plotting.plot_influence

    Notes
    -----
    ``score_samples(X)`` is ``-D`` with ``D`` the out-of-sample distance: the
    Cook's distance each row of ``X`` would have if it alone were added to
    the training rows and the regression refitted, computed in closed form
    (Sherman-Morrison) from the stored inverse Gram matrix, residual sums of
    squares and ``n``, without a refit. A row's score never depends on the
    other rows scored with it. On a training row it is therefore the
    distance of that row *counted twice*, smaller than its in-sample
    ``cooks_distance_``; ``offset_`` (for ``contamination``) is taken from
    these scores so that ``predict`` flags the ``contamination`` share of the
    training rows. To flag training rows by their in-sample distance, use
    ``cooks_distance_ > threshold_``.

    Constant columns and columns within ``ALIAS_TOL`` (1e-7, relative) of a
    linear combination of the others are dropped from the regressors with a
    :class:`CollinearityWarning`; a target fitted exactly (including every
    target when there are no more rows than parameters) gets distance 0, as
    do rows of leverage 1. Scores are never NaN.

    All computations share one pivoted QR factorisation of the centred
    table, so ``target=None`` costs about one regression, not one per column.

    References
    ----------
    .. [1] Cook, R. D. (1977). Detection of influential observation in linear
       regression. Technometrics 19(1), 15-18.
    .. [2] Cook, R. D. and Weisberg, S. (1982). Residuals and Influence in
       Regression. Chapman and Hall.

    Examples
    --------
    >>> from statsmodels.datasets import stackloss
    >>> from anomalib_ae import CooksDistanceDetector
    >>> data = stackloss.load_pandas().data
    >>> det = CooksDistanceDetector(target="STACKLOSS", threshold="4/n").fit(data)
    >>> int(det.cooks_distance_.argmax())  # observation 21, the classic influential point
    20
    >>> round(det.threshold_, 3)
    0.19
    >>> det.predict(data.iloc[[0, 20]])
    array([ 1, -1])
    """

    _parameter_constraints: dict = {
        **BaseDetector._parameter_constraints,
        "target": [Integral, str, None],
        "aggregate": [StrOptions({"mean", "max"})],
        "threshold": [
            StrOptions({"4/n", "f_median", *RULES}),
            Interval(Real, 0, None, closed="neither"),
            HasMethods(["eval"]),
            None,
        ],
        "random_state": ["random_state"],
    }

    def __init__(
        self,
        *,
        target: int | str | None = None,
        aggregate: str = "mean",
        threshold: Any = None,
        contamination: float = 0.1,
        calibration: float | None = None,
        fpr: float | None = None,
        random_state: Any = None,
    ) -> None:
        self.target = target
        self.aggregate = aggregate
        self.threshold = threshold
        self.contamination = contamination
        self.calibration = calibration
        self.fpr = fpr
        self.random_state = random_state

    @_fit_context(prefer_skip_nested_validation=True)
    def fit(self, X: Any, y: Any = None) -> CooksDistanceDetector:
        """Fit the regression(s) and the in-sample influence measures.

        Parameters
        ----------
        X : array-like of shape (n_samples, n_features)
            Training rows, response column(s) included; a pandas DataFrame
            keeps its column names (and ``target`` may name one).
        y : ignored
            Present for API consistency.

        Returns
        -------
        self
        """
        X, X_cal = self._split_calibration(self._validate(X, reset=True))
        state, influence, degeneracies = fit_influence(X, self._target_indices(), pvalues=False)
        self._warn_degenerate(degeneracies)
        self.location_ = state.location
        self.scale_ = state.scale
        self.kept_columns_ = state.kept_columns
        self.gram_inv_ = state.gram_inv
        self.targets_ = state.targets
        self.informative_targets_ = state.informative
        self.rss_ = state.rss
        self.n_samples_fit_ = state.n_samples
        self.n_params_ = state.n_params
        self.cooks_distance_per_target_ = influence.cooks_distance
        self.leverage_ = influence.leverage
        self.studentized_residuals_ = influence.studentized_residual
        self.cooks_distance_ = self._aggregate(influence.cooks_distance)
        if self.threshold is None or self.threshold in RULES or hasattr(self.threshold, "eval"):
            self._set_offset(-self._anomaly_scores(X))
        else:
            self.offset_ = -self._threshold_value()
        self._finish_calibration(X_cal)
        return self

    @property
    def threshold_(self) -> float:
        """The distance threshold of ``predict``: ``-offset_``."""
        check_is_fitted(self)
        return -self.offset_

    def _target_indices(self) -> np.ndarray:
        d = self.n_features_in_
        if self.target is None:
            return np.arange(d)
        if isinstance(self.target, str):
            names = getattr(self, "feature_names_in_", None)
            if names is None:
                raise ValueError(
                    f"target={self.target!r} is a column name, but X has no column names; "
                    "pass a pandas DataFrame with string column names or give the column position."
                )
            hits = np.flatnonzero(names == self.target)
            if not len(hits):
                raise ValueError(
                    f"target={self.target!r} is not a column of X; its columns are {list(names)}."
                )
            return hits[:1]
        if not -d <= self.target < d:
            raise ValueError(
                f"target={self.target} is out of range for X with {d} column(s); "
                f"give a position in [{-d}, {d}) or None."
            )
        return np.array([int(self.target) % d])

    def _threshold_value(self) -> float:
        n, k = self.n_samples_fit_, max(self.n_params_, 1)
        if self.threshold == "4/n":
            return 4.0 / n
        if self.threshold == "f_median":
            return float(stats.f.median(k, max(n - k, 1)))
        return float(self.threshold)

    def _names(self, columns: np.ndarray, most: int = 10) -> str:
        """The columns' names (or positions), the first ``most`` of a longer list and a count."""
        names = getattr(self, "feature_names_in_", None)
        shown = [str(names[c]) if names is not None else int(c) for c in columns[:most]]
        if len(columns) <= most:
            return str(shown)
        return f"{str(shown)[:-1]}, ... ({len(columns)} in all)]"

    def _warn_degenerate(self, deg: Degeneracies) -> None:
        msgs = []
        if len(deg.constant):
            msgs.append(
                f"column(s) {self._names(deg.constant)} are constant and were dropped "
                "from the regressors (aliased with the intercept)"
            )
        if len(deg.aliased):
            msgs.append(
                f"column(s) {self._names(deg.aliased)} are (near-)exact linear combinations "
                "of other columns and were dropped from the regressors"
            )
        if len(deg.uninformative_targets):
            msgs.append(
                f"target(s) {self._names(deg.uninformative_targets)} are fitted exactly by "
                "the other columns (constant, collinear, or no more rows than parameters); "
                "their Cook's distances are set to 0"
            )
        if deg.n_exact_rows:
            msgs.append(
                f"{deg.n_exact_rows} row/target pair(s) have leverage 1 (the fit passes "
                "through them exactly); their Cook's distances are set to 0"
            )
        if msgs:
            warnings.warn(
                "Near-singular design: "
                + "; ".join(msgs)
                + ". Drop or combine the redundant columns, or fit on more rows.",
                CollinearityWarning,
                stacklevel=caller_stacklevel(),
            )

    def _aggregate(self, per_target: np.ndarray, *, informative_only: bool = False) -> np.ndarray:
        used = per_target if informative_only else per_target[:, self.informative_targets_]
        if used.shape[1] == 0:
            return np.zeros(len(per_target))
        return used.max(axis=1) if self.aggregate == "max" else used.mean(axis=1)

    def _state(self) -> LinearState:
        return LinearState(
            location=self.location_,
            scale=self.scale_,
            kept_columns=self.kept_columns_,
            gram_inv=self.gram_inv_,
            targets=self.targets_,
            informative=self.informative_targets_,
            rss=self.rss_,
            n_samples=self.n_samples_fit_,
            n_params=self.n_params_,
        )

    def _anomaly_scores(self, X: np.ndarray) -> np.ndarray:
        distance = new_row_cooks_distance(self._state(), X)
        return self._aggregate(distance, informative_only=True)

    def influence(self, X: Any = None) -> Influence:
        """Cook's distance, its p-value, leverage and studentised residual per row and target.

        Parameters
        ----------
        X : array-like of shape (n_rows, n_features) or None, default=None
            ``None`` gives the in-sample measures of the training rows (p-values
            from F(k, n - k)); otherwise each row's out-of-sample measures, as
            if it alone were added to the fit (p-values from F(k, n + 1 - k);
            the studentised residual is then the prediction t statistic).

        Returns
        -------
        Influence
            Named tuple ``(cooks_distance, pvalue, leverage, studentized_residual)``
            of arrays of shape (n_rows, n_targets), columns in ``targets_`` order.
            A large leverage marks an outlier in the regressors, a large
            studentised residual an outlier in the target.
        """
        check_is_fitted(self)
        if X is not None:
            return score_influence(self._state(), self._validate(X, reset=False))
        k = self.n_params_
        return Influence(
            self.cooks_distance_per_target_.copy(),
            cooks_pvalues(
                self.cooks_distance_per_target_,
                self.informative_targets_,
                k,
                self.n_samples_fit_ - k,
            ),
            self.leverage_.copy(),
            self.studentized_residuals_.copy(),
        )
