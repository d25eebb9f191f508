"""A gated PixelCNN (van den Oord et al., 2016) with a discretized logistic mixture likelihood.

The image's pixels are ordered row by row (raster order) and its
probability is written by the chain rule, ``p(x) = prod_i p(x_i | x_<i)``.
The net computes every conditional in one pass with two stacks of
convolutions that never look ahead:

- the *vertical* stack sees the rows above (a ``(k//2 + 1, k)`` kernel over
  the current row and the ``k//2`` above it; its output is shifted down one row
  before the horizontal stack reads it, so the horizontal stack only gets rows
  strictly above);
- the *horizontal* stack sees the current row up to the current pixel (a
  ``(1, k//2 + 1)`` kernel); in the first layer (mask type A) it is shifted
  right one pixel, so the pixel itself is excluded, in later layers (type B)
  the pixel's own *features* (which only saw earlier pixels) are included.

Two stacks instead of one masked ``k x k`` kernel remove the blind spot of the
original PixelCNN. Each layer is a gated unit ``tanh(a) * sigmoid(b)``, the
horizontal stack has residual connections.

The output is a mixture of ``n_components`` discretized logistics per pixel
and channel (PixelCNN++, Salimans et al., 2017): pixel values quantised to
``2**n_bits`` levels, each level the logistic mass of its bin, the two end
levels the tails. The masses of the levels sum to 1 exactly (the CDF
telescopes), so the image probabilities sum to 1 over all images. Channels of
one pixel are modelled independently given the earlier pixels (all channels),
which is still a normalised distribution.
"""

from __future__ import annotations

import torch
from torch import nn
from torch.nn import functional as F


def shift_down(x: torch.Tensor) -> torch.Tensor:
    """Move a map ``(..., H, W)`` one row down (zeros on top): row ``r`` gets row ``r - 1``."""
    return F.pad(x, (0, 0, 1, 0))[..., :-1, :]


def shift_right(x: torch.Tensor) -> torch.Tensor:
    """Move a map ``(..., W)`` one column right (zeros on the left)."""
    return F.pad(x, (1, 0))[..., :-1]


def gate(x: torch.Tensor) -> torch.Tensor:
    """The gated unit ``tanh(a) * sigmoid(b)`` of the two halves of the channels."""
    a, b = x.chunk(2, dim=1)
    return torch.tanh(a) * torch.sigmoid(b)


def quantise(x: torch.Tensor, n_bits: int) -> torch.Tensor:
    """Level ``0 .. 2**n_bits - 1`` of values in [0, 1] (rounded; outside values clipped).

    Examples
    --------
    >>> quantise(torch.tensor([0.1, 0.4, 0.6, 1.0, 3.0]), 1).tolist()
    [0.0, 0.0, 1.0, 1.0, 1.0]
    """
    top = 2**n_bits - 1
    return torch.clamp(torch.round(x * top), 0, top)


def _log_sigmoid_difference(a: torch.Tensor, b: torch.Tensor) -> torch.Tensor:
    """``log(sigmoid(a) - sigmoid(b))`` for ``a > b``, stable on both tails."""
    # sigmoid(a) - sigmoid(b) = sigmoid(-b) - sigmoid(-a): use the side far from saturation
    flip = (a + b) > 0
    hi = torch.where(flip, -b, a)
    lo = torch.where(flip, -a, b)
    log_hi, log_lo = F.logsigmoid(hi), F.logsigmoid(lo)
    return log_hi + torch.log(-torch.expm1(torch.clamp(log_lo - log_hi, max=-1e-12)))


def discretized_logistic_log_prob(
    level: torch.Tensor,
    logits: torch.Tensor,
    loc: torch.Tensor,
    log_scale: torch.Tensor,
    n_bits: int,
) -> torch.Tensor:
    """``log P(level)`` under a mixture of discretized logistics on ``[-1, 1]``.

    Parameters
    ----------
    level : Tensor of shape (...)
        Quantised values ``0 .. 2**n_bits - 1``.
    logits, loc, log_scale : Tensor of shape (..., n_components)
        Mixture weights (unnormalised), locations and log-scales (centred units).
    n_bits : int

    Returns
    -------
    Tensor of shape (...)

    Examples
    --------
    >>> levels = torch.arange(4.0)
    >>> p = discretized_logistic_log_prob(levels, torch.zeros(4, 2), torch.zeros(4, 2),
    ...                                   torch.zeros(4, 2), n_bits=2).exp()
    >>> round(float(p.sum()), 6)
    1.0
    """
    top = 2**n_bits - 1
    centred = (2.0 * level / top - 1.0).unsqueeze(-1) - loc
    inv_scale = torch.exp(-log_scale)
    upper = inv_scale * (centred + 1.0 / top)
    lower = inv_scale * (centred - 1.0 / top)
    is_low = (level == 0).unsqueeze(-1)
    is_high = (level == top).unsqueeze(-1)
    # inner levels: the mass of the bin; the end levels: the tails (placeholders in ``inner``)
    end = is_low | is_high
    inner = _log_sigmoid_difference(
        torch.where(end, torch.ones_like(upper), upper),
        torch.where(end, -torch.ones_like(lower), lower),
    )
    tails = torch.where(is_low, F.logsigmoid(upper), F.logsigmoid(-lower))
    log_mass = torch.where(end, tails, inner)
    return torch.logsumexp(torch.log_softmax(logits, dim=-1) + log_mass, dim=-1)


class GatedBlock(nn.Module):
    """One gated PixelCNN layer: a vertical and a horizontal stack.

    Parameters
    ----------
    in_channels, out_channels : int
    kernel_size : int
        Odd width ``k`` of the kernels.
    first : bool
        Mask type A (the pixel itself is hidden) for the first layer, else type B.

    Examples
    --------
    >>> block = GatedBlock(1, 4, 3, first=True)
    >>> v, h = block(torch.zeros(2, 1, 5, 5), torch.zeros(2, 1, 5, 5))
    >>> v.shape, h.shape
    (torch.Size([2, 4, 5, 5]), torch.Size([2, 4, 5, 5]))
    """

    def __init__(self, in_channels: int, out_channels: int, kernel_size: int, first: bool) -> None:
        super().__init__()
        p = kernel_size // 2
        self.pad, self.first = p, first
        self.vertical = nn.Conv2d(in_channels, 2 * out_channels, (p + 1, kernel_size))
        self.horizontal = nn.Conv2d(in_channels, 2 * out_channels, (1, p + 1))
        self.vertical_to_horizontal = nn.Conv2d(2 * out_channels, 2 * out_channels, 1)
        self.out = nn.Conv2d(out_channels, out_channels, 1)
        self.residual = not first and in_channels == out_channels

    def forward(self, v: torch.Tensor, h: torch.Tensor) -> tuple[torch.Tensor, torch.Tensor]:
        p = self.pad
        v_pre = self.vertical(F.pad(v, (p, p, p, 0)))  # rows r-p .. r
        h_pre = self.horizontal(F.pad(h, (p, 0, 0, 0)))  # columns c-p .. c
        if self.first:
            h_pre = shift_right(h_pre)  # type A: columns c-p-1 .. c-1
        h_pre = h_pre + self.vertical_to_horizontal(shift_down(v_pre))  # rows strictly above
        h_out = self.out(gate(h_pre))
        if self.residual:
            h_out = h_out + h
        return gate(v_pre), h_out


class PixelCNNNet(nn.Module):
    """A gated PixelCNN over images ``(C, H, W)`` with values in [0, 1] (quantised inside).

    Parameters
    ----------
    image_shape : tuple of int
        ``(C, H, W)``.
    channels : tuple of int, default=(32, 32, 32)
        Width of each gated layer (one layer per entry).
    kernel_size : int, default=3
        Odd kernel width of the stacks.
    n_components : int, default=5
        Logistics in each pixel's mixture.
    n_bits : int, default=8
        Quantisation of the pixel values (``2**n_bits`` levels).

    Examples
    --------
    >>> net = PixelCNNNet((1, 4, 4), channels=(4,), n_bits=1)
    >>> net.feature_log_probs(torch.rand(3, 16)).shape
    torch.Size([3, 16])
    """

    discrete = True

    def __init__(
        self,
        image_shape: tuple[int, int, int],
        channels: tuple[int, ...] = (32, 32, 32),
        kernel_size: int = 3,
        n_components: int = 5,
        n_bits: int = 8,
    ) -> None:
        super().__init__()
        if kernel_size < 1 or kernel_size % 2 == 0:
            raise ValueError(f"kernel_size must be a positive odd int, got {kernel_size}.")
        if not channels:
            raise ValueError("PixelCNNNet needs at least one gated layer (channels=()).")
        self.image_shape = tuple(int(s) for s in image_shape)
        self.n_components, self.n_bits = int(n_components), int(n_bits)
        c = self.image_shape[0]
        widths = (c, *(int(w) for w in channels))
        self.blocks = nn.ModuleList(
            GatedBlock(widths[i], widths[i + 1], kernel_size, first=i == 0)
            for i in range(len(channels))
        )
        self.head = nn.Sequential(
            nn.ReLU(),
            nn.Conv2d(widths[-1], widths[-1], 1),
            nn.ReLU(),
            nn.Conv2d(widths[-1], c * 3 * self.n_components, 1),
        )

    def feature_log_probs(self, x: torch.Tensor) -> torch.Tensor:
        """``log p(x_i | x_<i)`` of each pixel (and channel) of flat rows: ``(batch, C*H*W)``."""
        c, hgt, wid = self.image_shape
        level = quantise(x.reshape(len(x), c, hgt, wid), self.n_bits)
        inputs = 2.0 * level / (2**self.n_bits - 1) - 1.0
        v = h = inputs
        for block in self.blocks:
            v, h = block(v, h)
        k = self.n_components
        params = self.head(h).view(len(x), c, 3, k, hgt, wid).movedim(3, -1)
        logits, loc, log_scale = params.unbind(2)
        log_scale = torch.clamp(log_scale, min=-7.0)
        log_p = discretized_logistic_log_prob(level, logits, loc, log_scale, self.n_bits)
        return log_p.flatten(1)

    def forward(self, x: torch.Tensor) -> torch.Tensor:
        return self.feature_log_probs(x).sum(1)
