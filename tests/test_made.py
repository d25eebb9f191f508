"""MADEDetector: a normalised density in input units, the score's sign, and training rules."""

from __future__ import annotations

import math

import numpy as np
import pytest
import torch
from sklearn.metrics import roc_auc_score
from torch.optim.optimizer import register_optimizer_step_post_hook

from anomalib_ae import MADEDetector, load
from anomalib_ae.nn.made import MADENet

FAST = {"hidden_dims": (16, 16), "max_epochs": 5, "batch_size": 64, "random_state": 0}


def _blob(n=300, seed=0):
    """Two correlated features with a non-unit scale and shift (the density is in these units)."""
    rng = np.random.default_rng(seed)
    z = rng.normal(size=(n, 2))
    x0 = 10.0 * z[:, 0] + 5.0
    x1 = 0.5 * z[:, 1] + 0.3 * z[:, 0] ** 2 - 3.0
    return np.c_[x0, x1]


def test_far_points_get_the_lowest_log_likelihood():
    X = _blob()
    det = MADEDetector(**FAST).fit(X)
    rng = np.random.default_rng(1)
    inliers = _blob(200, seed=2)
    far = np.c_[rng.uniform(60, 90, 20) * rng.choice([-1, 1], 20), rng.uniform(10, 20, 20)]
    scores = det.score_samples(np.vstack([inliers, far]))
    assert scores[200:].max() < np.percentile(scores[:200], 5)  # higher = more normal
    y = np.r_[np.zeros(200), np.ones(20)]
    assert roc_auc_score(y, -scores) > 0.9
    np.testing.assert_array_equal(det.log_likelihood(far), det.score_samples(far))


@pytest.mark.parametrize("conditional", ["gaussian", "logistic"])
def test_density_integrates_to_one_in_input_units(conditional):
    X = _blob()
    det = MADEDetector(**FAST, conditional=conditional, n_orderings=2).fit(X)
    # x0 has standard deviation 10, x1 about 0.6: a grid far beyond the data either way.
    g0, g1 = np.linspace(-115, 125, 481), np.linspace(-14, 22, 481)
    grid = np.stack(np.meshgrid(g0, g1, indexing="ij"), -1).reshape(-1, 2)
    density = np.exp(det.log_likelihood(grid))
    mass = density.sum() * (g0[1] - g0[0]) * (g1[1] - g1[0])
    assert abs(mass - 1.0) < 0.02, mass


def test_log_likelihood_includes_the_scaling_jacobian():
    X = _blob()
    det = MADEDetector(**FAST).fit(X)
    bigger = MADEDetector(**FAST).fit(X * 7.0)  # same scaled rows, so the same net
    np.testing.assert_allclose(
        bigger.log_likelihood(X * 7.0), det.log_likelihood(X) - 2 * math.log(7.0), atol=1e-4
    )


def test_one_ordering_feature_scores_sum_to_the_negative_log_likelihood():
    X = _blob()
    det = MADEDetector(**FAST, n_orderings=1).fit(X)
    parts = det.feature_scores(X[:50])
    assert parts.shape == (50, 2)
    np.testing.assert_allclose(parts.sum(1), -det.log_likelihood(X[:50]), rtol=1e-5, atol=1e-4)


def test_ensemble_density_is_the_mean_of_the_members_densities():
    net = MADENet(3, hidden_dims=(8,), n_orderings=3, seed=0)
    x = torch.randn(10, 3)
    members = net.member_log_probs(x).exp().mean(0).log()
    torch.testing.assert_close(net.log_prob(x), members)


def test_autoregressive_property_of_every_member():
    """Output d of a member depends only on the inputs before d in its ordering."""
    net = MADENet(5, hidden_dims=(12, 12), n_components=2, n_orderings=3, seed=1)
    x = torch.randn(1, 5, requires_grad=True)
    for k in range(3):
        order = net.ordering[k]
        for d in range(5):
            (grad,) = torch.autograd.grad(net.feature_log_probs(x)[k, 0, d], x, retain_graph=True)
            later = order >= order[d]  # itself and the features after it, except x_d's own term
            later[d] = False
            assert torch.all(grad[0][later] == 0)


def test_optimiser_steps_are_epochs_times_batches():
    X = _blob(250)
    steps = []
    handle = register_optimizer_step_post_hook(lambda *args: steps.append(1))
    try:
        det = MADEDetector(**{**FAST, "max_epochs": 4, "batch_size": 64}).fit(X)
    finally:
        handle.remove()
    assert det.n_epochs_ == 4
    assert len(steps) == 4 * math.ceil(250 / 64)


def test_labels_are_ignored_and_early_stopping_uses_training_rows_only():
    X = _blob()
    y = np.r_[np.zeros(290), np.ones(10)]
    plain = MADEDetector(**FAST).fit(X).score_samples(X)
    np.testing.assert_array_equal(MADEDetector(**FAST).fit(X, y).score_samples(X), plain)
    stopped = MADEDetector(**{**FAST, "max_epochs": 30}, early_stopping=True, patience=2).fit(X)
    assert all("val_loss" in entry for entry in stopped.history_)
    before = stopped.score_samples(X)
    stopped.score_samples(_blob(100, seed=5))  # scoring other rows changes nothing
    np.testing.assert_array_equal(stopped.score_samples(X), before)


def test_deterministic_and_batch_split_invariant():
    X = _blob()
    a = MADEDetector(**FAST).fit(X)
    b = MADEDetector(**FAST).fit(X)
    np.testing.assert_array_equal(a.score_samples(X), b.score_samples(X))
    assert not np.array_equal(
        MADEDetector(**{**FAST, "random_state": 1}).fit(X).score_samples(X), a.score_samples(X)
    )
    whole = a.score_samples(X)
    np.testing.assert_array_equal(a.score_samples(X), whole)
    halves = np.r_[a.score_samples(X[:150]), a.score_samples(X[150:])]
    np.testing.assert_allclose(halves, whole, rtol=1e-6, atol=1e-6)
    small = a.set_params(inference_batch_size=7).score_samples(X)
    np.testing.assert_allclose(small, whole, rtol=1e-6, atol=1e-6)


def test_round_trip_keeps_orderings_and_scores(tmp_path):
    X = _blob()
    det = MADEDetector(**FAST).fit(X)
    det.save(tmp_path / "made.aeod")
    back = load(tmp_path / "made.aeod")
    torch.testing.assert_close(back.net_.ordering, det.net_.ordering)
    np.testing.assert_array_equal(back.score_samples(X), det.score_samples(X))


def test_no_hidden_layer_is_a_clear_error():
    with pytest.raises(ValueError, match="hidden layer"):
        MADEDetector(hidden_dims=(), max_epochs=1).fit(_blob(20))


def test_one_feature_is_a_plain_mixture():
    X = np.random.default_rng(0).normal(size=(100, 1))
    det = MADEDetector(**FAST).fit(X)
    scores = det.score_samples(np.array([[0.0], [8.0]]))
    assert scores[0] > scores[1]


# ---- the latent-density term on an autoencoder's codes ---------------------------------
def _ae(**params):
    from anomalib_ae import AutoEncoderDetector

    base = {"hidden_dims": (8,), "latent_dim": 2, "max_epochs": 3, "random_state": 0}
    return AutoEncoderDetector(**{**base, **params})


def test_code_density_term_is_added_fitted_and_saved(tmp_path):
    X = _blob(200)
    det = _ae(code_density=True, code_neighbors=0).fit(X)
    assert [t.name for t in det.score_terms_] == ["reconstruction", "code_density"]
    term = det.score_terms_[1]
    codes = det.transform(X)
    values = term._nll(torch.from_numpy(codes)).numpy() - term.floor_
    assert np.median(values) > 0  # a typical training row is positive (median-scalable)
    far_code = codes.mean(0) + 50 * codes.std(0)
    assert term._nll(torch.from_numpy(far_code[None])).item() > np.quantile(values, 0.99)
    det.save(tmp_path / "ae.aeod")
    np.testing.assert_array_equal(load(tmp_path / "ae.aeod").score_samples(X), det.score_samples(X))
    again = _ae(code_density=True, code_neighbors=0).fit(X)
    np.testing.assert_array_equal(again.score_samples(X), det.score_samples(X))
    halves = np.r_[det.score_samples(X[:77]), det.score_samples(X[77:])]
    np.testing.assert_allclose(halves, det.score_samples(X), rtol=1e-6, atol=1e-6)
