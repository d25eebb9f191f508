"""PixelCNNDetector: causal masks, a normalised discrete likelihood, the score's sign, training rules."""

from __future__ import annotations

import itertools
import math

import numpy as np
import pytest
import torch
from sklearn.metrics import roc_auc_score
from torch.optim.optimizer import register_optimizer_step_post_hook

from anomalib_ae import PixelCNNDetector, load
from anomalib_ae.nn.causal import CausalConvNet
from anomalib_ae.nn.pixelcnn import PixelCNNNet

FAST = {"channels": (8, 8), "max_epochs": 5, "batch_size": 32, "random_state": 0}


def _stripes(n: int, seed: int = 0, size: int = 8) -> np.ndarray:
    """Vertical stripes of random phase and contrast, with a little pixel noise."""
    rng = np.random.default_rng(seed)
    cols = np.arange(size)
    phase = rng.uniform(0, 2 * np.pi, (n, 1, 1))
    amp = rng.uniform(0.25, 0.45, (n, 1, 1))
    x = 0.5 + amp * np.sin(2 * np.pi * cols / 4 + phase) + rng.normal(0, 0.03, (n, size, size))
    return np.clip(x, 0, 1)


@pytest.fixture(scope="module")
def stripes_detector():
    return PixelCNNDetector(**FAST).fit(_stripes(256))


def test_far_and_perturbed_images_get_the_lowest_scores(stripes_detector):
    rng = np.random.default_rng(1)
    inliers = _stripes(100, seed=2)
    noise = rng.uniform(0, 1, (20, 8, 8))
    perturbed = _stripes(20, seed=3)
    hit = rng.uniform(size=perturbed.shape) < 0.5
    perturbed[hit] = rng.uniform(0, 1, hit.sum())
    for outliers in (noise, perturbed):
        scores = stripes_detector.score_samples(np.concatenate([inliers, outliers]))
        y = np.r_[np.zeros(100), np.ones(20)]
        assert roc_auc_score(y, -scores) > 0.9  # higher score_samples = more normal


def test_scoring_is_repeatable_and_batch_independent(stripes_detector):
    X = _stripes(50, seed=4)
    det = stripes_detector
    first = det.score_samples(X)
    np.testing.assert_array_equal(first, det.score_samples(X))
    np.testing.assert_array_equal(
        first, np.r_[det.score_samples(X[:17]), det.score_samples(X[17:])]
    )
    assert not det.net_.training
    maps = det.feature_scores(X[:3])
    assert maps.shape == (3, 8, 8)
    np.testing.assert_array_equal(maps, det.feature_scores(X[:3]))


def test_tables_are_batch_independent_and_persist(tmp_path):
    X = np.random.default_rng(0).normal(size=(120, 5))
    det = PixelCNNDetector(hidden_dims=(8, 8), max_epochs=2, random_state=0).fit(X)
    scores = det.score_samples(X)
    halves = np.r_[det.score_samples(X[:61]), det.score_samples(X[61:])]
    np.testing.assert_allclose(scores, halves, rtol=1e-12)  # float64 kernels: ~1e-16 apart
    assert det.feature_scores(X[:4]).shape == (4, 5)
    det.save(tmp_path / "det.aeod")
    np.testing.assert_array_equal(load(tmp_path / "det.aeod").score_samples(X), scores)


def test_images_persist(tmp_path, stripes_detector):
    X = _stripes(20, seed=5)
    stripes_detector.save(tmp_path / "det.aeod")
    loaded = load(tmp_path / "det.aeod")
    np.testing.assert_array_equal(loaded.score_samples(X), stripes_detector.score_samples(X))


def test_same_random_state_same_scores():
    X = _stripes(64)
    params = {**FAST, "max_epochs": 1}
    a = PixelCNNDetector(**params).fit(X).score_samples(X)
    b = PixelCNNDetector(**params).fit(X).score_samples(X)
    np.testing.assert_array_equal(a, b)


@pytest.mark.parametrize("score_type", ["likelihood_ratio", "bits_per_dim"])
def test_optimiser_steps_are_epochs_times_batches(score_type):
    X = _stripes(100)
    steps = []
    handle = register_optimizer_step_post_hook(lambda *args: steps.append(1))
    try:
        det = PixelCNNDetector(
            **{**FAST, "max_epochs": 3, "batch_size": 32}, score_type=score_type
        ).fit(X)
    finally:
        handle.remove()
    assert det.n_epochs_ == 3
    assert len(steps) == 3 * math.ceil(100 / 32)  # one optimiser for both nets


def test_pixelcnn_masks_are_causal():
    """log p(x_j | x_<j) for pixels j < i does not move when the pixels >= i change."""
    torch.manual_seed(0)
    c, h, w = 2, 5, 5
    net = PixelCNNNet((c, h, w), channels=(6, 6, 6), n_bits=8).eval()
    x = torch.rand(1, c, h, w)
    base = net.feature_log_probs(x.flatten(1)).view(c, h * w)
    for i in range(h * w):
        changed = x.clone().view(c, h * w)
        changed[:, i:] = torch.rand(c, h * w - i)
        out = net.feature_log_probs(changed.view(1, -1)).view(c, h * w)
        assert torch.equal(out[:, :i], base[:, :i]), i
        if i < h * w - 1:
            assert not torch.equal(out[:, i + 1 :], base[:, i + 1 :])  # later pixels do see them
    # no blind spot: the pixel above and to the right reaches the current pixel
    changed = x.clone()
    changed[:, :, 1, 3] = 1.0 - changed[:, :, 1, 3]
    out = net.feature_log_probs(changed.flatten(1)).view(c, h, w)
    assert not torch.equal(out[:, 2, 2], base.view(c, h, w)[:, 2, 2])


def test_causal_conv_masks_are_causal():
    torch.manual_seed(0)
    net = CausalConvNet(6, hidden_dims=(4, 4, 4)).double()
    x = torch.randn(1, 6, dtype=torch.float64, requires_grad=True)
    for j in range(6):
        (grad,) = torch.autograd.grad(net.feature_log_probs(x)[0, j], x)
        assert torch.all(grad[0, j + 1 :] == 0), j
        if j > 0:
            assert torch.all(grad[0, :j] != 0), j  # the first layer sees the whole history


@pytest.mark.parametrize(("shape", "n_bits"), [((1, 2, 2), 2), ((2, 2, 2), 1), ((1, 1, 3), 3)])
def test_image_probabilities_sum_to_one(shape, n_bits):
    torch.manual_seed(0)
    net = PixelCNNNet(shape, channels=(4, 4), n_bits=n_bits).eval()
    levels = 2**n_bits
    d = int(np.prod(shape))
    grid = torch.tensor(list(itertools.product(range(levels), repeat=d)), dtype=torch.float32)
    with torch.no_grad():
        total = net(grid / (levels - 1)).double().exp().sum()
    assert abs(float(total) - 1.0) < 1e-4


def test_detector_bits_per_dim_is_a_distribution():
    """score_samples of bits_per_dim over every 2x2 image of 4 levels sums to probability 1."""
    rng = np.random.default_rng(0)
    X = rng.integers(0, 4, (64, 2, 2)) / 3.0
    X[0] = 0.0
    X[1] = 1.0  # the minmax scaler maps the levels onto themselves
    det = PixelCNNDetector(
        channels=(4,), n_bits=2, score_type="bits_per_dim", max_epochs=2, random_state=0
    ).fit(X)
    grid = np.array(list(itertools.product(range(4), repeat=4)), dtype=float).reshape(-1, 2, 2) / 3
    log2_p = det.score_samples(grid) * 4  # -bits/dim times D
    assert abs(np.exp2(log2_p).sum() - 1.0) < 1e-4


def _textures(n: int, rng: np.random.Generator) -> np.ndarray:
    """Noisy textures: a random grey level plus strong i.i.d. pixel noise."""
    return np.clip(rng.uniform(0.3, 0.7, (n, 1, 1)) + rng.normal(0, 0.2, (n, 8, 8)), 0, 1)


def test_likelihood_ratio_beats_bits_per_dim_on_simpler_outliers():
    """Constant images are *more* likely than the noisy training textures (Nalisnick et al.);
    the ratio to the background model, which explains that simplicity too, undoes much of it."""
    rng = np.random.default_rng(0)
    X_train, inliers = _textures(256, rng), _textures(100, rng)
    constant = np.broadcast_to(rng.uniform(0.3, 0.7, (20, 1, 1)), (20, 8, 8))
    X, y = np.concatenate([inliers, constant]), np.r_[np.zeros(100), np.ones(20)]
    auroc = {}
    for score_type in ("bits_per_dim", "likelihood_ratio"):
        det = PixelCNNDetector(**{**FAST, "max_epochs": 10}, score_type=score_type).fit(X_train)
        auroc[score_type] = roc_auc_score(y, -det.score_samples(X))
    assert auroc["bits_per_dim"] < 0.45, auroc  # raw likelihood prefers the constant images
    assert auroc["likelihood_ratio"] > auroc["bits_per_dim"] + 0.2, auroc
