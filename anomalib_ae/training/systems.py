"""Lightning systems: how a family of nets is trained (the net itself lives in ``nn``)."""

from __future__ import annotations

import math

import pytorch_lightning as pl
import torch
from torch import nn


class TrainingDivergedError(ValueError):
    """Raised when the training loss becomes NaN or infinite."""


_OPTIMIZERS: dict[str, type[torch.optim.Optimizer]] = {
    "adam": torch.optim.Adam,
    "adamw": torch.optim.AdamW,
    "sgd": torch.optim.SGD,
}


class ReconstructionSystem(pl.LightningModule):
    """Train a net to reconstruct its input with the mean squared error.

    Subclasses change the objective by overriding :meth:`sample_losses` (the
    per-row training loss); everything else (optimiser, epoch history,
    divergence check, validation loss for early stopping) is shared.

    Parameters
    ----------
    net : torch.nn.Module
        Maps a batch to its reconstruction.
    lr : float, default=1e-3
        Learning rate.
    weight_decay : float, default=0.0
        L2 penalty of the optimiser.
    optimizer : {"adam", "adamw", "sgd"}, default="adam"
        Optimiser, by name.

    Attributes
    ----------
    history : list of dict
        One entry per finished epoch with ``train_loss`` (and ``val_loss``).
    """

    def __init__(
        self,
        net: nn.Module,
        lr: float = 1e-3,
        weight_decay: float = 0.0,
        optimizer: str = "adam",
    ) -> None:
        super().__init__()
        self.net = net
        self.lr = lr
        self.weight_decay = weight_decay
        self.optimizer = optimizer
        self.history: list[dict[str, float]] = []
        self._loss_sum = torch.zeros(())
        self._n_batches = 0

    def forward(self, x: torch.Tensor) -> torch.Tensor:
        return self.net(x)

    def sample_losses(self, x: torch.Tensor) -> torch.Tensor:
        """Per-row training loss of batch ``x`` (shape ``(len(x),)``)."""
        return (self.net(x) - x).pow(2).flatten(1).mean(1)

    def training_step(self, batch: torch.Tensor, batch_idx: int) -> torch.Tensor:
        loss = self.sample_losses(batch).mean()
        self._loss_sum = self._loss_sum + loss.detach().cpu()
        self._n_batches += 1
        return loss

    def validation_step(self, batch: torch.Tensor, batch_idx: int) -> None:
        losses = self.sample_losses(batch)
        self.log("val_loss", losses.mean(), batch_size=len(batch), prog_bar=True)

    def on_train_epoch_start(self) -> None:
        self._loss_sum = torch.zeros(())
        self._n_batches = 0

    def on_train_epoch_end(self) -> None:
        loss = float(self._loss_sum) / max(self._n_batches, 1)
        if not math.isfinite(loss):
            raise TrainingDivergedError(
                f"Training diverged: the loss became {loss} in epoch {self.current_epoch}. "
                "Lower `lr`, keep input scaling on (scaler='standard'), or set "
                "trainer_kwargs={'gradient_clip_val': 1.0}."
            )
        entry = {"epoch": self.current_epoch, "train_loss": loss}
        val = self.trainer.callback_metrics.get("val_loss")
        if val is not None:
            entry["val_loss"] = float(val)
        self.history.append(entry)

    def configure_optimizers(self) -> torch.optim.Optimizer:
        try:
            cls = _OPTIMIZERS[self.optimizer]
        except KeyError:
            raise ValueError(
                f"Unknown optimizer {self.optimizer!r}; choose one of {sorted(_OPTIMIZERS)}."
            ) from None
        return cls(self.net.parameters(), lr=self.lr, weight_decay=self.weight_decay)
