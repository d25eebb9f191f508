"""AutoEncoderEnsembleDetector: robustly trained autoencoders scored by Mahalanobis distances."""

from __future__ import annotations

from numbers import Integral, Real

import pytorch_lightning as pl
from sklearn.utils._param_validation import Interval, StrOptions

from anomalib_ae.detectors._docs import fill_doc
from anomalib_ae.detectors._params import neural_init
from anomalib_ae.detectors._terms import is_wide
from anomalib_ae.detectors.base import BaseNeuralDetector
from anomalib_ae.nn.ensemble import AutoEncoderEnsembleNet
from anomalib_ae.scoring import (
    CodeDeviation,
    CodeMahalanobis,
    EnsembleOutputs,
    InputNeighborDistance,
    ReconstructionError,
    ResidualMahalanobis,
    ScoreTerm,
)
from anomalib_ae.training.ensemble import EnsembleReconstructionSystem

ERROR_SCALINGS = ("median", "none")
SCORE_TERMS = (
    "residual_mahalanobis",
    "code_mahalanobis",
    "reconstruction",
    "code_deviation",
    "input_neighbors",
)
"""The score terms the ensemble can combine (see :mod:`anomalib_ae.scoring`)."""
TALL_TERMS = ("residual_mahalanobis", "code_mahalanobis")
WIDE_TERMS = ("input_neighbors",)
"""``score_terms="auto"``: :data:`TALL_TERMS`, or :data:`WIDE_TERMS` on wide tables
(:meth:`AutoEncoderEnsembleDetector.resolved_score_terms`)."""

ENSEMBLE_DEFAULTS = {
    "n_estimators": 5,
    "scaler": "minmax",
    "max_epochs": 20,
    "batch_size": 128,
    "error_scaling": "median",
    "score_terms": "auto",
    "mahalanobis_keep": 0.5,
}
"""The ensemble's own parameters and their defaults (see ``docs/defaults.md``)."""


@fill_doc
class AutoEncoderEnsembleDetector(BaseNeuralDetector):
    """Ensemble of robustly trained autoencoders scored by Mahalanobis residual and code distances.

    Four ideas on top of :class:`AutoEncoderDetector`, each a parameter:

    - **an ensemble** of ``n_estimators`` autoencoders with independent random
      weights, trained side by side on the same batches (one batched net, so
      it costs about as much as one small autoencoder); their scores are
      averaged, which removes much of a single net's seed-to-seed variance
      (RandNet, ROBOD);
    - **trimmed training**: after a warm-up, each member ignores the
      ``trim_fraction`` rows of each batch it reconstructs worst, so the
      outliers hidden in the unlabelled training data stop teaching the nets
      to rebuild them;
    - **per-feature error scaling**: each feature's squared error is divided by
      its median over the training rows (per member) before averaging over
      features, so that a feature that is normally rebuilt almost exactly counts
      as much when it is off as one that is always noisy;
    - **a Mahalanobis score** (the default ``score_terms``): each member's
      residual vector ``x - decode(encode(x))`` and code ``encode(x)`` are
      scored by their squared Mahalanobis distances under Gaussians fitted
      (Ledoit-Wolf) on the ``mahalanobis_keep`` share of training rows that
      member rebuilds best; each distance is divided by its training median
      and the two are averaged (see :mod:`anomalib_ae.scoring.mahalanobis`).
      It sees residual *patterns* normal rows never produce, and rows far out
      along the data, which are rebuilt well but have extreme codes.

    Parameters
    ----------
    n_estimators : int, default=5
        Number of autoencoders.
    error_scaling : {"median", "none"}, default="median"
        ``"median"`` divides each feature's squared error by its median training
        error; ``"none"`` averages the raw squared errors.
    score_terms : "auto" or sequence of str, default="auto"
        The score terms, averaged (each over its training median when there are
        several; see :func:`~anomalib_ae.scoring.combine`), per member, then over
        members:

        - ``"residual_mahalanobis"``, ``"code_mahalanobis"``: the Mahalanobis
          distances above. Their precision matrices take
          ``n_estimators * n_features**2`` floats (5 x 1,000 features: 40 MB),
          so for thousands of features prefer ``("reconstruction",)``; ``fit``
          warns above 512 MiB;
        - ``"reconstruction"``: mean scaled squared error over features;
        - ``"code_deviation"``: mean over code dimensions of the squared
          distance of the code from its training median, divided by that
          dimension's median squared distance;
        - ``"input_neighbors"``: the mean distance from the scaled row to its
          3 nearest training rows (:class:`~anomalib_ae.scoring.InputNeighborDistance`;
          the fitted detector, its file and its ONNX graph then hold the
          scaled training rows).

        ``"auto"`` is the Mahalanobis pair, unless the table is *wide*: the
        Gaussians would be fitted on no more rows (``mahalanobis_keep`` of the
        training rows) than there are features, so their covariances are
        singular and set by shrinkage, and the nets are fitted on few rows per
        weight. Then it is ``("input_neighbors",)``: on image and text
        embeddings (a few hundred rows of 512 or 1,000 features) the nearest
        training rows are the better score (``docs/defaults.md``). The fitted
        choice is in ``score_terms_``.
        The terms are fitted in ``fit``; changing them afterwards needs a refit.
    mahalanobis_keep : float, default=0.5
        Share of the training rows (those with the smallest scaled
        reconstruction error, per member) that the Mahalanobis Gaussians are
        fitted on, in (0, 1]; 1 fits them on all rows. Half, as in the
        minimum covariance determinant's default support (Rousseeuw, 1984):
        robust to up to half of the training rows being outliers.
    {neural_params}

    Attributes
    ----------
    {neural_attributes}

    See Also
    --------
    AutoEncoderDetector

    Notes
    -----
    ``score_samples`` is minus the member average of the terms' combination.
    ``feature_scores`` returns the per-feature scaled errors averaged over
    members (the reconstruction term's parts, which also rank the rows for the
    Mahalanobis fits); ``transform`` the members' codes side by side
    (``n_estimators * latent_dim`` columns). The fitted terms are in
    ``score_terms_``. The defaults (min-max input
    scaling, 20 epochs of batches of 128, 5 members, 10% trimming) come from
    the ADBench ablation in ``docs/defaults.md``.

    References
    ----------
    .. [1] Chen, J., Sathe, S., Aggarwal, C. and Turaga, D. (2017). Outlier
       detection with autoencoder ensembles. SDM (RandNet).
    .. [2] Ding, X., Zhao, L. and Akoglu, L. (2022). Hyperparameter sensitivity
       in deep outlier detection: analysis and a scalable hyper-ensemble
       solution. NeurIPS (ROBOD).
    .. [3] Zhou, C. and Paffenroth, R. C. (2017). Anomaly detection with robust
       deep autoencoders. KDD.

    Examples
    --------
    >>> import numpy as np
    >>> from anomalib_ae import AutoEncoderEnsembleDetector
    >>> X = np.random.default_rng(0).normal(size=(200, 4))
    >>> det = AutoEncoderEnsembleDetector(n_estimators=3, hidden_dims=(8,), latent_dim=2,
    ...                                   max_epochs=5, random_state=0).fit(X)
    >>> det.score_samples(X[:3]).shape, det.transform(X[:3]).shape
    ((3,), (3, 6))
    """

    _parameter_constraints: dict = {
        **BaseNeuralDetector._parameter_constraints,
        "n_estimators": [Interval(Integral, 1, None, closed="left")],
        "error_scaling": [StrOptions(set(ERROR_SCALINGS))],
        "score_terms": [StrOptions({"auto"}), "array-like"],
        "mahalanobis_keep": [Interval(Real, 0, 1, closed="right")],
    }

    __init__ = neural_init(**ENSEMBLE_DEFAULTS)

    def _build_net(self, n_features: int) -> AutoEncoderEnsembleNet:
        self._check_score_terms()
        if self.dropout or self.batch_norm:
            raise ValueError(
                "AutoEncoderEnsembleDetector supports neither dropout nor batch_norm; "
                "leave dropout=0.0 and batch_norm=False."
            )
        return AutoEncoderEnsembleNet(
            n_features,
            hidden_dims=tuple(self.hidden_dims),
            latent_dim=self.latent_dim,
            n_members=self.n_estimators,
            activation=self.activation,
        )

    def _build_system(self, net: AutoEncoderEnsembleNet) -> pl.LightningModule:
        return EnsembleReconstructionSystem(
            net,
            trim_fraction=self._resolved_trim_fraction(),
            trim_warmup=self.trim_warmup,
            **self._optimizer_kwargs(),
        )

    _outputs = EnsembleOutputs

    def resolved_score_terms(self) -> tuple[str, ...]:
        """The names of the score terms of the fitted detector (``score_terms="auto"`` resolved).

        Examples
        --------
        >>> import numpy as np
        >>> X = np.random.default_rng(0).normal(size=(100, 4))
        >>> det = AutoEncoderEnsembleDetector(n_estimators=2, max_epochs=1, random_state=0)
        >>> det.fit(X).resolved_score_terms()
        ('residual_mahalanobis', 'code_mahalanobis')
        """
        if not (isinstance(self.score_terms, str) and self.score_terms == "auto"):
            return tuple(self.score_terms)
        n_rows = self.code_index_.n_samples  # the training rows (calibration rows excluded)
        wide = is_wide(n_rows, self.n_features_in_, keep=self.mahalanobis_keep)
        return WIDE_TERMS if wide else TALL_TERMS

    def _score_terms(self) -> list[ScoreTerm]:
        rec = ReconstructionError(scaling=self.error_scaling)  # also ranks the rows to fit on
        available = {
            "residual_mahalanobis": ResidualMahalanobis(self.mahalanobis_keep, rank_by=rec),
            "code_mahalanobis": CodeMahalanobis(self.mahalanobis_keep, rank_by=rec),
            "reconstruction": rec,
            "code_deviation": CodeDeviation(),
            "input_neighbors": InputNeighborDistance(),
        }
        names = self.resolved_score_terms()
        for name in names:
            available[name].weight = 1.0 / len(names)
        return [available[name] for name in names]

    def _check_score_terms(self) -> None:
        names = self.score_terms
        if isinstance(names, str) and names == "auto":
            return
        if (
            isinstance(names, str)
            or not len(names)
            or len(set(names)) != len(names)
            or not set(names) <= set(SCORE_TERMS)
        ):
            raise ValueError(
                f"score_terms must be 'auto' or a non-empty sequence of distinct names from "
                f"{list(SCORE_TERMS)}, got {names!r}."
            )
