"""DenoisingAutoEncoderDetector: corruption in training only, clean-input scoring."""

from __future__ import annotations

import numpy as np
import pytest
import torch

from anomalib_ae import AutoEncoderDetector, DenoisingAutoEncoderDetector
from anomalib_ae.nn.mlp import AutoEncoderNet
from anomalib_ae.nn.noise import corrupt
from anomalib_ae.training.denoising import DenoisingSystem
from tests.conftest import PLAIN_MSE

FAST = dict(hidden_dims=(8,), latent_dim=2, max_epochs=3, batch_size=32, random_state=0)


def _low_rank(n=400, d=8, rank=2, seed=0):
    """Rows on a 2-D linear subspace of R^8 plus a little noise, standardised."""
    rng = np.random.default_rng(seed)
    X = rng.normal(size=(n, rank)) @ rng.normal(size=(rank, d)) + 0.05 * rng.normal(size=(n, d))
    return (X - X.mean(0)) / X.std(0)


@pytest.mark.parametrize(
    "noise, params", [("gaussian", {"noise_std": 0.5}), ("mask", {"drop_prob": 0.3})]
)
def test_reconstructs_clean_inputs_better_than_noisy_ones(noise, params):
    X = _low_rank()
    det = DenoisingAutoEncoderDetector(
        noise=noise,
        **params,
        hidden_dims=(16,),
        latent_dim=2,
        max_epochs=40,
        batch_size=64,
        scaler="none",
        random_state=0,
        **PLAIN_MSE,
    ).fit(X)
    g = torch.Generator().manual_seed(1)
    X_noisy = corrupt(torch.as_tensor(X), noise, generator=g, **params).numpy()
    clean_err = -det.score_samples(X)
    noisy_err = -det.score_samples(X_noisy)
    assert clean_err.mean() < 0.5 * noisy_err.mean()
    # ... and it really denoises: its output is closer to the clean row than the noisy input is.
    with torch.no_grad():
        denoised = det.net_(torch.as_tensor(X_noisy, dtype=torch.float32)).double().numpy()
    assert ((denoised - X) ** 2).mean() < ((X_noisy - X) ** 2).mean()


def test_corruption_only_in_training():
    net = AutoEncoderNet(4, hidden_dims=(3,), latent_dim=2)
    system = DenoisingSystem(net, noise="gaussian", noise_std=1.0)
    x = torch.randn(10, 4)
    clean = (net(x) - x).pow(2).mean(1)
    torch.testing.assert_close(system.eval().sample_losses(x), clean)
    assert not torch.allclose(system.train().sample_losses(x), clean)

    det = DenoisingAutoEncoderDetector(**FAST, **PLAIN_MSE, noise_std=1.0).fit(_low_rank(n=60))
    X = _low_rank(n=30, seed=1)
    np.testing.assert_array_equal(det.score_samples(X), det.score_samples(X))
    scaled = torch.as_tensor(det.scaler_.transform(X))
    with torch.no_grad():
        by_hand = (det.net_(scaled) - scaled).pow(2).mean(1).double().numpy()
    np.testing.assert_allclose(-det.score_samples(X), by_hand, rtol=1e-6)
    np.testing.assert_allclose(det.feature_scores(X).mean(1), by_hand, rtol=1e-6)


def test_zero_noise_is_the_plain_autoencoder():
    X = _low_rank(n=60)
    dae = DenoisingAutoEncoderDetector(**FAST, noise="gaussian", noise_std=0.0).fit(X)
    ae = AutoEncoderDetector(**FAST).fit(X)
    np.testing.assert_allclose(dae.score_samples(X), ae.score_samples(X), rtol=1e-6)


def test_noise_changes_the_fit_and_is_seeded():
    X = _low_rank(n=60)
    a = DenoisingAutoEncoderDetector(**FAST, noise="mask").fit(X).score_samples(X)
    b = DenoisingAutoEncoderDetector(**FAST, noise="mask").fit(X).score_samples(X)
    c = DenoisingAutoEncoderDetector(**FAST, noise="gaussian").fit(X).score_samples(X)
    np.testing.assert_array_equal(a, b)
    assert not np.allclose(a, c)


def test_transform_shape_and_names():
    X = _low_rank(n=60)
    det = DenoisingAutoEncoderDetector(**FAST).fit(X)
    assert det.transform(X).shape == (60, 2)
    assert list(det.get_feature_names_out()) == ["latent0", "latent1"]


@pytest.mark.parametrize(
    "params, match",
    [
        ({"noise": "salt"}, "noise"),
        ({"drop_prob": 1.0}, "drop_prob"),
        ({"noise_std": -0.1}, "noise_std"),
    ],
)
def test_bad_noise_parameters_are_rejected(params, match):
    with pytest.raises(ValueError, match=match):
        DenoisingAutoEncoderDetector(**params).fit(_low_rank(n=20))
