"""Greedy layer-wise pretraining of a stacked autoencoder (Hinton & Salakhutdinov, 2006).

Each encoder layer and its mirror decoder layer form a shallow autoencoder,
trained on the codes that the layers below it (already pretrained) give for
the training rows. The stack is then fine-tuned end to end by the caller.
"""

from __future__ import annotations

from collections.abc import Callable

import numpy as np
import pytorch_lightning as pl
from torch import nn

from anomalib_ae.nn.tied import TiedLinear
from anomalib_ae.training.data import ArrayDataModule, Transform
from anomalib_ae.training.inference import predict_batches


def split_layers(stack: nn.Sequential) -> list[nn.Sequential]:
    """Cut a ``Sequential`` into blocks that each start at a linear layer.

    Normalisation, activation and dropout modules stay with the linear layer
    before them. The blocks share their modules with ``stack``.

    Examples
    --------
    >>> from anomalib_ae.nn import MLP
    >>> [len(block) for block in split_layers(MLP([5, 4, 3, 2]))]
    [2, 2, 1]
    """
    blocks: list[list[nn.Module]] = []
    for module in stack:
        if isinstance(module, (nn.Linear, TiedLinear)) or not blocks:
            blocks.append([])
        blocks[-1].append(module)
    return [nn.Sequential(*block) for block in blocks]


def shallow_autoencoders(net: nn.Module) -> list[tuple[nn.Sequential, nn.Sequential]]:
    """Pair each encoder layer of ``net`` with its mirror decoder layer, input side first.

    ``net`` must have ``encoder`` and ``decoder`` ``Sequential`` modules with
    the same number of linear layers (as :class:`~anomalib_ae.nn.AutoEncoderNet`
    and :class:`~anomalib_ae.nn.TiedAutoEncoderNet` do).
    """
    encoder = getattr(net, "encoder", None)
    decoder = getattr(net, "decoder", None)
    if not isinstance(encoder, nn.Sequential) or not isinstance(decoder, nn.Sequential):
        raise TypeError(
            f"Layer-wise pretraining needs a net with `encoder` and `decoder` Sequential "
            f"modules; {type(net).__name__} has none."
        )
    enc, dec = split_layers(encoder), split_layers(decoder)
    if len(enc) != len(dec):
        raise ValueError(
            f"Layer-wise pretraining needs mirrored encoder and decoder; got {len(enc)} "
            f"encoder and {len(dec)} decoder layers."
        )
    return list(zip(enc, reversed(dec)))


def pretrain_layerwise(
    net: nn.Module,
    X: np.ndarray,
    *,
    make_system: Callable[[nn.Module], pl.LightningModule],
    make_trainer: Callable[[], pl.Trainer],
    batch_size: int,
    seed: int = 0,
    transform: Transform | None = None,
) -> list[list[dict[str, float]]]:
    """Pretrain ``net`` in place, one shallow autoencoder per layer.

    Parameters
    ----------
    net : torch.nn.Module
        A stacked autoencoder (see :func:`shallow_autoencoders`).
    X : ndarray of shape (n_samples, n_features)
        Training rows.
    make_system : callable
        Builds the Lightning system that trains one shallow autoencoder.
    make_trainer : callable
        Builds a fresh Trainer for one layer.
    batch_size : int
        Training batch size.
    seed : int, default=0
        Seed of the shuffling (layer ``k`` uses ``seed + k``).
    transform : callable, optional
        Input scaling applied to ``X`` first.

    Returns
    -------
    list of list of dict
        The training history of each layer, input side first.

    Examples
    --------
    >>> import numpy as np
    >>> from anomalib_ae.nn import AutoEncoderNet
    >>> from anomalib_ae.training import ReconstructionSystem, make_trainer
    >>> net = AutoEncoderNet(4, hidden_dims=(3,), latent_dim=2)
    >>> histories = pretrain_layerwise(
    ...     net, np.random.default_rng(0).normal(size=(40, 4)),
    ...     make_system=ReconstructionSystem, make_trainer=lambda: make_trainer(2),
    ...     batch_size=16)
    >>> [len(h) for h in histories]
    [2, 2]
    """
    net.train()
    codes, histories = X, []
    for k, (enc_layer, dec_layer) in enumerate(shallow_autoencoders(net)):
        # The first layer reads the (possibly memory-mapped) rows through `transform`;
        # the layers above it train on the in-memory codes of the layer below.
        rows_transform = transform if k == 0 else None
        system = make_system(nn.Sequential(enc_layer, dec_layer))
        datamodule = ArrayDataModule(
            codes, batch_size=batch_size, seed=seed + k, transform=rows_transform
        )
        make_trainer().fit(system, datamodule=datamodule)
        histories.append(list(getattr(system, "history", [])))
        enc_layer.eval()
        codes = predict_batches(enc_layer, codes, transform=rows_transform).astype(np.float32)
        enc_layer.train()
    return histories
