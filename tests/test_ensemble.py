"""AutoEncoderEnsembleDetector: trimming, per-feature error scaling, latent scores, ensemble."""

from __future__ import annotations

import warnings

import numpy as np
import pytest
import torch
from sklearn.metrics import roc_auc_score

from anomalib_ae import AutoEncoderEnsembleDetector, get_detector
from anomalib_ae.nn.ensemble import AutoEncoderEnsembleNet
from anomalib_ae.training.ensemble import trimmed_weights

SMALL = dict(hidden_dims=(16,), latent_dim=2, batch_size=32, random_state=0)


def test_registry_returns_ensemble():
    assert isinstance(get_detector("autoencoder_ensemble"), AutoEncoderEnsembleDetector)


def test_trimmed_weights_drop_the_largest_losses_per_member():
    losses = torch.tensor([[1.0, 9.0, 2.0, 3.0], [8.0, 1.0, 1.0, 1.0]])
    w = trimmed_weights(losses, 0.25)
    assert w.tolist()[0][1] == 0.0 and w.tolist()[1][0] == 0.0
    # the weighted mean is the mean of the kept losses
    torch.testing.assert_close((w * losses).mean(1), torch.tensor([2.0, 1.0]))
    assert torch.equal(trimmed_weights(losses, 0.0), torch.ones_like(losses))


def test_members_are_independent_autoencoders():
    net = AutoEncoderEnsembleNet(5, hidden_dims=(4,), latent_dim=2, n_members=3)
    x = torch.randn(7, 5)
    out = net(x)
    assert out.shape == (3, 7, 5)
    assert not torch.allclose(out[0], out[1])  # own random weights
    # a member's output depends on its own weights only
    with torch.no_grad():
        net.encoder[0].weight[1].zero_()
    out2 = net(x)
    torch.testing.assert_close(out2[0], out[0])
    torch.testing.assert_close(out2[2], out[2])


def test_trimming_lowers_the_influence_of_planted_outliers():
    """10% outliers spread along their own direction carry more variance than the
    inliers' direction: a plain 1-D autoencoder learns the outliers' direction (and
    rebuilds them best); one that drops each batch's largest losses learns the inliers'."""
    rng = np.random.default_rng(0)
    n, n_out = 400, 40
    u, v = np.array([1.0, 1.0, 0, 0]) / np.sqrt(2), np.array([0, 0, 1.0, 1.0]) / np.sqrt(2)
    X = rng.normal(size=(n, 1)) * u + 0.05 * rng.normal(size=(n, 4))
    X[:n_out] = 4 * rng.normal(size=(n_out, 1)) * v + 0.05 * rng.normal(size=(n_out, 4))
    y = np.zeros(n, dtype=int)
    y[:n_out] = 1

    def auroc(trim: float) -> float:
        det = AutoEncoderEnsembleDetector(
            trim_fraction=trim,
            trim_warmup=0.0,
            score_terms=("reconstruction",),
            error_scaling="none",
            scaler="none",
            n_estimators=2,
            max_epochs=30,
            **{**SMALL, "latent_dim": 1},
        ).fit(X)
        return roc_auc_score(y, det.anomaly_score(X))

    plain, trimmed = auroc(0.0), auroc(0.2)
    assert trimmed > 0.95 and trimmed > plain + 0.1, (plain, trimmed)


def test_median_error_scaling_finds_a_deviation_in_a_quiet_feature():
    """A deviation of 20 noise units in a quiet feature is drowned by a noisy feature's
    errors unless each feature's error is divided by its typical (median) error."""
    rng = np.random.default_rng(0)
    X = np.c_[rng.normal(size=(300, 2)), 0.01 * rng.normal(size=(300, 2))]
    y = np.zeros(300, dtype=int)
    y[:15] = 1
    X[:15, 2] += 0.2
    params = dict(scaler="none", score_terms=("reconstruction",), max_epochs=20, n_estimators=2)
    scaled = AutoEncoderEnsembleDetector(error_scaling="median", **params, **SMALL).fit(X)
    raw = AutoEncoderEnsembleDetector(error_scaling="none", **params, **SMALL).fit(X)
    auc_scaled = roc_auc_score(y, scaled.anomaly_score(X))
    auc_raw = roc_auc_score(y, raw.anomaly_score(X))
    assert auc_scaled > 0.8 and auc_scaled > auc_raw + 0.2, (auc_scaled, auc_raw)
    # on the training rows each feature's scaled error has median ~1 (one member: exactly)
    one = AutoEncoderEnsembleDetector(error_scaling="median", **{**params, "n_estimators": 1})
    one.set_params(**SMALL).fit(X)
    np.testing.assert_allclose(np.median(one.feature_scores(X), axis=0), 1.0, rtol=1e-4)


def test_latent_score_finds_rows_far_out_along_the_data():
    """Rows far out *along* the training data are rebuilt well by a linear autoencoder
    (small reconstruction error) but have extreme codes: the latent part sees them."""
    rng = np.random.default_rng(0)
    t = rng.normal(size=(300, 1))
    t[:15] = rng.choice([-1.0, 1.0], size=(15, 1)) * rng.uniform(4, 6, size=(15, 1))
    X = t @ np.ones((1, 4)) + 0.05 * rng.normal(size=(300, 4))
    y = np.zeros(300, dtype=int)
    y[:15] = 1
    aucs = {}
    compositions = {
        "reconstruction": ("reconstruction",),
        "latent": ("code_deviation",),
        "both": ("reconstruction", "code_deviation"),
    }
    for score_type, terms in compositions.items():
        det = AutoEncoderEnsembleDetector(
            score_terms=terms,
            activation=None,
            trim_fraction=0.0,
            lr=1e-2,
            max_epochs=40,
            n_estimators=2,
            **SMALL,
        ).fit(X)
        aucs[score_type] = roc_auc_score(y, det.anomaly_score(X))
    assert aucs["latent"] > 0.95 and aucs["both"] > 0.95, aucs
    assert aucs["reconstruction"] < 0.8, aucs


def test_codes_of_all_members_side_by_side():
    X = np.random.default_rng(0).normal(size=(60, 5))
    det = AutoEncoderEnsembleDetector(n_estimators=3, max_epochs=2, **SMALL).fit(X)
    assert det.transform(X).shape == (60, 6)
    assert len(det.get_feature_names_out()) == 6


@pytest.mark.parametrize("param, value", [("dropout", 0.1), ("batch_norm", True)])
def test_unsupported_layers_raise(param, value):
    X = np.random.default_rng(0).normal(size=(30, 3))
    with pytest.raises(ValueError, match=param):
        AutoEncoderEnsembleDetector(max_epochs=1, **{param: value}).fit(X)


def test_only_the_chosen_terms_are_fitted_and_a_change_needs_a_refit():
    X = np.random.default_rng(0).normal(size=(80, 4))
    det = AutoEncoderEnsembleDetector(
        n_estimators=2, max_epochs=2, score_terms=("reconstruction",), **SMALL
    ).fit(X)
    assert [t.name for t in det.score_terms_] == ["reconstruction"]
    assert det.score_scales_ is None  # one term: its values as they are
    with pytest.raises(ValueError, match="changed after fit"):
        det.set_params(score_terms=("residual_mahalanobis",)).score_samples(X)
    det = AutoEncoderEnsembleDetector(n_estimators=2, max_epochs=2, **SMALL).fit(X)
    residual, code = det.score_terms_
    assert residual.location_.shape == (2, 4) and residual.precision_.shape == (2, 4, 4)
    assert code.location_.shape == (2, 2) and residual.ranker_ is code.ranker_
    assert [s.shape for s in det.score_scales_] == [(2,), (2,)]  # per member
    # the rows' ranking term gives the per-feature scores
    assert det.feature_scores(X).shape == (80, 4)


@pytest.mark.parametrize("terms", [(), ("reconstruction", "reconstruction"), ("bogus",), "kl"])
def test_bad_score_terms_are_rejected(terms):
    X = np.random.default_rng(0).normal(size=(30, 3))
    with pytest.raises(ValueError, match="score_terms"):
        AutoEncoderEnsembleDetector(max_epochs=1, score_terms=terms).fit(X)


def test_wide_input_warns_about_the_precision_matrices(monkeypatch):
    monkeypatch.setattr("anomalib_ae.scoring.mahalanobis.PRECISION_WARN_BYTES", 100)
    X = np.random.default_rng(0).normal(size=(40, 6))
    with pytest.warns(UserWarning, match=r"matrices of 6\^2 floats") as record:
        AutoEncoderEnsembleDetector(n_estimators=2, max_epochs=1, **SMALL).fit(X)
    assert any(w.filename == __file__ for w in record)
    with warnings.catch_warnings():
        warnings.simplefilter("error", UserWarning)
        AutoEncoderEnsembleDetector(
            n_estimators=2, max_epochs=1, score_terms=("reconstruction",), **SMALL
        ).fit(X)
