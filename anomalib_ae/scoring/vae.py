"""The VAE's scores as terms: negative ELBO, KL, reconstruction and reconstruction probability.

Units: the decoder is Gaussian with unit variance in scaled units, so
``-log p(x|z) = 0.5 * ||x - decode(z)||^2`` up to a constant that every score
drops. The Monte-Carlo scores use one fixed noise matrix ``eps`` of shape
``(n_samples, latent_dim)`` drawn from a generator seeded with the
detector's ``seed_`` when the term is fitted, the same for every row: a row's
score does not depend on the call, the other rows or the batch split, and
every row is scored with the same draws (common random numbers).
"""

from __future__ import annotations

import math

import numpy as np
import torch

from anomalib_ae.nn.vae import gaussian_kl, gaussian_nll
from anomalib_ae.scoring._base import ScoreTerm, register_term
from anomalib_ae.scoring.outputs import NetOutputs, TrainingOutputs
from anomalib_ae.scoring.reconstruction import robust_feature_scale

_MC_CHUNK = 2**24  # values per decoded Monte-Carlo chunk (draws x rows x features)


def mc_noise(seed: int, n_samples: int, latent_dim: int) -> torch.Tensor:
    """The fixed standard-normal draws ``(n_samples, latent_dim)`` of the Monte-Carlo scores.

    Examples
    --------
    >>> bool((mc_noise(0, 3, 2) == mc_noise(0, 3, 2)).all())
    True
    """
    generator = torch.Generator().manual_seed(int(seed))
    return torch.randn((n_samples, latent_dim), generator=generator, dtype=torch.float64)


@register_term
class KLDivergence(ScoreTerm):
    """``KL(q(z|x) || N(0, I))`` in closed form.

    Examples
    --------
    The terms of ``VAEDetector(score_type=...)``:

    >>> import numpy as np
    >>> from anomalib_ae import VAEDetector
    >>> X = np.random.default_rng(0).normal(size=(60, 3))
    >>> det = VAEDetector(score_type="kl", hidden_dims=(4,), latent_dim=2, max_epochs=2,
    ...                   random_state=0).fit(X)
    >>> [type(t).__name__ for t in det.score_terms_]
    ['KLDivergence', 'CodeNeighborDistance']
    """

    name = "kl"

    def values(self, out: NetOutputs) -> torch.Tensor:
        return gaussian_kl(*out.posterior)


@register_term
class VAEReconstruction(ScoreTerm):
    """``0.5 * ||x - decode(mu)||^2``: the error of the decoded posterior mean (no sampling)."""

    name = "vae_reconstruction"

    def values(self, out: NetOutputs) -> torch.Tensor:
        return gaussian_nll(out.target, out.reconstruction)


class _MonteCarloTerm(ScoreTerm):
    """A score from ``log p(x | z_l)`` over ``n_samples`` fixed draws ``z_l ~ q(z|x)``.

    Parameters
    ----------
    n_samples : int, default=10
    weight : float, default=1.0

    Attributes
    ----------
    noise_ : Tensor of shape (n_samples, latent_dim)

    Examples
    --------
    >>> import numpy as np
    >>> from anomalib_ae import VAEDetector
    >>> X = np.random.default_rng(0).normal(size=(60, 3))
    >>> det = VAEDetector(n_samples=4, hidden_dims=(4,), latent_dim=2, max_epochs=2,
    ...                   random_state=0).fit(X)
    >>> det.score_terms_[0].noise_.shape
    torch.Size([4, 2])
    """

    def __init__(self, n_samples: int = 10, weight: float = 1.0) -> None:
        super().__init__(weight)
        self.n_samples = n_samples

    def fit(self, train: TrainingOutputs) -> np.ndarray:
        detector = train.detector
        self.noise_ = mc_noise(detector.seed_, self.n_samples, detector._n_features_out)
        return train.values(self)

    def log_likelihoods(self, out: NetOutputs) -> torch.Tensor:
        """``log p(x | z_l)`` (up to the constant) per draw: ``(n_samples, batch)``."""
        x, (mu, logvar) = out.target, out.posterior
        std = (0.5 * logvar).exp()
        chunk = max(1, _MC_CHUNK // max(1, x.numel()))
        parts = []
        for start in range(0, len(self.noise_), chunk):
            z = mu + std * self.noise_[start : start + chunk, None, :].to(mu.dtype)
            parts.append(-gaussian_nll(x, out.vae.decode(z)))
        return torch.cat(parts)


@register_term
class NegativeELBO(_MonteCarloTerm):
    """The negative ELBO, ``E_q[0.5 * ||x - decode(z)||^2] + KL``, over the fixed draws."""

    name = "elbo"

    def values(self, out: NetOutputs) -> torch.Tensor:
        return -self.log_likelihoods(out).mean(0) + gaussian_kl(*out.posterior)


@register_term
class ReconstructionProbability(_MonteCarloTerm):
    """``-log((1/L) * sum_l p(x | z_l))``: An & Cho's (2015) reconstruction probability."""

    name = "recon_probability"

    def values(self, out: NetOutputs) -> torch.Tensor:
        log_lik = self.log_likelihoods(out)
        return math.log(len(log_lik)) - torch.logsumexp(log_lik, dim=0)


_HALF_CHI2_1_MEDIAN = 0.5 * 0.454936423119572  # median of 0.5 * r**2 for r ~ N(0, 1)


@register_term
class CalibratedELBO(ScoreTerm):
    """``0.5 * sum_j (x_j - decode(mu)_j)^2 / s_j^2 + KL``: the decoder's variance fitted per feature.

    The VAE's decoder has unit variance in scaled units, so a feature it
    rebuilds almost exactly (a target column that its context predicts)
    counts no more when it is off than a noise column that it never rebuilds.
    This term fits each feature's decoder variance ``s_j^2`` on the training
    rows, robustly (the median of ``(x_j - decode(mu)_j)^2`` over the median
    of a chi-square with one degree of freedom), and scores the Gaussian
    negative log-likelihood with those variances (the ``log s_j`` constants
    dropped) plus the closed-form KL. Columns that are rebuilt exactly on
    most rows (context columns, constants) get the floor of
    :func:`~anomalib_ae.scoring.reconstruction.robust_feature_scale`.

    Parameters
    ----------
    weight : float, default=1.0

    Attributes
    ----------
    feature_scale_ : ndarray of shape (n_features,)
        The fitted ``s_j^2 / 2`` per column, in units of the detector's ``errors``.

    Examples
    --------
    >>> import numpy as np
    >>> from anomalib_ae import ConditionalVAEDetector
    >>> X = np.random.default_rng(0).normal(size=(60, 3))
    >>> det = ConditionalVAEDetector(condition=0, hidden_dims=(4,), latent_dim=2,
    ...                              max_epochs=2, random_state=0).fit(X)
    >>> det.score_terms_[0].feature_scale_.shape
    (3,)
    """

    name = "calibrated_elbo"

    def fit(self, train: TrainingOutputs) -> np.ndarray:
        self.feature_scale_ = None  # raw errors while the scale is measured
        self.feature_scale_ = robust_feature_scale(train.get("errors")) / _HALF_CHI2_1_MEDIAN
        return train.values(self)

    def feature_values(self, out: NetOutputs) -> torch.Tensor:
        errors = out.errors
        if self.feature_scale_ is None:
            return errors
        return errors / torch.as_tensor(self.feature_scale_, dtype=errors.dtype)

    def values(self, out: NetOutputs) -> torch.Tensor:
        return self.feature_values(out).sum(-1) + gaussian_kl(*out.posterior)
