"""ConditionalVAEDetector: contextual anomalies, conditioning, generation for a context."""

from __future__ import annotations

import numpy as np
import pandas as pd
import pytest
from sklearn.metrics import roc_auc_score

from anomalib_ae import ConditionalVAEDetector, VAEDetector

FAST = dict(hidden_dims=(16,), latent_dim=1, max_epochs=30, lr=1e-2, random_state=0)


def _contextual(n=400, n_anomalies=40, seed=0):
    """Context c; targets (2c, -c) + noise. Anomalies take their targets from another context."""
    rng = np.random.default_rng(seed)

    def rows(c):
        return np.hstack([c, 2 * c, -c]) + 0.05 * rng.normal(size=(len(c), 3)) * [0, 1, 1]

    X_train = rows(rng.uniform(-1, 1, size=(n, 1)))
    normal = rows(rng.uniform(-1, 1, size=(n, 1)))
    c = rng.uniform(-1, 1, size=(n_anomalies, 1))
    other = np.clip(c + rng.choice([-1, 1], size=c.shape) * rng.uniform(0.5, 1, c.shape), -1, 1)
    anomalies = rows(other)
    anomalies[:, :1] = c  # a target value that is normal -- for another context
    X_test = np.vstack([normal, anomalies])
    return X_train, X_test, np.r_[np.zeros(n), np.ones(n_anomalies)]


def test_cvae_flags_contextual_anomalies_a_vae_on_the_targets_cannot():
    X_train, X_test, y = _contextual()
    cvae = ConditionalVAEDetector(condition=0, **FAST).fit(X_train)
    auroc_cvae = roc_auc_score(y, cvae.anomaly_score(X_test))
    vae = VAEDetector(**FAST).fit(X_train[:, 1:])
    auroc_vae = roc_auc_score(y, vae.anomaly_score(X_test[:, 1:]))
    assert auroc_cvae >= 0.9, auroc_cvae
    assert auroc_vae < 0.7, auroc_vae


def test_condition_by_name_negative_index_and_none():
    X_train, _, _ = _contextual(n=100)
    frame = pd.DataFrame(X_train, columns=["load", "a", "b"])
    by_name = ConditionalVAEDetector(condition="load", max_epochs=2, random_state=0).fit(frame)
    by_index = ConditionalVAEDetector(condition=-3, max_epochs=2, random_state=0).fit(X_train)
    np.testing.assert_array_equal(by_name.condition_, [0])
    np.testing.assert_array_equal(by_index.condition_, [0])
    np.testing.assert_allclose(by_name.score_samples(frame), by_index.score_samples(X_train))
    plain = ConditionalVAEDetector(score_type="elbo", max_epochs=2, random_state=0).fit(X_train)
    vae = VAEDetector(max_epochs=2, random_state=0, code_neighbors=0).fit(X_train)
    assert len(plain.condition_) == 0
    np.testing.assert_allclose(plain.score_samples(X_train), vae.score_samples(X_train))


@pytest.mark.parametrize(
    "condition, error, match",
    [
        ("nope", ValueError, "no column names"),
        (5, ValueError, "out of range"),
        ([0, 1, 2], ValueError, "all 3 columns"),
        ([0.5], TypeError, "ints or column names"),
    ],
)
def test_bad_condition_gives_clear_errors(condition, error, match):
    X = np.random.default_rng(0).normal(size=(20, 3))
    with pytest.raises(error, match=match):
        ConditionalVAEDetector(condition=condition, max_epochs=1).fit(X)


def test_sample_generates_rows_for_the_given_context():
    X_train, _, _ = _contextual()
    det = ConditionalVAEDetector(condition=[0], **FAST).fit(X_train)
    rows = det.sample(200, condition=[0.5], random_state=0)
    assert rows.shape == (200, 3)
    np.testing.assert_array_equal(rows[:, 0], 0.5)
    np.testing.assert_allclose(rows[:, 1:].mean(0), [1.0, -0.5], atol=0.15)
    per_row = det.sample(3, condition=[[-1.0], [0.0], [1.0]], random_state=0)
    np.testing.assert_allclose(per_row[:, 1], [-2.0, 0.0, 2.0], atol=0.3)
    np.testing.assert_array_equal(
        det.sample(2, condition=[0.5], random_state=1),
        det.sample(2, condition=[0.5], random_state=1),
    )
    with pytest.raises(ValueError, match="needs condition"):
        det.sample(2)
    with pytest.raises(ValueError, match="shape"):
        det.sample(2, condition=[0.1, 0.2])
    assert det.feature_scores(X_train[:4])[:, 0].tolist() == [0.0] * 4
    with pytest.raises(NotImplementedError, match="sample"):
        det.interpolate(X_train[0], X_train[1])


def _context_pairs(kind, seed, n=1000, n_anomalies=50, n_noise=3):
    """Rows ``[c, target(s), noise]``; anomalies carry the target of another context.

    ``kind="binary"``: ``c`` in {0, 1}, target ``N(+-2, 0.3)`` by context.
    ``kind="continuous"``: ``c ~ U(-2, 2)``, targets ``(2 sin 1.5c, c^2 - 1.3)``
    plus noise; an anomaly's targets are those of ``c -+ 2``. Both add
    ``n_noise`` pure-noise target columns, as real tables have.
    """
    rng = np.random.default_rng(seed)

    def rows(c, c_target):
        if kind == "binary":
            target = np.where(c_target == 1, 2.0, -2.0) + 0.3 * rng.normal(size=c.shape)
        else:
            target = np.hstack([2 * np.sin(1.5 * c_target), c_target**2 - 1.3])
            target = target + 0.1 * rng.normal(size=target.shape)
        return np.hstack([c, target, rng.normal(size=(len(c), n_noise))])

    def contexts(m):
        if kind == "binary":
            return rng.integers(0, 2, size=(m, 1)).astype(float)
        return rng.uniform(-2, 2, size=(m, 1))

    c = contexts(n)
    X_train = rows(c, c)
    c = contexts(n)
    normal = rows(c, c)
    c = contexts(n_anomalies)
    other = 1 - c if kind == "binary" else np.where(c > 0, c - 2, c + 2)
    X_test = np.vstack([normal, rows(c, other)])
    return X_train, X_test, np.r_[np.zeros(n), np.ones(n_anomalies)]


@pytest.mark.parametrize("kind", ["binary", "continuous"])
@pytest.mark.parametrize("seed", [0, 1])
def test_cvae_beats_the_context_blind_vae_on_contextual_anomalies(kind, seed):
    # Library defaults; the VAE sees the same columns, context included (issue 25).
    X_train, X_test, y = _context_pairs(kind, seed)
    cvae = ConditionalVAEDetector(condition=0, random_state=seed).fit(X_train)
    vae = VAEDetector(random_state=seed).fit(X_train)
    auroc_cvae = roc_auc_score(y, cvae.anomaly_score(X_test))
    auroc_vae = roc_auc_score(y, vae.anomaly_score(X_test))
    assert auroc_cvae >= 0.95, (auroc_cvae, auroc_vae)
    assert auroc_cvae >= auroc_vae, (auroc_cvae, auroc_vae)
