"""Grouped training steps: the same updates as Lightning's automatic loop, with less overhead."""

from __future__ import annotations

import numpy as np
import pytest
import pytorch_lightning as pl
from torch import nn

from anomalib_ae import get_detector
from anomalib_ae.nn.mlp import AutoEncoderNet
from anomalib_ae.training import (
    ArrayDataModule,
    ReconstructionSystem,
    make_trainer,
    quiet_lightning,
)

from .conftest import fast_detector

# max_steps is one of the Trainer settings that keep Lightning's automatic loop.
UNGROUPED = {"max_steps": 10**9}


@pytest.fixture(scope="module")
def rows() -> np.ndarray:
    return np.random.default_rng(0).normal(size=(150, 5))


@pytest.mark.parametrize("name", ["autoencoder", "denoising_autoencoder", "vae"])
def test_grouped_and_automatic_loops_train_identically(name, rows):
    if name not in {"autoencoder", "denoising_autoencoder", "vae"} - set():
        pytest.skip(f"{name} is not registered")
    try:
        get_detector(name)
    except (KeyError, ValueError):
        pytest.skip(f"{name} is not registered")
    grouped = fast_detector(name).fit(rows)
    automatic = fast_detector(name, trainer_kwargs=UNGROUPED).fit(rows)
    np.testing.assert_array_equal(grouped.score_samples(rows), automatic.score_samples(rows))
    assert [h["train_loss"] for h in grouped.history_] == pytest.approx(
        [h["train_loss"] for h in automatic.history_], rel=1e-6
    )


def _fit_system(system: ReconstructionSystem, X: np.ndarray, **trainer_kwargs) -> None:
    with quiet_lightning():
        make_trainer(2, trainer_kwargs=trainer_kwargs).fit(
            system, datamodule=ArrayDataModule(X.astype(np.float32), batch_size=16)
        )


def test_fit_start_decides_the_loop(rows):
    system = ReconstructionSystem(AutoEncoderNet(5, (4,), 2))
    _fit_system(system, rows)
    assert system.grouped_steps and system.automatic_optimization  # reset after fit
    assert len(system.history) == 2

    assert system._plain_steps  # single device, full precision, no step hooks

    class Watch(pl.Callback):
        def on_after_backward(self, trainer, module):
            self.seen = getattr(self, "seen", 0) + 1

    watch = Watch()
    watched = ReconstructionSystem(AutoEncoderNet(5, (4,), 2))
    _fit_system(watched, rows, callbacks=[watch])
    assert watched.grouped_steps and not watched._plain_steps
    assert watch.seen == 2 * 10  # every batch's backward, in grouped steps too

    clipped = ReconstructionSystem(AutoEncoderNet(5, (4,), 2))
    _fit_system(clipped, rows, gradient_clip_val=1.0)  # needs the automatic loop
    assert not clipped.grouped_steps


def test_overridden_training_step_keeps_the_automatic_loop(rows):
    class Custom(ReconstructionSystem):
        def training_step(self, batch, batch_idx):
            return self.sample_losses(batch).mean()

    system = Custom(AutoEncoderNet(5, (4,), 2))
    _fit_system(system, rows)
    assert not system.grouped_steps


def test_history_travels_with_the_state_dict():
    system = ReconstructionSystem(nn.Linear(2, 2))
    system.history = [{"epoch": 0, "train_loss": 1.5}]
    other = ReconstructionSystem(nn.Linear(2, 2))
    other.load_state_dict(system.state_dict())
    assert other.history == [{"epoch": 0, "train_loss": 1.5}]
