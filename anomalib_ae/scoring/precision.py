"""The one batch-invariance rule: in which precision a fitted net is run after training.

A row's score must not depend on the other rows of its batch. float32 matrix
kernels give results that differ by ~1e-7 with the batch's shape, which is
more than scikit-learn's checks allow and is magnified by the division of
small training medians. So every pass of a fitted MLP net after training
(fitting the score terms, scoring, ``transform``, ``feature_scores``) runs a
float64 twin of the net, where those differences are ~1e-16. Conv nets run in
float32: float64 (transposed) convolutions are ~10x slower on CPU, and the
conv kernels' results do not change with the batch's size.

The twin is made once per fitted net and reused (not one copy per call); it is
made again when the net's weights change in place.
"""

from __future__ import annotations

import copy
import threading
import weakref
from itertools import chain
from typing import Any

import torch
from torch import nn

_TWINS: weakref.WeakKeyDictionary = weakref.WeakKeyDictionary()
_LOCK = threading.Lock()


def _versions(net: nn.Module) -> tuple[int, ...]:
    """In-place update counters of every weight and buffer (they change when a weight does)."""
    return tuple(t._version for t in chain(net.parameters(), net.buffers()))


def float64_twin(net: nn.Module) -> nn.Module:
    """A float64 copy of ``net`` in eval mode, cached for as long as ``net`` is unchanged.

    Examples
    --------
    >>> net = nn.Linear(2, 1)
    >>> float64_twin(net).weight.dtype, float64_twin(net) is float64_twin(net)
    (torch.float64, True)
    """
    versions = _versions(net)
    with _LOCK:
        cached = _TWINS.get(net)
        if cached is not None and cached[0] == versions:
            return cached[1]
    twin = copy.deepcopy(net).double().eval()
    with _LOCK:
        _TWINS[net] = (versions, twin)
    return twin


def scoring_net(detector: Any) -> tuple[nn.Module, torch.dtype]:
    """The fitted net of ``detector`` to run after training, and the dtype of its input.

    Parameters
    ----------
    detector : a fitted neural detector (with ``net_`` and ``_uses_conv``)

    Returns
    -------
    net : nn.Module
        A float64 twin of ``net_`` for MLP nets, ``net_`` itself for conv nets.
    dtype : torch.dtype
        ``torch.float64`` or ``torch.float32`` to match.
    """
    if detector._uses_conv():
        return detector.net_, torch.float32
    return float64_twin(detector.net_), torch.float64
