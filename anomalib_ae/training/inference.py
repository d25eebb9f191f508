"""A plain batched ``torch.inference_mode()`` loop (no Trainer) for scoring."""

from __future__ import annotations

from collections.abc import Callable

import numpy as np
import torch

from anomalib_ae.training.data import ArrayBatches, Transform


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
    outputs = []
    with torch.inference_mode():
        for batch in ArrayBatches(X, batch_size, transform=transform):
            outputs.append(fn(batch).detach().cpu().double())
    if not outputs:
        return np.empty((0,), dtype=np.float64)
    return torch.cat(outputs).numpy()
