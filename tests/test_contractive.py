"""The contractive penalty equals the encoder's Jacobian norm, and training shrinks it."""

from __future__ import annotations

import numpy as np
import pytest
import torch
from torch import nn

from anomalib_ae import ContractiveAutoEncoderDetector
from anomalib_ae.nn import MLP, jacobian_frobenius
from anomalib_ae.training.penalties import PenalizedReconstructionSystem


def _finite_difference_frobenius(encoder, x, eps=1e-6):
    """``||J||_F^2`` per row from central differences, one input coordinate at a time."""
    n, d = x.shape
    total = torch.zeros(n, dtype=x.dtype)
    with torch.no_grad():
        for i in range(d):
            step = torch.zeros_like(x)
            step[:, i] = eps
            column = (encoder(x + step) - encoder(x - step)) / (2 * eps)
            total += column.pow(2).sum(1)
    return total


def _encoders():
    torch.manual_seed(0)
    yield "sigmoid (closed form)", nn.Sequential(nn.Linear(5, 3), nn.Sigmoid())
    yield "tanh (closed form)", nn.Sequential(nn.Linear(5, 3), nn.Tanh())
    yield "linear (closed form)", nn.Sequential(nn.Linear(5, 3))
    yield "deep tanh (autograd)", nn.Sequential(MLP([5, 7, 3], activation="tanh"), nn.Tanh())
    yield "deep elu (autograd)", MLP([5, 6, 4, 3], activation="elu")


@pytest.mark.parametrize("name, encoder", list(_encoders()), ids=lambda v: str(v))
def test_penalty_matches_finite_difference_jacobian(name, encoder):
    encoder = encoder.double()
    x = torch.randn(6, 5, dtype=torch.float64, generator=torch.Generator().manual_seed(1))
    exact = jacobian_frobenius(encoder, x)
    assert exact.shape == (6,)
    torch.testing.assert_close(
        exact, _finite_difference_frobenius(encoder, x), rtol=1e-6, atol=1e-8
    )


def test_penalty_is_differentiable_and_enters_the_loss():
    torch.manual_seed(0)
    detector = ContractiveAutoEncoderDetector(latent_dim=3, contractive=0.5)
    net = detector._build_net(4)
    x = torch.randn(8, 4)
    with_penalty = PenalizedReconstructionSystem(net, contractive=0.5).sample_losses(x)
    without = PenalizedReconstructionSystem(net).sample_losses(x)
    torch.testing.assert_close(with_penalty - without, 0.5 * jacobian_frobenius(net.encoder, x))
    with_penalty.sum().backward()
    assert net.encoder[0].weight.grad.abs().sum() > 0


def _mean_jacobian_norm(det, X):
    x = torch.as_tensor(det.scaler_.transform(X), dtype=torch.float32)
    with torch.no_grad():
        return float(jacobian_frobenius(det.net_.encoder, x).mean())


@pytest.mark.parametrize("hidden_dims", [(), (8,)])
def test_training_contracts_the_code(hidden_dims):
    rng = np.random.default_rng(0)
    X = rng.normal(size=(200, 2)) @ rng.normal(size=(2, 6)) + 0.1 * rng.normal(size=(200, 6))
    params = dict(
        hidden_dims=hidden_dims, latent_dim=4, max_epochs=30, batch_size=32, lr=1e-2, random_state=0
    )
    loose = ContractiveAutoEncoderDetector(contractive=0.0, **params).fit(X)
    tight = ContractiveAutoEncoderDetector(contractive=1.0, **params).fit(X)
    assert _mean_jacobian_norm(tight, X) < 0.5 * _mean_jacobian_norm(loose, X)
    # ... while still reconstructing (standardised rows: an error of 1 means nothing learned).
    assert tight.history_[-1]["train_loss"] < 0.5


def test_batch_norm_is_refused_with_a_clear_error():
    det = ContractiveAutoEncoderDetector(hidden_dims=(4,), batch_norm=True, max_epochs=1)
    with pytest.raises(ValueError, match="batch_norm"):
        det.fit(np.random.default_rng(0).normal(size=(20, 3)))
