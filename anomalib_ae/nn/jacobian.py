"""The squared Frobenius norm of an encoder's Jacobian, the contractive penalty."""

from __future__ import annotations

import torch
from torch import nn
from torch.func import jacrev, vmap


def _single_layer(encoder: nn.Module) -> tuple[nn.Linear, nn.Module | None] | None:
    """``(linear, activation)`` when ``encoder`` is ``Linear`` or ``Linear -> Sigmoid|Tanh``."""
    if isinstance(encoder, nn.Linear):
        return encoder, None
    if not isinstance(encoder, nn.Sequential) or not isinstance(encoder[0], nn.Linear):
        return None
    if len(encoder) == 1:
        return encoder[0], None
    if len(encoder) == 2 and isinstance(encoder[1], (nn.Sigmoid, nn.Tanh)):
        return encoder[0], encoder[1]
    return None


def jacobian_frobenius(encoder: nn.Module, x: torch.Tensor) -> torch.Tensor:
    """Squared Frobenius norm ``||d encoder(x_i) / d x_i||_F^2`` of each row.

    A single linear layer followed by a sigmoid or tanh (or nothing) uses the
    closed form of Rifai et al. (2011): with ``h = s(W x + b)``,
    ``||J||_F^2 = sum_j s'(h_j)^2 ||W_j||^2`` where ``s' = h (1 - h)`` for the
    sigmoid and ``1 - h^2`` for tanh. Any other encoder gets the exact Jacobian
    from autograd (``torch.func.jacrev`` vectorised over rows), which needs an
    encoder that treats rows independently (no batch normalisation in training
    mode). The result is differentiable, so it can be used as a training penalty.

    Parameters
    ----------
    encoder : torch.nn.Module
        Maps a batch of shape ``(n, d)`` to codes of shape ``(n, k)``.
    x : torch.Tensor of shape (n, d)
        The rows.

    Returns
    -------
    torch.Tensor of shape (n,)

    Examples
    --------
    >>> import torch
    >>> lin = nn.Linear(3, 2)
    >>> norms = jacobian_frobenius(lin, torch.zeros(4, 3))
    >>> torch.allclose(norms, lin.weight.pow(2).sum().expand(4))
    True
    """
    single = _single_layer(encoder)
    if single is not None:
        linear, act = single
        row_norms = linear.weight.pow(2).sum(1)  # ||W_j||^2, one per code unit
        if act is None:
            return row_norms.sum().expand(len(x))
        h = act(linear(x))
        slope = h * (1 - h) if isinstance(act, nn.Sigmoid) else 1 - h.pow(2)
        return (slope.pow(2) * row_norms).sum(1)

    def one_row(row: torch.Tensor) -> torch.Tensor:
        return encoder(row.unsqueeze(0)).squeeze(0)

    jac = vmap(jacrev(one_row), randomness="same")(x)  # (n, k, d)
    return jac.pow(2).flatten(1).sum(1)
