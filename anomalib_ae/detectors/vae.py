"""VAEDetector: a variational autoencoder scored by its ELBO, KL or reconstruction probability."""

from __future__ import annotations

from numbers import Integral, Real
from typing import Any

import numpy as np
import pytorch_lightning as pl
import torch
from sklearn.utils import check_random_state
from sklearn.utils._param_validation import Interval, StrOptions
from sklearn.utils.validation import check_is_fitted

from anomalib_ae.detectors._docs import fill_doc
from anomalib_ae.detectors._images import IMAGE_CONSTRAINTS, IMAGE_DEFAULTS, ImageInputMixin
from anomalib_ae.detectors._params import neural_init
from anomalib_ae.detectors._terms import (
    INPUT_NEIGHBOR_CONSTRAINTS,
    INPUT_NEIGHBOR_DEFAULTS,
    neighbor_terms,
    table_terms,
)
from anomalib_ae.detectors.base import BaseNeuralDetector
from anomalib_ae.nn.conv import ConvVAENet
from anomalib_ae.nn.vae import VAENet
from anomalib_ae.scoring import (
    KLDivergence,
    NegativeELBO,
    ReconstructionProbability,
    ScoreTerm,
    VAEOutputs,
    VAEReconstruction,
    path,
)
from anomalib_ae.scoring.vae import mc_noise
from anomalib_ae.training.inference import predict_batches
from anomalib_ae.training.vae import VAESystem

SCORES = ("elbo", "reconstruction", "kl", "recon_probability")


@fill_doc
class VAEDetector(ImageInputMixin, BaseNeuralDetector):
    """Variational autoencoder outlier detector, also a generator and a latent-space transformer.

    The encoder gives each row a Gaussian posterior ``q(z|x) = N(mu, diag(exp(logvar)))``
    over codes; training maximises the evidence lower bound (ELBO) with a
    ``beta``-weighted KL term. Rows unlike the training data get a low ELBO.

    Parameters
    ----------
    score_type : {"elbo", "reconstruction", "kl", "recon_probability"}, default="elbo"
        Anomaly score (``score_samples`` is its negation), in nats per row
        (named ``score_type`` because an attribute ``score`` would shadow the
        ``score`` method scikit-learn looks for):

        - ``"elbo"``: the negative ELBO, ``E_q[0.5 * ||x - decode(z)||^2] + KL``,
          the expectation estimated with ``n_samples`` fixed draws (see Notes);
        - ``"reconstruction"``: ``0.5 * ||x - decode(mu)||^2``, the error of the
          decoded posterior mean (no sampling);
        - ``"kl"``: ``KL(q(z|x) || N(0, I))`` in closed form;
        - ``"recon_probability"``: ``-log((1/L) * sum_l p(x | z_l))`` over
          ``L = n_samples`` draws ``z_l ~ q(z|x)``, the reconstruction
          probability of An & Cho (2015) for a unit-variance Gaussian decoder.
    n_samples : int, default=10
        Monte-Carlo draws per row for ``"elbo"`` and ``"recon_probability"``.
    beta : float, default=1.0
        Weight of the KL term in the training loss (``beta``-VAE); the
        ``"elbo"`` score always uses weight 1 (the true ELBO).
    kl_warmup_epochs : int, default=0
        Grow the KL weight linearly from 0 to ``beta`` over this many epochs
        (0 disables the warm-up).
    {input_neighbor_params}
    {image_params}
    {neural_params}

    Attributes
    ----------
    {neural_attributes}

    See Also
    --------
    AutoEncoderDetector, DenoisingAutoEncoderDetector

    Notes
    -----
    Units: the decoder is Gaussian with unit variance in scaled units, so
    ``-log p(x|z) = 0.5 * ||x - decode(z)||^2 + d/2 * log(2 pi)``; every score
    and the training loss drop the constant. The training loss per row is
    ``0.5 * ||x - decode(z)||^2 + beta * KL`` with one reparameterised draw
    ``z = mu + exp(logvar / 2) * eps``; with ``beta=1`` its expectation is the
    ``"elbo"`` score. The log-variance is clamped to [-10, 10].

    Deterministic scoring: the Monte-Carlo scores use one fixed noise matrix
    ``eps`` of shape ``(n_samples, latent_dim)`` drawn from a generator seeded
    with ``seed_`` (set in ``fit``), the same for every row. A row's score
    therefore does not depend on the call, the other rows or the batch split,
    and every row is scored with the same draws (common random numbers).

    ``transform`` returns posterior means. ``sample``, ``interpolate`` and
    ``traverse`` decode codes back to rows in the original (unscaled) units.

    References
    ----------
    .. [1] Kingma, D. P. and Welling, M. (2014). Auto-encoding variational
       Bayes. ICLR.
    .. [2] An, J. and Cho, S. (2015). Variational autoencoder based anomaly
       detection using reconstruction probability. SNU Data Mining Center.
    .. [3] Higgins, I. et al. (2017). beta-VAE: learning basic visual concepts
       with a constrained variational framework. ICLR.
    .. [4] Bowman, S. R. et al. (2016). Generating sentences from a continuous
       space. CoNLL (KL warm-up).

    Examples
    --------
    >>> import numpy as np
    >>> from anomalib_ae import VAEDetector
    >>> X = np.random.default_rng(0).normal(size=(200, 4))
    >>> det = VAEDetector(hidden_dims=(8,), latent_dim=2, max_epochs=5, random_state=0).fit(X)
    >>> det.score_samples(X[:3]).shape, det.transform(X[:3]).shape
    ((3,), (3, 2))
    >>> det.sample(5, random_state=0).shape, det.interpolate(X[0], X[1], steps=4).shape
    ((5, 4), (4, 4))
    >>> det.traverse(X[0], dim=1, values=[-2.0, 0.0, 2.0]).shape
    (3, 4)
    """

    _parameter_constraints: dict = {
        **BaseNeuralDetector._parameter_constraints,
        "score_type": [StrOptions(set(SCORES))],
        "n_samples": [Interval(Integral, 1, None, closed="left")],
        "beta": [Interval(Real, 0, None, closed="left")],
        "kl_warmup_epochs": [Interval(Integral, 0, None, closed="left")],
        **INPUT_NEIGHBOR_CONSTRAINTS,
        **IMAGE_CONSTRAINTS,
    }

    __init__ = neural_init(
        score_type="elbo",
        n_samples=10,
        beta=1.0,
        kl_warmup_epochs=0,
        **INPUT_NEIGHBOR_DEFAULTS,
        **IMAGE_DEFAULTS,
    )

    # ---- hooks -------------------------------------------------------------------------
    def _build_net(self, n_features: int) -> VAENet | ConvVAENet:
        if self._uses_conv():
            return ConvVAENet(**self._conv_kwargs())
        return VAENet(
            n_features,
            **self._mlp_kwargs(),
        )

    def _build_system(self, net: VAENet) -> pl.LightningModule:
        return VAESystem(
            net,
            beta=self.beta,
            kl_warmup_epochs=self.kl_warmup_epochs,
            **self._optimizer_kwargs(),
        )

    _outputs = VAEOutputs

    def _score_terms(self) -> list[ScoreTerm]:
        return table_terms(self, [self._vae_term(), *neighbor_terms(self)])

    def _vae_term(self, score_type: str | None = None) -> ScoreTerm:
        """The ``score_type`` term (the Monte-Carlo ones with ``n_samples`` draws)."""
        score_type = self.score_type if score_type is None else score_type
        monte_carlo = {"elbo": NegativeELBO, "recon_probability": ReconstructionProbability}
        if score_type in monte_carlo:
            return monte_carlo[score_type](n_samples=self.n_samples)
        return {"kl": KLDivergence, "reconstruction": VAEReconstruction}[score_type]()

    def mc_noise(self) -> torch.Tensor:
        """The fixed standard-normal draws ``eps`` (``n_samples x latent_dim``) of the MC scores.

        Drawn from a generator seeded with ``seed_``, so they are the same at every call.
        """
        check_is_fitted(self)
        return mc_noise(self.seed_, self.n_samples, self._n_features_out)

    # ---- explanations, generation and latent space -------------------------------------
    def feature_scores(self, X: Any) -> np.ndarray:
        """Per-feature reconstruction term ``0.5 * (x - decode(mu))**2`` (scaled units).

        Their sum over features is the ``"reconstruction"`` score; the ``"elbo"``
        score adds the KL term (and averages over draws instead of decoding ``mu``).

        Parameters
        ----------
        X : array-like of shape (n_samples, n_features)

        Returns
        -------
        ndarray of shape (n_samples, n_features)
        """
        return super().feature_scores(X)

    def _decode(self, Z: np.ndarray) -> np.ndarray:
        """Decode codes ``Z`` and undo the input scaling (original units, float64)."""
        rows = predict_batches(self.net_.decode, Z, batch_size=self.inference_batch_size)
        return rows * self.scaler_.scale_ + self.scaler_.shift_

    def _code_of(self, x: Any, name: str) -> np.ndarray:
        """Posterior mean of one row given as shape ``(n_features,)`` or ``(1, n_features)``."""
        if not hasattr(x, "columns"):
            x = np.asarray(x)
            if x.ndim == 1:
                x = x.reshape(1, -1)
        if len(x) != 1:
            raise ValueError(f"{name} must be one row, got {len(x)} rows.")
        return path.codes(self, self._validate(x, reset=False))[0]

    def sample(self, n: int = 1, random_state: Any = None) -> np.ndarray:
        """Draw ``n`` new rows: decode ``z ~ N(0, I)`` (decoder means, original units).

        Parameters
        ----------
        n : int, default=1
            Number of rows.
        random_state : int, RandomState or None, default=None
            Seeds the codes; an int gives the same rows at every call.

        Returns
        -------
        ndarray of shape (n, n_features)
        """
        check_is_fitted(self)
        if not isinstance(n, Integral) or isinstance(n, bool) or n < 1:
            raise ValueError(f"n must be a positive integer, got {n!r}.")
        rng = check_random_state(random_state)
        return self._decode(rng.standard_normal((int(n), self._n_features_out)))

    def interpolate(self, x_a: Any, x_b: Any, steps: int = 10) -> np.ndarray:
        """Decode ``steps`` evenly spaced points on the line between the codes of two rows.

        Parameters
        ----------
        x_a, x_b : array-like of shape (n_features,) or (1, n_features)
            The end rows (original units); their posterior means are the ends.
        steps : int, default=10
            Number of points, ends included (at least 2).

        Returns
        -------
        ndarray of shape (steps, n_features)
            Decoded rows in original units, from ``x_a``'s end to ``x_b``'s.
        """
        check_is_fitted(self)
        if not isinstance(steps, Integral) or isinstance(steps, bool) or steps < 2:
            raise ValueError(f"steps must be an integer >= 2, got {steps!r}.")
        z_a, z_b = self._code_of(x_a, "x_a"), self._code_of(x_b, "x_b")
        t = np.linspace(0.0, 1.0, int(steps))[:, None]
        return self._decode((1.0 - t) * z_a + t * z_b)

    def traverse(self, x: Any, dim: int, values: Any) -> np.ndarray:
        """Vary latent dimension ``dim`` of a row's code over ``values``, the others fixed.

        Parameters
        ----------
        x : array-like of shape (n_features,) or (1, n_features)
            The row (original units); its posterior mean is the starting code.
        dim : int
            Latent dimension to vary, in ``[0, latent_dim)``.
        values : array-like of shape (n_values,)
            Values given to that dimension.

        Returns
        -------
        ndarray of shape (n_values, n_features)
            Decoded rows in original units.
        """
        check_is_fitted(self)
        k = self._n_features_out
        if not isinstance(dim, Integral) or isinstance(dim, bool) or not 0 <= dim < k:
            raise ValueError(f"dim must be an integer in [0, {k}), got {dim!r}.")
        values = np.asarray(values, dtype=np.float64).ravel()
        if len(values) == 0 or not np.isfinite(values).all():
            raise ValueError("values must be a non-empty sequence of finite numbers.")
        codes = np.tile(self._code_of(x, "x"), (len(values), 1))
        codes[:, dim] = values
        return self._decode(codes)
