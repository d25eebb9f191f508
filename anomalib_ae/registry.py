"""One name -> detector table shared by the tests, the benchmark and the CLI."""

from __future__ import annotations

import importlib
from typing import Any

from sklearn.base import BaseEstimator

# name -> "module:Class". Imports are lazy so that listing detectors stays cheap.
_REGISTRY: dict[str, str] = {
    "autoencoder": "anomalib_ae.detectors.autoencoder:AutoEncoderDetector",
    "autoencoder_ensemble": "anomalib_ae.detectors.ensemble:AutoEncoderEnsembleDetector",
    "denoising_autoencoder": "anomalib_ae.detectors.denoising:DenoisingAutoEncoderDetector",
    "contractive_autoencoder": "anomalib_ae.detectors.contractive:ContractiveAutoEncoderDetector",
    "vae": "anomalib_ae.detectors.vae:VAEDetector",
    "ganomaly": "anomalib_ae.detectors.ganomaly:GANomalyDetector",
    "conditional_vae": "anomalib_ae.detectors.cvae:ConditionalVAEDetector",
    "cooks_distance": "anomalib_ae.detectors.cooks:CooksDistanceDetector",
    "made": "anomalib_ae.detectors.made:MADEDetector",
    "pixelcnn": "anomalib_ae.detectors.pixelcnn:PixelCNNDetector",
    "seed_ensemble": "anomalib_ae.detectors.seed_ensemble:SeedEnsembleDetector",
}


def register(name: str, target: str) -> None:
    """Add a detector to the registry under ``name`` (``target`` is ``"module:Class"``).

    Examples
    --------
    >>> register("my_ae", "anomalib_ae.detectors.autoencoder:AutoEncoderDetector")
    >>> "my_ae" in list_detectors()
    True
    >>> unregister("my_ae")
    """
    if ":" not in target:
        raise ValueError(f"target must look like 'package.module:ClassName', got {target!r}.")
    _REGISTRY[name] = target


def unregister(name: str) -> None:
    """Remove ``name`` from the registry."""
    _REGISTRY.pop(name, None)


def list_detectors() -> list[str]:
    """Names of the registered detectors, sorted.

    Examples
    --------
    >>> "autoencoder" in list_detectors()
    True
    """
    return sorted(_REGISTRY)


def get_detector_class(name: str) -> type[BaseEstimator]:
    """The detector class registered under ``name`` (or its class name)."""
    target = _REGISTRY.get(name)
    if target is None:
        by_class = {t.rsplit(":", 1)[1]: t for t in _REGISTRY.values()}
        target = by_class.get(name)
    if target is None:
        raise ValueError(f"Unknown detector {name!r}; available: {', '.join(list_detectors())}.")
    module, cls = target.split(":")
    return getattr(importlib.import_module(module), cls)


def get_detector(name: str, **params: Any) -> BaseEstimator:
    """A new, unfitted detector by registry name (or class name) with ``params`` set.

    Examples
    --------
    >>> get_detector("autoencoder", latent_dim=2).latent_dim
    2
    """
    return get_detector_class(name)(**params)
