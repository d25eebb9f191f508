"""Input corruption for denoising autoencoders (pure torch)."""

from __future__ import annotations

import torch

NOISES = ("gaussian", "mask")
"""Corruption kinds accepted by :func:`corrupt`."""


def corrupt(
    x: torch.Tensor,
    noise: str = "gaussian",
    noise_std: float = 0.2,
    drop_prob: float = 0.2,
    generator: torch.Generator | None = None,
) -> torch.Tensor:
    """Return a corrupted copy of ``x``.

    Parameters
    ----------
    x : torch.Tensor
        A batch.
    noise : {"gaussian", "mask"}, default="gaussian"
        ``"gaussian"`` adds ``N(0, noise_std**2)`` noise to every value;
        ``"mask"`` sets each value to 0 with probability ``drop_prob``
        (masking noise, Vincent et al. 2008; 0 is the feature mean after
        standard scaling). Values are not rescaled.
    noise_std : float, default=0.2
        Standard deviation of the Gaussian noise.
    drop_prob : float, default=0.2
        Probability of masking a value.
    generator : torch.Generator, optional
        Source of randomness; torch's global generator when omitted.

    Returns
    -------
    torch.Tensor
        Same shape and dtype as ``x``.

    Examples
    --------
    >>> g = torch.Generator().manual_seed(0)
    >>> corrupt(torch.ones(2, 3), "mask", drop_prob=0.0, generator=g)
    tensor([[1., 1., 1.],
            [1., 1., 1.]])
    >>> corrupt(torch.ones(2, 3), "gaussian", noise_std=0.0, generator=g).sum().item()
    6.0
    """
    if noise == "gaussian":
        eps = torch.randn(x.shape, generator=generator, dtype=x.dtype, device=x.device)
        return x + noise_std * eps
    if noise == "mask":
        keep = torch.rand(x.shape, generator=generator, device=x.device) >= drop_prob
        return x * keep.to(x.dtype)
    raise ValueError(f"Unknown noise {noise!r}; choose one of {NOISES}.")
