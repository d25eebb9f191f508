"""MADE: masked autoencoders for distribution estimation, an ensemble over orderings.

A MADE (Germain et al., 2015) is an MLP whose weight matrices are masked so
that output ``d`` (in the member's ordering) sees only the inputs that come
before it. Its outputs are then the parameters of the conditionals
``p(x_d | x_<d)``, and by the chain rule the product of the conditionals is a
normalised density of the whole row, computed in one forward pass.

:class:`MADENet` holds ``n_orderings`` independent MADEs side by side (one
batched matrix product per layer, as :class:`~anomalib_ae.nn.ParallelLinear`),
each with its own random ordering of the inputs and its own random hidden
connectivity; each conditional is a mixture of ``n_components`` Gaussians or
logistics. The ensemble's density is the average of the members' densities,
``log p(x) = logsumexp_k log p_k(x) - log K``, again a normalised density.
"""

from __future__ import annotations

import math

import torch
from torch import nn
from torch.nn import functional as F

from anomalib_ae.nn.mlp import make_activation

CONDITIONALS = ("gaussian", "logistic")
_HALF_LOG_2PI = 0.5 * math.log(2 * math.pi)


class MaskedParallelLinear(nn.Module):
    """``n_members`` linear layers applied side by side, each with a fixed 0/1 mask.

    Parameters
    ----------
    n_members, in_features, out_features : int
    mask : Tensor of shape (n_members, in_features, out_features)
        Which weights exist (1) in each member; saved with the weights.

    Examples
    --------
    >>> layer = MaskedParallelLinear(2, 3, 4, torch.ones(2, 3, 4))
    >>> layer(torch.zeros(2, 5, 3)).shape
    torch.Size([2, 5, 4])
    """

    def __init__(self, n_members: int, in_features: int, out_features: int, mask: torch.Tensor):
        super().__init__()
        bound = 1.0 / math.sqrt(max(in_features, 1))
        self.weight = nn.Parameter(
            torch.empty(n_members, in_features, out_features).uniform_(-bound, bound)
        )
        self.bias = nn.Parameter(torch.empty(n_members, 1, out_features).uniform_(-bound, bound))
        self.register_buffer("mask", mask.to(torch.float32))

    def forward(self, x: torch.Tensor) -> torch.Tensor:
        return torch.baddbmm(self.bias, x, self.weight * self.mask)


def made_degrees(
    n_features: int, hidden_dims: tuple[int, ...], n_orderings: int, generator: torch.Generator
) -> tuple[torch.Tensor, list[torch.Tensor]]:
    """Random orderings and hidden-unit degrees of ``n_orderings`` MADEs.

    Returns the input degrees ``(n_orderings, n_features)`` (a permutation of
    ``1..D`` each) and, per hidden layer, the unit degrees
    ``(n_orderings, width)``: each unit draws its degree uniformly from
    ``[min degree of the layer below, D - 1]`` (Germain et al., 2015), so a unit
    of degree ``m`` sees only inputs of degree ``<= m``.

    Examples
    --------
    >>> g = torch.Generator().manual_seed(0)
    >>> inputs, hidden = made_degrees(3, (4,), 2, g)
    >>> sorted(inputs[0].tolist()), hidden[0].shape
    ([1, 2, 3], torch.Size([2, 4]))
    """
    d = n_features
    inputs = torch.stack([torch.randperm(d, generator=generator) + 1 for _ in range(n_orderings)])
    hidden, low = [], inputs.min(1).values
    top = max(d - 1, 1)
    for width in hidden_dims:
        low = torch.clamp(low, max=top)
        u = torch.rand(n_orderings, width, generator=generator)
        degrees = low[:, None] + torch.floor(u * (top - low[:, None] + 1)).long()
        hidden.append(degrees)
        low = degrees.min(1).values
    return inputs, hidden


class MADENet(nn.Module):
    """An ensemble of MADEs with mixture conditionals (log-densities of scaled rows).

    Parameters
    ----------
    n_features : int
        Width of a row.
    hidden_dims : tuple of int, default=(64, 64)
        Widths of the masked hidden layers (at least one).
    n_components : int, default=3
        Mixture components of each conditional.
    n_orderings : int, default=4
        Members, each with its own random ordering and connectivity.
    conditional : {"gaussian", "logistic"}, default="gaussian"
        Family of the mixture components.
    activation : str, default="relu"
    min_scale : float, default=1e-2
        Floor of each component's scale, so a feature that takes few values
        (a binary one) cannot shrink a component to a point mass.
    seed : int, default=0
        Seed of the orderings and connectivity (the weights use torch's
        global generator, like every net of the package).

    Examples
    --------
    >>> net = MADENet(3, hidden_dims=(8,), n_orderings=2, seed=0)
    >>> net.log_prob(torch.zeros(5, 3)).shape, net.feature_log_probs(torch.zeros(5, 3)).shape
    (torch.Size([5]), torch.Size([2, 5, 3]))
    """

    def __init__(
        self,
        n_features: int,
        hidden_dims: tuple[int, ...] = (64, 64),
        n_components: int = 3,
        n_orderings: int = 4,
        conditional: str = "gaussian",
        activation: str | None = "relu",
        min_scale: float = 1e-2,
        seed: int = 0,
    ) -> None:
        super().__init__()
        if conditional not in CONDITIONALS:
            raise ValueError(f"Unknown conditional {conditional!r}; choose one of {CONDITIONALS}.")
        hidden_dims = tuple(int(h) for h in hidden_dims)
        if not hidden_dims:
            raise ValueError("MADENet needs at least one hidden layer (hidden_dims=()).")
        self.n_features, self.n_components = n_features, n_components
        self.n_orderings, self.conditional, self.min_scale = n_orderings, conditional, min_scale
        generator = torch.Generator().manual_seed(int(seed))
        inputs, hidden = made_degrees(n_features, hidden_dims, n_orderings, generator)
        self.register_buffer("ordering", inputs)
        k, c = n_orderings, n_components
        layers, below, width_below = [], inputs, n_features
        for degrees in hidden:
            mask = (below[:, :, None] <= degrees[:, None, :]).float()
            layers.append(MaskedParallelLinear(k, width_below, degrees.shape[1], mask))
            below, width_below = degrees, degrees.shape[1]
        self.hidden = nn.ModuleList(layers)
        self.act = make_activation(activation)
        # Each feature has 3 * C outputs (logits, locations, scales) of the same degree.
        out_degrees = inputs.repeat_interleave(3 * c, dim=1)
        self.head = MaskedParallelLinear(
            k, width_below, out_degrees.shape[1], (below[:, :, None] < out_degrees[:, None, :])
        )
        self.direct = MaskedParallelLinear(
            k, n_features, out_degrees.shape[1], (inputs[:, :, None] < out_degrees[:, None, :])
        )

    def _params(self, x: torch.Tensor) -> tuple[torch.Tensor, torch.Tensor, torch.Tensor]:
        k, c, d = self.n_orderings, self.n_components, self.n_features
        xs = x.unsqueeze(0).expand(k, *x.shape)
        h = xs
        for layer in self.hidden:
            h = self.act(layer(h))
        out = (self.head(h) + self.direct(xs)).view(k, len(x), d, 3, c)
        log_weights = torch.log_softmax(out[..., 0, :], dim=-1)
        scale = F.softplus(out[..., 2, :]) + self.min_scale
        return log_weights, out[..., 1, :], scale

    def feature_log_probs(self, x: torch.Tensor) -> torch.Tensor:
        """``log p_k(x_d | x_<d)`` of each member, row and feature: ``(K, batch, D)``."""
        log_weights, loc, scale = self._params(x)
        u = (x.unsqueeze(0).unsqueeze(-1) - loc) / scale
        if self.conditional == "gaussian":
            log_pdf = -0.5 * u.pow(2) - torch.log(scale) - _HALF_LOG_2PI
        else:  # logistic: -u - log s - 2 softplus(-u)
            log_pdf = -u - torch.log(scale) - 2.0 * F.softplus(-u)
        return torch.logsumexp(log_weights + log_pdf, dim=-1)

    def member_log_probs(self, x: torch.Tensor) -> torch.Tensor:
        """``log p_k(x)`` of each member and row: ``(K, batch)``."""
        return self.feature_log_probs(x).sum(-1)

    def log_prob(self, x: torch.Tensor) -> torch.Tensor:
        """The ensemble's log-density ``logsumexp_k log p_k(x) - log K`` of each row."""
        return torch.logsumexp(self.member_log_probs(x), dim=0) - math.log(self.n_orderings)

    def forward(self, x: torch.Tensor) -> torch.Tensor:
        return self.log_prob(x)
