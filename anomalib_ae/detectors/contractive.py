"""ContractiveAutoEncoderDetector: codes that barely move when the input moves a little."""

from __future__ import annotations

from numbers import Real

from sklearn.utils._param_validation import Interval
from torch import nn

from anomalib_ae.detectors._docs import fill_doc
from anomalib_ae.detectors._params import neural_init
from anomalib_ae.detectors.autoencoder import AUTOENCODER_DEFAULTS, AutoEncoderDetector
from anomalib_ae.nn.mlp import make_activation


@fill_doc
class ContractiveAutoEncoderDetector(AutoEncoderDetector):
    """Contractive autoencoder outlier detector (Rifai et al., 2011).

    The training loss adds ``contractive * ||dz/dx||_F^2``, the squared
    Frobenius norm of the encoder's Jacobian, to the reconstruction error. The
    code then changes only along the directions in which the training rows
    vary (the data manifold) and ignores small moves off it, so rows off the
    manifold are projected back onto it and rebuilt badly. The code passes
    through ``activation`` (a saturating code, as in the original paper).

    The defaults give the classic one-layer contractive autoencoder
    (``hidden_dims=()``, ``activation="sigmoid"``), whose penalty has a
    closed form; deeper encoders or other activations use the exact
    Jacobian from autograd (slower; batch normalisation is not supported).

    Parameters
    ----------
    contractive : float, default=0.1
        Weight of the Jacobian penalty.
    tied_weights : bool, default=False
        See :class:`AutoEncoderDetector`.
    code_l1 : float, default=0.0
        See :class:`AutoEncoderDetector`.
    pretrain : {"layerwise"} or None, default=None
        See :class:`AutoEncoderDetector`.
    pretrain_epochs : int, default=10
        See :class:`AutoEncoderDetector`.
    {neural_params}

    Attributes
    ----------
    {neural_attributes}

    See Also
    --------
    AutoEncoderDetector, DenoisingAutoEncoderDetector

    References
    ----------
    .. [1] Rifai, S., Vincent, P., Muller, X., Glorot, X. and Bengio, Y. (2011).
       Contractive auto-encoders: explicit invariance during feature
       extraction. ICML.

    Examples
    --------
    >>> import numpy as np
    >>> from anomalib_ae import ContractiveAutoEncoderDetector
    >>> X = np.random.default_rng(0).normal(size=(100, 4))
    >>> det = ContractiveAutoEncoderDetector(latent_dim=2, max_epochs=3,
    ...                                      random_state=0).fit(X)
    >>> det.score_samples(X[:2]).shape
    (2,)
    """

    _parameter_constraints: dict = {
        **AutoEncoderDetector._parameter_constraints,
        "contractive": [Interval(Real, 0, None, closed="left")],
    }

    __init__ = neural_init(
        contractive=0.1, **AUTOENCODER_DEFAULTS, hidden_dims=(), activation="sigmoid"
    )

    def _build_net(self, n_features: int) -> nn.Module:
        if self.batch_norm and self.contractive > 0:
            raise ValueError(
                "ContractiveAutoEncoderDetector does not support batch_norm=True: the "
                "Jacobian penalty needs an encoder that treats rows independently."
            )
        net = super()._build_net(n_features)
        net.encoder.append(make_activation(self.activation))
        return net

    def _penalties(self) -> dict[str, float]:
        return {**super()._penalties(), "contractive": self.contractive}
