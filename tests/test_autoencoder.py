"""AutoEncoderDetector: the autoencoder as (non-linear) PCA, and detection on real data."""

from __future__ import annotations

import numpy as np
from sklearn.datasets import load_breast_cancer
from sklearn.decomposition import PCA
from sklearn.metrics import roc_auc_score
from sklearn.preprocessing import StandardScaler

from anomalib_ae import AutoEncoderDetector, get_detector
from tests.conftest import PLAIN_MSE


def test_registry_returns_autoencoder():
    assert isinstance(get_detector("autoencoder"), AutoEncoderDetector)
    assert isinstance(get_detector("AutoEncoderDetector"), AutoEncoderDetector)


def test_linear_autoencoder_matches_pca_reconstruction_error():
    """Baldi & Hornik (1989): a linear AE's optimum spans PCA's top-k subspace."""
    X, _ = load_breast_cancer(return_X_y=True)
    k = 3
    Z = StandardScaler().fit_transform(X)
    pca = PCA(n_components=k).fit(Z)
    pca_mse = np.mean((pca.inverse_transform(pca.transform(Z)) - Z) ** 2)

    ae = AutoEncoderDetector(
        hidden_dims=(),
        latent_dim=k,
        activation=None,
        max_epochs=300,
        lr=1e-2,
        batch_size=64,
        random_state=0,
        scaler="standard",  # the PCA above runs on standardised columns
        **PLAIN_MSE,
    ).fit(X)
    ae_mse = np.mean(-ae.score_samples(X))
    # The AE can never beat PCA (the optimum); it should get within 5% of it.
    assert ae_mse >= pca_mse * (1 - 1e-3)
    assert ae_mse <= pca_mse * 1.05, (ae_mse, pca_mse)


def test_feature_scores_aggregate_to_row_score():
    X = np.random.default_rng(0).normal(size=(60, 4))
    det = AutoEncoderDetector(
        hidden_dims=(8,), latent_dim=2, max_epochs=2, random_state=0, code_neighbors=0
    ).fit(X)
    per_feature = det.feature_scores(X)
    assert per_feature.shape == X.shape
    np.testing.assert_allclose(per_feature.mean(1), -det.score_samples(X), rtol=1e-6)


def test_auroc_on_breast_cancer_well_above_chance(breast_cancer_5pct):
    X, y = breast_cancer_5pct
    det = AutoEncoderDetector(max_epochs=10, random_state=0).fit(X)
    auroc = roc_auc_score(y, det.anomaly_score(X))
    assert auroc > 0.85, auroc


def test_history_and_no_lightning_litter(tmp_path, monkeypatch):
    monkeypatch.chdir(tmp_path)
    X = np.random.default_rng(0).normal(size=(50, 3))
    det = AutoEncoderDetector(max_epochs=4, early_stopping=True, patience=1, random_state=0)
    det.fit(X)
    assert 1 <= det.n_epochs_ <= 4
    assert all("val_loss" in h for h in det.history_)
    assert list(tmp_path.iterdir()) == []
