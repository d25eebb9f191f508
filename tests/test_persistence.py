"""save/load, pickle, joblib and clone+refit round trips; corrupt, tampered and foreign files."""

from __future__ import annotations

import io
import json
import pickle
import zipfile

import joblib
import numpy as np
import pandas as pd
import pytest
import torch
from sklearn.base import clone
from sklearn.exceptions import NotFittedError

import anomalib_ae
from anomalib_ae import AutoEncoderDetector, load
from anomalib_ae.persistence import FORMAT_VERSION, DetectorFileError, _checksum
from tests.bad_inputs import accepts_images, entry_points
from tests.conftest import fast_detector


def _data(n=80, d=4, seed=0):
    return np.random.default_rng(seed).normal(size=(n, d))


def _outputs(det, X) -> dict[str, np.ndarray]:
    out = {m: np.asarray(getattr(det, m)(X)) for m in entry_points(det)}
    if hasattr(det, "kneighbors"):
        out["kneighbors"] = np.stack(det.kneighbors(X, n_neighbors=3))
    return out


def _assert_same_outputs(a, b, X) -> None:
    out_a, out_b = _outputs(a, X), _outputs(b, X)
    assert out_a.keys() == out_b.keys()
    for method in out_a:
        np.testing.assert_array_equal(out_a[method], out_b[method], err_msg=method)


def _same_params(a, b) -> None:
    pa, pb = a.get_params(deep=False), b.get_params(deep=False)
    assert pa.keys() == pb.keys()
    for key in pa:
        assert type(pa[key]) is type(pb[key]) and repr(pa[key]) == repr(pb[key]), key


@pytest.fixture(scope="module")
def fitted():
    cache = {}

    def get(name):
        if name not in cache:
            X = pd.DataFrame(_data(), columns=["a", "b", "c", "d"])
            cache[name] = (fast_detector(name).fit(X), X)
        return cache[name]

    return get


# ---- round trips, every registered detector --------------------------------------------------
def test_save_load_round_trip(detector_name, fitted, tmp_path):
    det, X = fitted(detector_name)
    path = tmp_path / "model.aeod"
    det.save(path)
    restored = load(path)
    assert type(restored) is type(det)
    _same_params(restored, det)
    _assert_same_outputs(restored, det, X)
    np.testing.assert_array_equal(restored.feature_names_in_, det.feature_names_in_)
    assert [p.name for p in tmp_path.iterdir()] == ["model.aeod"], "temporary file left behind"


def test_loaded_detector_refits_like_the_original(detector_name, fitted):
    det, X = fitted(detector_name)
    buffer = io.BytesIO()
    det.save(buffer)
    restored = load(io.BytesIO(buffer.getvalue()))
    _assert_same_outputs(clone(restored).fit(X), det, X)


def test_pickle_joblib_and_clone_refit_round_trips(detector_name, fitted, tmp_path):
    det, X = fitted(detector_name)
    _assert_same_outputs(pickle.loads(pickle.dumps(det)), det, X)
    joblib.dump(det, tmp_path / "det.joblib")
    _assert_same_outputs(joblib.load(tmp_path / "det.joblib"), det, X)
    _assert_same_outputs(clone(det).fit(X), det, X)


def test_image_detector_round_trip(detector_name):
    det = fast_detector(detector_name, max_epochs=1)
    if not accepts_images(det):
        pytest.skip(f"{detector_name} takes tables only")
    images = np.random.default_rng(0).random((20, 6, 6))
    det.fit(images)
    buffer = io.BytesIO()
    det.save(buffer)
    restored = load(io.BytesIO(buffer.getvalue()))
    # a meta-detector's members hold the image state
    fitted, loaded = (getattr(d, "estimators_", [d])[0] for d in (det, restored))
    assert loaded.image_shape_ == fitted.image_shape_
    assert type(loaded.scaler_) is type(fitted.scaler_)
    _assert_same_outputs(restored, det, images)


def test_saving_an_unfitted_detector_is_an_error(detector_name, tmp_path):
    with pytest.raises(NotFittedError, match="not fitted"):
        fast_detector(detector_name).save(tmp_path / "x")


# ---- parameters that JSON cannot hold directly --------------------------------------------
def test_random_state_instance_and_unsaveable_param():
    X = _data()
    rs = np.random.RandomState(7)
    det = AutoEncoderDetector(hidden_dims=(4,), latent_dim=2, max_epochs=2, random_state=rs)
    det.fit(X)
    det.trainer_kwargs = {"gradient_clip_val": 0.5, "callbacks": [object()]}  # not JSON
    buffer = io.BytesIO()
    with pytest.warns(UserWarning, match="trainer_kwargs.*cannot be saved"):
        det.save(buffer)
    restored = load(io.BytesIO(buffer.getvalue()))
    assert restored.trainer_kwargs is None
    assert isinstance(restored.random_state, np.random.RandomState)
    np.testing.assert_array_equal(restored.random_state.get_state()[1], rs.get_state()[1])
    _assert_same_outputs(restored, det, X)


# ---- bad files ----------------------------------------------------------------------------
@pytest.fixture(scope="module")
def saved() -> bytes:
    X = _data()
    buffer = io.BytesIO()
    fast_detector("autoencoder").fit(X).save(buffer)
    return buffer.getvalue()


def _members(blob: bytes) -> tuple[dict, bytes]:
    with zipfile.ZipFile(io.BytesIO(blob)) as z:
        return json.loads(z.read("metadata.json")), z.read("tensors.pt")


def _rebuild(metadata: dict, payload: bytes, fix_checksum: bool = True) -> io.BytesIO:
    if fix_checksum:
        metadata["checksum"] = _checksum(metadata, payload)
    out = io.BytesIO()
    with zipfile.ZipFile(out, "w") as z:
        z.writestr("metadata.json", json.dumps(metadata))
        z.writestr("tensors.pt", payload)
    out.seek(0)
    return out


def test_tampered_weights_are_detected(saved):
    metadata, payload = _members(saved)
    flipped = bytearray(payload)
    flipped[-100] ^= 0xFF
    with pytest.raises(DetectorFileError, match="modified or corrupted"):
        load(_rebuild(metadata, bytes(flipped), fix_checksum=False))


def test_tampered_metadata_is_detected(saved):
    metadata, payload = _members(saved)
    metadata["state"]["offset_"] = 123.0
    with pytest.raises(DetectorFileError, match="checksum"):
        load(_rebuild(metadata, payload, fix_checksum=False))


def test_incompatible_format_version(saved):
    metadata, payload = _members(saved)
    metadata["format_version"] = FORMAT_VERSION + 1
    with pytest.raises(DetectorFileError, match=f"format version {FORMAT_VERSION + 1}"):
        load(_rebuild(metadata, payload))


def test_other_library_version_warns_but_loads(saved):
    metadata, payload = _members(saved)
    metadata["anomalib_ae_version"] = "0.0.1"
    with pytest.warns(UserWarning, match="saved with anomalib_ae 0.0.1"):
        restored = load(_rebuild(metadata, payload))
    X = _data()
    _assert_same_outputs(restored, load(io.BytesIO(saved)), X)


@pytest.mark.parametrize("target", ["os:system", "anomalib_ae.persistence:_Encoder", 3])
def test_class_outside_the_registry_is_refused(saved, target):
    metadata, payload = _members(saved)
    metadata["class"] = target
    with pytest.raises(DetectorFileError, match="not a registered detector"):
        load(_rebuild(metadata, payload))


class _Exploit:
    ran = False

    def __reduce__(self):
        return (_Exploit._run, ())

    @staticmethod
    def _run():
        _Exploit.ran = True
        return {}


def test_pickled_code_in_the_payload_is_never_run(saved):
    metadata, _ = _members(saved)
    buffer = io.BytesIO()
    torch.save({"x": _Exploit()}, buffer)
    with pytest.raises(DetectorFileError, match="cannot be read safely"):
        load(_rebuild(metadata, buffer.getvalue()))
    assert not _Exploit.ran


@pytest.mark.parametrize(
    "blob", [b"", b"not a zip file at all", b"PK\x03\x04truncated"], ids=["empty", "text", "trunc"]
)
def test_corrupt_files(blob, tmp_path):
    path = tmp_path / "bad.aeod"
    path.write_bytes(blob)
    with pytest.raises(DetectorFileError, match="not a readable anomalib_ae detector file"):
        load(path)


def test_truncated_file(saved, tmp_path):
    path = tmp_path / "cut.aeod"
    path.write_bytes(saved[: len(saved) // 2])
    with pytest.raises(DetectorFileError, match="not a readable"):
        load(path)


def test_missing_file_is_file_not_found(tmp_path):
    with pytest.raises(FileNotFoundError):
        load(tmp_path / "nope.aeod")


def test_metadata_records_versions(saved):
    metadata, _ = _members(saved)
    assert metadata["anomalib_ae_version"] == anomalib_ae.__version__
    assert metadata["torch_version"] == torch.__version__
    assert metadata["class"] == "anomalib_ae.detectors.autoencoder:AutoEncoderDetector"


@pytest.mark.skipif(not torch.cuda.is_available(), reason="needs a CUDA GPU")
def test_model_trained_on_gpu_loads_on_cpu():
    X = _data()
    det = fast_detector("autoencoder", accelerator="gpu").fit(X)
    det.net_.cuda()  # as if it had been left on the GPU: the file still loads on the CPU
    buffer = io.BytesIO()
    det.save(buffer)
    det.net_.cpu()
    restored = load(io.BytesIO(buffer.getvalue()))
    assert next(restored.net_.parameters()).device.type == "cpu"
    _assert_same_outputs(restored, det, X)
