"""``inference_precision="float32"``: the trained net on fixed blocks of rows, batch-invariant."""

from __future__ import annotations

import numpy as np
import pytest
import torch

from anomalib_ae import get_detector
from anomalib_ae.scoring import precision
from anomalib_ae.scoring.precision import BLOCK_ROWS, in_blocks
from tests.conftest import fast_detector

MLP_DETECTORS = ["autoencoder", "autoencoder_ensemble", "vae", "made"]


@pytest.fixture(scope="module")
def rows():
    rng = np.random.default_rng(0)
    return rng.normal(size=(600, 6)), 1.5 * rng.normal(size=(BLOCK_ROWS + 300, 6))


@pytest.mark.parametrize("name", MLP_DETECTORS)
def test_float32_scores_do_not_depend_on_the_batch(name, rows):
    X, X_test = rows
    det = fast_detector(name, inference_precision="float32", random_state=0).fit(X)
    scores = det.score_samples(X_test)
    halves = np.concatenate([det.score_samples(X_test[:777]), det.score_samples(X_test[777:])])
    singles = [
        det.score_samples(X_test[i : i + 1])[0] for i in (0, 1, 500, BLOCK_ROWS, len(X_test) - 1)
    ]
    # float32 rounding that followed the batch would show at ~1e-7; float64 terms differ at ~1e-16
    same = dict(rtol=1e-12, atol=0)
    np.testing.assert_allclose(halves, scores, **same)
    np.testing.assert_allclose(singles, scores[[0, 1, 500, BLOCK_ROWS, len(X_test) - 1]], **same)
    small_batches = det.set_params(inference_batch_size=7).score_samples(X_test)
    np.testing.assert_allclose(small_batches, scores, **same)


@pytest.mark.parametrize("name", MLP_DETECTORS)
def test_float32_scores_are_the_float64_scores_to_float32_rounding(name, rows):
    X, X_test = rows
    s64 = fast_detector(name, random_state=0).fit(X).score_samples(X_test)
    s32 = (
        fast_detector(name, inference_precision="float32", random_state=0)
        .fit(X)
        .score_samples(X_test)
    )
    np.testing.assert_allclose(s32, s64, rtol=1e-4, atol=1e-6)


def test_the_net_only_ever_sees_whole_blocks(rows, monkeypatch):
    X, X_test = rows
    det = fast_detector("autoencoder", inference_precision="float32", random_state=0).fit(X)
    shapes = []
    original = precision.in_blocks

    def spy(fn, x):
        return original(lambda block: shapes.append(len(block)) or fn(block), x)

    monkeypatch.setattr("anomalib_ae.scoring.outputs.in_blocks", spy)
    det.score_samples(X_test[:5])
    det.score_samples(X_test)
    assert set(shapes) == {BLOCK_ROWS}


def test_in_blocks_pads_and_drops():
    x = torch.arange(2 * BLOCK_ROWS + 3, dtype=torch.float32)[:, None]
    seen = []
    out = in_blocks(lambda b: seen.append(b.shape) or b[:, 0] * 2, x)
    assert seen == [(BLOCK_ROWS, 1)] * 3
    torch.testing.assert_close(out, x[:, 0] * 2)


def test_conv_nets_score_in_float32_either_way():
    images = np.random.default_rng(0).random((40, 8, 8))
    params = dict(max_epochs=1, random_state=0, channels=(4,), latent_dim=2)
    s64 = get_detector("autoencoder", **params).fit(images).score_samples(images)
    s32 = get_detector("autoencoder", inference_precision="float32", **params).fit(images)
    np.testing.assert_array_equal(s32.score_samples(images), s64)


def test_unknown_precision_is_a_value_error(rows):
    with pytest.raises(ValueError, match="inference_precision"):
        get_detector("autoencoder", inference_precision="float16").fit(rows[0])


@pytest.mark.parametrize(
    "widths", [(6, 8, 2, 8, 6), (20, 64, 32, 8, 32, 64, 20), (3, 5, 1, 5, 3), (33, 17, 33)]
)
def test_padded_twin_rows_do_not_depend_on_their_position(widths):
    torch.manual_seed(0)
    layers = []
    for a, b in zip(widths[:-1], widths[1:]):
        layers += [torch.nn.Linear(a, b), torch.nn.ReLU()]
    net = torch.nn.Sequential(*layers[:-1])
    twin = precision.float32_twin(net)
    x = torch.randn(BLOCK_ROWS + 1000, widths[0])
    with torch.inference_mode():
        whole = in_blocks(twin, x)
        for offset in (1, 3, 777):
            torch.testing.assert_close(in_blocks(twin, x[offset:]), whole[offset:], rtol=0, atol=0)
        torch.testing.assert_close(whole, net(x), rtol=1e-5, atol=1e-5)


@pytest.mark.parametrize(
    "name", [*MLP_DETECTORS, "denoising_autoencoder", "conditional_vae", "ganomaly"]
)
def test_float64_twin_activations_in_place_change_nothing(name, rows):
    # the scoring twin's activations overwrite the fresh output of the layer before them:
    # the same outputs as a plain float64 copy, and the caller's input is left as it was
    import copy

    X, X_test = rows
    det = fast_detector(name, random_state=0).fit(X)
    twin = precision.float64_twin(det.net_)
    in_place = any(getattr(m, "inplace", False) for m in twin.modules())
    assert in_place or name == "made"  # MADE's masked layers apply their activation themselves
    plain = copy.deepcopy(det.net_).double().eval()
    assert not any(getattr(m, "inplace", False) for m in plain.modules())
    x = torch.as_tensor(det.scaler_.transform(X_test), dtype=torch.float64)
    kept = x.clone()
    with torch.no_grad():
        np.testing.assert_array_equal(twin(x).numpy(), plain(x).numpy())
        if hasattr(plain, "encode"):
            np.testing.assert_array_equal(twin.encode(x).numpy(), plain.encode(x).numpy())
    assert torch.equal(x, kept)


@pytest.mark.parametrize("name", ["autoencoder", "autoencoder_ensemble", "vae"])
def test_float32_twin_activations_in_place_change_nothing(name, rows):
    X, X_test = rows
    det = fast_detector(name, random_state=0).fit(X)
    twin = precision.float32_twin(det.net_)
    assert any(getattr(m, "inplace", False) for m in twin.modules())
    plain = precision._float32_twin(det.net_)  # the same padded copy, activations as built
    assert not any(getattr(m, "inplace", False) for m in plain.modules())
    x = torch.as_tensor(det.scaler_.transform(X_test), dtype=torch.float32)
    kept = x.clone()
    with torch.no_grad():
        np.testing.assert_array_equal(twin(x).numpy(), plain(x).numpy())
    assert torch.equal(x, kept)
