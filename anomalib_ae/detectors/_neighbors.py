"""Similarity search in code space: the training rows nearest to a row, by latent code."""

from __future__ import annotations

from numbers import Integral
from typing import Any

import numpy as np
from sklearn.utils.validation import check_is_fitted


class CodeNeighborsMixin:
    """``kneighbors`` over the latent codes of the training rows.

    The host class provides ``transform`` (latent codes of new rows) and, once
    fitted, ``code_index_``: a :class:`~anomalib_ae.scoring.NeighborIndex`
    over the training rows' codes (exact search,
    :class:`~anomalib_ae.scoring.ExactIndex`, built on first use).
    """

    def kneighbors(
        self, X: Any = None, n_neighbors: int = 5, return_distance: bool = True
    ) -> np.ndarray | tuple[np.ndarray, np.ndarray]:
        """Find the training rows whose latent codes are nearest to those of ``X``.

        Similarity search with the learned representation: two rows are close
        when the encoder maps them to nearby codes (Euclidean distance between
        the codes that :meth:`transform` returns), which for a trained
        autoencoder tracks what the rows have in common rather than raw
        feature distances.

        Parameters
        ----------
        X : array-like of shape (n_queries, n_features), default=None
            Query rows. ``None`` queries the training rows themselves, each
            excluded from its own neighbours (as in scikit-learn).
        n_neighbors : int, default=5
            Number of neighbours per query, at most the number of training rows.
        return_distance : bool, default=True
            Also return the distances.

        Returns
        -------
        distances : ndarray of shape (n_queries, n_neighbors)
            Code-space distances, nearest first (only with ``return_distance``).
        indices : ndarray of shape (n_queries, n_neighbors)
            Positions of the neighbours among the training rows.
        """
        check_is_fitted(self, "code_index_")
        if not isinstance(n_neighbors, Integral) or isinstance(n_neighbors, bool):
            raise TypeError(f"n_neighbors must be an int, got {type(n_neighbors).__name__}.")
        n_train = self.code_index_.n_samples - (1 if X is None else 0)
        if not 1 <= n_neighbors <= n_train:
            raise ValueError(
                f"n_neighbors must be between 1 and {n_train} (the number of training rows"
                f"{' other than the query' if X is None else ''}), got {n_neighbors}."
            )
        codes = None if X is None else self.transform(X)
        return self.code_index_.kneighbors(
            codes, n_neighbors=int(n_neighbors), return_distance=return_distance
        )
