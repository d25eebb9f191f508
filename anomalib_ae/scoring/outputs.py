"""What score terms read: a batch's net outputs, and the training rows' outputs.

:class:`NetOutputs` wraps one scaled batch and the net that scores it; each
output (codes, reconstruction, per-feature errors, ...) is computed the first
time a term asks for it and then shared, so two terms that read the codes run
the encoder once. One subclass per family of nets says how its outputs come
out of its net. All outputs are batch-first; an ensemble's have the member
axis second.
"""

from __future__ import annotations

from collections.abc import Callable
from functools import cached_property
from typing import TYPE_CHECKING, Any

import numpy as np
import torch
from torch import nn

from anomalib_ae.scoring.precision import BLOCK_ROWS, fixed_blocks, in_blocks, scoring_net
from anomalib_ae.training import cpu_threads
from anomalib_ae.training.inference import predict_batches
from anomalib_ae.training.sparse import take_rows

if TYPE_CHECKING:
    from anomalib_ae.scoring._base import ScoreTerm


class NetOutputs:
    """The outputs of an autoencoder (``encode`` / ``decode`` nets) for one scaled batch ``x``.

    Parameters
    ----------
    net : nn.Module
        The net to run (already in the scoring precision).
    x : Tensor of shape (batch, n_features)
        Scaled rows.
    detector : the fitted detector, for the state terms share (e.g. ``code_index_``).

    Examples
    --------
    >>> from anomalib_ae.nn import AutoEncoderNet
    >>> out = NetOutputs(AutoEncoderNet(3, hidden_dims=(), latent_dim=1), torch.zeros(4, 3))
    >>> out.codes.shape, out.errors.shape
    (torch.Size([4, 1]), torch.Size([4, 3]))
    """

    def __init__(self, net: nn.Module, x: torch.Tensor, detector: Any = None) -> None:
        self.net, self.x, self.detector = net, x, detector

    @cached_property
    def code(self) -> torch.Tensor:
        """The encoder's output as the decoder takes it."""
        return self.net.encode(self.x)

    @cached_property
    def codes(self) -> torch.Tensor:
        """Latent codes, one flat row per input row: ``(batch, n_codes)``."""
        return self.code.flatten(1)

    @cached_property
    def reconstruction(self) -> torch.Tensor:
        """The decoded code, shaped like ``x``."""
        return self.net.decode(self.code)

    @cached_property
    def errors(self) -> torch.Tensor:
        """Per-feature squared reconstruction errors, shaped like ``x``."""
        return (self.reconstruction - self.x).pow(2)


class VAEOutputs(NetOutputs):
    """The outputs of a VAE net: the posterior, and errors ``0.5 * (x - decode(mu))**2``.

    ``target`` is the part of the row the VAE models and ``vae`` the net seen
    through the plain VAE interface (``posterior``, ``decode``), which the
    conditional VAE overrides.
    """

    def __init__(self, net: nn.Module, x: torch.Tensor, detector: Any = None) -> None:
        super().__init__(net, x, detector)
        self.target, self.vae = x.flatten(1), net

    @cached_property
    def posterior(self) -> tuple[torch.Tensor, torch.Tensor]:
        """Mean and log-variance of ``q(z|x)``."""
        return self.vae.posterior(self.target)

    @cached_property
    def code(self) -> torch.Tensor:
        return self.posterior[0]

    @cached_property
    def reconstruction(self) -> torch.Tensor:
        return self.vae.decode(self.code)

    @cached_property
    def errors(self) -> torch.Tensor:
        return 0.5 * (self.reconstruction - self.target).pow(2)


class ConditionalVAEOutputs(VAEOutputs):
    """The outputs of a conditional VAE: its target columns given its context columns.

    ``errors`` spans the whole row, 0 on the context columns.
    """

    def __init__(self, net: nn.Module, x: torch.Tensor, detector: Any = None) -> None:
        super().__init__(net, x, detector)
        self.target, c = net.split(x)
        self.vae = net.given(c)

    @cached_property
    def errors(self) -> torch.Tensor:
        errors = self.x.new_zeros(self.x.shape)
        errors[:, self.net.target_idx] = 0.5 * (self.reconstruction - self.target).pow(2)
        return errors


class EnsembleOutputs(NetOutputs):
    """The outputs of an :class:`~anomalib_ae.nn.AutoEncoderEnsembleNet`, member axis second.

    ``member_codes`` ``(batch, n_members, latent_dim)``, ``residuals`` and
    ``errors`` ``(batch, n_members, n_features)``; ``codes`` puts the members'
    codes side by side.
    """

    @cached_property
    def member_codes(self) -> torch.Tensor:
        return self.net.member_codes(self.x).transpose(0, 1)

    @cached_property
    def codes(self) -> torch.Tensor:
        return self.member_codes.reshape(len(self.x), -1)

    @cached_property
    def reconstruction(self) -> torch.Tensor:
        return self.net.decoder(self.member_codes.transpose(0, 1)).transpose(0, 1)

    @cached_property
    def residuals(self) -> torch.Tensor:
        return self.reconstruction - self.x.flatten(1).unsqueeze(1)

    @cached_property
    def errors(self) -> torch.Tensor:
        return self.residuals.pow(2)


STATISTICS_MIN_ROWS = 10_000
STATISTICS_VALUES = 2**22
"""Statistics of wide outputs are estimated from at most ``max(STATISTICS_MIN_ROWS,
STATISTICS_VALUES // width)`` training rows (see :meth:`TrainingOutputs.sample`)."""


def statistics_rows(n: int, width: int, seed: int) -> np.ndarray | None:
    """Sorted seeded rows a per-feature statistic is estimated on, or None for all ``n`` rows.

    A per-feature median or a covariance of the reconstruction errors needs the
    errors of the rows it is fitted on in memory, ``rows x width`` floats, so
    above ``max(10,000, 2**22 / width)`` rows (32 MiB of float64) it is
    estimated on that many rows drawn without replacement, as scikit-learn's
    ``QuantileTransformer`` estimates its quantiles on a subsample. Below that
    (every ADBench training set) every row is used.

    Examples
    --------
    >>> statistics_rows(5_000, 20, seed=0) is None
    True
    >>> len(statistics_rows(1_000_000, 2_000, seed=0))
    10000
    """
    cap = max(STATISTICS_MIN_ROWS, STATISTICS_VALUES // max(int(width), 1))
    if n <= cap:
        return None
    return np.sort(np.random.default_rng([int(seed), 0x57A7]).choice(n, cap, replace=False))


class TrainingOutputs:
    """The training rows as the score terms see them while they are fitted.

    Parameters
    ----------
    detector : the detector being fitted (net trained, ``scaler_`` set)
    X : ndarray of shape (n, n_features)
        The validated training rows (unscaled).
    net, dtype : the net to run and its input dtype (:func:`scoring_net`)

    Examples
    --------
    Terms receive one in ``fit``; here one is made by hand for a fitted detector:

    >>> import numpy as np
    >>> from anomalib_ae import AutoEncoderDetector
    >>> from anomalib_ae.scoring.precision import scoring_net
    >>> X = np.random.default_rng(0).normal(size=(40, 3))
    >>> det = AutoEncoderDetector(hidden_dims=(4,), latent_dim=2, max_epochs=1,
    ...                           random_state=0).fit(X)
    >>> TrainingOutputs(det, X, *scoring_net(det)).get("errors").shape
    (40, 3)
    """

    def __init__(self, detector: Any, X: np.ndarray, net: nn.Module, dtype: torch.dtype) -> None:
        self.detector, self.X, self.net, self.dtype = detector, X, net, dtype
        self._fitted: dict[int, np.ndarray | None] = {}

    def collect(self, read: Callable[[NetOutputs], torch.Tensor]) -> np.ndarray:
        """``read`` over every training batch's outputs, stacked (float64, batch-first)."""
        return collect(self.detector, self.X, read, self.net, self.dtype)

    def get(self, name: str) -> np.ndarray:
        """One output (e.g. ``"errors"``, ``"codes"``) of every training row."""
        return self.collect(lambda out: getattr(out, name))

    @cached_property
    def sample_rows(self) -> np.ndarray | None:
        """The rows :meth:`sample` reads (:func:`statistics_rows`; None: every row)."""
        width = int(np.prod(self.X.shape[1:])) * int(getattr(self.net, "n_members", 1))
        return statistics_rows(len(self.X), width, getattr(self.detector, "seed_", 0))

    def sample(self, name: str) -> np.ndarray:
        """One output of the :attr:`sample_rows`, for a statistic of a wide output.

        Per-feature medians and covariances of the errors are fitted on these
        rows, so their memory stays bounded however many rows are trained on.
        """
        rows = self.sample_rows
        if rows is None:
            return self.get(name)
        X = take_rows(self.X, rows)
        return collect(self.detector, X, lambda out: getattr(out, name), self.net, self.dtype)

    def values(self, term: ScoreTerm) -> np.ndarray:
        """A fitted term's values on the training rows."""
        return self.collect(term.values)

    def fit(self, term: ScoreTerm) -> np.ndarray | None:
        """Fit ``term`` (once, however often it is asked for) and return its training values."""
        if id(term) not in self._fitted:
            self._fitted[id(term)] = term.fit(self)
        return self._fitted[id(term)]


def collect(
    detector: Any,
    X: np.ndarray,
    read: Callable[[NetOutputs], torch.Tensor],
    net: nn.Module | None = None,
    dtype: torch.dtype | None = None,
) -> np.ndarray:
    """Apply ``read`` to the outputs of each scaled batch of ``X``; stack the results.

    ``net`` and ``dtype`` default to :func:`~anomalib_ae.scoring.precision.scoring_net`'s.
    """
    if net is None:
        net, dtype = scoring_net(detector)
    outputs = detector._outputs

    def batch(x: torch.Tensor) -> torch.Tensor:
        return read(outputs(net, x.to(dtype), detector))

    batch_size = detector.inference_batch_size
    if fixed_blocks(net):
        whole = batch
        batch_size = -(-batch_size // BLOCK_ROWS) * BLOCK_ROWS  # whole blocks per batch

        def batch(x: torch.Tensor) -> torch.Tensor:
            return in_blocks(whole, x)

    rows = min(len(X), batch_size)
    with cpu_threads("cpu", rows * sum(p.numel() for p in net.parameters())):
        return predict_batches(
            batch, X, batch_size=batch_size, transform=detector.scaler_.transform
        )
