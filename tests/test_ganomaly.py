"""GANomaly: score sign, determinism, batch independence, step counts, no labels in stopping."""

from __future__ import annotations

import inspect

import numpy as np
import pytest
from sklearn.metrics import roc_auc_score

from anomalib_ae import GANomalyDetector, load
from anomalib_ae.training.adversarial import GANomalySystem


def _data():
    rng = np.random.default_rng(0)
    X = rng.normal(size=(300, 5))
    far = rng.normal(size=(30, 5)) + 6.0
    test = np.vstack([X[:100], far])
    y = np.r_[np.zeros(100), np.ones(30)]
    return X, test, y


def _det(**kw):
    params = dict(hidden_dims=(16,), latent_dim=3, max_epochs=6, batch_size=50, random_state=0)
    return GANomalyDetector(**{**params, **kw})


@pytest.mark.parametrize("score", ["latent", "reconstruction", "discriminator"])
def test_far_points_score_lowest(score):
    X, test, y = _data()
    det = _det(score_mode=score).fit(X)
    s = det.score_samples(test)
    assert roc_auc_score(y, -s) > 0.9
    assert s[y == 1].max() < np.median(s[y == 0])


def test_scoring_repeatable_and_batch_independent():
    X, test, _ = _data()
    det = _det(inference_batch_size=7).fit(X)
    s = det.score_samples(test)
    np.testing.assert_array_equal(s, det.score_samples(test))
    halves = np.r_[det.score_samples(test[:65]), det.score_samples(test[65:])]
    np.testing.assert_allclose(s, halves, rtol=1e-12, atol=1e-15)  # float64 twin: ~1e-16
    np.testing.assert_array_equal(s, _det(inference_batch_size=7).fit(X).score_samples(test))


def test_eval_mode_when_scoring():
    X, test, _ = _data()
    det = _det(dropout=0.5).fit(X)
    assert not det.net_.training
    np.testing.assert_array_equal(det.score_samples(test), det.score_samples(test))


def test_steps_are_epochs_times_batches(monkeypatch):
    X, _, _ = _data()
    systems = []
    original = GANomalyDetector._build_system

    def spy(self, net):
        systems.append(original(self, net))
        return systems[-1]

    monkeypatch.setattr(GANomalyDetector, "_build_system", spy)
    _det(max_epochs=4, batch_size=64).fit(X)  # 300 rows: 5 batches per epoch
    (system,) = systems
    assert system.generator_steps == system.discriminator_steps == 4 * 5


def test_stopping_uses_training_rows_only():
    # fit takes no labels or test data; early stopping monitors the generator loss of
    # held-out training rows; the fixed budget runs every epoch.
    assert list(inspect.signature(GANomalyDetector.fit).parameters) == ["self", "X", "y"]
    X, _, _ = _data()
    y_noise = np.random.default_rng(1).integers(0, 2, len(X))
    a = _det().fit(X).score_samples(X)
    b = _det().fit(X, y_noise).score_samples(X)
    np.testing.assert_array_equal(a, b)
    det = _det(early_stopping=True, patience=1, max_epochs=30).fit(X)
    assert all("val_loss" in h for h in det.history_)
    assert _det().fit(X).n_epochs_ == 6
    assert "val_loss" in inspect.getsource(GANomalySystem.validation_step)


def test_images_and_persistence(tmp_path):
    rng = np.random.default_rng(0)
    imgs = rng.random((80, 8, 8)) * 0.2
    det = GANomalyDetector(latent_dim=2, channels=(4, 8), max_epochs=2, random_state=0).fit(imgs)
    assert det.image_shape_ == (1, 8, 8)
    s = det.score_samples(imgs[:5])
    det.save(tmp_path / "g.aeod")
    np.testing.assert_array_equal(load(tmp_path / "g.aeod").score_samples(imgs[:5]), s)
    assert det.feature_scores(imgs[:5]).shape == (5, 8, 8)


def _raw_gaps(det, X):
    """``z - z_hat`` of ``X``'s scaled rows, read from the fitted net directly."""
    import copy

    import torch

    x = torch.as_tensor(det.scaler_.transform(X), dtype=torch.float64)
    net = copy.deepcopy(det.net_).double()
    with torch.no_grad():
        z = net.encode(x)
        return (z - net.recode(net.decode(z))).numpy()


def test_latent_scaling_standardises_each_dimension():
    X, test, y = _data()
    det = _det().fit(X)
    assert det.latent_scaling == "std"
    (term,) = det.score_terms_
    assert term.scaling == "std" and term.scale_.shape == term.center_.shape == (3,)
    gaps = _raw_gaps(det, X)
    np.testing.assert_allclose(term.center_, gaps.mean(0), rtol=1e-6, atol=1e-9)
    np.testing.assert_allclose(term.scale_, gaps.std(0), rtol=1e-6)
    # standardised, the training rows score 1 on average (each dimension's mean square is 1)
    np.testing.assert_allclose(-det.score_samples(X).mean(), 1.0, rtol=1e-6)
    expected = (((_raw_gaps(det, test) - term.center_) / term.scale_) ** 2).mean(1)
    np.testing.assert_allclose(-det.score_samples(test), expected, rtol=1e-6)


def test_latent_scaling_none_is_the_raw_distance():
    X, test, _ = _data()
    det = _det(latent_scaling="none").fit(X)
    assert det.score_terms_[0].scale_ is None
    expected = (_raw_gaps(det, test) ** 2).mean(1)
    np.testing.assert_allclose(-det.score_samples(test), expected, rtol=1e-6)
    # the same net either way: only the score changes
    std = _det().fit(X)
    np.testing.assert_array_equal(std.transform(test), det.transform(test))


def test_latent_scaling_refuses_unknown_values():
    X, _, _ = _data()
    with pytest.raises(ValueError, match="latent_scaling"):
        _det(latent_scaling="robust").fit(X)


def test_file_saved_before_the_scaling_loads_as_the_raw_distance(tmp_path):
    # a file written before `latent_scaling` existed holds a LatentDistance without
    # center_/scale_: it must load and score as the raw distance it was fitted with
    X, test, _ = _data()
    det = _det(latent_scaling="none").fit(X)
    raw = det.score_samples(test)
    term = det.score_terms_[0]
    del term.center_, term.scale_
    det.save(tmp_path / "old.aeod")
    np.testing.assert_array_equal(load(tmp_path / "old.aeod").score_samples(test), raw)
