"""Similarity search in code space: the training rows nearest to a row, by latent code."""

from __future__ import annotations

from numbers import Integral
from typing import Any

import numpy as np
from sklearn.neighbors import NearestNeighbors
from sklearn.utils.validation import check_is_fitted


class CodeNeighborsMixin:
    """``kneighbors`` over the latent codes of the training rows.

    The host class provides ``transform`` (latent codes of new rows) and calls
    :meth:`_fit_code_index` with the training rows' codes at the end of
    ``fit``. ``fit`` only keeps the codes (float32 when that is exact); the
    search index, the fitted attribute ``code_index_`` (a fitted
    :class:`sklearn.neighbors.NearestNeighbors`), is built from them the first
    time it is used, so fitting and scoring never pay for it (at a million
    rows: seconds of ``fit`` and 0.1x the data's memory).
    """

    def _fit_code_index(self, codes: np.ndarray) -> None:
        """Keep the training rows' latent codes ``codes`` for :meth:`kneighbors`."""
        compact = np.asarray(codes, dtype=np.float32)
        self._train_codes = compact if np.array_equal(compact, codes) else np.asarray(codes)
        self.__dict__.pop("_code_index", None)  # a refit drops the old index

    @property
    def code_index_(self) -> NearestNeighbors:
        """Index over the training rows' latent codes (built on first use)."""
        index = self.__dict__.get("_code_index")
        if index is None:
            if "_train_codes" not in self.__dict__:
                raise AttributeError(f"{type(self).__name__} has no code index: fit it first.")
            # In float64, as the codes always were (float32 codes convert exactly), so
            # distances do not change and sklearn keeps its fast same-dtype search.
            self.code_index_ = NearestNeighbors().fit(np.asarray(self._train_codes, np.float64))
            index = self._code_index
        return index

    @code_index_.setter
    def code_index_(self, index: NearestNeighbors) -> None:
        # The index holds the codes (as ``_fit_X``): keep them once. Loading a file saved
        # before the index was lazy sets it this way too.
        self._code_index = index
        self.__dict__.pop("_train_codes", None)

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
        n_train = self.code_index_.n_samples_fit_ - (1 if X is None else 0)
        if not 1 <= n_neighbors <= n_train:
            raise ValueError(
                f"n_neighbors must be between 1 and {n_train} (the number of training rows"
                f"{' other than the query' if X is None else ''}), got {n_neighbors}."
            )
        codes = None if X is None else self.transform(X)
        return self.code_index_.kneighbors(
            codes, n_neighbors=int(n_neighbors), return_distance=return_distance
        )
