"""The MLflow flavour: log, load (safe format, no pickle), pyfunc score and label columns."""

from __future__ import annotations

import pickle

import numpy as np
import pandas as pd
import pytest

from anomalib_ae import AutoEncoderDetector, CooksDistanceDetector

mlflow = pytest.importorskip("mlflow", reason="the `mlflow` extra is not installed")
import anomalib_ae.mlflow as flavor  # noqa: E402


@pytest.fixture(scope="module")
def fitted():
    rng = np.random.default_rng(0)
    X = pd.DataFrame(rng.normal(size=(80, 3)), columns=["a", "b", "c"])
    det = AutoEncoderDetector(hidden_dims=(4,), latent_dim=2, max_epochs=1, random_state=0)
    return det.fit(X), X


@pytest.fixture
def no_pickle(monkeypatch):
    def refuse(*args, **kwargs):
        raise AssertionError("something was unpickled")

    monkeypatch.setattr(pickle, "load", refuse)
    monkeypatch.setattr(pickle, "loads", refuse)


def test_log_model_and_load_back(fitted, tmp_path, no_pickle, monkeypatch):
    det, X = fitted
    monkeypatch.setenv("MLFLOW_ALLOW_FILE_STORE", "true")  # mlflow-skinny has no SQL store
    previous = mlflow.get_tracking_uri()
    mlflow.set_tracking_uri((tmp_path / "mlruns").as_uri())
    try:
        mlflow.set_experiment("aeod")
        with mlflow.start_run():
            info = flavor.log_model(det, name="detector")
        restored = flavor.load_model(info.model_uri)
        out = mlflow.pyfunc.load_model(info.model_uri).predict(X)
    finally:
        mlflow.set_tracking_uri(previous)
    np.testing.assert_array_equal(restored.score_samples(X), det.score_samples(X))
    assert list(out.columns) == ["anomaly_score", "label"]
    np.testing.assert_array_equal(out["anomaly_score"].to_numpy(), det.anomaly_score(X))
    np.testing.assert_array_equal(out["label"].to_numpy(), det.predict(X))


def test_saved_directory_holds_the_safe_format(fitted, tmp_path):
    det, X = fitted
    flavor.save_model(det, tmp_path / "m")
    files = sorted(p.name for p in (tmp_path / "m").iterdir())
    assert "model.aeod" in files and "MLmodel" in files
    assert not [f for f in files if f.endswith((".pkl", ".pickle"))]
    assert "loader_module: anomalib_ae.mlflow" in (tmp_path / "m" / "MLmodel").read_text()


def test_pyfunc_checks_columns(fitted, tmp_path):
    det, X = fitted
    flavor.save_model(det, tmp_path / "m")
    model = mlflow.pyfunc.load_model(str(tmp_path / "m"))
    with pytest.raises(ValueError, match="column 'b' is missing"):
        model.predict(X.drop(columns="b"))
    array = model.predict(X.to_numpy())  # an array in the features' order
    np.testing.assert_array_equal(array["anomaly_score"].to_numpy(), det.anomaly_score(X))


def test_calibrated_detector_adds_p_values(tmp_path):
    X = np.random.default_rng(1).normal(size=(60, 3))
    det = CooksDistanceDetector(target=0, calibration=0.3, random_state=0).fit(X)
    flavor.save_model(det, tmp_path / "m")
    out = mlflow.pyfunc.load_model(str(tmp_path / "m")).predict(X)
    np.testing.assert_array_equal(out["p_value"].to_numpy(), det.p_values(X))
