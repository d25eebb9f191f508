"""Detectors a benchmark job can run: ours, PyOD / scikit-learn baselines, a user's own class.

Every detector is reduced to ``fit(X_train)`` then ``anomaly_scores(X_test)``
(higher = more anomalous), whatever its own convention:

- ours (the registry, :func:`anomalib_ae.list_detectors`): ``-score_samples``;
- PyOD (``pyod_*``): ``decision_function`` (PyOD's is higher = more anomalous);
- scikit-learn (``sklearn_*``): ``-score_samples`` (LocalOutlierFactor runs with
  ``novelty=True`` so it can score unseen rows);
- a user's class named ``"package.module:Class"``: ``-score_samples`` when it
  has one (scikit-learn convention), else ``decision_function`` read PyOD's way.

Images ``(n, H, W)`` are flattened to rows for every detector but ours.
"""

from __future__ import annotations

import importlib
import inspect
from dataclasses import dataclass, field
from typing import Any

import numpy as np

from anomalib_ae.registry import _REGISTRY, list_detectors

# name -> ("module:Class", default params). Defaults follow the libraries' own,
# except that quiet output and a fixed seed are forced where available.
BASELINES: dict[str, tuple[str, dict[str, Any]]] = {
    "pyod_iforest": ("pyod.models.iforest:IForest", {}),
    "pyod_ecod": ("pyod.models.ecod:ECOD", {}),
    "pyod_knn": ("pyod.models.knn:KNN", {}),
    "pyod_pca": ("pyod.models.pca:PCA", {}),
    "pyod_autoencoder": ("pyod.models.auto_encoder:AutoEncoder", {"verbose": 0}),
    "pyod_vae": ("pyod.models.vae:VAE", {"verbose": 0}),
    "sklearn_iforest": ("sklearn.ensemble:IsolationForest", {}),
    "sklearn_lof": ("sklearn.neighbors:LocalOutlierFactor", {"novelty": True}),
}
OURS = "@ours"
ALL_BASELINES = "@baselines"


@dataclass(frozen=True)
class DetectorSpec:
    """A detector of a job: its label in the results, import target, kind and parameters."""

    label: str
    target: str
    kind: str  # "ours", "pyod", "sklearn" or "custom"
    params: dict = field(default_factory=dict)


def _kind(target: str) -> str:
    module = target.split(":")[0]
    if module.startswith("anomalib_ae."):
        return "ours"
    return {"pyod": "pyod", "sklearn": "sklearn"}.get(module.split(".")[0], "custom")


def resolve(name: str, params: dict | None = None) -> DetectorSpec:
    """The :class:`DetectorSpec` of a registry name, baseline name or ``module:Class`` path."""
    params = dict(params or {})
    if name in BASELINES:
        target, defaults = BASELINES[name]
        return DetectorSpec(name, target, _kind(target), {**defaults, **params})
    if name in _REGISTRY:
        return DetectorSpec(name, _REGISTRY[name], "ours", params)
    if ":" in name:
        return DetectorSpec(name, name, _kind(name), params)
    raise ValueError(
        f"Unknown detector {name!r}; use one of {list_detectors() + list(BASELINES)} "
        "or an import path 'package.module:Class'."
    )


def expand(names: list[str]) -> list[str]:
    """Replace the groups ``@ours`` (the registry, read now) and ``@baselines`` by their names.

    Examples
    --------
    >>> "autoencoder" in expand(["@ours"])
    True
    """
    out: list[str] = []
    for name in names:
        group = {OURS: list_detectors(), ALL_BASELINES: list(BASELINES)}.get(name, [name])
        out.extend(n for n in group if n not in out)
    return out


def import_target(target: str) -> type:
    """The class named by ``"package.module:Class"``."""
    module, _, attr = target.partition(":")
    try:
        obj = importlib.import_module(module)
        for part in attr.split("."):
            obj = getattr(obj, part)
    except (ImportError, AttributeError) as exc:
        raise ValueError(f"Cannot import detector {target!r}: {exc}.") from exc
    return obj


def accepted_params(cls: type, params: dict) -> dict:
    """The subset of ``params`` that ``cls.__init__`` accepts (for suite-wide defaults)."""
    signature = inspect.signature(cls)
    if any(p.kind is p.VAR_KEYWORD for p in signature.parameters.values()):
        return dict(params)
    return {k: v for k, v in params.items() if k in signature.parameters}


def with_seed(cls: type, params: dict, seed: int) -> dict:
    """``params`` plus ``random_state=seed`` when the class takes one and none is set."""
    if "random_state" in inspect.signature(cls).parameters and "random_state" not in params:
        return {**params, "random_state": seed}
    return params


class Adapter:
    """A built detector reduced to ``fit(X)`` and ``anomaly_scores(X)`` (higher = anomalous)."""

    def __init__(self, spec: DetectorSpec, seed: int) -> None:
        cls = import_target(spec.target)
        self.spec = spec
        self.estimator = cls(**with_seed(cls, spec.params, seed))
        self.notes: list[str] = []

    def _rows(self, X: np.ndarray) -> np.ndarray:
        return X if self.spec.kind == "ours" else X.reshape(len(X), -1)

    def fit(self, X: np.ndarray) -> Adapter:
        X = self._rows(X)
        batch_size = getattr(self.estimator, "batch_size", None)
        if self.spec.kind == "pyod" and isinstance(batch_size, int) and batch_size > len(X):
            # PyOD's deep models drop the last incomplete batch (DataLoader drop_last=True),
            # so a batch larger than the training set trains on nothing and then crashes.
            self.estimator.batch_size = len(X)
            self.notes.append(
                f"batch_size lowered from {batch_size} to the {len(X)} training rows "
                "(PyOD drops incomplete batches)"
            )
        self.estimator.fit(X)
        return self

    def anomaly_scores(self, X: np.ndarray) -> np.ndarray:
        X = self._rows(X)
        est = self.estimator
        if self.spec.kind == "pyod":
            scores = est.decision_function(X)
        elif hasattr(est, "score_samples"):
            scores = -np.asarray(est.score_samples(X), dtype=np.float64)
        else:
            scores = est.decision_function(X)
        return np.asarray(scores, dtype=np.float64).ravel()
