"""The conditional VAE net: a VAE over some columns of a row, given its other columns."""

from __future__ import annotations

from collections.abc import Sequence

import torch

from anomalib_ae.nn.vae import VAENet


class ConditionalVAENet(VAENet):
    """A :class:`~anomalib_ae.nn.VAENet` over a row's target columns, conditioned on the rest.

    Rows come whole; :meth:`split` separates the *context* columns ``c``
    (listed in ``condition``) from the *target* columns ``x`` (all others).
    The encoder sees ``[x, c]`` and the decoder ``[z, c]``; the decoder
    rebuilds only ``x``. With no context columns it is the plain VAE.

    Parameters
    ----------
    n_features : int
        Width of a whole row (target and context columns).
    condition : sequence of int
        Positions of the context columns, in ``[0, n_features)``.
    hidden_dims, latent_dim, activation, dropout, batch_norm
        As in :class:`~anomalib_ae.nn.VAENet`.

    Examples
    --------
    >>> net = ConditionalVAENet(5, condition=[4], hidden_dims=(4,), latent_dim=2)
    >>> x, c = net.split(torch.zeros(3, 5))
    >>> x.shape, c.shape, net(x, c).shape
    (torch.Size([3, 4]), torch.Size([3, 1]), torch.Size([3, 4]))
    """

    def __init__(
        self,
        n_features: int,
        condition: Sequence[int] = (),
        hidden_dims: Sequence[int] = (64, 32),
        latent_dim: int = 8,
        activation: str | None = "relu",
        dropout: float = 0.0,
        batch_norm: bool = False,
    ) -> None:
        context = sorted({int(i) for i in condition})
        if any(not 0 <= i < n_features for i in context) or len(context) >= n_features:
            raise ValueError(
                f"condition must list some (not all) of the {n_features} columns, got {context}."
            )
        target = [i for i in range(n_features) if i not in set(context)]
        super().__init__(
            len(target), hidden_dims, latent_dim, activation, dropout, batch_norm, len(context)
        )
        self.register_buffer("target_idx", torch.tensor(target, dtype=torch.long))
        self.register_buffer("condition_idx", torch.tensor(context, dtype=torch.long))

    def split(self, rows: torch.Tensor) -> tuple[torch.Tensor, torch.Tensor | None]:
        """Target columns and context columns (``None`` without context) of whole rows."""
        c = rows[:, self.condition_idx] if self.n_condition else None
        return rows[:, self.target_idx], c

    def given(self, c: torch.Tensor | None) -> ConditionedVAE:
        """This net with its condition fixed to ``c``: the plain VAE interface over ``x``."""
        return ConditionedVAE(self, c)


class ConditionedVAE:
    """A conditional VAE net with a fixed condition, seen through the plain VAE interface.

    ``posterior(x)``, ``decode(z)`` and calling it behave as a
    :class:`~anomalib_ae.nn.VAENet` whose every distribution is given ``c``,
    so code written for the unconditional VAE (e.g. its scores) runs unchanged.
    """

    def __init__(self, net: VAENet, c: torch.Tensor | None) -> None:
        self.net = net
        self.c = c

    def posterior(self, x: torch.Tensor) -> tuple[torch.Tensor, torch.Tensor]:
        return self.net.posterior(x, self.c)

    def encode(self, x: torch.Tensor) -> torch.Tensor:
        return self.net.encode(x, self.c)

    def decode(self, z: torch.Tensor) -> torch.Tensor:
        return self.net.decode(z, self.c)

    def __call__(self, x: torch.Tensor) -> torch.Tensor:
        return self.net(x, self.c)
