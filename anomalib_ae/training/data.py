"""Batches sliced from in-memory (or memory-mapped) arrays, and the DataModule over them.

No per-row Python indexing happens in the hot path: an in-memory array is turned
into one float32 tensor once, and every batch is a single tensor index.
Memory-mapped arrays are streamed chunk by chunk instead of being copied whole.
"""

from __future__ import annotations

from collections.abc import Callable, Iterator

import numpy as np
import pytorch_lightning as pl
import torch

Transform = Callable[[np.ndarray], np.ndarray]


def _is_streamed(X: np.ndarray) -> bool:
    """Whether ``X`` should be read batch by batch rather than loaded whole."""
    return isinstance(X, np.memmap) or (isinstance(getattr(X, "base", None), np.memmap))


class ArrayBatches:
    """An iterable of float32 tensor batches over the rows of an array.

    Parameters
    ----------
    X : ndarray of shape (n_samples, ...)
        The rows. A ``numpy.memmap`` is streamed (read one chunk at a time);
        any other array is converted to a float32 tensor once.
    batch_size : int
        Rows per batch (the last batch may be smaller).
    shuffle : bool, default=False
        Reshuffle the rows at every pass, from a generator seeded with ``seed``.
    seed : int, default=0
        Seed of the shuffling generator; the k-th pass always uses the same order.
    transform : callable, optional
        Applied to numpy rows before they become a tensor (e.g. input scaling).

    Examples
    --------
    >>> import numpy as np
    >>> batches = ArrayBatches(np.arange(10.0).reshape(5, 2), batch_size=2)
    >>> len(batches), [tuple(b.shape) for b in batches]
    (3, [(2, 2), (2, 2), (1, 2)])
    """

    def __init__(
        self,
        X: np.ndarray,
        batch_size: int,
        shuffle: bool = False,
        seed: int = 0,
        transform: Transform | None = None,
    ) -> None:
        self.batch_size = max(1, int(batch_size))
        self.shuffle = shuffle
        self.n_samples = len(X)
        self._generator = torch.Generator().manual_seed(int(seed))
        self._streamed = _is_streamed(X)
        if self._streamed:
            self._array = X
            self._transform = transform
        else:
            rows = transform(X) if transform is not None else X
            self._tensor = torch.as_tensor(np.ascontiguousarray(rows, dtype=np.float32))

    def __len__(self) -> int:
        return -(-self.n_samples // self.batch_size)

    def __iter__(self) -> Iterator[torch.Tensor]:
        if self._streamed:
            yield from self._iter_streamed()
            return
        n, b = self.n_samples, self.batch_size
        if self.shuffle:
            order = torch.randperm(n, generator=self._generator)
            for start in range(0, n, b):
                yield self._tensor[order[start : start + b]]
        else:
            for start in range(0, n, b):
                yield self._tensor[start : start + b]

    def _rows(self, start: int, stop: int) -> torch.Tensor:
        rows = np.asarray(self._array[start:stop])
        if self._transform is not None:
            rows = self._transform(rows)
        return torch.as_tensor(np.ascontiguousarray(rows, dtype=np.float32))

    def _iter_streamed(self) -> Iterator[torch.Tensor]:
        """Read contiguous chunks of many batches; shuffle chunks and rows within them."""
        n, b = self.n_samples, self.batch_size
        chunk = b * max(1, 65536 // b)
        starts = torch.arange(0, n, chunk)
        if self.shuffle:
            starts = starts[torch.randperm(len(starts), generator=self._generator)]
        for start in starts.tolist():
            block = self._rows(start, min(start + chunk, n))
            if self.shuffle:
                block = block[torch.randperm(len(block), generator=self._generator)]
            for i in range(0, len(block), b):
                yield block[i : i + b]


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
            self.train_X, self.val_X = X[train_idx], X[val_idx]

    @property
    def has_validation(self) -> bool:
        """Whether a validation split exists."""
        return self.val_X is not None

    def train_dataloader(self) -> ArrayBatches:
        return ArrayBatches(
            self.train_X, self.batch_size, shuffle=True, seed=self.seed, transform=self.transform
        )

    def val_dataloader(self) -> ArrayBatches | list:
        if self.val_X is None:
            return []
        return ArrayBatches(self.val_X, max(self.batch_size, 1024), transform=self.transform)
