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


def optimizer_class(name: str) -> type[torch.optim.Optimizer]:
    """The optimiser class named ``name`` (``"adam"``, ``"adamw"`` or ``"sgd"``).

    Examples
    --------
    >>> optimizer_class("sgd").__name__
    'SGD'
    """
    try:
        return _OPTIMIZERS[name]
    except KeyError:
        raise ValueError(f"Unknown optimizer {name!r}; choose one of {sorted(_OPTIMIZERS)}.") from None


def trimmed_weights(losses: torch.Tensor, trim_fraction: float) -> torch.Tensor:
    """Weights that drop the largest ``trim_fraction`` of each row of ``losses``.

    Kept entries get ``n / n_kept`` so that the mean of ``weights * losses`` over
    a row equals the mean of the kept losses (a trimmed mean).

    Parameters
    ----------
    losses : Tensor of shape (n_members, batch)
        Per-member, per-row losses.
    trim_fraction : float
        Share of each member's batch to drop, in [0, 1).

    Returns
    -------
    Tensor of the same shape (no gradient).

    Examples
    --------
    >>> trimmed_weights(torch.tensor([[1.0, 5.0, 2.0, 3.0]]), 0.25).tolist()
    [[1.3333333730697632, 0.0, 1.3333333730697632, 1.3333333730697632]]
    """
    n = losses.shape[-1]
    keep = max(1, n - int(math.floor(trim_fraction * n)))
    if keep == n:
        return torch.ones_like(losses)
    kept = torch.topk(losses.detach(), keep, dim=-1, largest=False).indices
    weights = torch.zeros_like(losses)
    return weights.scatter_(-1, kept, n / keep)


class ReconstructionSystem(pl.LightningModule):
    """Train a net to reconstruct its input with the mean squared error.

    Subclasses change the objective by overriding :meth:`sample_losses` (the
    per-row training loss); everything else (optimiser, epoch history,
    divergence check, validation loss for early stopping, trimming) is shared.

    Trimming (:meth:`set_trimming`, off by default): once ``trim_warmup`` of
    the epochs have run, each training batch drops its ``trim_fraction`` rows
    of largest loss (a trimmed mean, :func:`trimmed_weights`). On contaminated
    training data these are mostly the outliers, which then stop teaching the
    net to rebuild them (the idea of robust and trimmed autoencoders); the
    warm-up lets the net first learn the bulk of the data, so that the ranking
    of the losses means something.

    Grouped steps: Lightning's per-step machinery (batch fetching, hooks,
    closures) costs about as much as one optimiser step of a small MLP. So
    when nothing needs Lightning's automatic optimisation (no gradient
    clipping or accumulation, no ``max_steps``/batch limits, no learning-rate
    scheduler, no overridden ``training_step`` or optimiser hooks), the system
    switches to manual optimisation at fit start (``grouped_steps``) and the
    DataModule hands each ``training_step`` a list of consecutive batches. It
    still makes one optimiser step per batch, through ``manual_backward`` and
    the Lightning optimiser, so precision plugins, strategies (DDP) and the
    backward/optimiser-step hooks see every batch; the batches, their order
    and the updates are those of the ungrouped loop. On a single device in
    full precision with none of those hooks overridden, ``backward`` and the
    optimiser step are called directly (Lightning's wrappers would only call
    empty hooks).

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
        It travels with the ``state_dict`` (as extra state), so a process
        launched by a spawning strategy hands it back with the weights.
    grouped_steps : bool
        Whether this fit runs grouped steps (decided in :meth:`on_fit_start`).
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
        self.grouped_steps = False
        self._plain_steps = False
        self._loss_sum = torch.zeros(())
        self._n_batches = 0
        self.set_trimming(0.0)

    def set_trimming(self, trim_fraction: float, trim_warmup: float = 0.2) -> None:
        """Drop the ``trim_fraction`` largest per-row losses of each batch after a warm-up.

        Parameters
        ----------
        trim_fraction : float
            Share of each training batch to ignore, in [0, 1); 0 turns trimming off.
        trim_warmup : float, default=0.2
            Share of the trainer's ``max_epochs`` trained on the full loss first.
        """
        self.trim_fraction = float(trim_fraction)
        self.trim_warmup = float(trim_warmup)

    def _trimming(self) -> bool:
        if not (self.training and self.trim_fraction > 0):
            return False
        trainer = self._trainer
        max_epochs = trainer.max_epochs if trainer is not None and trainer.max_epochs else 1
        return self.current_epoch >= self.trim_warmup * max_epochs

    def forward(self, x: torch.Tensor) -> torch.Tensor:
        return self.net(x)

    def sample_losses(self, x: torch.Tensor) -> torch.Tensor:
        """Per-row training loss of batch ``x`` (shape ``(len(x),)``)."""
        return (self.net(x) - x).pow(2).flatten(1).mean(1)

    def trim_weights(self, losses: torch.Tensor) -> torch.Tensor:
        """:func:`trimmed_weights` of ``losses`` (shape ``(..., batch)``) over the global batch.

        Under data-parallel training every process holds one share of the
        batch; the rows to drop are the largest losses of all shares together
        (gathered without gradient), so that the trimmed loss, averaged over
        the processes by the strategy, is the one-process trimmed loss of the
        whole batch. The shares interleave (row ``i`` of process ``r`` is row
        ``i * world_size + r`` of the batch), as the DataModule deals them.
        """
        world = self._trainer.world_size if self._trainer is not None else 1
        if world == 1:
            return trimmed_weights(losses, self.trim_fraction)
        shares = self.all_gather(losses.detach())  # (world, ..., batch)
        batch = losses.shape[-1]
        whole = shares.movedim(0, -1).reshape(*losses.shape[:-1], batch * world)
        weights = trimmed_weights(whole, self.trim_fraction)
        rank = self._trainer.global_rank
        return weights.reshape(*losses.shape, world)[..., rank].to(losses.dtype)

    def batch_loss(self, x: torch.Tensor) -> torch.Tensor:
        """The training loss of batch ``x``: the (trimmed) mean of :meth:`sample_losses`."""
        losses = self.sample_losses(x)
        if self._trimming() and len(losses) > 1:
            losses = losses * self.trim_weights(losses.unsqueeze(0))[0]
        return losses.mean()

    def training_step(
        self, batch: torch.Tensor | list[torch.Tensor], batch_idx: int
    ) -> torch.Tensor | None:
        if self.automatic_optimization:
            loss = self.batch_loss(batch)
            self._record(loss)
            return loss
        optimizer = self.optimizers()
        if self._plain_steps:  # nothing wraps backward or step: call them directly
            optimizer = optimizer.optimizer
        for x in batch if isinstance(batch, list) else [batch]:
            loss = self.batch_loss(x)
            optimizer.zero_grad(set_to_none=True)
            if self._plain_steps:
                loss.backward()
            else:
                self.manual_backward(loss)
            optimizer.step()
            self._record(loss)
        return None

    def _record(self, loss: torch.Tensor) -> None:
        """Add a batch's loss to the epoch's sum, on its device (no sync per step)."""
        if self._loss_sum.device != loss.device:
            self._loss_sum = self._loss_sum.to(loss.device)
        self._loss_sum.add_(loss.detach())
        self._n_batches += 1

    def validation_step(self, batch: torch.Tensor, batch_idx: int) -> None:
        losses = self.sample_losses(batch)
        self.log(
            "val_loss",
            losses.mean(),
            batch_size=len(batch),
            prog_bar=True,
            sync_dist=self.trainer.world_size > 1,
        )

    def on_fit_start(self) -> None:
        self.grouped_steps = _can_group_steps(self, self.trainer)
        self.automatic_optimization = not self.grouped_steps
        self._plain_steps = self.grouped_steps and _nothing_wraps_steps(self, self.trainer)

    def on_fit_end(self) -> None:
        self.automatic_optimization = True

    def on_train_epoch_start(self) -> None:
        self._loss_sum = torch.zeros((), device=self.device)
        self._n_batches = 0

    def on_train_epoch_end(self) -> None:
        totals = torch.stack(
            [
                self._loss_sum.float().to(self.device),
                torch.tensor(float(self._n_batches), device=self.device),
            ]
        )
        totals = self.trainer.strategy.reduce(totals, reduce_op="sum")  # all processes' batches
        loss = float(totals[0]) / max(float(totals[1]), 1.0)
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

    def get_extra_state(self) -> dict:
        return {"history": list(self.history)}

    def set_extra_state(self, state: dict) -> None:
        self.history = list(state.get("history", []))

    def configure_optimizers(self) -> torch.optim.Optimizer:
        cls = optimizer_class(self.optimizer)
        return cls(self.net.parameters(), lr=self.lr, weight_decay=self.weight_decay)


_OPTIMIZER_HOOKS = ("optimizer_step", "optimizer_zero_grad", "configure_gradient_clipping")


def _can_group_steps(system: ReconstructionSystem, trainer: pl.Trainer) -> bool:
    """Whether grouped steps give exactly what Lightning's automatic loop would do.

    Anything that acts between or around single optimiser steps of the automatic
    loop (gradient clipping or accumulation, step or batch limits, learning-rate
    schedulers, overridden step hooks, callbacks on ``on_before_zero_grad``) keeps
    the ungrouped automatic loop.
    """
    cls = type(system)
    if cls.training_step is not ReconstructionSystem.training_step:
        return False
    if any(
        getattr(cls, hook) is not getattr(pl.LightningModule, hook) for hook in _OPTIMIZER_HOOKS
    ):
        return False
    if trainer.gradient_clip_val or trainer.accumulate_grad_batches != 1:
        return False
    if trainer.max_steps != -1 or trainer.limit_train_batches not in (1.0, None):
        return False
    if trainer.val_check_interval not in (1.0, None) or len(trainer.optimizers) != 1:
        return False
    if trainer.lr_scheduler_configs:
        return False
    return not any(
        type(cb).on_before_zero_grad is not pl.Callback.on_before_zero_grad
        for cb in trainer.callbacks
    )


_STEP_HOOKS = ("on_before_backward", "on_after_backward", "on_before_optimizer_step")


def _nothing_wraps_steps(system: ReconstructionSystem, trainer: pl.Trainer) -> bool:
    """Whether backward and the optimiser step may bypass Lightning's wrappers.

    True on a single device in full precision when no hook around backward or
    the optimiser step is overridden (by the system or a callback): Lightning's
    wrappers would then only call empty hooks and count steps (``global_step``
    is not advanced by plain steps; grouped steps never run with ``max_steps``).
    """
    from pytorch_lightning.plugins.precision import Precision
    from pytorch_lightning.strategies import SingleDeviceStrategy

    if type(trainer.strategy) is not SingleDeviceStrategy:
        return False
    if type(trainer.precision_plugin) is not Precision:
        return False
    cls = type(system)
    if cls.backward is not pl.LightningModule.backward:
        return False
    if any(getattr(cls, h) is not getattr(pl.LightningModule, h) for h in _STEP_HOOKS):
        return False
    return not any(
        getattr(type(cb), h) is not getattr(pl.Callback, h)
        for cb in trainer.callbacks
        for h in _STEP_HOOKS
    )
