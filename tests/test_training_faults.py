"""Training faults: Ctrl+C, a diverging loss, gradient clipping (every neural detector)."""

from __future__ import annotations

import signal

import numpy as np
import pytest
import pytorch_lightning as pl
import torch

from anomalib_ae import list_detectors
from anomalib_ae.detectors import BaseNeuralDetector
from anomalib_ae.registry import get_detector_class
from anomalib_ae.training import TrainingDivergedError
from tests.conftest import fast_detector

NEURAL = [n for n in list_detectors() if issubclass(get_detector_class(n), BaseNeuralDetector)]

# Detectors whose loss no plain-SGD step makes infinite, with the reason (the divergence
# check itself is exercised for them by test_injected_nan_names_the_epoch).
NEVER_DIVERGE = {
    "pixelcnn": "bounded gated tanh*sigmoid units and a softplus scale: a huge SGD step makes "
    "the scales huge and the loss flat, not infinite (measured up to lr=1e12)",
}
DIVERGING = [
    pytest.param(n, marks=pytest.mark.skip(reason=NEVER_DIVERGE[n])) if n in NEVER_DIVERGE else n
    for n in NEURAL
]


def _data(n=120, d=5, seed=0):
    return np.random.default_rng(seed).normal(size=(n, d))


def _fitted_state(det) -> list[str]:
    params = set(det.get_params(deep=False))
    return sorted(k for k in vars(det) if k not in params and not k.startswith("_sklearn"))


class InterruptAt(pl.Callback):
    """Raise ``KeyboardInterrupt`` (as Ctrl+C does) in a training step of epoch ``epoch``."""

    def __init__(self, epoch: int = 1) -> None:
        self.epoch = epoch

    def on_train_batch_end(self, trainer, *args) -> None:
        if trainer.current_epoch == self.epoch:
            raise KeyboardInterrupt


class PoisonWeights(pl.Callback):
    """Set the first weight to NaN before a step of epoch ``epoch`` (an injected blow-up)."""

    def __init__(self, epoch: int = 1) -> None:
        self.epoch = epoch

    def on_train_batch_start(self, trainer, pl_module, *args) -> None:
        if trainer.current_epoch == self.epoch:
            with torch.no_grad():
                next(pl_module.parameters()).view(-1)[0] = float("nan")


@pytest.mark.parametrize("name", NEURAL)
def test_keyboard_interrupt_leaves_detector_unfitted(name):
    handler = signal.getsignal(signal.SIGINT)
    det = fast_detector(name, trainer_kwargs={"callbacks": [InterruptAt(1)]})
    with pytest.raises(KeyboardInterrupt, match="left unfitted"):
        det.fit(_data())
    assert _fitted_state(det) == []
    assert signal.getsignal(signal.SIGINT) == handler, "Ctrl+C handler not restored"


@pytest.mark.parametrize("name", NEURAL)
def test_interrupted_refit_clears_the_previous_fit(name):
    det = fast_detector(name).fit(_data(d=5))
    assert _fitted_state(det)
    det.set_params(trainer_kwargs={"callbacks": [InterruptAt(0)]})
    with pytest.raises(KeyboardInterrupt):
        det.fit(_data(d=3))  # new width: old and new state must not mix
    assert _fitted_state(det) == []
    det.set_params(trainer_kwargs=None)
    assert np.isfinite(det.fit(_data(d=3)).score_samples(_data(d=3))).all()


@pytest.mark.parametrize("name", DIVERGING)
def test_diverging_loss_stops_with_a_clear_error(name):
    det = fast_detector(name, optimizer="sgd", lr=1e12)
    with pytest.raises(TrainingDivergedError, match=r"epoch 0\. Lower `lr`.*gradient_clip_val"):
        det.fit(_data())
    assert _fitted_state(det) == []


@pytest.mark.parametrize("name", NEURAL)
def test_injected_nan_names_the_epoch(name):
    det = fast_detector(name, trainer_kwargs={"callbacks": [PoisonWeights(1)]})
    with pytest.raises(ValueError, match="loss became nan in epoch 1"):
        det.fit(_data())
    assert _fitted_state(det) == []


@pytest.mark.parametrize("name", DIVERGING)
def test_gradient_clipping_through_trainer_kwargs_prevents_divergence(name):
    X = _data(n=200)
    for lr in (10.0, 100.0, 1000.0):  # the smallest plain-SGD step that diverges
        try:
            fast_detector(name, optimizer="sgd", lr=lr).fit(X)
        except TrainingDivergedError:
            break
    else:
        pytest.fail(f"{name} never diverged with plain SGD")
    # The same steps with the gradient norm clipped so that lr * clip = 5: no divergence.
    clipped = fast_detector(
        name, optimizer="sgd", lr=lr, trainer_kwargs={"gradient_clip_val": 5.0 / lr}
    ).fit(X)
    assert np.isfinite(clipped.score_samples(X)).all()
