"""A plain batched ``torch.inference_mode()`` loop (no Trainer) for scoring."""

from __future__ import annotations

from collections.abc import Callable, Iterator

import numpy as np
import torch

from anomalib_ae.training.data import ArrayBatches, Transform, batch_bounds, is_streamed


def predict_batches(
    fn: Callable[[torch.Tensor], torch.Tensor],
    X: np.ndarray,
    batch_size: int = 4096,
    transform: Transform | None = None,
) -> np.ndarray:
    """Apply ``fn`` to consecutive batches of ``X`` and stack the results as float64.

    Parameters
    ----------
    fn : callable
        Maps a float32 batch tensor to a tensor whose first axis is the batch.
    X : ndarray of shape (n_samples, ...)
        Rows to process, in order. A ``numpy.memmap`` is streamed.
    batch_size : int, default=4096
        Rows per forward pass.
    transform : callable, optional
        Applied to numpy rows before they become a tensor.

    Returns
    -------
    ndarray of float64, shape (n_samples, ...)

    Examples
    --------
    >>> import numpy as np
    >>> predict_batches(lambda x: x.sum(1), np.ones((5, 3)), batch_size=2)
    array([3., 3., 3., 3., 3.])
    """
    n = len(X)
    out = None
    with torch.inference_mode():
        for start, stop, batch in _batches(X, batch_size, transform):
            result = fn(batch)
            if out is None:
                out = np.empty((n, *result.shape[1:]), dtype=np.float64)
            # Straight into the float64 result: no per-batch copies to concatenate.
            torch.from_numpy(out[start:stop]).copy_(result)
            del batch, result  # a streamed chunk is freed before the next one is read
    if out is None:
        return np.empty((0,), dtype=np.float64)
    return out


def _batches(
    X: np.ndarray, batch_size: int, transform: Transform | None
) -> Iterator[tuple[int, int, torch.Tensor]]:
    """``(start, stop, float32 tensor)`` of consecutive batches of ``X``.

    In-memory rows are transformed one batch at a time (cache-sized, no
    full-size scaled copy); a memory map is read in chunks of many batches.
    """
    batch_size = max(1, int(batch_size))
    if is_streamed(X):
        start = 0
        for batch in ArrayBatches(X, batch_size, transform=transform):
            stop = start + len(batch)
            yield start, stop, batch
            del batch  # not held while the next chunk is read
            start = stop
        return
    for start, stop in batch_bounds(len(X), batch_size):
        rows = X[start:stop]
        if transform is not None:
            rows = transform(rows)
        yield start, stop, torch.as_tensor(np.ascontiguousarray(rows, dtype=np.float32))
