"""The one scikit-learn-facing base class of every neural detector."""

from __future__ import annotations

from abc import abstractmethod
from numbers import Integral, Real
from typing import Any

import numpy as np
import pytorch_lightning as pl
import torch
from sklearn.base import BaseEstimator, OutlierMixin, TransformerMixin, _fit_context
from sklearn.utils._param_validation import Interval, StrOptions
from sklearn.utils.validation import _check_feature_names_in, check_is_fitted
from torch import nn

from anomalib_ae.detectors._calibration import CALIBRATION_CONSTRAINTS, CalibrationMixin
from anomalib_ae.detectors._faults import unfitted_on_failure
from anomalib_ae.detectors._neighbors import CodeNeighborsMixin
from anomalib_ae.detectors._params import auto_epochs, neural_init, seed_from
from anomalib_ae.detectors._scaling import SCALERS, InputScaler
from anomalib_ae.detectors._validation import check_finite_scores, validate_rows
from anomalib_ae.nn.mlp import ACTIVATIONS
from anomalib_ae.scoring import NetOutputs, ReconstructionError, ScoreTerm, path
from anomalib_ae.scoring.precision import PRECISIONS
from anomalib_ae.training import (
    ArrayDataModule,
    ReconstructionSystem,
    cpu_threads,
    make_trainer,
    quiet_lightning,
)


def _n_parameters(net: nn.Module) -> int:
    return sum(p.numel() for p in net.parameters())


class BaseDetector(CalibrationMixin, OutlierMixin, BaseEstimator):
    """Outlier semantics shared by every detector of this package.

    Subclasses implement ``fit`` (setting ``offset_``) and ``_anomaly_scores``
    (higher = more anomalous); this class derives ``score_samples``,
    ``decision_function``, ``predict`` and ``anomaly_score`` from them exactly as
    scikit-learn's outlier detectors do, and the thresholds without labels of
    :class:`~anomalib_ae.detectors._calibration.CalibrationMixin`
    (``calibrate``, ``p_values``, ``flag``; the ``calibration``, ``fpr`` and
    ``threshold`` parameters of the package's detectors). A ``fit`` that offers
    them calls ``_split_calibration`` on its validated rows and
    ``_finish_calibration`` last.

    Examples
    --------
    A detector scoring the squared distance to the training mean:

    >>> import numpy as np
    >>> from anomalib_ae.detectors import BaseDetector
    >>> class MeanDistanceDetector(BaseDetector):
    ...     def __init__(self, *, contamination=0.1):
    ...         self.contamination = contamination
    ...     def fit(self, X, y=None):
    ...         X = self._validate(X, reset=True)
    ...         self.center_ = X.mean(axis=0)
    ...         self._set_offset(-self._anomaly_scores(X))
    ...         return self
    ...     def _anomaly_scores(self, X):
    ...         return ((X - self.center_) ** 2).sum(axis=1)
    >>> X = np.array([[0.0, 0.0], [0.1, 0.0], [0.0, 0.1], [5.0, 5.0]])
    >>> MeanDistanceDetector(contamination=0.25).fit(X).predict(X)
    array([ 1,  1,  1, -1])
    """

    _parameter_constraints: dict = {
        "contamination": [Interval(Real, 0, 0.5, closed="right")],
        **CALIBRATION_CONSTRAINTS,
    }

    def __init_subclass__(cls, **kwargs: Any) -> None:
        # Every detector's ``fit`` either finishes or leaves it unfitted (see _faults.py).
        super().__init_subclass__(**kwargs)
        fit = cls.__dict__.get("fit")
        if fit is not None and not hasattr(fit, "__wrapped_unfitted_on_failure__"):
            cls.fit = unfitted_on_failure(fit)

    @abstractmethod
    def _anomaly_scores(self, X: np.ndarray) -> np.ndarray:
        """Anomaly scores (higher = more anomalous) of validated rows ``X``."""

    def _validate(self, X: Any, *, reset: bool) -> np.ndarray:
        return validate_rows(self, X, reset=reset)

    def score_samples(self, X: Any) -> np.ndarray:
        """Normality score of each row: higher means more normal (float64).

        Parameters
        ----------
        X : array-like of shape (n_samples, n_features)

        Returns
        -------
        ndarray of shape (n_samples,)
        """
        check_is_fitted(self)
        scores = np.asarray(self._anomaly_scores(self._validate(X, reset=False)), dtype=np.float64)
        return -check_finite_scores(scores)

    def anomaly_score(self, X: Any) -> np.ndarray:
        """Anomaly score of each row (``-score_samples``): higher means more anomalous."""
        return -self.score_samples(X)

    def decision_function(self, X: Any) -> np.ndarray:
        """``score_samples(X) - offset_``: negative for outliers, positive for inliers."""
        return self.score_samples(X) - self.offset_

    def save(self, path: Any, *, extra: dict | None = None) -> None:
        """Write the fitted detector to one file; read it back with :func:`anomalib_ae.load`.

        The file holds JSON metadata and the weights as tensors, never pickled
        code (see :mod:`anomalib_ae.persistence`).

        Parameters
        ----------
        path : str, path-like or binary file object
        extra : dict or None, default=None
            JSON notes kept in the file's metadata (see :func:`anomalib_ae.persistence.save`).
        """
        from anomalib_ae.persistence import save

        save(self, path, extra=extra)

    def to_onnx(self, path: Any, **kwargs: Any) -> None:
        """Write the fitted detector as one ONNX graph, raw rows -> score and label.

        See :func:`anomalib_ae.export.onnx.to_onnx` (needs the ``onnx`` extra).

        Parameters
        ----------
        path : str or path-like
        **kwargs
            Passed on (``max_neighbor_rows``).
        """
        from anomalib_ae.export.onnx import to_onnx

        to_onnx(self, path, **kwargs)

    def predict(self, X: Any) -> np.ndarray:
        """Label each row ``-1`` (outlier) or ``+1`` (inlier)."""
        decision = self.decision_function(X)
        labels = np.ones(len(decision), dtype=int)
        labels[decision < 0] = -1
        return labels

    def __sklearn_tags__(self):
        tags = super().__sklearn_tags__()
        tags.input_tags.allow_nan = False
        return tags


class BaseNeuralDetector(CodeNeighborsMixin, TransformerMixin, BaseDetector):
    """Base of the neural detectors: validation, scaling, seeding, training, scoring.

    A new detector says which net it builds (:meth:`_build_net`), which
    Lightning system trains it (:meth:`_build_system`), which score terms make
    its score (:meth:`_score_terms`) and how its net's outputs come out
    (``_outputs``, a :class:`~anomalib_ae.scoring.NetOutputs` class); ``fit``
    and the scoring methods are shared, and the score is computed by
    :mod:`anomalib_ae.scoring.path`. Every neural detector is also a
    transformer: :meth:`transform` returns the latent codes, named by
    :meth:`get_feature_names_out`, and :meth:`kneighbors` finds the training
    rows with the nearest codes.
    See :class:`~anomalib_ae.AutoEncoderDetector` for the parameters.

    Examples
    --------
    A new detector only has to say which net it builds:

    >>> import numpy as np
    >>> from anomalib_ae.detectors import BaseNeuralDetector
    >>> from anomalib_ae.nn import AutoEncoderNet
    >>> class LinearAutoEncoderDetector(BaseNeuralDetector):
    ...     def _build_net(self, n_features):
    ...         return AutoEncoderNet(n_features, hidden_dims=(), latent_dim=1, activation=None)
    >>> X = np.random.default_rng(0).normal(size=(40, 3))
    >>> det = LinearAutoEncoderDetector(max_epochs=2, random_state=0).fit(X)
    >>> det.score_samples(X).shape, det.transform(X).shape
    ((40,), (40, 1))
    """

    _sparse_input = True
    """Sparse rows are accepted and densified one batch at a time (see ``validate_rows``)."""

    _parameter_constraints: dict = {
        **BaseDetector._parameter_constraints,
        "hidden_dims": ["array-like"],
        "latent_dim": [Interval(Integral, 1, None, closed="left")],
        "activation": [StrOptions(set(ACTIVATIONS)), None],
        "dropout": [Interval(Real, 0, 1, closed="left")],
        "batch_norm": ["boolean"],
        "max_epochs": [Interval(Integral, 1, None, closed="left"), StrOptions({"auto"})],
        "batch_size": [Interval(Integral, 1, None, closed="left")],
        "lr": [Interval(Real, 0, None, closed="neither")],
        "weight_decay": [Interval(Real, 0, None, closed="left")],
        "optimizer": [StrOptions({"adam", "adamw", "sgd"})],
        "scaler": [StrOptions(set(SCALERS))],
        "trim_fraction": [Interval(Real, 0, 0.5, closed="both"), StrOptions({"auto"})],
        "trim_warmup": [Interval(Real, 0, 1, closed="both")],
        "validation_fraction": [Interval(Real, 0, 1, closed="left")],
        "early_stopping": ["boolean"],
        "patience": [Interval(Integral, 1, None, closed="left")],
        "inference_batch_size": [Interval(Integral, 1, None, closed="left")],
        "inference_precision": [StrOptions(set(PRECISIONS))],
        "random_state": ["random_state"],
        "verbose": ["boolean", Interval(Integral, 0, None, closed="left")],
        "accelerator": [str],
        "devices": [Interval(Integral, 1, None, closed="left"), str, list],
        "precision": [str, Integral, None],
        "trainer_kwargs": [dict, None],
    }

    __init__ = neural_init()

    # ---- hooks -------------------------------------------------------------------------
    @abstractmethod
    def _build_net(self, n_features: int) -> nn.Module:
        """The torch net to train, for inputs of width ``n_features``."""

    def _build_system(self, net: nn.Module) -> pl.LightningModule:
        """The Lightning system that trains ``net``."""
        return ReconstructionSystem(net, **self._optimizer_kwargs())

    def _optimizer_kwargs(self) -> dict[str, Any]:
        """The optimiser settings every system takes (``lr``, ``weight_decay``, ``optimizer``)."""
        return {"lr": self.lr, "weight_decay": self.weight_decay, "optimizer": self.optimizer}

    def _resolved_trim_fraction(self) -> float:
        """``trim_fraction`` with ``"auto"`` resolved: 0.1 for tables, 0 for conv nets (images)."""
        if self.trim_fraction != "auto":
            return float(self.trim_fraction)
        return 0.0 if self._uses_conv() else 0.1

    def _uses_conv(self) -> bool:
        """Whether the net is convolutional (set by image input; tables: no)."""
        return False

    def _mlp_kwargs(self) -> dict[str, Any]:
        """The MLP layout every MLP net takes (widths, code width, activation, dropout, norm)."""
        return {
            "hidden_dims": tuple(self.hidden_dims),
            "latent_dim": self.latent_dim,
            "activation": self.activation,
            "dropout": self.dropout,
            "batch_norm": self.batch_norm,
        }

    _outputs: type[NetOutputs] = NetOutputs
    """How the net's outputs come out of a batch (codes, reconstruction, errors, ...)."""

    def _score_terms(self) -> list[ScoreTerm]:
        """The terms of the score, unfitted (default: the mean squared reconstruction error)."""
        return [ReconstructionError()]

    def _before_training(self, net: nn.Module, datamodule: ArrayDataModule, seed: int) -> None:
        """Work on the fresh net before the main training (e.g. layer-wise pretraining)."""

    def _n_epochs(self, n_train: int) -> int:
        """Epochs of the main training for ``n_train`` training rows (``"auto"`` resolved)."""
        if self.max_epochs != "auto":
            return self.max_epochs
        return auto_epochs(n_train, self.batch_size, images=self._uses_conv())

    def _make_scaler(self) -> InputScaler:
        """The (unfitted) input scaling ``fit`` learns on the training rows."""
        return InputScaler(self.scaler)

    # ---- fitting -----------------------------------------------------------------------
    def _make_trainer(self, max_epochs: int, early_stopping: bool = False) -> pl.Trainer:
        """A Trainer from the factory with this detector's device and Trainer settings."""
        return make_trainer(
            max_epochs,
            accelerator=self.accelerator,
            devices=self.devices,
            precision=self.precision,
            verbose=bool(self.verbose),
            early_stopping=early_stopping,
            patience=self.patience,
            trainer_kwargs=self._trainer_kwargs(),
        )

    def _trainer_kwargs(self) -> dict[str, Any] | None:
        """The ``trainer_kwargs`` the Trainer gets (a system may take some of them itself)."""
        return self.trainer_kwargs

    @_fit_context(prefer_skip_nested_validation=True)
    def fit(self, X: Any, y: Any = None) -> BaseNeuralDetector:
        """Train the detector on rows ``X`` (unlabelled; ``y`` is ignored).

        Parameters
        ----------
        X : array-like of shape (n_samples, n_features)
            Training rows; a pandas DataFrame keeps its column names.
        y : ignored
            Present for API consistency.

        Returns
        -------
        self
        """
        X, X_cal = self._split_calibration(self._validate(X, reset=True))
        seed = seed_from(self.random_state)
        scaler = self._make_scaler().fit(X)
        with torch.random.fork_rng(devices=[]), quiet_lightning(bool(self.verbose)):
            torch.manual_seed(seed)
            net = self._build_net(X.shape[1])
            system = self._build_system(net)
            system.set_trimming(self._resolved_trim_fraction(), self.trim_warmup)
            datamodule = ArrayDataModule(
                X,
                batch_size=self.batch_size,
                validation_fraction=self.validation_fraction if self.early_stopping else 0.0,
                seed=seed,
                transform=scaler.transform,
            )
            if self.batch_norm and len(datamodule.train_X) < 2:
                raise ValueError(
                    "batch_norm=True needs at least 2 training rows, got 1 sample; "
                    "pass more rows or set batch_norm=False."
                )
            trainer = self._make_trainer(
                self._n_epochs(len(datamodule.train_X)),
                early_stopping=self.early_stopping and datamodule.has_validation,
            )
            with cpu_threads(self.accelerator, self.batch_size * _n_parameters(net)):
                self._before_training(net, datamodule, seed)
                trainer.fit(system, datamodule=datamodule)
            if trainer.interrupted:  # Lightning versions that swallow Ctrl+C
                raise KeyboardInterrupt
        self.net_ = net.cpu().eval()
        self.scaler_ = scaler
        self.history_ = list(system.history)
        self.n_epochs_ = len(self.history_)
        self.seed_ = seed
        path.fit_score(self, X)
        self._finish_calibration(X_cal)
        return self

    # ---- scoring (anomalib_ae.scoring.path) -------------------------------------------
    def _anomaly_scores(self, X: np.ndarray) -> np.ndarray:
        return path.anomaly_scores(self, X)

    def feature_scores(self, X: Any) -> np.ndarray:
        """Per-feature squared reconstruction error (in scaled units) of each row.

        The per-feature parts of the first score term that has them (the
        reconstruction term: their mean over features is its value); with
        ``error_scaling`` on, each feature's error is divided by its training median.

        Parameters
        ----------
        X : array-like of shape (n_samples, n_features)

        Returns
        -------
        ndarray of shape (n_samples, n_features)
        """
        check_is_fitted(self)
        errors = path.feature_scores(self, self._validate(X, reset=False))
        return check_finite_scores(errors, "feature scores")

    # ---- latent codes ------------------------------------------------------------------
    def transform(self, X: Any) -> np.ndarray:
        """Latent code of each row (a VAE's posterior mean), e.g. for similarity search.

        Parameters
        ----------
        X : array-like of shape (n_samples, n_features)

        Returns
        -------
        ndarray of float64, shape (n_samples, n_codes)
            ``n_codes`` is the code width (``latent_dim`` for the MLP nets).
        """
        check_is_fitted(self)
        return path.codes(self, self._validate(X, reset=False))

    def get_feature_names_out(self, input_features: Any = None) -> np.ndarray:
        """Names of the latent code columns: ``latent0``, ``latent1``, ...

        Parameters
        ----------
        input_features : array-like of str or None, default=None
            Only checked against the names seen in ``fit``.

        Returns
        -------
        ndarray of str objects, shape (n_codes,)
        """
        check_is_fitted(self, "_n_features_out")
        _check_feature_names_in(self, input_features, generate_names=False)
        return np.asarray([f"latent{i}" for i in range(self._n_features_out)], dtype=object)

    def __sklearn_tags__(self):
        tags = super().__sklearn_tags__()
        tags.input_tags.sparse = True
        return tags
