"""An MLflow flavour for anomalib_ae detectors: ``log_model``, ``save_model``, ``load_model``, pyfunc.

The MLflow model directory holds the detector in the package's safe file format
(``model.aeod``, see :mod:`anomalib_ae.persistence`: JSON metadata and tensors,
no pickle) and an ``MLmodel`` file naming this module as the pyfunc loader, so
neither :func:`load_model` nor ``mlflow.pyfunc.load_model`` unpickles anything.
The pyfunc's ``predict`` takes a DataFrame with the fit-time feature columns (or
an array in their order) and returns a DataFrame with ``anomaly_score``
(higher = more anomalous) and ``label`` (-1 outlier, +1 inlier), and
``p_value`` for a calibrated detector.

Needs the ``mlflow`` extra (``pip install "anomalib_ae[mlflow]"``, mlflow-skinny).

Examples
--------
>>> import tempfile, numpy as np, pandas as pd
>>> import anomalib_ae.mlflow
>>> from anomalib_ae import AutoEncoderDetector
>>> X = pd.DataFrame(np.random.default_rng(0).normal(size=(60, 3)), columns=list("abc"))
>>> det = AutoEncoderDetector(hidden_dims=(4,), latent_dim=2, max_epochs=1,
...                           random_state=0).fit(X)
>>> path = tempfile.mkdtemp() + "/model"
>>> anomalib_ae.mlflow.save_model(det, path)
>>> import mlflow.pyfunc
>>> out = mlflow.pyfunc.load_model(path).predict(X)
>>> list(out.columns), bool((out["anomaly_score"] == -det.score_samples(X)).all())
(['anomaly_score', 'label'], True)
"""

from __future__ import annotations

import os
from typing import Any

import numpy as np
import pandas as pd

from anomalib_ae._version import __version__

__all__ = ["get_default_pip_requirements", "load_model", "log_model", "save_model"]

FLAVOR_NAME = "anomalib_ae"
_DATA = "model.aeod"


def _mlflow():
    try:
        import mlflow
    except ImportError:
        raise ImportError(
            'The MLflow flavour needs mlflow: pip install "anomalib_ae[mlflow]".'
        ) from None
    return mlflow


def get_default_pip_requirements() -> list[str]:
    """What a model served from this flavour needs installed."""
    import sklearn
    import torch

    return [
        f"anomalib_ae=={__version__}",
        f"torch=={torch.__version__.split('+')[0]}",
        f"scikit-learn=={sklearn.__version__}",
        f"pandas=={pd.__version__}",
    ]


def save_model(
    detector: Any,
    path: str | os.PathLike,
    mlflow_model: Any = None,
    *,
    pip_requirements: list[str] | None = None,
    signature: Any = None,
    input_example: Any = None,
    metadata: dict | None = None,
) -> None:
    """Write fitted ``detector`` as an MLflow model directory at ``path`` (which must not exist).

    Parameters
    ----------
    detector : a fitted registered detector
    path : str or path-like
    mlflow_model : mlflow.models.Model or None
        The model configuration to add the flavours to (``log_model`` passes one).
    pip_requirements : list of str or None
        Default: :func:`get_default_pip_requirements`.
    signature, input_example, metadata
        As for MLflow's own flavours.
    """
    _mlflow()
    from mlflow.models import Model
    from mlflow.models.utils import _save_example
    from mlflow.pyfunc import add_to_model
    from mlflow.utils.environment import _mlflow_conda_env, _PythonEnv

    path = os.path.abspath(os.fspath(path))
    if os.path.exists(path):
        raise FileExistsError(f"MLflow model path {path} already exists; choose a new one.")
    os.makedirs(path)
    detector.save(os.path.join(path, _DATA), extra=_schema_extra(detector))
    if mlflow_model is None:
        mlflow_model = Model()
    if input_example is not None:
        _save_example(mlflow_model, input_example, path)
    if signature is not None:
        mlflow_model.signature = signature
    if metadata is not None:
        mlflow_model.metadata = metadata
    add_to_model(
        mlflow_model,
        loader_module="anomalib_ae.mlflow",
        data=_DATA,
        conda_env="conda.yaml",
        python_env="python_env.yaml",
    )
    mlflow_model.add_flavor(
        FLAVOR_NAME,
        anomalib_ae_version=__version__,
        detector_class=type(detector).__name__,
        data=_DATA,
    )
    mlflow_model.save(os.path.join(path, "MLmodel"))
    requirements = pip_requirements or get_default_pip_requirements()
    with open(os.path.join(path, "requirements.txt"), "w") as handle:
        handle.write("\n".join(requirements) + "\n")
    import yaml

    with open(os.path.join(path, "conda.yaml"), "w") as handle:
        yaml.safe_dump(_mlflow_conda_env(additional_pip_deps=requirements), handle)
    _PythonEnv.current().to_yaml(os.path.join(path, "python_env.yaml"))


def _schema_extra(detector: Any) -> dict:
    names = getattr(detector, "feature_names_in_", None)
    features = (
        [str(n) for n in names]
        if names is not None
        else [f"x{i}" for i in range(detector.n_features_in_)]
    )
    return {"schema": {"features": features, "id_columns": []}}


def log_model(detector: Any, name: str = "model", **kwargs: Any) -> Any:
    """Log fitted ``detector`` to the active MLflow run (one is started if none is).

    Parameters
    ----------
    detector : a fitted registered detector
    name : str, default="model"
        The model's name in the run.
    **kwargs
        Passed to ``mlflow.models.Model.log`` (``registered_model_name``,
        ``signature``, ``input_example``, ``pip_requirements``, ...).

    Returns
    -------
    mlflow.models.model.ModelInfo
    """
    _mlflow()
    from mlflow.models import Model

    import anomalib_ae.mlflow as flavor

    return Model.log(artifact_path=None, name=name, flavor=flavor, detector=detector, **kwargs)


def _local_path(model_uri: str, dst_path: str | None = None) -> str:
    _mlflow()
    from mlflow.tracking.artifact_utils import _download_artifact_from_uri
    from mlflow.utils.model_utils import _get_flavor_configuration

    local = _download_artifact_from_uri(artifact_uri=model_uri, output_path=dst_path)
    conf = _get_flavor_configuration(model_path=local, flavor_name=FLAVOR_NAME)
    return os.path.join(local, conf.get("data", _DATA))


def load_model(model_uri: str, dst_path: str | None = None) -> Any:
    """The detector of an MLflow model (a local path or ``runs:/...``, ``models:/...`` URI).

    Read through :func:`anomalib_ae.load` (checksum checked, no pickle).
    """
    from anomalib_ae.persistence import load

    return load(_local_path(model_uri, dst_path))


class _DetectorPyfunc:
    """What ``mlflow.pyfunc.load_model`` returns: ``predict`` -> score and label columns."""

    def __init__(self, path: str) -> None:
        from anomalib_ae.io.workflow import model_schema
        from anomalib_ae.persistence import load, read_metadata

        self.detector = load(path)
        self.features = model_schema(read_metadata(path))["features"]

    def get_raw_model(self) -> Any:
        return self.detector

    def predict(self, model_input: Any, params: dict | None = None) -> pd.DataFrame:
        from anomalib_ae.io.tables import check_columns

        det = self.detector
        if isinstance(model_input, pd.DataFrame):
            X = check_columns(model_input, self.features)
        else:
            X = np.asarray(model_input, dtype=np.float64)
        rows = pd.DataFrame(X, columns=self.features)
        if getattr(det, "feature_names_in_", None) is None:
            rows = X
        scores = det.score_samples(rows)
        out = pd.DataFrame(
            {"anomaly_score": -scores, "label": np.where(scores < det.offset_, -1, 1)}
        )
        if getattr(det, "calibration_scores_", None) is not None:
            out["p_value"] = det.p_values(rows)
        return out


def _load_pyfunc(path: str) -> _DetectorPyfunc:
    """Called by ``mlflow.pyfunc.load_model`` with the path of ``model.aeod``."""
    return _DetectorPyfunc(path)
