"""VAEDetector: the ELBO's terms, deterministic Monte-Carlo scores, generation and latent space."""

from __future__ import annotations

import numpy as np
import pytest
import torch
from scipy.special import logsumexp

from anomalib_ae import VAEDetector
from anomalib_ae.nn.vae import VAENet
from anomalib_ae.training.vae import VAESystem

FAST = dict(hidden_dims=(8,), latent_dim=2, max_epochs=3, batch_size=32, random_state=0)
SCORE_TYPES = ["elbo", "reconstruction", "kl", "recon_probability"]


def _data(n=80, d=4, seed=0):
    return np.random.default_rng(seed).normal(size=(n, d))


@pytest.fixture(scope="module")
def fitted():
    X = _data() * 3.0 + 50.0  # far from the scaled units, to check the inverse scaling
    return VAEDetector(**FAST).fit(X), X


def test_kl_is_on_and_beta_changes_the_loss():
    X = _data()
    det = VAEDetector(**FAST).fit(X)
    assert all(entry["train_kl"] > 0 for entry in det.history_)
    kl = -VAEDetector(**FAST, score_type="kl", code_neighbors=0).fit(X).score_samples(X)
    assert (kl > 0).all()

    x = torch.as_tensor(det.scaler_.transform(X))
    losses = {}
    for beta in (0.0, 1.0, 3.0):
        system = VAESystem(det.net_, beta=beta).train()
        torch.manual_seed(0)  # the same reparameterisation draws for each beta
        losses[beta] = system.sample_losses(x).detach()
    torch.manual_seed(0)
    recon, kl_terms = VAESystem(det.net_).train().loss_terms(x)
    assert (kl_terms > 0).all()
    torch.testing.assert_close(losses[0.0], recon.detach())
    torch.testing.assert_close(losses[3.0] - losses[0.0], 3.0 * kl_terms.detach())
    assert not torch.allclose(losses[1.0], losses[0.0])


def test_beta_changes_the_fit():
    X = _data()
    low = VAEDetector(**FAST, beta=0.1).fit(X).history_[-1]["train_loss"]
    high = VAEDetector(**FAST, beta=5.0).fit(X).history_[-1]["train_loss"]
    assert low != high


def test_kl_warmup_schedule():
    det = VAEDetector(**{**FAST, "max_epochs": 4}, kl_warmup_epochs=2, beta=2.0).fit(_data())
    assert [e["kl_weight"] for e in det.history_] == [0.0, 1.0, 2.0, 2.0]


def _tiny_fixed_detector(score_type="elbo"):
    """A fitted VAE (2 features, 1 latent, no hidden layer, no scaling) with hand-set weights."""
    X = _data(n=20, d=2)
    det = VAEDetector(
        hidden_dims=(),
        latent_dim=1,
        scaler="none",
        max_epochs=1,
        n_samples=7,
        code_neighbors=0,
        score_type=score_type,
    )
    det.set_params(random_state=0).fit(X)
    enc, dec = det.net_.encoder[0], det.net_.decoder[0]
    with torch.no_grad():
        enc.weight.copy_(torch.tensor([[0.5, -1.0], [0.2, 0.3]]))  # rows: mu head, logvar head
        enc.bias.copy_(torch.tensor([0.1, -0.4]))
        dec.weight.copy_(torch.tensor([[1.5], [-0.7]]))
        dec.bias.copy_(torch.tensor([0.05, 0.2]))
    return det, X


def test_scores_equal_the_elbo_terms_computed_by_hand():
    det, X = _tiny_fixed_detector()
    X = X.astype(np.float32).astype(np.float64)  # the net sees float32 inputs
    mu = X @ np.array([0.5, -1.0]) + 0.1
    logvar = X @ np.array([0.2, 0.3]) - 0.4
    kl = 0.5 * (mu**2 + np.exp(logvar) - 1.0 - logvar)
    W, b = np.array([1.5, -0.7]), np.array([0.05, 0.2])
    recon_mean = 0.5 * ((X - (mu[:, None] * W + b)) ** 2).sum(1)
    eps = det.mc_noise().numpy()[:, 0]  # (n_samples,)
    assert eps.shape == (7,)
    z = mu[None, :] + np.exp(0.5 * logvar)[None, :] * eps[:, None]  # (draws, rows)
    nll = 0.5 * ((X[None] - (z[..., None] * W + b)) ** 2).sum(-1)  # (draws, rows)

    expected = {
        "kl": kl,
        "reconstruction": recon_mean,
        "elbo": nll.mean(0) + kl,
        "recon_probability": np.log(len(eps)) - logsumexp(-nll, axis=0),
    }
    for score_type, by_hand in expected.items():
        got = -_tiny_fixed_detector(score_type)[0].score_samples(X)
        np.testing.assert_allclose(got, by_hand, rtol=1e-5, atol=1e-6, err_msg=score_type)
    np.testing.assert_allclose(det.feature_scores(X).sum(1), recon_mean, rtol=1e-5, atol=1e-6)


def _anomaly_scores(X, **params):
    """Fit on ``X`` (the same net for every score: training does not depend on it) and score."""
    return VAEDetector(**{**FAST, "code_neighbors": 0, **params}).fit(X).anomaly_score(X)


def test_recon_probability_is_at_most_the_elbo():
    X = _data() * 3.0 + 50.0
    rp = _anomaly_scores(X, score_type="recon_probability")
    elbo = _anomaly_scores(X, score_type="elbo")
    assert (rp <= elbo + 1e-9).all()  # Jensen, exactly, with the same draws


def test_recon_probability_converges_as_n_samples_grows():
    X = _data() * 3.0 + 50.0
    ref = _anomaly_scores(X, score_type="recon_probability", n_samples=20000)
    err = {
        n: np.abs(_anomaly_scores(X, score_type="recon_probability", n_samples=n) - ref).mean()
        for n in (3, 30, 300, 3000)
    }
    assert err[3000] < err[300] < err[3]
    assert err[3000] < 0.3 * err[30]


def test_score_parameters_changed_after_fit_ask_for_a_refit(fitted):
    det, X = fitted
    with pytest.raises(ValueError, match="changed after fit.*Refit"):
        det.set_params(score_type="kl").score_samples(X)
    det.set_params(score_type="elbo")
    with pytest.raises(ValueError, match="changed after fit"):
        det.set_params(n_samples=3).score_samples(X)
    det.set_params(n_samples=10)
    assert np.isfinite(det.score_samples(X)).all()


@pytest.mark.parametrize("score_type", SCORE_TYPES)
def test_scores_identical_across_calls_and_batch_splits(score_type):
    X = _data(n=50)
    det = VAEDetector(**FAST, score_type=score_type).fit(X)
    whole = det.score_samples(X)
    assert np.isfinite(whole).all()
    np.testing.assert_array_equal(det.score_samples(X), whole)
    parts = np.concatenate([det.score_samples(X[:7]), det.score_samples(X[7:])])
    np.testing.assert_allclose(parts, whole, rtol=1e-10)
    det.set_params(inference_batch_size=3)
    np.testing.assert_allclose(det.score_samples(X), whole, rtol=1e-10)
    np.testing.assert_allclose(det.score_samples(X[::-1])[::-1], whole, rtol=1e-10)


def test_mc_noise_is_fixed_by_the_fit_seed():
    X = _data()
    a = VAEDetector(**FAST).fit(X)
    b = VAEDetector(**FAST).fit(X)
    c = VAEDetector(**{**FAST, "random_state": 1}).fit(X)
    assert a.seed_ == b.seed_ != c.seed_
    torch.testing.assert_close(a.mc_noise(), b.mc_noise())
    assert a.mc_noise().shape == (a.n_samples, a.latent_dim)


def test_transform_gives_posterior_means(fitted):
    det, X = fitted
    codes = det.transform(X)
    assert codes.shape == (len(X), 2) and codes.dtype == np.float64
    assert list(det.get_feature_names_out()) == ["latent0", "latent1"]
    with torch.no_grad():
        mu, _ = det.net_.posterior(torch.as_tensor(det.scaler_.transform(X)))
    np.testing.assert_allclose(codes, mu.double().numpy(), rtol=1e-6)


def _decode_by_hand(det, codes):
    with torch.no_grad():
        rows = det.net_.decode(torch.as_tensor(np.asarray(codes, dtype=np.float32)))
    return rows.double().numpy() * det.scaler_.scale_ + det.scaler_.shift_


def test_sample_shapes_units_and_determinism(fitted):
    det, X = fitted
    rows = det.sample(6, random_state=0)
    assert rows.shape == (6, X.shape[1]) and rows.dtype == np.float64
    np.testing.assert_array_equal(det.sample(6, random_state=0), rows)
    assert not np.array_equal(det.sample(6, random_state=1), rows)
    z = np.random.RandomState(0).standard_normal((6, 2))
    np.testing.assert_allclose(rows, _decode_by_hand(det, z), rtol=1e-6)
    assert abs(rows.mean() - 50.0) < 10.0  # original units, not scaled ones
    with pytest.raises(ValueError, match="positive integer"):
        det.sample(0)


def test_interpolate_and_traverse(fitted):
    det, X = fitted
    codes = det.transform(X[:2])
    path = det.interpolate(X[0], X[1], steps=5)
    assert path.shape == (5, X.shape[1])
    np.testing.assert_array_equal(det.interpolate(X[0], X[1], steps=5), path)
    np.testing.assert_allclose(path[[0, -1]], _decode_by_hand(det, codes), rtol=1e-6)
    np.testing.assert_allclose(
        path[2], _decode_by_hand(det, codes.mean(0, keepdims=True))[0], rtol=1e-5
    )

    values = [-2.0, 0.0, 2.0, 4.0]
    walk = det.traverse(X[0], dim=1, values=values)
    assert walk.shape == (4, X.shape[1])
    expected = np.tile(codes[0], (4, 1))
    expected[:, 1] = values
    np.testing.assert_allclose(walk, _decode_by_hand(det, expected), rtol=1e-6)
    np.testing.assert_array_equal(det.traverse(X[:1], dim=1, values=values), walk)

    with pytest.raises(ValueError, match="steps"):
        det.interpolate(X[0], X[1], steps=1)
    with pytest.raises(ValueError, match="dim"):
        det.traverse(X[0], dim=2, values=values)
    with pytest.raises(ValueError, match="one row"):
        det.traverse(X[:2], dim=0, values=values)
    with pytest.raises(ValueError, match="features"):
        det.interpolate(X[0, :3], X[1], steps=3)


def test_logvar_is_clamped():
    net = VAENet(3, hidden_dims=(), latent_dim=2)
    with torch.no_grad():
        net.encoder[0].weight.fill_(1e4)
    with torch.no_grad():
        _, high = net.posterior(torch.ones(2, 3))
        _, low = net.posterior(-torch.ones(2, 3))
    assert float(high.max()) == 10.0 and float(low.min()) == -10.0


def test_bad_score_type_is_rejected():
    with pytest.raises(ValueError, match="score_type"):
        VAEDetector(score_type="likelihood").fit(_data())
