"""AutoEncoderDetector: an MLP autoencoder scored by its reconstruction error."""

from __future__ import annotations

from numbers import Integral, Real

import pytorch_lightning as pl
from sklearn.utils._param_validation import Interval, StrOptions
from torch import nn

from anomalib_ae.detectors._docs import fill_doc
from anomalib_ae.detectors._images import IMAGE_CONSTRAINTS, IMAGE_DEFAULTS, ImageInputMixin
from anomalib_ae.detectors._params import neural_init
from anomalib_ae.detectors._terms import (
    CODE_DENSITY_CONSTRAINTS,
    CODE_DENSITY_DEFAULTS,
    ERROR_SCALE_CONSTRAINTS,
    ERROR_SCALE_DEFAULTS,
    INPUT_NEIGHBOR_CONSTRAINTS,
    INPUT_NEIGHBOR_DEFAULTS,
    density_terms,
    neighbor_terms,
    reconstruction_term,
    table_terms,
)
from anomalib_ae.detectors.base import BaseNeuralDetector
from anomalib_ae.nn.conv import ConvAutoEncoderNet
from anomalib_ae.nn.mlp import AutoEncoderNet
from anomalib_ae.nn.tied import TiedAutoEncoderNet
from anomalib_ae.scoring import ScoreTerm
from anomalib_ae.training import ArrayDataModule
from anomalib_ae.training.penalties import PenalizedReconstructionSystem
from anomalib_ae.training.pretrain import pretrain_layerwise

AUTOENCODER_DEFAULTS = {
    "tied_weights": False,
    "code_l1": 0.0,
    "pretrain": None,
    "pretrain_epochs": 10,
    "scaler": "minmax",
    **ERROR_SCALE_DEFAULTS,
    **CODE_DENSITY_DEFAULTS,
}
"""The autoencoder's own parameters (shared by its subclasses) and their defaults."""


@fill_doc
class AutoEncoderDetector(ImageInputMixin, BaseNeuralDetector):
    """Autoencoder outlier detector scored by the mean squared reconstruction error.

    An autoencoder squeezes each row through a narrow code and rebuilds it. It
    learns to rebuild what is common in the training data, so rows unlike it
    are rebuilt badly: their reconstruction error is the anomaly score. With
    no activation the autoencoder spans the same subspace as PCA with
    ``latent_dim`` components; with activations it is a non-linear PCA.

    Parameters
    ----------
    tied_weights : bool, default=False
        Decode with the transposed encoder weights (and biases of its own):
        about half the parameters, and a decoder that cannot drift away from
        the encoder. See :class:`~anomalib_ae.nn.TiedAutoEncoderNet`.
    code_l1 : float, default=0.0
        Weight of an L1 penalty on the code (mean absolute code value per
        row), for sparse codes. Needed when ``latent_dim`` is as large as the
        input width or larger: without it such a net learns the identity and
        rebuilds anomalies as well as normal rows.
    pretrain : {"layerwise"} or None, default=None
        ``"layerwise"`` first trains one shallow autoencoder per layer, each on
        the codes of the layers below, then fine-tunes the whole stack for
        ``max_epochs`` (Hinton & Salakhutdinov, 2006).
    pretrain_epochs : int, default=10
        Epochs of each layer's pretraining.
    code_density : bool, default=False
        Add to the score how unlikely the row's latent code is under a MADE
        fitted on the training codes (:class:`~anomalib_ae.scoring.CodeDensity`,
        the latent-density term of LSA, Abati et al. 2019), in units of its
        training median like the other terms.
    {error_scaling_params}
    {input_neighbor_params}
    {image_params}
    {neural_params}

    Attributes
    ----------
    {neural_attributes}

    See Also
    --------
    DenoisingAutoEncoderDetector, VAEDetector

    Notes
    -----
    ``score_samples`` is the negated reconstruction score, so higher means
    more normal, as in scikit-learn. With ``error_scaling="none"`` and
    ``code_neighbors=0`` that score is the mean squared error between the
    scaled row and its reconstruction; on tables the defaults divide each
    feature's error by its training median and add the code-neighbour
    distance (both in units of their training medians), and train with a
    trimmed loss (``trim_fraction``): see ``docs/defaults.md`` for the
    ablation behind each. Training uses PyTorch Lightning; scoring is a plain
    batched ``torch.inference_mode`` loop.

    References
    ----------
    .. [1] Hinton, G. E. and Salakhutdinov, R. R. (2006). Reducing the
       dimensionality of data with neural networks. Science 313(5786).
    .. [2] Ng, A. (2011). Sparse autoencoder. CS294A Lecture notes, Stanford.
    .. [3] Baldi, P. and Hornik, K. (1989). Neural networks and principal
       component analysis: learning from examples without local minima.
       Neural Networks 2(1).

    Examples
    --------
    >>> import numpy as np
    >>> from anomalib_ae import AutoEncoderDetector
    >>> rng = np.random.default_rng(0)
    >>> X = rng.normal(size=(200, 4))
    >>> det = AutoEncoderDetector(hidden_dims=(8,), latent_dim=2, max_epochs=5,
    ...                           random_state=0).fit(X)
    >>> det.score_samples(X[:3]).shape
    (3,)
    >>> set(det.predict(X)) <= {-1, 1}
    True
    """

    _parameter_constraints: dict = {
        **BaseNeuralDetector._parameter_constraints,
        "tied_weights": ["boolean"],
        "code_l1": [Interval(Real, 0, None, closed="left")],
        "pretrain": [StrOptions({"layerwise"}), None],
        "pretrain_epochs": [Interval(Integral, 1, None, closed="left")],
        **ERROR_SCALE_CONSTRAINTS,
        **CODE_DENSITY_CONSTRAINTS,
        **INPUT_NEIGHBOR_CONSTRAINTS,
        **IMAGE_CONSTRAINTS,
    }

    __init__ = neural_init(**AUTOENCODER_DEFAULTS, **INPUT_NEIGHBOR_DEFAULTS, **IMAGE_DEFAULTS)

    def _build_net(self, n_features: int) -> nn.Module:
        if self._uses_conv():
            return ConvAutoEncoderNet(**self._conv_kwargs())
        net_class = TiedAutoEncoderNet if self.tied_weights else AutoEncoderNet
        return net_class(
            n_features,
            **self._mlp_kwargs(),
        )

    def _score_terms(self) -> list[ScoreTerm]:
        return table_terms(
            self, [reconstruction_term(self), *neighbor_terms(self), *density_terms(self)]
        )

    def _penalties(self) -> dict[str, float]:
        """Weights of the code penalties of :class:`PenalizedReconstructionSystem`."""
        return {"code_l1": self.code_l1}

    def _build_system(self, net: nn.Module) -> pl.LightningModule:
        penalties = self._penalties()
        if not any(penalties.values()):
            return super()._build_system(net)
        return PenalizedReconstructionSystem(net, **self._optimizer_kwargs(), **penalties)

    def _before_training(self, net: nn.Module, datamodule: ArrayDataModule, seed: int) -> None:
        if self.pretrain != "layerwise":
            return
        pretrain_layerwise(
            net,
            datamodule.train_X,
            make_system=super()._build_system,
            make_trainer=lambda: self._make_trainer(self.pretrain_epochs),
            batch_size=self.batch_size,
            seed=seed,
            transform=datamodule.transform,
        )
