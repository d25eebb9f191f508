"""One table of the neural detectors' shared parameters and their defaults.

scikit-learn reads an estimator's parameters from the signature of its
``__init__``. Rather than paste the same twenty-odd keyword arguments into every
detector, :func:`neural_init` builds an ``__init__`` that stores exactly the
shared parameters plus a detector's own, with a real signature (``inspect``,
``get_params``, ``clone``, ``repr`` and IDE help all see it).
"""

from __future__ import annotations

import inspect
import math
from collections.abc import Callable
from typing import Any

from sklearn.utils import check_random_state

NEURAL_DEFAULTS: dict[str, Any] = {
    "hidden_dims": (64, 32),
    "latent_dim": 8,
    "activation": "relu",
    "dropout": 0.0,
    "batch_norm": False,
    "max_epochs": 20,
    "batch_size": 128,
    "lr": 1e-3,
    "weight_decay": 0.0,
    "optimizer": "adam",
    "scaler": "standard",
    "trim_fraction": "auto",
    "trim_warmup": 0.2,
    "validation_fraction": 0.1,
    "early_stopping": False,
    "patience": 10,
    "inference_batch_size": 4096,
    "inference_precision": "float64",
    "contamination": 0.1,
    "calibration": None,
    "fpr": None,
    "threshold": None,
    "random_state": None,
    "verbose": False,
    "accelerator": "cpu",
    "devices": 1,
    "precision": None,
    "trainer_kwargs": None,
}


def neural_init(**own_defaults: Any) -> Callable[..., None]:
    """Build a keyword-only ``__init__`` storing the shared and the detector's own parameters.

    Parameters
    ----------
    **own_defaults
        The detector's own parameters and their defaults; they come first in the
        signature and may override a shared default.

    Returns
    -------
    callable
        An ``__init__`` whose ``__signature__`` lists every parameter.

    Examples
    --------
    >>> class Toy:
    ...     __init__ = neural_init(noise_std=0.2, max_epochs=5)
    >>> toy = Toy(noise_std=0.5)
    >>> toy.noise_std, toy.max_epochs, toy.latent_dim
    (0.5, 5, 8)
    >>> Toy(bogus=1)
    Traceback (most recent call last):
    ...
    TypeError: Toy got unexpected parameter(s) ['bogus'].
    """
    defaults = {
        **own_defaults,
        **{k: v for k, v in NEURAL_DEFAULTS.items() if k not in own_defaults},
    }

    def __init__(self, **params: Any) -> None:  # noqa: N807
        unknown = sorted(set(params) - set(defaults))
        if unknown:
            raise TypeError(f"{type(self).__name__} got unexpected parameter(s) {unknown}.")
        for name, default in defaults.items():
            setattr(self, name, params.get(name, default))

    kw = inspect.Parameter.KEYWORD_ONLY
    __init__.__signature__ = inspect.Signature(
        [inspect.Parameter("self", inspect.Parameter.POSITIONAL_OR_KEYWORD)]
        + [inspect.Parameter(name, kw, default=value) for name, value in defaults.items()],
        return_annotation=None,
    )
    return __init__


def seed_from(random_state: Any) -> int:
    """Turn a ``random_state`` (None, int or RandomState) into one integer seed.

    Examples
    --------
    >>> seed_from(0) == seed_from(0)
    True
    """
    return int(check_random_state(random_state).randint(0, 2**31 - 1))


TABLE_EPOCHS = 20
"""Epochs of ``max_epochs="auto"`` on tables (short: contaminated rows, ``docs/defaults.md``)."""

IMAGE_STEPS = 400
"""Optimiser steps ``max_epochs="auto"`` trains a conv net for, at least (``docs/defaults.md``)."""


def auto_epochs(n_train: int, batch_size: int, images: bool) -> int:
    """The epochs of ``max_epochs="auto"`` for ``n_train`` training rows.

    Tables: :data:`TABLE_EPOCHS`. Images (conv nets): enough epochs for at
    least :data:`IMAGE_STEPS` optimiser steps, and at least
    :data:`TABLE_EPOCHS`: one-class image sets are clean, and a conv net of a
    few hundred images is far from converged after 20 epochs (steps, not
    epochs, are what it needs: the budget grows as the set shrinks).

    Examples
    --------
    >>> auto_epochs(5000, 128, images=False)
    20
    >>> auto_epochs(700, 128, images=True)  # 6 batches per epoch
    67
    >>> auto_epochs(100_000, 128, images=True)
    20
    """
    if not images:
        return TABLE_EPOCHS
    batches = max(1, math.ceil(n_train / batch_size))
    return max(TABLE_EPOCHS, math.ceil(IMAGE_STEPS / batches))
