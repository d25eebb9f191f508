"""Batches sliced from in-memory (or memory-mapped) arrays, and the DataModule over them.

No per-row Python indexing happens in the hot path: an in-memory array is turned
into one float32 tensor once, and every batch is a single tensor index.
Memory-mapped arrays are streamed chunk by chunk instead of being copied whole;
sparse rows (:class:`~anomalib_ae.training.sparse.SparseRows`) are densified one
batch at a time.
"""

from __future__ import annotations

import mmap
from collections.abc import Callable, Iterator
from typing import Any

import numpy as np
import pytorch_lightning as pl
import torch

from anomalib_ae.training.sparse import SparseRows, take_rows

Transform = Callable[[np.ndarray], np.ndarray]


def batch_bounds(n: int, batch_size: int, fold_single: bool = False) -> list[tuple[int, int]]:
    """``(start, stop)`` of consecutive batches; ``fold_single`` merges a last batch of one row.

    Training folds it into the batch before, because batch normalisation cannot
    train on a single row (and one row makes a noisy last step anyway).

    Examples
    --------
    >>> batch_bounds(5, 2)
    [(0, 2), (2, 4), (4, 5)]
    >>> batch_bounds(5, 2, fold_single=True)
    [(0, 2), (2, 5)]
    """
    bounds = [(start, min(start + batch_size, n)) for start in range(0, n, batch_size)]
    if fold_single and len(bounds) > 1 and bounds[-1][1] - bounds[-1][0] == 1:
        bounds[-2:] = [(bounds[-2][0], n)]
    return bounds


GROUP_ROWS = 8192
"""About how many rows one grouped training step receives (see :class:`ArrayBatches`)."""

STREAM_CHUNK_ROWS = 65536
"""About how many rows of a memory map are read (and scaled) at once."""


def is_streamed(X: Any) -> bool:
    """Whether ``X`` is read batch by batch from disk rather than loaded whole.

    True for a ``numpy.memmap``, an ndarray view of one (what ``np.asarray`` and
    scikit-learn's validation return for a memory map) and a :class:`RowSubset`.

    Examples
    --------
    >>> import numpy as np
    >>> is_streamed(np.zeros((2, 2)))
    False
    """
    if isinstance(X, (np.memmap, RowSubset)):
        return True
    base = getattr(X, "base", None)
    while isinstance(base, np.ndarray):
        if isinstance(base, np.memmap):
            return True
        base = base.base
    return isinstance(base, mmap.mmap)


class RowSubset:
    """Some rows of an array, read only when asked for: a memory map stays on disk.

    Used for the training/validation split of a memory-mapped array, which
    fancy indexing would copy into memory whole.

    Parameters
    ----------
    X : ndarray of shape (n_samples, ...)
        The full array (typically a ``numpy.memmap``).
    indices : array of int
        Sorted row indices of the subset.

    Examples
    --------
    >>> import numpy as np
    >>> sub = RowSubset(np.arange(10.0).reshape(5, 2), [1, 3])
    >>> len(sub), sub.shape, sub[1:].tolist()
    (2, (2, 2), [[6.0, 7.0]])
    """

    def __init__(self, X: np.ndarray, indices: Any) -> None:
        self.base = X
        self.indices = np.asarray(indices, dtype=np.intp)
        self.shape = (len(self.indices), *X.shape[1:])
        self.dtype = X.dtype
        self.ndim = X.ndim

    def __len__(self) -> int:
        return len(self.indices)

    def __getitem__(self, key: Any) -> np.ndarray:
        return np.asarray(self.base[self.indices[key]])

    def __array__(self, dtype: Any = None, copy: Any = None) -> np.ndarray:
        return np.asarray(self.base[self.indices], dtype=dtype)


def _shard(order: torch.Tensor, rank: int, num_replicas: int) -> torch.Tensor:
    """This replica's share of ``order``, padded by wrapping so that all shares are equal."""
    if num_replicas == 1:
        return order
    pad = -len(order) % num_replicas
    if pad:
        order = torch.cat([order, order[:pad]])
    return order[rank::num_replicas]


def _grouped(batches: Iterator[torch.Tensor], group: int) -> Iterator[list[torch.Tensor]]:
    """Consecutive batches in lists of ``group`` (the last list may be shorter)."""
    pending: list[torch.Tensor] = []
    for batch in batches:
        pending.append(batch)
        if len(pending) == group:
            yield pending
            pending = []
    if pending:
        yield pending


class ArrayBatches:
    """An iterable of float32 tensor batches over the rows of an array.

    Parameters
    ----------
    X : ndarray of shape (n_samples, ...)
        The rows. A ``numpy.memmap`` (or a :class:`RowSubset`) is streamed: read
        one chunk of many batches at a time, never copied whole; any other array
        is converted to a float32 tensor once.
    batch_size : int
        Rows per batch (the last batch may be smaller).
    shuffle : bool, default=False
        Reshuffle the rows at every pass, from a generator seeded with ``seed``
        (training); a last batch of a single row is then merged into the one before.
        A memory map is shuffled chunk-wise: chunk order and rows within a chunk.
    seed : int, default=0
        Seed of the shuffling generator; the k-th pass always uses the same order.
    transform : callable, optional
        Applied to numpy rows before they become a tensor (e.g. input scaling).
    group : int, default=1
        Yield lists of up to ``group`` consecutive batches instead of single
        batches, so that one Lightning step can run many optimiser steps
        (see :class:`~anomalib_ae.training.ReconstructionSystem`).
    rank, num_replicas : int, default=0, 1
        Data-parallel training: every pass, each of the ``num_replicas``
        processes takes its ``rank``-th share of the (shuffled) rows, padded by
        wrapping so that all replicas run the same number of batches.

    Examples
    --------
    >>> import numpy as np
    >>> batches = ArrayBatches(np.arange(10.0).reshape(5, 2), batch_size=2)
    >>> len(batches), [tuple(b.shape) for b in batches]
    (3, [(2, 2), (2, 2), (1, 2)])
    >>> grouped = ArrayBatches(np.arange(10.0).reshape(5, 2), batch_size=2, group=2)
    >>> [len(g) for g in grouped]
    [2, 1]
    """

    def __init__(
        self,
        X: np.ndarray,
        batch_size: int,
        shuffle: bool = False,
        seed: int = 0,
        transform: Transform | None = None,
        *,
        group: int = 1,
        rank: int = 0,
        num_replicas: int = 1,
    ) -> None:
        self.batch_size = max(1, int(batch_size))
        self.shuffle = shuffle
        self.group = max(1, int(group))
        self.rank, self.num_replicas = int(rank), max(1, int(num_replicas))
        self.n_samples = len(X)
        self._generator = torch.Generator().manual_seed(int(seed))
        self._streamed = is_streamed(X)
        self._sparse = isinstance(X, SparseRows)  # densified (and scaled) a batch at a time
        if self._sparse or self._streamed:
            self._array = X
            self._transform = transform
            step = self.batch_size * self.num_replicas
            self._chunk = step * max(1, STREAM_CHUNK_ROWS // step)
        else:
            rows = transform(X) if transform is not None else X
            self._tensor = torch.as_tensor(np.ascontiguousarray(rows, dtype=np.float32))

    def _local(self, n: int) -> int:
        """Rows of one replica's share of ``n`` rows."""
        return -(-n // self.num_replicas)

    def _n_batches(self) -> int:
        if not self._streamed:
            return len(batch_bounds(self._local(self.n_samples), self.batch_size, self.shuffle))
        return sum(
            len(
                batch_bounds(
                    self._local(min(self._chunk, self.n_samples - s)), self.batch_size, self.shuffle
                )
            )
            for s in range(0, self.n_samples, self._chunk)
        )

    def __len__(self) -> int:
        return -(-self._n_batches() // self.group)

    def __iter__(self) -> Iterator[torch.Tensor] | Iterator[list[torch.Tensor]]:
        batches = self._iter_streamed() if self._streamed else self._iter_memory()
        if self.group == 1:
            return batches
        return _grouped(batches, self.group)

    def _iter_memory(self) -> Iterator[torch.Tensor]:
        n = self.n_samples
        if self.shuffle or self.num_replicas > 1:
            order = (
                torch.randperm(n, generator=self._generator) if self.shuffle else torch.arange(n)
            )
            order = _shard(order, self.rank, self.num_replicas)
            for start, stop in batch_bounds(len(order), self.batch_size, self.shuffle):
                yield self._batch(order[start:stop])
        else:
            for start, stop in batch_bounds(n, self.batch_size, self.shuffle):
                yield self._batch(slice(start, stop))

    def _batch(self, rows: torch.Tensor | slice) -> torch.Tensor:
        if not self._sparse:
            return self._tensor[rows]
        return self._dense(rows if isinstance(rows, slice) else rows.numpy())

    def _dense(self, rows: Any) -> torch.Tensor:
        """Rows ``rows`` (a slice or positions) of the array, transformed, as float32."""
        rows = np.asarray(self._array[rows])
        if self._transform is not None:
            rows = self._transform(rows)
        return torch.as_tensor(np.ascontiguousarray(rows, dtype=np.float32))

    def _iter_streamed(self) -> Iterator[torch.Tensor]:
        """Read contiguous chunks of many batches; shuffle chunks and rows within them."""
        n, b, chunk = self.n_samples, self.batch_size, self._chunk
        starts = torch.arange(0, n, chunk)
        if self.shuffle and len(starts) > 1:  # one chunk: the same order as in memory
            starts = starts[torch.randperm(len(starts), generator=self._generator)]
        for start in starts.tolist():
            block = self._dense(slice(start, min(start + chunk, n)))
            if self.shuffle or self.num_replicas > 1:
                order = (
                    torch.randperm(len(block), generator=self._generator)
                    if self.shuffle
                    else torch.arange(len(block))
                )
                block = block[_shard(order, self.rank, self.num_replicas)]
            for i, j in batch_bounds(len(block), b, self.shuffle):
                yield block[i:j]
            del block  # before the next chunk is read: one chunk in memory, not two


class ArrayDataModule(pl.LightningDataModule):
    """Training (and optional validation) batches over one array.

    Parameters
    ----------
    X : ndarray of shape (n_samples, ...)
        Training rows (already validated).
    batch_size : int
        Training batch size.
    validation_fraction : float, default=0.0
        Fraction of rows held out for validation (0 disables validation).
    seed : int, default=0
        Seed for the validation split and the shuffling.
    transform : callable, optional
        Applied to numpy rows before they become tensors.
    """

    def __init__(
        self,
        X: np.ndarray,
        batch_size: int,
        validation_fraction: float = 0.0,
        seed: int = 0,
        transform: Transform | None = None,
    ) -> None:
        super().__init__()
        self.batch_size = batch_size
        self.seed = seed
        self.transform = transform
        n = len(X)
        n_val = int(round(n * validation_fraction)) if validation_fraction > 0 else 0
        if n_val < 1 or n - n_val < 1:
            self.train_X, self.val_X = X, None
        else:
            order = np.random.default_rng(seed).permutation(n)
            val_idx, train_idx = np.sort(order[:n_val]), np.sort(order[n_val:])
            # a memory map stays on disk and sparse rows stay sparse (take_rows)
            self.train_X, self.val_X = take_rows(X, train_idx), take_rows(X, val_idx)

    @property
    def has_validation(self) -> bool:
        """Whether a validation split exists."""
        return self.val_X is not None

    def train_dataloader(self) -> ArrayBatches:
        """Shuffled training batches; grouped and sharded as the Trainer's run asks.

        When the system trains with grouped steps (``grouped_steps``, see
        :class:`~anomalib_ae.training.ReconstructionSystem`), batches come in
        lists of about ``GROUP_ROWS`` rows; under a data-parallel strategy each
        process takes its own share of every epoch's rows.
        """
        trainer = self.trainer
        module = trainer.lightning_module if trainer is not None else None
        grouped = bool(getattr(module, "grouped_steps", False))
        return ArrayBatches(
            self.train_X,
            self.batch_size,
            shuffle=True,
            seed=self.seed,
            transform=self.transform,
            group=max(1, GROUP_ROWS // self.batch_size) if grouped else 1,
            rank=trainer.global_rank if trainer is not None else 0,
            num_replicas=trainer.world_size if trainer is not None else 1,
        )

    def val_dataloader(self) -> ArrayBatches | list:
        if self.val_X is None:
            return []
        return ArrayBatches(self.val_X, max(self.batch_size, 1024), transform=self.transform)
