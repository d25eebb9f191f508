"""The one batch-invariance rule: in which precision a fitted net is run after training.

A row's score must not depend on the other rows of its batch. float32 matrix
kernels give results that differ by ~1e-7 with the batch's shape (a BLAS picks
its kernel, and so the order of its sums, by the number of rows), which is
more than scikit-learn's checks allow and is magnified by the division of
small training medians. Every pass of a fitted MLP net after training
(fitting the score terms, scoring, ``transform``, ``feature_scores``) follows
the detector's ``inference_precision``:

- ``"float64"`` (default): a float64 twin of the net, where those differences
  are ~1e-16 whatever the batch's shape. The twin is made once per fitted net
  and reused (not one copy per call); it is made again when the net's weights
  change in place.
- ``"float32"``: a float32 twin whose linear layers read and write rows
  padded with zeros to a multiple of 16 features (64 bytes: every row then
  starts at the same alignment; MKL's kernels order a row's sums by it),
  always run on blocks of exactly :data:`BLOCK_ROWS` rows (the last block of
  a call padded with zero rows, which are dropped). Every row thus goes
  through kernels of one shape and alignment, and its result does not depend
  on the other rows of its batch either (checked by the sklearn checks and
  ``tests/test_inference_precision.py``). About twice as fast as the float64
  twin (see ``benchmarks/results/speed.md``); the scores differ from the
  float64 ones by float32 rounding (~1e-6 relative). Nets with parametrised
  layers other than the package's linear ones run the float64 twin.

Conv nets run in float32 either way: float64 (transposed) convolutions are
~10x slower on CPU, and the conv kernels' results do not change with the
batch's size.
"""

from __future__ import annotations

import copy
import threading
import weakref
from collections.abc import Callable
from itertools import chain
from typing import Any

import torch
import torch.nn.functional as F
from torch import nn

BLOCK_ROWS = 4096
"""Rows of every forward pass of a float32 MLP net after training (``inference_precision="float32"``)."""

PRECISIONS = ("float64", "float32")
"""The values of ``inference_precision``."""

_TWINS: weakref.WeakKeyDictionary = weakref.WeakKeyDictionary()
_FLOAT32_TWINS: weakref.WeakKeyDictionary = weakref.WeakKeyDictionary()
_LOCK = threading.Lock()


def _versions(net: nn.Module) -> tuple[int, ...]:
    """In-place update counters of every weight and buffer (they change when a weight does)."""
    return tuple(t._version for t in chain(net.parameters(), net.buffers()))


def _activations_in_place(twin: nn.Module) -> nn.Module:
    """Let the scoring twin's activations overwrite the fresh output of the layer before them.

    A scoring pass keeps no graph, so an activation may reuse its input's
    memory when that input is the new output of the module just before it in
    an ``nn.Sequential`` (a linear, convolution or normalisation layer), never
    a tensor the caller still holds. The values are the same; the pass skips
    one allocation and write of every hidden activation (the ensemble's
    float64 scoring at 200k training rows: 5.3 to 4.1 us per row,
    ``benchmarks/results/speed.md``).

    Examples
    --------
    >>> twin = _activations_in_place(nn.Sequential(nn.Linear(2, 3), nn.ReLU(), nn.ReLU()))
    >>> [getattr(m, "inplace", None) for m in twin]
    [None, True, False]
    """
    for seq in twin.modules():
        if isinstance(seq, nn.Sequential):
            for before, module in zip(seq, list(seq)[1:]):
                if hasattr(module, "inplace") and _fresh_output(before):
                    module.inplace = True
    return twin


def _fresh_output(module: nn.Module) -> bool:
    """Whether ``module`` returns a newly allocated tensor (not its input or a view of it)."""
    from anomalib_ae.nn.ensemble import ParallelLinear
    from anomalib_ae.nn.made import MaskedParallelLinear

    fresh = (nn.Linear, nn.modules.conv._ConvNd, *_ELEMENTWISE, ParallelLinear)
    padded = (_PaddedLinear, _PaddedParallelLinear)  # a view of their fresh, padded output
    return isinstance(module, (*fresh, MaskedParallelLinear, *padded))


def float64_twin(net: nn.Module) -> nn.Module:
    """A float64 copy of ``net`` in eval mode, cached for as long as ``net`` is unchanged.

    Its activations run in place where that is safe (:func:`_activations_in_place`).

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
    twin = _activations_in_place(copy.deepcopy(net).double().eval())
    with _LOCK:
        _TWINS[net] = (versions, twin)
    return twin


_ALIGN = 16  # floats per 64 bytes


def _padded(width: int) -> int:
    return -(-int(width) // _ALIGN) * _ALIGN


def _zero_padded(t: torch.Tensor, shape: tuple[int, ...]) -> torch.Tensor:
    """``t`` in the leading corner of a fresh (64-byte aligned) zero tensor of ``shape``."""
    out = t.new_zeros(shape)
    out[tuple(slice(0, n) for n in t.shape)] = t
    return out


def _pad_rows(x: torch.Tensor, width: int) -> torch.Tensor:
    """``x`` with its last axis zero-padded to ``width``, in a fresh (aligned) buffer.

    ``x`` itself where it is already that wide, contiguous and 64-byte aligned.
    """
    if x.shape[-1] == width and x.is_contiguous() and x.data_ptr() % 64 == 0:
        return x
    return _zero_padded(x, (*x.shape[:-1], width))


class _PaddedLinear(nn.Module):
    """``F.linear`` on rows zero-padded to a multiple of 16 features, into padded rows (same values)."""

    def __init__(self, weight: torch.Tensor, bias: torch.Tensor | None) -> None:
        super().__init__()
        weight = weight.detach().float()  # (out, in)
        self.out_features, self.width = weight.shape[0], _padded(weight.shape[1])
        rows = _padded(self.out_features)
        self.register_buffer("weight", _zero_padded(weight, (rows, self.width)))
        self.register_buffer(
            "bias", None if bias is None else _zero_padded(bias.detach().float(), (rows,))
        )

    def forward(self, x: torch.Tensor) -> torch.Tensor:
        return F.linear(_pad_rows(x, self.width), self.weight, self.bias)[..., : self.out_features]


class _PaddedParallelLinear(nn.Module):
    """``torch.baddbmm`` of stacked members on rows zero-padded to a multiple of 16 features."""

    def __init__(self, weight: torch.Tensor, bias: torch.Tensor) -> None:
        super().__init__()
        weight = weight.detach().float()  # (members, in, out)
        members, _, self.out_features = weight.shape
        self.width, columns = _padded(weight.shape[1]), _padded(self.out_features)
        self.register_buffer("weight", _zero_padded(weight, (members, self.width, columns)))
        self.register_buffer("bias", _zero_padded(bias.detach().float(), (members, 1, columns)))

    def forward(self, x: torch.Tensor) -> torch.Tensor:
        out = torch.baddbmm(self.bias, _pad_rows(x, self.width), self.weight)
        return out[..., : self.out_features]


def _padded_layer(module: nn.Module) -> nn.Module | None:
    """The padded equivalent of a linear layer of the package's nets, None for other layers."""
    from anomalib_ae.nn.ensemble import ParallelLinear
    from anomalib_ae.nn.made import MaskedParallelLinear
    from anomalib_ae.nn.tied import TiedLinear

    if type(module) is nn.Linear:
        return _PaddedLinear(module.weight, module.bias)
    if type(module) is TiedLinear:
        return _PaddedLinear(module.source.weight.t(), module.bias)
    if type(module) is ParallelLinear:
        return _PaddedParallelLinear(module.weight, module.bias)
    if type(module) is MaskedParallelLinear:
        return _PaddedParallelLinear(module.weight * module.mask, module.bias)
    return None


_ELEMENTWISE = (nn.BatchNorm1d, nn.LayerNorm)  # parametrised, but each row on its own


def _float32_twin(net: nn.Module) -> nn.Module | None:
    """A float32 copy of ``net`` with padded linear layers, or None if it has other layers."""
    twin = copy.deepcopy(net).float().eval()
    if any(True for _ in twin.parameters(recurse=False)):
        return None
    for name, module in list(twin.named_modules()):
        if not name:
            continue
        padded = _padded_layer(module)
        parent_name, _, child = name.rpartition(".")
        parent = twin.get_submodule(parent_name) if parent_name else twin
        if padded is not None:
            setattr(parent, child, padded)
        elif isinstance(module, _ELEMENTWISE):
            continue
        elif any(True for _ in module.parameters(recurse=False)):
            return None
    return twin


def float32_twin(net: nn.Module) -> nn.Module | None:
    """A float32 copy of ``net`` whose linear layers read 64-byte aligned rows (cached).

    Its activations run in place where that is safe (:func:`_activations_in_place`).

    None where ``net`` has parametrised layers other than the package's linear
    ones (those nets run the float64 twin).

    Examples
    --------
    >>> net = nn.Sequential(nn.Linear(3, 2), nn.ReLU(), nn.Linear(2, 3))
    >>> x = torch.randn(5, 3)
    >>> torch.allclose(float32_twin(net)(x), net(x), atol=1e-6)
    True
    """
    versions = _versions(net)
    with _LOCK:
        cached = _FLOAT32_TWINS.get(net)
        if cached is not None and cached[0] == versions:
            return cached[1]
    twin = _float32_twin(net)
    if twin is not None:
        twin.fixed_blocks = True
        _activations_in_place(twin)
    with _LOCK:
        _FLOAT32_TWINS[net] = (versions, twin)
    return twin


def scoring_net(detector: Any) -> tuple[nn.Module, torch.dtype]:
    """The fitted net of ``detector`` to run after training, and the dtype of its input.

    Parameters
    ----------
    detector : a fitted neural detector (with ``net_`` and ``_uses_conv``)

    Returns
    -------
    net : nn.Module
        ``net_`` itself for conv nets; for MLP nets a float64 twin of it, or at
        ``inference_precision="float32"`` its padded float32 twin (run it
        through :func:`in_blocks`: see :func:`fixed_blocks`).
    dtype : torch.dtype
        ``torch.float64`` or ``torch.float32`` to match.
    """
    if detector._uses_conv():
        return detector.net_, torch.float32
    if getattr(detector, "inference_precision", "float64") == "float32":
        twin = float32_twin(detector.net_)
        if twin is not None:
            return twin, torch.float32
    return float64_twin(detector.net_), torch.float64


def fixed_blocks(net: nn.Module) -> bool:
    """Whether ``net`` (from :func:`scoring_net`) must run on blocks of :data:`BLOCK_ROWS` rows."""
    return bool(getattr(net, "fixed_blocks", False))


def in_blocks(fn: Callable[[torch.Tensor], torch.Tensor], x: torch.Tensor) -> torch.Tensor:
    """``fn`` applied to ``x`` one block of exactly :data:`BLOCK_ROWS` rows at a time.

    The last block is padded with zero rows and their results dropped, so
    ``fn`` (row-wise) always sees one shape: a row's result does not depend
    on how many rows came with it, nor where in the batch it is.

    Examples
    --------
    >>> x = torch.arange(6.0).reshape(3, 2)
    >>> in_blocks(lambda b: b.sum(1) + len(b), x).tolist()
    [4097.0, 4101.0, 4105.0]
    """
    parts = []
    for start in range(0, len(x), BLOCK_ROWS):
        rows = x[start : start + BLOCK_ROWS]
        block = rows
        if len(rows) < BLOCK_ROWS or not rows.is_contiguous() or rows.data_ptr() % 64:
            block = x.new_zeros((BLOCK_ROWS, *x.shape[1:]))  # a fresh, aligned buffer
            block[: len(rows)] = rows
        parts.append(fn(block)[: len(rows)])
    if not parts:
        return fn(x)
    return parts[0] if len(parts) == 1 else torch.cat(parts)
