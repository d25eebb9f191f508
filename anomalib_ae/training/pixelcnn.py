"""The PixelCNN system: maximum likelihood of the model and of its background model.

The background model of a likelihood ratio (Ren et al., 2019) is the same
net trained on *perturbed* training rows: each pixel replaced, with
probability ``mu``, by a uniform random value in [0, 1] (the scaled pixel
range); for tables (continuous features, no fixed range) by the same feature
of a random other row of the batch, which keeps each feature's marginal and
breaks its dependence on the others. Fresh perturbations are drawn at every
step from a generator seeded by the detector's seed.
"""

from __future__ import annotations

import torch

from anomalib_ae.training.systems import ReconstructionSystem


def perturb(x: torch.Tensor, mu: float, generator: torch.Generator, discrete: bool) -> torch.Tensor:
    """Replace each value of ``x`` (batch, n_features) with probability ``mu`` by noise.

    ``discrete``: uniform in [0, 1] (images); else the same feature of a random row.

    Examples
    --------
    >>> g = torch.Generator().manual_seed(0)
    >>> x = torch.zeros(4, 3)
    >>> bool((perturb(x, 1.0, g, discrete=True) > 0).all())
    True
    """
    shape = x.shape
    hit = torch.rand(shape, generator=generator) < mu
    if discrete:
        noise = torch.rand(shape, generator=generator)
    else:
        rows = torch.randint(0, shape[0], shape, generator=generator)
        noise = torch.gather(x.detach().cpu(), 0, rows)
    noise, hit = noise.to(device=x.device, dtype=x.dtype), hit.to(x.device)
    return torch.where(hit, noise, x)


class PixelCNNSystem(ReconstructionSystem):
    """Train a :class:`~anomalib_ae.nn.causal.DensityPairNet` by maximum likelihood.

    The per-row loss is the model's negative log-likelihood per dimension plus,
    when the pair has a background model, the background's on a perturbed copy
    of the row (:func:`perturb`). The two nets share no weights, so with Adam
    this is two independent fits in one pass (as MADE's members). Everything
    else is :class:`ReconstructionSystem`'s.

    Parameters
    ----------
    net : anomalib_ae.nn.causal.DensityPairNet
    mu : float, default=0.2
        Perturbation rate of the background model's training rows.
    seed : int, default=0
        Seed of the perturbations.
    lr, weight_decay, optimizer
        As in :class:`ReconstructionSystem`.

    Examples
    --------
    >>> from anomalib_ae.nn.causal import CausalConvNet, DensityPairNet
    >>> net = DensityPairNet(CausalConvNet(3, (4,)), CausalConvNet(3, (4,)))
    >>> PixelCNNSystem(net).sample_losses(torch.zeros(4, 3)).shape
    torch.Size([4])
    """

    def __init__(self, net, mu: float = 0.2, seed: int = 0, **kwargs) -> None:
        super().__init__(net, **kwargs)
        self.mu = float(mu)
        self.generator = torch.Generator().manual_seed(int(seed))

    def sample_losses(self, x: torch.Tensor) -> torch.Tensor:
        """Per-row negative log-likelihood per dimension (model + background, nats)."""
        x = x.flatten(1)
        loss = -self.net.feature_log_probs(x).mean(1)
        if self.net.background is not None:
            noisy = perturb(x, self.mu, self.generator, self.net.discrete)
            loss = loss - self.net.background_feature_log_probs(noisy).mean(1)
        return loss
