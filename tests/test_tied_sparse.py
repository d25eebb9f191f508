"""Tied weights and sparse (L1) codes of AutoEncoderDetector: the ideas work, not only run."""

from __future__ import annotations

import pickle

import numpy as np
import pytest
import torch
from sklearn.metrics import roc_auc_score

from anomalib_ae import AutoEncoderDetector
from anomalib_ae.nn import AutoEncoderNet, TiedAutoEncoderNet
from anomalib_ae.training.penalties import PenalizedReconstructionSystem
from tests.conftest import PLAIN_MSE


def _n_params(net, weights_only=False):
    return sum(p.numel() for p in net.parameters() if not weights_only or p.dim() == 2)


@pytest.mark.parametrize("hidden_dims", [(), (16,), (16, 12)])
def test_tied_net_has_half_the_weights(hidden_dims):
    untied = AutoEncoderNet(20, hidden_dims=hidden_dims, latent_dim=8)
    tied = TiedAutoEncoderNet(20, hidden_dims=hidden_dims, latent_dim=8)
    assert 2 * _n_params(tied, weights_only=True) == _n_params(untied, weights_only=True)
    # Biases are not shared, so the totals differ exactly by one set of weights.
    assert _n_params(untied) - _n_params(tied) == _n_params(tied, weights_only=True)
    assert _n_params(tied) < 0.6 * _n_params(untied)


def test_tied_decoder_uses_the_transposed_encoder_weights():
    torch.manual_seed(0)
    net = TiedAutoEncoderNet(5, hidden_dims=(), latent_dim=3, activation=None)
    lin = net.encoder[0]
    z = torch.randn(4, 3)
    torch.testing.assert_close(net.decode(z), z @ lin.weight + net.decoder[0].bias)


def test_gradients_reach_the_shared_weights_through_the_decoder():
    torch.manual_seed(0)
    net = TiedAutoEncoderNet(6, hidden_dims=(5,), latent_dim=3)
    net.decode(torch.randn(8, 3)).pow(2).sum().backward()  # decoder only, no encoder pass
    for lin in (m for m in net.encoder if isinstance(m, torch.nn.Linear)):
        assert lin.weight.grad is not None and lin.weight.grad.abs().sum() > 0
        assert lin.bias.grad is None  # encoder biases are not on the decoder's path

    net.zero_grad()
    x = torch.randn(8, 6)
    (net(x) - x).pow(2).sum().backward()
    full = net.encoder[0].weight.grad.clone()
    net.zero_grad()
    net.decode(net.encode(x).detach()).sub(x).pow(2).sum().backward()
    decoder_part = net.encoder[0].weight.grad.clone()
    assert decoder_part.abs().sum() > 0
    assert not torch.allclose(full, decoder_part)  # the encoder path adds its own share


def test_tied_detector_fits_pickles_and_detects(breast_cancer_5pct):
    X, y = breast_cancer_5pct
    det = AutoEncoderDetector(tied_weights=True, max_epochs=10, random_state=0).fit(X)
    assert isinstance(det.net_, TiedAutoEncoderNet)
    assert roc_auc_score(y, det.anomaly_score(X)) > 0.85
    restored = pickle.loads(pickle.dumps(det))
    np.testing.assert_array_equal(restored.score_samples(X), det.score_samples(X))
    # The shared weight is still shared after unpickling.
    assert restored.net_.decoder[-1].source is restored.net_.encoder[0]


def test_code_l1_penalty_enters_the_loss():
    torch.manual_seed(0)
    net = AutoEncoderNet(4, hidden_dims=(), latent_dim=6)
    x = torch.randn(10, 4)
    plain = PenalizedReconstructionSystem(net).sample_losses(x)
    sparse = PenalizedReconstructionSystem(net, code_l1=0.5).sample_losses(x)
    torch.testing.assert_close(sparse - plain, 0.5 * net.encode(x).abs().mean(1))


def _subspace_data(seed=0):
    """Normals near a 2-D subspace of R^10; anomalies leave it, with the same norm on average."""
    rng = np.random.default_rng(seed)
    basis, ortho = np.split(np.linalg.qr(rng.normal(size=(10, 10)))[0], [2], axis=1)

    def noise(m):
        return 0.5 * rng.normal(size=(m, 10))

    X_train = 2 * rng.normal(size=(200, 2)) @ basis.T + noise(200)
    normals = 2 * rng.normal(size=(200, 2)) @ basis.T + noise(200)
    anomalies = (
        np.sqrt(2) * rng.normal(size=(50, 2)) @ basis.T
        + np.sqrt(0.5) * rng.normal(size=(50, 8)) @ ortho.T
        + noise(50)
    )
    return X_train, np.vstack([normals, anomalies]), np.r_[np.zeros(200), np.ones(50)]


def test_overcomplete_code_needs_l1_to_separate_anomalies():
    """A code twice as wide as the input: without L1 the net learns the identity."""
    X_train, X_test, y = _subspace_data()
    params = dict(
        hidden_dims=(),
        latent_dim=20,
        tied_weights=True,
        max_epochs=60,
        lr=3e-2,
        batch_size=64,
        random_state=0,
        scaler="standard",
        **PLAIN_MSE,
    )
    dense = AutoEncoderDetector(code_l1=0.0, **params).fit(X_train)
    errors = dense.anomaly_score(X_test)
    assert errors.max() < 1e-4  # anomalies are rebuilt as (almost) perfectly as normal rows
    auroc_dense = roc_auc_score(y, errors)

    sparse = AutoEncoderDetector(code_l1=3.0, **params).fit(X_train)
    auroc_sparse = roc_auc_score(y, sparse.anomaly_score(X_test))
    assert auroc_dense < 0.65, auroc_dense
    assert auroc_sparse > 0.9, auroc_sparse
