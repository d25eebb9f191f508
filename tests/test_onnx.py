"""ONNX export: ONNX Runtime scores equal ``score_samples`` for every exportable detector."""

from __future__ import annotations

import numpy as np
import pytest

from anomalib_ae import AutoEncoderDetector, list_detectors
from tests.conftest import fast_detector

onnxruntime = pytest.importorskip("onnxruntime", reason="the `onnx` extra is not installed")
pytest.importorskip("onnx", reason="the `onnx` extra is not installed")

# The detectors registered when this test was written: each exports, or is in REFUSED.
_BUILTIN = {
    "autoencoder",
    "autoencoder_ensemble",
    "conditional_vae",
    "contractive_autoencoder",
    "cooks_distance",
    "denoising_autoencoder",
    "seed_ensemble",
    "vae",
}

RTOL = 1e-5
BATCHES = (1, 7, 1000)
FAST = {"max_epochs": 1}


def _tabular() -> tuple[np.ndarray, np.ndarray]:
    rng = np.random.default_rng(0)
    X = rng.normal(size=(120, 5)) * [1.0, 10.0, 0.1, 3.0, 1.0] + [0, 5, 0, -2, 100]
    return X, rng


def _images() -> tuple[np.ndarray, np.ndarray]:
    rng = np.random.default_rng(1)
    return rng.uniform(0, 255, size=(60, 1, 8, 8)), rng


def _run(path, X: np.ndarray) -> list[np.ndarray]:
    session = onnxruntime.InferenceSession(str(path), providers=["CPUExecutionProvider"])
    return session.run(None, {"X": np.ascontiguousarray(X.reshape(len(X), -1), np.float64)})


# Registered detectors without an ONNX graph (they refuse, naming themselves); a detector
# registered later that refuses must name itself too, and one that exports must match.
REFUSED = {"cooks_distance", "pixelcnn"}


def _check_parity(name, det, X_train, rng, tmp_path) -> None:
    path = tmp_path / "det.onnx"
    try:
        det.to_onnx(path)
    except NotImplementedError as exc:
        assert type(det).__name__ in str(exc)
        assert not path.exists()
        assert name in REFUSED or name not in _BUILTIN, f"{name} should export: {exc}"
        return
    assert name not in REFUSED
    shape = X_train.shape[1:]
    for n in BATCHES:
        X = X_train[rng.integers(0, len(X_train), n)] * rng.uniform(0.5, 2.0, size=(n, *shape))
        score, anomaly, label = _run(path, X)
        expected = det.score_samples(X)
        # relative to each score, or to a typical score for those near 0 (float32 conv nets:
        # GANomaly's standardised latent distance of a row whose code gap sits at its training
        # mean is a difference of nearly equal float32 numbers)
        atol = RTOL * float(np.median(np.abs(expected)))
        np.testing.assert_allclose(score, expected, rtol=RTOL, atol=atol)
        np.testing.assert_allclose(anomaly, -expected, rtol=RTOL, atol=atol)
        assert score.shape == (n,) and label.dtype == np.int64
        near = np.abs(expected - det.offset_) <= RTOL * np.abs(expected)
        np.testing.assert_array_equal(label[~near], det.predict(X)[~near])


@pytest.mark.parametrize("name", list_detectors())
def test_parity_tabular(name, tmp_path):
    X, rng = _tabular()
    det = fast_detector(name, **FAST).fit(X)
    _check_parity(name, det, X, rng, tmp_path)


@pytest.mark.parametrize("name", list_detectors())
def test_parity_images(name, tmp_path):
    det = fast_detector(name, **FAST)
    if "architecture" not in det.get_params(deep=False):
        pytest.skip(f"{name} takes no image input (no `architecture` parameter)")
    small = {"channels": (2, 4), "architecture": "conv"}
    det.set_params(**{k: v for k, v in small.items() if k in det.get_params(deep=False)})
    X, rng = _images()
    det.fit(X)
    _check_parity(name, det, X, rng, tmp_path)


def test_neighbor_term_beyond_limit_is_refused(tmp_path):
    X, _ = _tabular()
    det = AutoEncoderDetector(hidden_dims=(4,), latent_dim=2, max_epochs=1, random_state=0).fit(X)
    with pytest.raises(ValueError, match="CodeNeighborDistance.*max_neighbor_rows=50"):
        det.to_onnx(tmp_path / "det.onnx", max_neighbor_rows=50)
    det.to_onnx(tmp_path / "det.onnx", max_neighbor_rows=len(X))  # exactly at the limit
    assert (tmp_path / "det.onnx").stat().st_size > 0


def test_graph_has_a_dynamic_batch_axis_and_weights_inside(tmp_path):
    import onnx

    X, _ = _tabular()
    det = AutoEncoderDetector(hidden_dims=(4,), latent_dim=2, max_epochs=1, random_state=0).fit(X)
    det.to_onnx(tmp_path / "det.onnx")
    model = onnx.load(str(tmp_path / "det.onnx"))
    onnx.checker.check_model(model)
    dim = model.graph.input[0].type.tensor_type.shape.dim
    assert dim[0].dim_param and dim[1].dim_value == X.shape[1]
    assert [o.name for o in model.graph.output] == ["score_samples", "anomaly_score", "label"]
    assert not any(t.data_location == onnx.TensorProto.EXTERNAL for t in model.graph.initializer)


@pytest.mark.parametrize(
    ("name", "params"),
    [
        ("vae", {"score_type": "elbo", "n_samples": 3}),
        ("vae", {"score_type": "recon_probability", "n_samples": 3}),
        ("vae", {"score_type": "kl"}),
        ("autoencoder_ensemble", {"score_terms": ("reconstruction", "code_deviation")}),
        ("autoencoder_ensemble", {"score_terms": ("reconstruction", "input_neighbors")}),
        ("autoencoder", {"code_neighbors": 0, "error_scaling": "none"}),
        ("autoencoder", {"calibration": 0.2, "scaler": "standard"}),
    ],
    ids=[
        "vae-elbo",
        "vae-recon-probability",
        "vae-kl",
        "ensemble-rec-dev",
        "ensemble-rec-input",
        "ae-plain",
        "ae-cal",
    ],
)
def test_parity_score_variants(name, params, tmp_path):
    X, rng = _tabular()
    det = fast_detector(name, **FAST, **params).fit(X)
    _check_parity(name, det, X, rng, tmp_path)


def test_seed_ensemble_of_cooks_distance_is_refused(tmp_path):
    from anomalib_ae import SeedEnsembleDetector

    X, _ = _tabular()
    det = SeedEnsembleDetector(
        detector="cooks_distance", detector_params={"target": 0}, n_estimators=2
    ).fit(X)
    with pytest.raises(NotImplementedError, match="SeedEnsembleDetector.*CooksDistanceDetector"):
        det.to_onnx(tmp_path / "det.onnx")


@pytest.mark.parametrize("name", ["autoencoder", "vae"])
def test_parity_plain_detector_on_a_wide_table(name, tmp_path):
    """``input_neighbors="auto"``: the input-neighbour term alone, exported exactly."""
    rng = np.random.default_rng(2)
    X = rng.normal(size=(40, 60))
    det = fast_detector(name, **FAST).fit(X)
    assert [t.name for t in det.score_terms_] == ["input_neighbors"]
    _check_parity(name, det, X, rng, tmp_path)
