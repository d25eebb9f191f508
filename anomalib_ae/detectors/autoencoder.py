"""AutoEncoderDetector: an MLP autoencoder scored by its reconstruction error."""

from __future__ import annotations

from torch import nn

from anomalib_ae.detectors._docs import fill_doc
from anomalib_ae.detectors.base import BaseNeuralDetector
from anomalib_ae.nn.mlp import AutoEncoderNet


@fill_doc
class AutoEncoderDetector(BaseNeuralDetector):
    """Autoencoder outlier detector scored by the mean squared reconstruction error.

    An autoencoder squeezes each row through a narrow code and rebuilds it. It
    learns to rebuild what is common in the training data, so rows unlike it
    are rebuilt badly: their reconstruction error is the anomaly score. With
    no activation the autoencoder spans the same subspace as PCA with
    ``latent_dim`` components; with activations it is a non-linear PCA.

    Parameters
    ----------
    {neural_params}

    Attributes
    ----------
    {neural_attributes}

    See Also
    --------
    DenoisingAutoEncoderDetector, VAEDetector

    Notes
    -----
    ``score_samples`` is the negated mean squared error between the scaled
    row and its reconstruction, so higher means more normal, as in
    scikit-learn. Training uses PyTorch Lightning; scoring is a plain batched
    ``torch.inference_mode`` loop.

    References
    ----------
    .. [1] Hinton, G. E. and Salakhutdinov, R. R. (2006). Reducing the
       dimensionality of data with neural networks. Science 313(5786).
    .. [2] Baldi, P. and Hornik, K. (1989). Neural networks and principal
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

    def _build_net(self, n_features: int) -> nn.Module:
        return AutoEncoderNet(
            n_features,
            hidden_dims=tuple(self.hidden_dims),
            latent_dim=self.latent_dim,
            activation=self.activation,
            dropout=self.dropout,
            batch_norm=self.batch_norm,
        )
