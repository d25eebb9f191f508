"""Data-parallel training through the detector: Lightning's ``ddp_spawn`` on two CPU processes."""

from __future__ import annotations

import numpy as np
import pytest
import torch.distributed as dist

from anomalib_ae import AutoEncoderDetector, AutoEncoderEnsembleDetector

pytestmark = [
    pytest.mark.slow,  # starts two Python processes that import torch and Lightning
    pytest.mark.skipif(not dist.is_available(), reason="torch.distributed is not available"),
]

PARAMS = dict(hidden_dims=(8,), latent_dim=2, max_epochs=3, random_state=0)


@pytest.mark.parametrize(
    "cls, extra",
    [(AutoEncoderDetector, {}), (AutoEncoderEnsembleDetector, {"n_estimators": 2})],
    ids=["autoencoder", "autoencoder_ensemble"],
)
def test_ddp_spawn_matches_single_process_training(cls, extra):
    """Two processes with batch b each take the same steps as one process with batch 2b.

    Each epoch's shuffled rows are dealt alternately to the two processes, so
    the rows of their k-th batches together are the k-th batch of size 2b of
    one process, and DDP averages the two gradients into that batch's gradient.
    Both detectors trim their loss from the second epoch on (the default
    ``trim_warmup``): the rows to drop are chosen over the two shares together.
    """
    X = np.random.default_rng(0).normal(size=(256, 6))
    single = cls(batch_size=32, **PARAMS, **extra).fit(X)
    parallel = cls(
        batch_size=16,
        accelerator="cpu",
        devices=2,
        trainer_kwargs={"strategy": "ddp_spawn"},
        **PARAMS,
        **extra,
    ).fit(X)
    # the trained weights and the history came back to this process
    assert parallel.n_epochs_ == 3 and len(parallel.history_) == 3
    np.testing.assert_allclose(
        [h["train_loss"] for h in parallel.history_],
        [h["train_loss"] for h in single.history_],
        rtol=1e-4,
    )
    np.testing.assert_allclose(
        parallel.score_samples(X), single.score_samples(X), rtol=1e-4, atol=1e-5
    )
    assert parallel.offset_ == pytest.approx(single.offset_, rel=1e-4)
