"""The one place that holds every Trainer default."""

from __future__ import annotations

import contextlib
import functools
import logging
import warnings
from collections.abc import Iterator
from typing import Any

import pytorch_lightning as pl
import torch
from pytorch_lightning.callbacks import EarlyStopping

_LIGHTNING_LOGGERS = ("pytorch_lightning", "lightning.pytorch", "lightning_fabric", "lightning")

SMALL_STEP_WORK = 2**23
"""Multiply-adds per step (rows x parameters) below which CPU work runs on one thread."""


@contextlib.contextmanager
def cpu_threads(accelerator: str, work: int) -> Iterator[None]:
    """Run torch on one CPU thread while each step is small, then restore the setting.

    A step of a small net (``work`` = rows per step x parameters below
    :data:`SMALL_STEP_WORK`) is over before torch's worker threads have
    synchronised: extra threads save nothing on an idle machine and cost up to
    20x on a busy one, where a descheduled thread stalls every parallel
    region. Larger steps, and accelerators other than the CPU, keep torch's
    own setting (``torch.set_num_threads``).

    Examples
    --------
    >>> import torch
    >>> before = torch.get_num_threads()
    >>> with cpu_threads("cpu", work=1000):
    ...     torch.get_num_threads()
    1
    >>> torch.get_num_threads() == before
    True
    """
    before = torch.get_num_threads()
    limit = accelerator == "cpu" and work < SMALL_STEP_WORK and before > 1
    if limit:
        torch.set_num_threads(1)
    try:
        yield
    finally:
        if limit:
            torch.set_num_threads(before)


@contextlib.contextmanager
def quiet_lightning(verbose: bool = False) -> Iterator[None]:
    """Silence Lightning's start-up chatter (device info, dataloader hints) unless ``verbose``."""
    if verbose:
        yield
        return
    loggers = [logging.getLogger(name) for name in _LIGHTNING_LOGGERS]
    levels = [lg.level for lg in loggers]
    for lg in loggers:
        lg.setLevel(logging.WARNING)
    try:
        with warnings.catch_warnings():
            warnings.filterwarnings("ignore", message=r".*does not have many workers.*")
            warnings.filterwarnings("ignore", message=r".*number of training batches.*")
            warnings.filterwarnings("ignore", message=r".*`training_step` returned `None`.*")
            warnings.filterwarnings("ignore", message=r".*LeafSpec.*")
            warnings.filterwarnings("ignore", message=r".*across ranks is zero.*")
            yield
    finally:
        for lg, level in zip(loggers, levels):
            lg.setLevel(level)


def make_trainer(
    max_epochs: int,
    *,
    accelerator: str = "cpu",
    devices: int | str | list[int] = 1,
    precision: str | int | None = None,
    verbose: bool = False,
    early_stopping: bool = False,
    patience: int = 10,
    trainer_kwargs: dict[str, Any] | None = None,
) -> pl.Trainer:
    """Build a Lightning Trainer with the project's defaults.

    No logger, no checkpoint files, no ``lightning_logs/`` directory, no sanity
    validation run; progress bar and model summary only when ``verbose``.

    Parameters
    ----------
    max_epochs : int
        Number of epochs (an upper bound with early stopping).
    accelerator : str, default="cpu"
        Lightning accelerator ("cpu", "gpu", "mps", "auto").
    devices : int, str or list of int, default=1
        Devices for the accelerator.
    precision : str, int or None, default=None
        Lightning precision (e.g. "bf16-mixed"); ``None`` keeps Lightning's default.
    verbose : bool, default=False
        Show the progress bar and model summary.
    early_stopping : bool, default=False
        Stop when ``val_loss`` has not improved for ``patience`` epochs.
    patience : int, default=10
        Patience of early stopping.
    trainer_kwargs : dict, optional
        Any other ``pytorch_lightning.Trainer`` argument; overrides the defaults.

    Returns
    -------
    pytorch_lightning.Trainer

    Examples
    --------
    >>> trainer = make_trainer(3)
    >>> trainer.max_epochs, trainer.logger is None
    (3, True)
    """
    callbacks: list[pl.Callback] = []
    if early_stopping:
        callbacks.append(EarlyStopping(monitor="val_loss", patience=patience, mode="min"))
    kwargs: dict[str, Any] = dict(
        max_epochs=max_epochs,
        accelerator=accelerator,
        devices=devices,
        logger=False,
        enable_checkpointing=False,
        enable_progress_bar=verbose,
        enable_model_summary=verbose,
        num_sanity_val_steps=0,
        deterministic=False,
        callbacks=callbacks,
    )
    if precision is not None:
        kwargs["precision"] = precision
    extra = dict(trainer_kwargs or {})
    if "callbacks" in extra:
        kwargs["callbacks"] = callbacks + list(extra.pop("callbacks"))
    kwargs.update(extra)
    _cache_callback_discovery()
    with quiet_lightning(verbose):
        return pl.Trainer(**kwargs)


def _cache_callback_discovery() -> None:
    """Look Lightning's callback entry points up once per process, not on every ``Trainer()``.

    Each ``Trainer()`` asks ``importlib.metadata`` for the entry points of the
    ``*.callbacks_factory`` groups, which reads the metadata of every installed
    distribution: about 0.1 s, most of a small fit's fixed cost. The answer
    only changes when packages are installed, so it is cached per group.
    """
    try:
        from lightning_fabric.utilities import registry
    except ImportError:  # pragma: no cover - another Lightning layout
        return
    lookup = getattr(registry, "entry_points", None)
    if lookup is None or getattr(lookup, "_aeod_cached", False):
        return

    @functools.cache
    def entry_points(**params: Any) -> Any:
        return lookup(**params)

    entry_points._aeod_cached = True  # type: ignore[attr-defined]
    registry.entry_points = entry_points
