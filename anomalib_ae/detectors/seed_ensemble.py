"""SeedEnsembleDetector: one detector trained from several seeds, scores averaged."""

from __future__ import annotations

from numbers import Integral
from typing import Any

import numpy as np
from sklearn.base import BaseEstimator, clone
from sklearn.utils import get_tags
from sklearn.utils._param_validation import HasMethods, Interval
from sklearn.utils.validation import check_is_fitted

from anomalib_ae.detectors.base import BaseDetector, seed_from


class SeedEnsembleDetector(BaseDetector):
    """Average the scores of one detector trained from ``n_estimators`` seeds.

    A neural detector's scores move with its random initialisation and batch
    order: on small training sets two seeds can differ by several AUROC
    points on one dataset. Averaging the scores of independently seeded copies
    keeps what they agree on (RandNet, ROBOD and deep ensembles use the same
    idea). Each member is a clone of ``detector`` with its own
    ``random_state``; it validates, scales and reshapes the input itself, so
    whatever the member accepts (tables, images ``(n, H, W)``, rows with
    ``image_shape``) the ensemble accepts too.

    Parameters
    ----------
    detector : str or detector, default="autoencoder"
        The member: a registry name (see :func:`~anomalib_ae.list_detectors`)
        or an unfitted detector instance, which is cloned.
    detector_params : dict or None, default=None
        Parameters set on every member (after cloning), e.g.
        ``{"max_epochs": 30}``; handy where ``detector`` is a name (benchmark
        suites, the CLI).
    n_estimators : int, default=5
        Number of members.
    contamination : float, default=0.1
        Expected share of outliers in the training data; sets ``offset_``.
    calibration : float or None, default=None
        Share of the rows given to ``fit`` held out as clean calibration rows
        (for ``p_values``, ``flag`` and ``fpr``; see
        :class:`~anomalib_ae.AutoEncoderDetector`); the members do not see them.
    fpr : float or None, default=None
        Target false-positive rate of ``predict`` on fresh inliers, from the
        calibration rows.
    threshold : {"iqr", "mad"}, thresholder or None, default=None
        A rule on the training rows' scores for ``offset_`` instead of
        ``contamination`` (see :class:`~anomalib_ae.AutoEncoderDetector`).
    random_state : int, RandomState or None, default=None
        Seeds the members' seeds (and the calibration split): the same value
        gives the same scores.

    Attributes
    ----------
    estimators_ : list of detectors
        The fitted members.
    seeds_ : list of int
        Their ``random_state`` values.
    offset_ : float
        Threshold on ``score_samples``: the ``contamination`` quantile of the
        training scores.
    n_features_in_ : int
        Number of features (pixels) seen in ``fit``.

    See Also
    --------
    AutoEncoderEnsembleDetector : an ensemble of MLP autoencoders trained as
        one batched net (cheaper for tables).

    Notes
    -----
    ``score_samples`` is the mean of the members' ``score_samples``. Members
    of one class and parameters score on the same scale, so a plain mean
    weighs them equally. Fitting costs ``n_estimators`` fits.

    Examples
    --------
    >>> import numpy as np
    >>> from anomalib_ae import SeedEnsembleDetector
    >>> X = np.random.default_rng(0).normal(size=(100, 3))
    >>> det = SeedEnsembleDetector("autoencoder", n_estimators=2, random_state=0,
    ...     detector_params={"hidden_dims": (4,), "latent_dim": 2, "max_epochs": 2}).fit(X)
    >>> len(det.estimators_), det.score_samples(X[:2]).shape
    (2, (2,))
    """

    _parameter_constraints: dict = {
        **BaseDetector._parameter_constraints,
        "detector": [str, HasMethods(["fit", "score_samples"])],
        "detector_params": [dict, None],
        "n_estimators": [Interval(Integral, 1, None, closed="left")],
        "random_state": ["random_state"],
    }

    def __init__(
        self,
        detector: str | BaseEstimator = "autoencoder",
        *,
        detector_params: dict | None = None,
        n_estimators: int = 5,
        contamination: float = 0.1,
        calibration: float | None = None,
        fpr: float | None = None,
        threshold: Any = None,
        random_state: Any = None,
    ) -> None:
        self.detector = detector
        self.detector_params = detector_params
        self.n_estimators = n_estimators
        self.contamination = contamination
        self.calibration = calibration
        self.fpr = fpr
        self.threshold = threshold
        self.random_state = random_state

    def _member(self, seed: int) -> BaseEstimator:
        if isinstance(self.detector, str):
            from anomalib_ae.registry import get_detector

            member = get_detector(self.detector)
        else:
            member = clone(self.detector)
        member.set_params(**(self.detector_params or {}))
        if "random_state" in member.get_params(deep=False):
            member.set_params(random_state=seed)
        return member

    def fit(self, X: Any, y: Any = None) -> SeedEnsembleDetector:
        """Fit ``n_estimators`` members on ``X``, each from its own seed.

        Parameters
        ----------
        X : array-like
            Whatever the member detector accepts (rows, or images).
        y : ignored
            Present for API consistency.

        Returns
        -------
        self
        """
        self._validate_params()
        X, X_cal = self._split_calibration(X)
        rng = np.random.RandomState(seed_from(self.random_state))
        seeds = [int(s) for s in rng.randint(0, 2**31 - 1, size=self.n_estimators)]
        members = [self._member(seed).fit(X) for seed in seeds]
        first = members[0]
        self.n_features_in_ = first.n_features_in_
        if hasattr(first, "feature_names_in_"):
            self.feature_names_in_ = first.feature_names_in_
        elif hasattr(self, "feature_names_in_"):
            del self.feature_names_in_
        self.estimators_, self.seeds_ = members, seeds
        self._set_offset(-self._anomaly_scores(X))
        self._finish_calibration(X_cal)
        return self

    def _validate(self, X: Any, *, reset: bool) -> Any:
        # The members validate (and reshape) their input themselves: check X once with
        # the first member, for its clear errors, and hand the members X as given (a
        # DataFrame keeps its column names).
        check_is_fitted(self, "estimators_")
        self.estimators_[0]._validate(X, reset=False)
        return X

    def _anomaly_scores(self, X: np.ndarray) -> np.ndarray:
        return np.mean([-member.score_samples(X) for member in self.estimators_], axis=0)

    def __sklearn_tags__(self):
        tags = super().__sklearn_tags__()
        try:  # sparse input as its members take it
            tags.input_tags.sparse = get_tags(self._member(0)).input_tags.sparse
        except (TypeError, ValueError):  # an invalid member: fit says why
            tags.input_tags.sparse = False
        return tags
