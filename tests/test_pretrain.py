"""Greedy layer-wise pretraining: every layer learns, and the stack works before and after fine-tuning."""

from __future__ import annotations

import numpy as np
import pytest
import torch
from sklearn.metrics import roc_auc_score

from anomalib_ae import AutoEncoderDetector
from anomalib_ae.nn import AutoEncoderNet, TiedAutoEncoderNet
from anomalib_ae.training import ReconstructionSystem, make_trainer
from anomalib_ae.training.pretrain import pretrain_layerwise, shallow_autoencoders


def _data(n=300, seed=0):
    rng = np.random.default_rng(seed)
    X = np.tanh(rng.normal(size=(n, 3)) @ rng.normal(size=(3, 12)))
    X = X + 0.05 * rng.normal(size=X.shape)
    return ((X - X.mean(0)) / X.std(0)).astype(np.float32)


@pytest.mark.parametrize("net_class", [AutoEncoderNet, TiedAutoEncoderNet])
def test_layers_pair_with_their_mirrors(net_class):
    net = net_class(12, hidden_dims=(10, 6), latent_dim=3)
    pairs = shallow_autoencoders(net)
    widths = [(12, 10), (10, 6), (6, 3)]
    assert len(pairs) == 3
    for (enc, dec), (d_in, d_out) in zip(pairs, widths):
        assert enc(torch.zeros(2, d_in)).shape == (2, d_out)
        assert dec(torch.zeros(2, d_out)).shape == (2, d_in)


def test_mismatched_net_is_refused():
    with pytest.raises(TypeError, match="encoder"):
        shallow_autoencoders(torch.nn.Linear(3, 3))


@pytest.mark.parametrize("net_class", [AutoEncoderNet, TiedAutoEncoderNet])
def test_every_layer_learns_and_the_stack_reconstructs(net_class):
    X = _data()
    torch.manual_seed(0)
    net = net_class(12, hidden_dims=(10, 6), latent_dim=3)
    before = {name: p.detach().clone() for name, p in net.named_parameters()}

    def mse():
        with torch.no_grad():
            x = torch.as_tensor(X)
            return float((net.eval()(x) - x).pow(2).mean())

    untrained = mse()
    histories = pretrain_layerwise(
        net,
        X,
        make_system=lambda shallow: ReconstructionSystem(shallow, lr=1e-2),
        make_trainer=lambda: make_trainer(15),
        batch_size=32,
    )
    assert len(histories) == 3
    for history in histories:  # each shallow autoencoder trained and improved
        assert len(history) == 15
        assert history[-1]["train_loss"] < 0.7 * history[0]["train_loss"]
    for name, p in net.named_parameters():  # and every weight of the stack moved
        assert not torch.equal(p, before[name]), name
    # The stacked, pretrained (not yet fine-tuned) net already reconstructs.
    assert mse() < 0.75 * untrained


def test_detector_with_layerwise_pretraining(breast_cancer_5pct):
    X, y = breast_cancer_5pct
    params = dict(hidden_dims=(16, 8), latent_dim=4, max_epochs=5, random_state=0)
    det = AutoEncoderDetector(pretrain="layerwise", pretrain_epochs=3, **params).fit(X)
    assert det.n_epochs_ == 5  # the history is the fine-tuning's
    assert roc_auc_score(y, det.anomaly_score(X)) > 0.85
    again = AutoEncoderDetector(pretrain="layerwise", pretrain_epochs=3, **params).fit(X)
    np.testing.assert_array_equal(again.score_samples(X), det.score_samples(X))
    plain = AutoEncoderDetector(**params).fit(X)
    assert not np.allclose(plain.score_samples(X), det.score_samples(X))
