"""AutoEncoderEnsembleDetector: robustly trained autoencoders with per-feature error scaling."""

from __future__ import annotations

import copy
import warnings
from numbers import Integral, Real

import numpy as np
import pytorch_lightning as pl
import torch
from sklearn.utils._param_validation import Interval, StrOptions

from anomalib_ae.detectors._docs import fill_doc
from anomalib_ae.detectors._mahalanobis import fit_gaussian, squared_mahalanobis
from anomalib_ae.detectors._params import neural_init
from anomalib_ae.detectors._warnings import caller_stacklevel
from anomalib_ae.detectors.base import BaseNeuralDetector
from anomalib_ae.nn.ensemble import AutoEncoderEnsembleNet
from anomalib_ae.training import predict_batches
from anomalib_ae.training.ensemble import EnsembleReconstructionSystem

ERROR_SCALINGS = ("median", "none")
SCORE_TYPES = ("mahalanobis", "both", "pooled", "reconstruction", "latent")

ENSEMBLE_DEFAULTS = {
    "n_estimators": 5,
    "scaler": "minmax",
    "max_epochs": 20,
    "batch_size": 128,
    "error_scaling": "median",
    "score_type": "mahalanobis",
    "mahalanobis_keep": 0.5,
}
"""The ensemble's own parameters and their defaults (see ``docs/defaults.md``)."""

PRECISION_WARN_BYTES = 512 * 2**20
"""``fit`` warns when the residual precision matrices would take more than this."""


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
    - **a Mahalanobis score** (the default ``score_type``): each member's
      residual vector ``x - decode(encode(x))`` and code ``encode(x)`` are
      scored by their squared Mahalanobis distances under Gaussians fitted
      (Ledoit-Wolf) on the ``mahalanobis_keep`` share of training rows that
      member rebuilds best; each distance is divided by its training median
      and the two are averaged (see :mod:`anomalib_ae.detectors._mahalanobis`).
      It sees residual *patterns* normal rows never produce, and rows far out
      along the data, which are rebuilt well but have extreme codes.

    Parameters
    ----------
    n_estimators : int, default=5
        Number of autoencoders.
    error_scaling : {"median", "none"}, default="median"
        ``"median"`` divides each feature's squared error by its median training
        error; ``"none"`` averages the raw squared errors.
    score_type : {"mahalanobis", "both", "pooled", "reconstruction", "latent"}, \
default="mahalanobis"
        ``"mahalanobis"``: the average of the residual and code Mahalanobis
        distances above, each over its training median;
        ``"reconstruction"``: mean scaled squared error over features;
        ``"latent"``: mean over code dimensions of the squared distance of the
        code from its training median, divided by that dimension's median
        squared distance (rows far out *along* the data, which are rebuilt
        well, have extreme codes); ``"both"``: the average of the two;
        ``"pooled"``: the mean over features and code dimensions together.
        A scoring choice: it can be changed after ``fit``, except to
        ``"mahalanobis"`` from another value, since its Gaussians are fitted
        only when it is the ``score_type`` at ``fit``. Their precision matrices
        take ``n_estimators * n_features**2`` floats (5 x 1,000 features: 40 MB),
        so for thousands of features prefer ``"reconstruction"``; ``fit`` warns
        above 512 MiB.
    mahalanobis_keep : float, default=0.5
        Share of the training rows (those with the smallest scaled
        reconstruction error, per member) that the Mahalanobis Gaussians are
        fitted on, in (0, 1]; 1 fits them on all rows. Half, as in the
        minimum covariance determinant's default support (Rousseeuw, 1984):
        robust to up to half of the training rows being outliers.
    {neural_params}

    Attributes
    ----------
    residual_gaussian_ : tuple of ndarray or None
        Each member's residual mean ``(n_estimators, n_features)`` and
        precision matrix ``(n_estimators, n_features, n_features)``; None
        unless fitted with ``score_type="mahalanobis"``.
    code_gaussian_ : tuple of ndarray or None
        The same for the codes (``latent_dim`` wide).
    mahalanobis_scales_ : ndarray of shape (2, n_estimators) or None
        Training medians of the residual and code distances.
    {neural_attributes}

    See Also
    --------
    AutoEncoderDetector

    Notes
    -----
    ``score_samples`` is minus the member average of the score chosen by
    ``score_type``. ``feature_scores`` returns the per-feature scaled errors
    averaged over members (the ``"reconstruction"`` part); ``transform`` the
    members' codes side by side (``n_estimators * latent_dim`` columns). The
    error scales and code centres/scales are fitted on the training rows after
    training and stored in the net (buffers), so a saved detector keeps them.
    Scores are computed in float64 (a copy of the net), so a row's score does
    not depend on the other rows of its batch. The defaults (min-max input
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
        "score_type": [StrOptions(set(SCORE_TYPES))],
        "mahalanobis_keep": [Interval(Real, 0, 1, closed="right")],
    }

    __init__ = neural_init(**ENSEMBLE_DEFAULTS)

    def _build_net(self, n_features: int) -> AutoEncoderEnsembleNet:
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

    def _member_errors(self, net: AutoEncoderEnsembleNet, x: torch.Tensor) -> torch.Tensor:
        """Scaled squared errors of each member: ``(n_members, batch, n_features)``."""
        x = x.flatten(1)
        return (net(x) - x).pow(2) / net.error_scale.unsqueeze(1)

    def _member_deviations(self, net: AutoEncoderEnsembleNet, x: torch.Tensor) -> torch.Tensor:
        """Scaled squared code deviations of each member: ``(n_members, batch, latent_dim)``."""
        codes = net.member_codes(x)
        return (codes - net.code_centre.unsqueeze(1)).pow(2) / net.code_scale.unsqueeze(1)

    def _feature_errors_batch(self, net: AutoEncoderEnsembleNet, x: torch.Tensor) -> torch.Tensor:
        return self._member_errors(net, x).mean(0).reshape(x.shape)

    def _mahalanobis_terms(self, net: AutoEncoderEnsembleNet, x: torch.Tensor) -> torch.Tensor:
        """Each member's residual and code distances over their training medians: ``(2, m, b)``."""
        x = x.flatten(1)
        codes = net.member_codes(x)
        parts = []
        for values, (location, precision) in (
            (net.decoder(codes) - x, self.residual_gaussian_),
            (codes, self.code_gaussian_),
        ):
            parts.append(
                squared_mahalanobis(
                    values,
                    torch.as_tensor(location, dtype=x.dtype),
                    torch.as_tensor(precision, dtype=x.dtype),
                )
            )
        scales = torch.as_tensor(self.mahalanobis_scales_, dtype=x.dtype)  # (2, m)
        return torch.stack(parts) / scales.unsqueeze(-1)

    def _score_batch(self, net: AutoEncoderEnsembleNet, x: torch.Tensor) -> torch.Tensor:
        if self.score_type == "mahalanobis":
            if self.residual_gaussian_ is None:
                raise ValueError(
                    "score_type='mahalanobis' needs the Gaussians fitted at fit time, and "
                    "this detector was fitted with another score_type: refit it with "
                    "score_type='mahalanobis'."
                )
            return self._mahalanobis_terms(net, x).mean(0).mean(0)
        if self.score_type == "pooled":
            terms = torch.cat([self._member_errors(net, x), self._member_deviations(net, x)], -1)
            return terms.mean(-1).mean(0)
        parts = []
        if self.score_type in ("both", "reconstruction"):
            parts.append(self._member_errors(net, x).mean(-1))
        if self.score_type in ("both", "latent"):
            parts.append(self._member_deviations(net, x).mean(-1))
        return torch.stack(parts).mean(0).mean(0)  # over parts, then over members

    def _model_scores(self, X: np.ndarray) -> np.ndarray:
        # Scoring in float64 (a copy of the net): a row's score then does not depend on
        # the other rows of its batch (float32 batched-matmul kernels differ by ~1e-7).
        net = copy.deepcopy(self.net_).double()
        return predict_batches(
            lambda x: self._score_batch(net, x.double()),
            X,
            batch_size=self.inference_batch_size,
            transform=self.scaler_.transform,
        )

    def _codes(self, X: np.ndarray) -> np.ndarray:
        net = copy.deepcopy(self.net_).double()
        codes = predict_batches(
            lambda x: net.encode(x.double()),
            X,
            batch_size=self.inference_batch_size,
            transform=self.scaler_.transform,
        )
        return codes.reshape(len(X), -1)

    def _calibrate(self, X: np.ndarray) -> None:
        """Set each member's error scales and code centres/scales from the training rows ``X``."""
        net = self.net_
        for name, value in (("error_scale", 1.0), ("code_centre", 0.0), ("code_scale", 1.0)):
            getattr(net, name).fill_(value)
        if self.error_scaling == "median":
            errors = self._per_member(lambda x: self._member_errors(net, x), X)
            net.error_scale.copy_(_robust_scale(errors))
        codes = self._per_member(net.member_codes, X)  # (n_rows, n_members, latent_dim)
        centre = np.median(codes, axis=0)
        net.code_centre.copy_(torch.as_tensor(centre, dtype=net.code_centre.dtype))
        net.code_scale.copy_(_robust_scale((codes - centre) ** 2))
        self.residual_gaussian_ = self.code_gaussian_ = self.mahalanobis_scales_ = None
        if self.score_type == "mahalanobis":
            self._fit_mahalanobis(X)

    def _fit_mahalanobis(self, X: np.ndarray) -> None:
        """Fit each member's residual and code Gaussians, and their distances' training medians.

        Each member's Gaussians are fitted on the ``mahalanobis_keep`` share of the
        training rows it rebuilds best (by its scaled reconstruction error), so that
        the outliers in the training data do not shape the covariances.
        """
        precision_bytes = 8 * self.n_estimators * X.shape[1] ** 2
        if precision_bytes > PRECISION_WARN_BYTES:
            warnings.warn(
                f"score_type='mahalanobis' with {X.shape[1]} features stores "
                f"{self.n_estimators} residual precision matrices of {X.shape[1]}^2 floats "
                f"({precision_bytes / 2**30:.1f} GiB); score_type='reconstruction' avoids "
                "them.",
                UserWarning,
                stacklevel=caller_stacklevel(),
            )
        net = copy.deepcopy(self.net_).double()

        def per_member(func):
            return self._per_member(lambda x: func(x.double().flatten(1)), X)

        rec = per_member(lambda x: self._member_errors(net, x)).mean(-1)  # (n, m)
        residuals = per_member(lambda x: net(x) - x)  # (n, m, d)
        codes = per_member(net.member_codes)  # (n, m, latent_dim)
        fitted: dict[str, list] = {"residual": [], "code": []}
        for m in range(self.n_estimators):
            keep = rec[:, m] <= np.quantile(rec[:, m], self.mahalanobis_keep)
            fitted["residual"].append(fit_gaussian(residuals[:, m], keep))
            fitted["code"].append(fit_gaussian(codes[:, m], keep))
        del residuals, codes
        self.residual_gaussian_, self.code_gaussian_ = (
            tuple(np.stack(parts) for parts in zip(*fitted[name])) for name in fitted
        )
        self.mahalanobis_scales_ = np.ones((2, self.n_estimators))
        terms = predict_batches(  # (n, 2, m)
            lambda x: self._mahalanobis_terms(net, x.double()).permute(2, 0, 1),
            X,
            batch_size=self.inference_batch_size,
            transform=self.scaler_.transform,
        )
        median = np.median(terms, axis=0)
        self.mahalanobis_scales_ = np.where(
            median > 1e-12, median, np.maximum(terms.mean(0), 1e-12)
        )

    def _per_member(self, func, X: np.ndarray) -> np.ndarray:
        """``func`` (``(n_members, batch, k)`` per batch) over the rows ``X``: ``(n, n_members, k)``."""
        return predict_batches(
            lambda x: func(x).permute(1, 0, 2),
            X,
            batch_size=self.inference_batch_size,
            transform=self.scaler_.transform,
        )


def _robust_scale(squares: np.ndarray) -> torch.Tensor:
    """Median over rows of non-negative ``squares`` ``(n, n_members, k)``: ``(n_members, k)``.

    An entry that is ~0 on most rows (e.g. a constant feature, rebuilt exactly)
    gets its member's mean instead, so that no division blows up.
    """
    median = np.median(squares, axis=0)
    floor = np.maximum(squares.mean(axis=(0, 2)), 1e-12)[:, None]
    return torch.as_tensor(np.where(median > 1e-6 * floor, median, floor), dtype=torch.float32)
