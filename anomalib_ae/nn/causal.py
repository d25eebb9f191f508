"""Causal gated convolutions over the features of a row (WaveNet-style), and the model pair.

:class:`CausalConvNet` is the 1-D counterpart of the gated PixelCNN
(:mod:`anomalib_ae.nn.pixelcnn`) for tables: the row's features in their
column order are a sequence, ``p(x) = prod_d p(x_d | x_<d)``, and every
conditional comes out of one pass of gated causal convolutions. The first
layer (mask type A) covers the whole history with a kernel as wide as the
row and is shifted right one feature, so output ``d`` sees ``x_<d`` only;
later layers (type B) are dilated causal convolutions (kernel 2, dilation
``2**l``) with residual connections. Convolutions share weights over
positions, which suits features that are not alike badly, so a learned
embedding of the position is added to the first layer. Each conditional is a
mixture of ``n_components`` Gaussians (in scaled units), as in MADE's.

:class:`DensityPairNet` holds the model and, for likelihood-ratio scores,
the background model (same architecture, trained on perturbed rows).
"""

from __future__ import annotations

import math

import torch
from torch import nn
from torch.nn import functional as F

from anomalib_ae.nn.pixelcnn import gate, shift_right

_HALF_LOG_2PI = 0.5 * math.log(2 * math.pi)


class CausalGatedBlock(nn.Module):
    """One gated causal convolution over a sequence ``(batch, channels, length)``.

    Parameters
    ----------
    in_channels, out_channels, kernel_size : int
    dilation : int, default=1
    first : bool, default=False
        Mask type A (position ``d`` does not see itself), else type B.

    Examples
    --------
    >>> CausalGatedBlock(1, 4, 3, first=True)(torch.zeros(2, 1, 6)).shape
    torch.Size([2, 4, 6])
    """

    def __init__(
        self,
        in_channels: int,
        out_channels: int,
        kernel_size: int,
        dilation: int = 1,
        first: bool = False,
    ) -> None:
        super().__init__()
        self.conv = nn.Conv1d(in_channels, 2 * out_channels, kernel_size, dilation=dilation)
        self.left, self.first = (kernel_size - 1) * dilation, first
        self.out = nn.Conv1d(out_channels, out_channels, 1)
        self.residual = not first and in_channels == out_channels

    def forward(self, h: torch.Tensor, extra: torch.Tensor | None = None) -> torch.Tensor:
        pre = self.conv(F.pad(h, (self.left, 0)))
        if self.first:
            pre = shift_right(pre)
        if extra is not None:
            pre = pre + extra
        out = self.out(gate(pre))
        return out + h if self.residual else out


class CausalConvNet(nn.Module):
    """Gated causal convolutions with Gaussian-mixture conditionals over a row's features.

    Parameters
    ----------
    n_features : int
    hidden_dims : tuple of int, default=(64, 64)
        Width of each gated layer (at least one).
    n_components : int, default=3
    min_scale : float, default=0.01
        Floor of the components' scale (scaled units).

    Examples
    --------
    >>> net = CausalConvNet(3, hidden_dims=(4, 4))
    >>> net.feature_log_probs(torch.zeros(5, 3)).shape
    torch.Size([5, 3])
    """

    discrete = False

    def __init__(
        self,
        n_features: int,
        hidden_dims: tuple[int, ...] = (64, 64),
        n_components: int = 3,
        min_scale: float = 0.01,
    ) -> None:
        super().__init__()
        hidden_dims = tuple(int(h) for h in hidden_dims)
        if not hidden_dims:
            raise ValueError("CausalConvNet needs at least one gated layer (hidden_dims=()).")
        self.n_features, self.n_components, self.min_scale = n_features, n_components, min_scale
        widths = (1, *hidden_dims)
        self.blocks = nn.ModuleList(
            CausalGatedBlock(
                widths[i],
                widths[i + 1],
                kernel_size=n_features if i == 0 else 2,
                dilation=1 if i == 0 else 2 ** (i - 1),
                first=i == 0,
            )
            for i in range(len(hidden_dims))
        )
        self.position = nn.Parameter(torch.zeros(1, 2 * hidden_dims[0], n_features))
        self.head = nn.Sequential(nn.ReLU(), nn.Conv1d(widths[-1], 3 * n_components, 1))

    def feature_log_probs(self, x: torch.Tensor) -> torch.Tensor:
        """``log p(x_d | x_<d)`` of each feature of scaled rows: ``(batch, n_features)``."""
        h = x.reshape(len(x), 1, self.n_features)
        for i, block in enumerate(self.blocks):
            h = block(h, self.position.to(h.dtype) if i == 0 else None)
        params = self.head(h).view(len(x), 3, self.n_components, self.n_features)
        log_weights = torch.log_softmax(params[:, 0], dim=1)
        loc = params[:, 1]
        scale = F.softplus(params[:, 2]) + self.min_scale
        u = (x.reshape(len(x), 1, self.n_features) - loc) / scale
        log_pdf = -0.5 * u.pow(2) - torch.log(scale) - _HALF_LOG_2PI
        return torch.logsumexp(log_weights + log_pdf, dim=1)

    def forward(self, x: torch.Tensor) -> torch.Tensor:
        return self.feature_log_probs(x).sum(1)


class DensityPairNet(nn.Module):
    """An autoregressive model and, optionally, its background model (same architecture).

    Parameters
    ----------
    model : nn.Module
        A net with ``feature_log_probs(x) -> (batch, n_features)``.
    background : nn.Module or None
        The same kind of net, trained on perturbed rows (likelihood ratios), or None.

    Examples
    --------
    >>> pair = DensityPairNet(CausalConvNet(2, (4,)), CausalConvNet(2, (4,)))
    >>> pair.feature_log_probs(torch.zeros(3, 2)).shape, pair.discrete
    (torch.Size([3, 2]), False)
    """

    def __init__(self, model: nn.Module, background: nn.Module | None = None) -> None:
        super().__init__()
        self.model, self.background = model, background
        self.discrete = bool(getattr(model, "discrete", False))

    def feature_log_probs(self, x: torch.Tensor) -> torch.Tensor:
        """The model's ``log p(x_i | x_<i)`` of each feature (pixel)."""
        return self.model.feature_log_probs(x)

    def background_feature_log_probs(self, x: torch.Tensor) -> torch.Tensor:
        """The background model's ``log p(x_i | x_<i)`` of each feature (pixel)."""
        if self.background is None:
            raise ValueError("This net has no background model (score_type='bits_per_dim').")
        return self.background.feature_log_probs(x)

    def forward(self, x: torch.Tensor) -> torch.Tensor:
        return self.feature_log_probs(x).sum(1)
