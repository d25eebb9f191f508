"""Score terms of density models: a MADE's negative log-likelihood in the input's units.

For a detector whose net is a :class:`~anomalib_ae.nn.made.MADENet` fitted on
scaled rows ``z = (x - shift) / scale``, the density of the unscaled row is
``p_x(x) = p_z(z) / prod_j scale_j`` (change of variables), so

``-log p_x(x) = -log p_z(z) + sum_j log scale_j``.

:class:`NegativeLogLikelihood` gives that value, and per feature each
conditional's ``-log p(z_j | z_<j) + log scale_j`` (averaged over the
orderings) as ``feature_values``.
"""

from __future__ import annotations

import weakref
from functools import cached_property

import numpy as np
import torch
from torch import nn

from anomalib_ae.scoring._base import ScoreTerm, register_term
from anomalib_ae.scoring.outputs import NetOutputs, TrainingOutputs
from anomalib_ae.scoring.precision import float32_twin, in_blocks

_NETS: weakref.WeakKeyDictionary = weakref.WeakKeyDictionary()  # CodeDensity -> (state, net)


class MADEOutputs(NetOutputs):
    """The outputs of a :class:`~anomalib_ae.nn.made.MADENet` for one scaled batch.

    ``feature_nll`` ``(batch, n_features)``: each feature's conditional negative
    log-density in scaled units, averaged over the orderings; ``log_prob``
    ``(batch,)``: the ensemble's log-density of the scaled row; ``codes`` are
    the ``feature_nll`` (a MADE has no latent code: ``transform`` gives the
    per-feature surprise).
    """

    @cached_property
    def member_feature_log_probs(self) -> torch.Tensor:
        return self.net.feature_log_probs(self.x.flatten(1))

    @cached_property
    def feature_nll(self) -> torch.Tensor:
        return -self.member_feature_log_probs.mean(0)

    @cached_property
    def log_prob(self) -> torch.Tensor:
        members = self.member_feature_log_probs.sum(-1)
        return torch.logsumexp(members, dim=0) - np.log(members.shape[0])

    @cached_property
    def codes(self) -> torch.Tensor:
        return self.feature_nll


def log_scale(detector) -> np.ndarray:
    """``log scale_j`` of a fitted detector's input scaler (0 for ``scaler="none"``)."""
    return np.log(np.asarray(detector.scaler_.scale_, dtype=np.float64)).ravel()


@register_term
class NegativeLogLikelihood(ScoreTerm):
    """``-log p(x)`` of each row in the input's own units (nats), from a MADE's outputs.

    Parameters
    ----------
    weight : float, default=1.0

    Attributes
    ----------
    log_jacobian_ : float
        ``sum_j log scale_j`` of the detector's input scaling, added to the
        scaled rows' negative log-density (0 for a net whose likelihood is
        discrete, ``net.discrete``: quantised pixel levels need no change of
        variables).

    Examples
    --------
    >>> NegativeLogLikelihood()
    NegativeLogLikelihood(weight=1.0)
    """

    name = "made_nll"

    def fit(self, train: TrainingOutputs) -> np.ndarray:
        discrete = bool(getattr(train.net, "discrete", False))
        self.feature_log_scale_ = (
            np.zeros(train.X.shape[1]) if discrete else log_scale(train.detector)
        )
        self.log_jacobian_ = float(self.feature_log_scale_.sum())
        return train.values(self)

    def values(self, out: NetOutputs) -> torch.Tensor:
        return -out.log_prob.double() + self.log_jacobian_

    def feature_values(self, out: NetOutputs) -> torch.Tensor:
        shift = torch.as_tensor(self.feature_log_scale_, dtype=torch.float64)
        return out.feature_nll.double() + shift


@register_term
class CodeDensity(ScoreTerm):
    """How unlikely a row's latent code is under a MADE fitted on the training codes.

    The latent-space density term of LSA (Abati et al., 2019): next to the
    reconstruction error, which asks whether the row is rebuilt, it asks
    whether the row's code lies where training codes lie. ``fit`` trains a
    :class:`~anomalib_ae.nn.made.MADENet` (with Lightning, as every net of the
    package, for a fixed number of epochs; seeded by the detector's ``seed_``)
    on the standardised codes of the training rows; a row's value is its
    code's negative log-density minus the 1% quantile of the training rows'
    values, so that a typical training row is positive and the one
    combination rule (each term over its training median) applies.

    Parameters
    ----------
    hidden_dims : tuple of int, default=(32, 32)
    n_components : int, default=3
    n_orderings : int, default=2
    max_epochs : int, default=20
    weight : float, default=1.0

    Attributes
    ----------
    center_, scale_ : ndarray
        Mean and standard deviation of the training codes.
    state_ : dict of Tensor
        The fitted MADE's weights and masks.
    floor_ : float
        The 1% quantile of the training codes' negative log-density.

    Examples
    --------
    >>> import numpy as np
    >>> from anomalib_ae import AutoEncoderDetector
    >>> X = np.random.default_rng(0).normal(size=(120, 4))
    >>> det = AutoEncoderDetector(hidden_dims=(8,), latent_dim=2, max_epochs=2,
    ...                           code_density=True, random_state=0).fit(X)
    >>> [term.name for term in det.score_terms_]
    ['reconstruction', 'code_neighbors', 'code_density']
    """

    name = "code_density"

    def __init__(
        self,
        hidden_dims: tuple[int, ...] = (32, 32),
        n_components: int = 3,
        n_orderings: int = 2,
        max_epochs: int = 20,
        weight: float = 1.0,
    ) -> None:
        self.hidden_dims = tuple(hidden_dims)
        self.n_components = n_components
        self.n_orderings = n_orderings
        self.max_epochs = max_epochs
        self.weight = weight

    def _net(self, n_codes: int, seed: int = 0):
        from anomalib_ae.nn.made import MADENet

        return MADENet(
            n_codes,
            hidden_dims=self.hidden_dims,
            n_components=self.n_components,
            n_orderings=self.n_orderings,
            seed=seed,
        )

    def fit(self, train: TrainingOutputs) -> np.ndarray:
        from anomalib_ae.training import ArrayDataModule, cpu_threads, make_trainer, quiet_lightning
        from anomalib_ae.training.made import MADESystem

        codes = train.get("codes")
        self.center_ = codes.mean(0)
        std = codes.std(0)
        self.scale_ = np.where(std > 1e-12, std, 1.0)
        z = ((codes - self.center_) / self.scale_).astype(np.float32)
        seed = int(getattr(train.detector, "seed_", 0))
        # cpu_threads(..., 0): one thread; a MADE's small ops are far slower on two
        with torch.random.fork_rng(devices=[]), quiet_lightning(), cpu_threads("cpu", 0):
            torch.manual_seed(seed)
            net = self._net(z.shape[1], seed)
            data = ArrayDataModule(z, batch_size=128, validation_fraction=0.0, seed=seed)
            make_trainer(self.max_epochs).fit(MADESystem(net), datamodule=data)
        self.state_ = {k: v.detach().cpu().clone() for k, v in net.state_dict().items()}
        self.floor_ = 0.0
        values = self._nll(torch.from_numpy(codes)).numpy()
        self.floor_ = float(np.quantile(values, 0.01))
        return values - self.floor_

    def _scoring_net(self, n_codes: int) -> nn.Module:
        """The fitted MADE as a float32 twin for fixed blocks (built once per term, not saved)."""
        cached = _NETS.get(self)
        if cached is not None and cached[0] is self.state_:
            return cached[1]
        with torch.inference_mode(False):  # (scoring may run inside inference mode)
            net = self._net(n_codes)
            net.load_state_dict(self.state_)
            twin = float32_twin(net.eval())
        _NETS[self] = (self.state_, twin)
        return twin

    def _nll(self, codes: torch.Tensor) -> torch.Tensor:
        center = torch.as_tensor(self.center_, dtype=torch.float64)
        scale = torch.as_tensor(self.scale_, dtype=torch.float64)
        z = ((codes.double() - center) / scale).float()
        from anomalib_ae.training import cpu_threads

        net = self._scoring_net(codes.shape[1])
        with torch.inference_mode(), cpu_threads("cpu", 0):  # one shape: batch-independent
            return -in_blocks(net.log_prob, z).double()

    def values(self, out: NetOutputs) -> torch.Tensor:
        return self._nll(out.codes) - self.floor_
