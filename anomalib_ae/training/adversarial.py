"""GANomaly training: generator and discriminator, two optimisers, manual optimisation."""

from __future__ import annotations

import math

import pytorch_lightning as pl
import torch
import torch.nn.functional as F

from anomalib_ae.nn.ganomaly import GANomalyNet
from anomalib_ae.training.systems import (
    TrainingDivergedError,
    optimizer_class,
    trimmed_weights,
)


class GANomalySystem(pl.LightningModule):
    """Train a :class:`~anomalib_ae.nn.ganomaly.GANomalyNet` as in Akcay et al. (2018).

    Each batch makes one generator step, on
    ``w_adv * ||f(x) - f(x_hat)||^2 + w_con * |x - x_hat| + w_enc * ||z - z_hat||^2``
    (feature matching, contextual L1, latent loss; means over features), then
    one discriminator step on the binary cross-entropy of real rows against
    detached reconstructions. ``history`` records the generator loss
    (``train_loss``) and the discriminator loss (``disc_loss``) per epoch; the
    only stopping rule a detector may use is a fixed number of epochs or the
    generator loss on held-out *training* rows (``val_loss``).

    ``gradient_clip_val`` clips each optimiser's gradient norm (Lightning's
    own clipping does not run under manual optimisation, so the detector hands
    its ``trainer_kwargs['gradient_clip_val']`` here instead).

    Attributes
    ----------
    generator_steps, discriminator_steps : int
        Optimiser steps made by each optimiser.

    Examples
    --------
    >>> from anomalib_ae.training import make_trainer, ArrayDataModule
    >>> import numpy as np
    >>> torch.manual_seed(0) and None
    >>> sys = GANomalySystem(GANomalyNet(3, hidden_dims=(4,), latent_dim=2))
    >>> dm = ArrayDataModule(np.zeros((20, 3), dtype=np.float32), batch_size=10)
    >>> make_trainer(2).fit(sys, datamodule=dm)
    >>> sys.generator_steps, sys.discriminator_steps, len(sys.history)
    (4, 4, 2)
    """

    def __init__(
        self,
        net: GANomalyNet,
        lr: float = 1e-3,
        weight_decay: float = 0.0,
        optimizer: str = "adam",
        adversarial_weight: float = 1.0,
        contextual_weight: float = 50.0,
        encoder_weight: float = 1.0,
        gradient_clip_val: float | None = None,
    ) -> None:
        super().__init__()
        self.net = net
        self.lr, self.weight_decay, self.optimizer = lr, weight_decay, optimizer
        self.weights = (adversarial_weight, contextual_weight, encoder_weight)
        self.gradient_clip_val = gradient_clip_val
        self.automatic_optimization = False
        self.grouped_steps = True  # the DataModule hands lists of consecutive batches
        self.history: list[dict[str, float]] = []
        self.generator_steps = 0
        self.discriminator_steps = 0
        self.set_trimming(0.0)
        self._sums = [0.0, 0.0, 0]

    def set_trimming(self, trim_fraction: float, trim_warmup: float = 0.2) -> None:
        """Drop the largest ``trim_fraction`` generator losses of each batch after a warm-up."""
        self.trim_fraction, self.trim_warmup = float(trim_fraction), float(trim_warmup)

    def generator_losses(self, x: torch.Tensor) -> torch.Tensor:
        """Per-row generator loss of batch ``x``."""
        w_adv, w_con, w_enc = self.weights
        z = self.net.encode(x)
        x_hat = self.net.decode(z)
        z_hat = self.net.recode(x_hat)
        adv = (self.net.features(x) - self.net.features(x_hat)).pow(2).mean(1)
        con = (x - x_hat).abs().flatten(1).mean(1)
        enc = (z - z_hat).pow(2).mean(1)
        return w_adv * adv + w_con * con + w_enc * enc

    def _step(self, x: torch.Tensor, opt_g, opt_d) -> None:
        losses = self.generator_losses(x)
        max_epochs = self.trainer.max_epochs or 1
        if self.trim_fraction > 0 and self.current_epoch >= self.trim_warmup * max_epochs:
            losses = losses * trimmed_weights(losses.unsqueeze(0), self.trim_fraction)[0]
        g_loss = losses.mean()
        opt_g.zero_grad()
        self.manual_backward(g_loss)
        self._clip(opt_g)
        opt_g.step()
        self.generator_steps += 1
        with torch.no_grad():
            x_hat = self.net(x)
        real, fake = self.net.discriminate(x), self.net.discriminate(x_hat)
        d_loss = 0.5 * (
            F.binary_cross_entropy_with_logits(real, torch.ones_like(real))
            + F.binary_cross_entropy_with_logits(fake, torch.zeros_like(fake))
        )
        opt_d.zero_grad()
        self.manual_backward(d_loss)
        self._clip(opt_d)
        opt_d.step()
        self.discriminator_steps += 1
        self._sums[0] += float(g_loss.detach())
        self._sums[1] += float(d_loss.detach())
        self._sums[2] += 1

    def _clip(self, optimizer) -> None:
        if self.gradient_clip_val:
            self.clip_gradients(optimizer, gradient_clip_val=self.gradient_clip_val)

    def training_step(self, batch: torch.Tensor | list[torch.Tensor], batch_idx: int) -> None:
        opt_g, opt_d = self.optimizers()
        for x in batch if isinstance(batch, list) else [batch]:
            self._step(x, opt_g, opt_d)

    def validation_step(self, batch: torch.Tensor, batch_idx: int) -> None:
        self.log("val_loss", self.generator_losses(batch).mean(), batch_size=len(batch))

    def on_train_epoch_start(self) -> None:
        self._sums = [0.0, 0.0, 0]

    def on_train_epoch_end(self) -> None:
        n = max(self._sums[2], 1)
        g, d = self._sums[0] / n, self._sums[1] / n
        if not (math.isfinite(g) and math.isfinite(d)):
            raise TrainingDivergedError(
                f"Training diverged: the generator loss became {g} in epoch {self.current_epoch}. "
                f"Lower `lr`, keep input scaling on (scaler='standard'), or set "
                f"trainer_kwargs={{'gradient_clip_val': 1.0}} (discriminator loss: {d})."
            )
        entry = {"epoch": self.current_epoch, "train_loss": g, "disc_loss": d}
        val = self.trainer.callback_metrics.get("val_loss")
        if val is not None:
            entry["val_loss"] = float(val)
        self.history.append(entry)

    def configure_optimizers(self) -> list[torch.optim.Optimizer]:
        cls = optimizer_class(self.optimizer)
        extra = {"betas": (0.5, 0.999)} if self.optimizer in ("adam", "adamw") else {}
        kw = {"lr": self.lr, "weight_decay": self.weight_decay, **extra}
        return [
            cls(self.net.generator_parameters(), **kw),
            cls(self.net.discriminator_parameters(), **kw),
        ]
