"""Image input: conv nets, shape handling, validation, the one_class protocol and the pictures."""

from __future__ import annotations

import numpy as np
import pytest
import torch

from anomalib_ae import AutoEncoderDetector, DenoisingAutoEncoderDetector, VAEDetector
from anomalib_ae.bench.datasets import DatasetInfo
from anomalib_ae.bench.protocols import one_class_split
from anomalib_ae.bench.suites import build_jobs, protocol_grid, suite_from_dict
from anomalib_ae.detectors._images import ImageScaler
from anomalib_ae.nn.conv import ConvAutoEncoderNet, ConvVAENet

IMAGE_DETECTORS = [AutoEncoderDetector, DenoisingAutoEncoderDetector, VAEDetector]
FAST = {"channels": (4, 8), "latent_dim": 2, "max_epochs": 2, "batch_size": 32, "random_state": 0}


@pytest.fixture(scope="module")
def images() -> np.ndarray:
    rng = np.random.default_rng(0)
    return rng.random((60, 8, 8))


@pytest.mark.parametrize("shape", [(8, 8), (1, 28, 28), (5, 7), (3, 9, 13), (1, 1)])
@pytest.mark.parametrize("channels", [(4,), (4, 8), (2, 4, 8)])
def test_conv_nets_any_size(shape, channels):
    d = int(np.prod(shape))
    ae = ConvAutoEncoderNet(shape, channels=channels, latent_dim=3)
    assert ae(torch.zeros(2, d)).shape == (2, d)
    vae = ConvVAENet(shape, channels=channels, latent_dim=3)
    mu, logvar = vae.posterior(torch.zeros(2, d))
    assert mu.shape == logvar.shape == (2, 3)
    assert vae.decode(torch.zeros(4, 2, 3)).shape == (4, 2, d)


@pytest.mark.parametrize("cls", IMAGE_DETECTORS)
def test_image_inputs_agree(cls, images):
    flat = images.reshape(len(images), -1)
    three = cls(**FAST).fit(images)
    assert type(three.net_).__name__.startswith("Conv")
    assert three.image_shape_ == (1, 8, 8)
    four = cls(**FAST).fit(images[:, None])
    two = cls(image_shape=(8, 8), **FAST).fit(flat)
    expected = three.score_samples(images)
    np.testing.assert_allclose(four.score_samples(images[:, None]), expected, rtol=1e-6)
    np.testing.assert_allclose(two.score_samples(flat), expected, rtol=1e-6)
    # a detector fitted on images scores rows, (n, H, W) and (n, 1, H, W) alike
    np.testing.assert_allclose(three.score_samples(flat), expected, rtol=1e-6)
    np.testing.assert_allclose(three.score_samples(images[:, None]), expected, rtol=1e-6)
    # deterministic: the same again on refit
    np.testing.assert_array_equal(cls(**FAST).fit(images).score_samples(images), expected)


@pytest.mark.parametrize("cls", IMAGE_DETECTORS)
def test_feature_scores_are_error_maps(cls, images):
    det = cls(**FAST).fit(images)
    assert det.feature_scores(images[:3]).shape == (3, 8, 8)
    assert det.feature_scores(images[:3, None]).shape == (3, 1, 8, 8)
    assert det.feature_scores(images[:3].reshape(3, -1)).shape == (3, 64)
    assert det.transform(images[:3]).shape == (3, 2)


def test_architecture_choice(images):
    flat = images.reshape(len(images), -1)
    assert type(AutoEncoderDetector(architecture="mlp", **FAST).fit(images).net_).__name__ == (
        "AutoEncoderNet"
    )
    assert AutoEncoderDetector(**FAST).fit(flat).image_shape_ is None  # a table stays a table
    assert type(AutoEncoderDetector(**FAST).fit(flat).net_).__name__ == "AutoEncoderNet"


def test_colour_images():
    X = np.random.default_rng(1).random((20, 3, 5, 7))
    det = AutoEncoderDetector(**FAST).fit(X)
    assert det.image_shape_ == (3, 5, 7)
    assert det.feature_scores(X[:2]).shape == (2, 3, 5, 7)


@pytest.mark.parametrize(
    ("params", "X", "message"),
    [
        ({"architecture": "conv"}, np.zeros((10, 64)), "needs images"),
        ({"image_shape": (7, 7)}, np.zeros((10, 64)), "holds 49 pixels"),
        ({"image_shape": (4, 16)}, np.zeros((10, 8, 8)), "does not match"),
        ({"image_shape": (0, 8)}, np.zeros((10, 8)), "image_shape must be"),
        ({"channels": ()}, np.zeros((10, 8, 8)), "channels must be"),
        ({}, np.zeros((10, 2, 2, 2, 2)), "expects rows"),
    ],
)
def test_bad_shapes_fit(params, X, message):
    with pytest.raises(ValueError, match=message):
        AutoEncoderDetector(**{**FAST, **params}).fit(X)


def test_bad_shapes_score(images):
    det = AutoEncoderDetector(**FAST).fit(images)
    with pytest.raises(ValueError, match=r"fitted on images of shape \(C, H, W\) = \(1, 8, 8\)"):
        det.score_samples(np.zeros((2, 7, 8)))
    with pytest.raises(ValueError, match="features"):
        det.score_samples(np.zeros((2, 60)))
    tabular = AutoEncoderDetector(**FAST).fit(images.reshape(len(images), -1))
    with pytest.raises(ValueError, match="fitted on rows of 64 features"):
        tabular.score_samples(images)


def test_nan_image_is_rejected(images):
    bad = images.copy()
    bad[0, 2, 3] = np.nan
    with pytest.raises(ValueError, match="NaN"):
        AutoEncoderDetector(**FAST).fit(bad)


def test_image_scaler_is_global():
    X = np.array([[0.0, 2.0], [4.0, 1.0]])
    scaler = ImageScaler("standard").fit(X)
    assert np.allclose(scaler.shift_, X.mean()) and np.allclose(scaler.scale_, X.std())


def test_one_class_split():
    rng = np.random.default_rng(0)
    X = rng.random((200, 4, 4))
    y = np.repeat(np.arange(4), 50)
    a = one_class_split(X, y, seed=3, dataset="toy", normal_class=1, scaling="none")
    b = one_class_split(X, y, seed=3, dataset="toy", normal_class=2, scaling="none")
    assert len(a.X_train) == len(b.X_train) == 35  # 70% of 50
    assert len(a.X_test) == 60 and a.y_test.sum() == 45  # 15 normal in the test part
    np.testing.assert_array_equal(a.X_test, b.X_test)  # one split per seed, for every class
    scaled = one_class_split(X * 255, y, seed=3, dataset="toy", normal_class=1)
    assert scaled.X_train.max() == 1.0 and scaled.X_train.min() == 0.0  # global min-max
    c = one_class_split(X, y, seed=4, dataset="toy", normal_class=1, scaling="none")
    assert not np.array_equal(a.X_test, c.X_test)
    with pytest.raises(ValueError, match="normal_class"):
        one_class_split(X, y, seed=0, normal_class=9)


def test_one_class_jobs_per_class():
    suite = suite_from_dict(
        {
            "datasets": ["digits_images", "breast_cancer"],
            "detectors": ["pyod_knn"],
            "seeds": [0, 1],
            "protocols": ["one_class"],
        }
    )
    jobs, _ = build_jobs(suite)
    assert len(jobs) == 10 * 2  # breast_cancer (binary labels) gets no one-class jobs
    assert {j.dataset_label for j in jobs} == {f"digits_images/{c}" for c in range(10)}
    assert len({j.key for j in jobs}) == len(jobs)
    info = DatasetInfo("x", "g", "embedded", "digits_images", "image", "multiclass")
    assert protocol_grid(info, "adbench", {}) == []
    assert protocol_grid(info, "one_class", {"classes": [3]}) == [{"normal_class": 3}]


def test_pictures_are_png(tmp_path, images):
    from anomalib_ae.plotting.images import (
        plot_interpolation,
        plot_latent_scatter,
        plot_latent_traversal,
        plot_reconstructions,
    )

    ae = AutoEncoderDetector(**FAST).fit(images)
    vae = VAEDetector(**FAST).fit(images)
    labels = np.arange(len(images)) % 3
    paths = [tmp_path / f"{name}.png" for name in ("rec", "trav", "interp", "scatter")]
    plot_reconstructions(ae, images, n=3, path=paths[0])
    plot_latent_traversal(vae, images[0], values=[-1.0, 0.0, 1.0], path=paths[1])
    plot_interpolation(vae, images[0], images[1], steps=4, path=paths[2])
    plot_latent_scatter(vae, images, labels, path=paths[3])
    for path in paths:
        assert path.read_bytes()[:8] == b"\x89PNG\r\n\x1a\n"
    with pytest.raises(ValueError, match="table rows"):
        plot_reconstructions(AutoEncoderDetector(**FAST).fit(images.reshape(60, -1)), images)


def test_conv_detector_save_load(images):
    import io

    from anomalib_ae import load

    det = AutoEncoderDetector(**FAST).fit(images)
    buffer = io.BytesIO()
    det.save(buffer)
    buffer.seek(0)
    back = load(buffer)
    assert type(back.net_).__name__ == "ConvAutoEncoderNet" and back.image_shape_ == (1, 8, 8)
    np.testing.assert_allclose(back.score_samples(images), det.score_samples(images))


@pytest.mark.parametrize("cls", IMAGE_DETECTORS)
def test_auto_epochs_train_conv_nets_for_at_least_the_step_budget(cls, images):
    from anomalib_ae.detectors._params import IMAGE_STEPS, TABLE_EPOCHS

    fast = {k: v for k, v in FAST.items() if k != "max_epochs"}
    det = cls(**{**fast, "batch_size": 30, "channels": (2,)}).fit(images[:40, :4, :4])
    assert det.max_epochs == "auto"
    assert det.n_epochs_ == max(TABLE_EPOCHS, -(-IMAGE_STEPS // 2))  # 2 batches per epoch
    table = cls(**{**fast, "hidden_dims": (4,)}).fit(images[:40].reshape(40, -1)[:, :6])
    assert table.n_epochs_ == TABLE_EPOCHS  # tables keep their short budget
    assert cls(**{**fast, "max_epochs": 3}).fit(images[:40]).n_epochs_ == 3  # an int wins
