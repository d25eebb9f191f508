"""Approximate code-space neighbour search for large training sets, and the choice of index.

Exact search over ``n`` training codes costs a tree query per row whose work
grows with ``n`` (in 8 dimensions a k-d tree visits a large share of the
leaves), and the training rows' leave-one-out distances cost ``n`` such
queries. Above :data:`EXACT_MAX_ROWS` training rows the detectors search
approximately, at a cost per row that grows only slowly with ``n``:

- :class:`IVFIndex` (with ``faiss-cpu``, the extra ``anomalib_ae[faiss]``):
  an inverted-file index. The codes are split into ``sqrt(8 n)`` lists
  around centroids (a few seeded Lloyd iterations; each code's nearest
  centroid is picked by exact float64 distances among the 3 that faiss
  proposes); a query scans the ``n_probe`` lists whose centroids are nearest and gets the
  nearest codes among those.
- :class:`SubsetIndex` (without faiss): exact search over a seeded subset of
  at most ``max_rows`` training codes.

Both are deterministic: a row's neighbours do not depend on the other rows
of its batch, on the number of threads or on the run. The lists an
:class:`IVFIndex` query probes are ranked by exact float64 distances (faiss's
float32 search proposes twice as many), and its candidates are re-ranked by
exact float64 distances to the stored codes (faiss proposes ``k + 8``),
ties broken by position. The leave-one-out distances of the training rows
come from the same search (``k + 1`` neighbours, the row itself dropped), not
from an all-pairs search.
"""

from __future__ import annotations

import importlib.util
import threading
import weakref
from typing import Any

import numpy as np

from anomalib_ae.scoring.neighbors import ExactIndex, NeighborIndex

EXACT_MAX_ROWS = 50_000
"""``neighbor_index="auto"`` searches exactly up to this many training rows, approximately above."""

_CHUNK = 4096  # rows per search call (bounds the (rows, candidates, dim) float64 buffers)
_MARGIN = 8  # extra candidates faiss proposes, re-ranked exactly
_FAISS: weakref.WeakKeyDictionary = weakref.WeakKeyDictionary()  # index -> built faiss index
_LOCK = threading.Lock()


def has_faiss() -> bool:
    """Whether ``faiss`` (``pip install anomalib_ae[faiss]``) can be imported."""
    return importlib.util.find_spec("faiss") is not None


def make_index(codes: np.ndarray, kind: str = "auto") -> NeighborIndex:
    """The index ``neighbor_index=kind`` asks for, fitted on the training ``codes``.

    ``"exact"``: :class:`~anomalib_ae.scoring.ExactIndex`; ``"approximate"``:
    :class:`IVFIndex`, or :class:`SubsetIndex` without faiss; ``"auto"``:
    exact up to :data:`EXACT_MAX_ROWS` rows, approximate above.

    Examples
    --------
    >>> codes = np.random.default_rng(0).normal(size=(100, 2))
    >>> type(make_index(codes)).__name__
    'ExactIndex'
    """
    if kind not in ("auto", "exact", "approximate"):
        raise ValueError(f"neighbor_index must be 'auto', 'exact' or 'approximate', got {kind!r}.")
    if kind == "exact" or (kind == "auto" and len(codes) <= EXACT_MAX_ROWS):
        return ExactIndex().fit(codes)
    return (IVFIndex() if has_faiss() else SubsetIndex()).fit(codes)


def _compact(codes: np.ndarray) -> np.ndarray:
    """float32 when that holds the codes exactly (as :class:`ExactIndex` keeps them)."""
    compact = np.asarray(codes, dtype=np.float32)
    return compact if np.array_equal(compact, codes) else np.asarray(codes, dtype=np.float64)


def _rank(queries: np.ndarray, points: np.ndarray, ids: np.ndarray, keep: int):
    """Exact float64 distances from each query to its candidate ``points``; the ``keep`` nearest.

    ``points`` (rows, m, dim) and ``ids`` (rows, m), ``-1`` for no candidate;
    ties are broken by id, so the result does not depend on the candidates' order.
    """
    diff = points - queries[:, None, :]
    dist = np.sqrt(np.einsum("rmd,rmd->rm", diff, diff))
    dist[ids < 0] = np.inf
    order = np.lexsort((ids, dist), axis=1)[:, :keep]
    return np.take_along_axis(dist, order, 1), np.take_along_axis(ids, order, 1)


def _without_self(dist: np.ndarray, ids: np.ndarray, rows: np.ndarray, k: int):
    """Drop each training row from its own ``k + 1`` neighbours (else its farthest one)."""
    own = ids == rows[:, None]
    drop = np.where(own.any(1), own.argmax(1), k)
    keep = np.arange(k + 1)[None, :] != drop[:, None]
    return dist[keep].reshape(-1, k), ids[keep].reshape(-1, k)


class IVFIndex(NeighborIndex):
    """Approximate search with a faiss inverted-file index (exact float64 re-ranking).

    ``fit`` keeps the codes; the lists are built the first time the index is
    searched (centroids from seeded Lloyd iterations on at most ``32 *
    n_lists`` codes), and rebuilt from the stored centroids and list
    assignments after loading a saved detector (no faiss object is stored).

    Parameters
    ----------
    n_probe : int, default=8
        Lists each query scans.
    n_lists : int or None, default=None
        Number of lists; None: ``round(sqrt(n_probe * n))`` (which balances the
        centroids' and the lists' scans).
    n_iter : int, default=5
        Lloyd iterations of the centroids.
    random_state : int, default=0
        Seed of the centroids' sample.

    Examples
    --------
    >>> codes = np.random.default_rng(0).normal(size=(500, 2))
    >>> index = IVFIndex().fit(codes)
    >>> dist, ids = index.kneighbors(codes[:2], 1)
    >>> ids.ravel().tolist(), dist.ravel().tolist()
    ([0, 1], [0.0, 0.0])
    """

    def __init__(
        self, n_probe: int = 8, n_lists: int | None = None, n_iter: int = 5, random_state: int = 0
    ) -> None:
        self.n_probe, self.n_lists, self.n_iter, self.random_state = (
            n_probe,
            n_lists,
            n_iter,
            random_state,
        )

    def fit(self, codes: np.ndarray) -> IVFIndex:
        self.codes_ = _compact(codes)
        self.n_samples = len(codes)
        self.centroids_ = self.lists_ = None
        return self

    # ---- building ----------------------------------------------------------------------
    def _centroids(self) -> np.ndarray:
        n = self.n_samples
        n_lists = self.n_lists or max(1, round(np.sqrt(self.n_probe * n)))
        n_lists = min(n_lists, n)
        rng = np.random.default_rng(self.random_state)
        sample = np.sort(rng.choice(n, size=min(n, 32 * n_lists), replace=False))
        points = np.asarray(self.codes_[sample], dtype=np.float64)
        centroids = points[np.sort(rng.choice(len(points), size=n_lists, replace=False))]
        for _ in range(self.n_iter):
            nearest = _nearest_centroid(points, centroids)
            counts = np.bincount(nearest, minlength=n_lists)
            sums = np.zeros_like(centroids)
            np.add.at(sums, nearest, points)
            filled = counts > 0  # an empty list keeps its centroid
            centroids[filled] = sums[filled] / counts[filled, None]
        return centroids

    @property
    def searcher(self) -> Any:
        """The faiss index (built on first use, or rebuilt from the stored lists)."""
        with _LOCK:
            built = _FAISS.get(self)
        if built is not None:
            return built
        import faiss

        if self.centroids_ is None:
            self.centroids_ = self._centroids()
            self.lists_ = _nearest_centroid(self.codes_, self.centroids_)
        dim = self.centroids_.shape[1]
        quantizer = faiss.IndexFlatL2(dim)
        quantizer.add(np.ascontiguousarray(self.centroids_, dtype=np.float32))
        index = faiss.IndexIVFFlat(quantizer, dim, len(self.centroids_))
        index.is_trained = True
        from faiss.contrib.ivf_tools import add_preassigned

        add_preassigned(index, np.ascontiguousarray(self.codes_, dtype=np.float32), self.lists_)
        index.nprobe = min(int(self.n_probe), len(self.centroids_))
        built = (index, quantizer)
        with _LOCK:
            _FAISS[self] = built
        return built

    # ---- searching ---------------------------------------------------------------------
    def _probes(self, quantizer: Any, q64: np.ndarray, q32: np.ndarray, n_probe: int):
        """The ``n_probe`` lists nearest to each query, by exact float64 distances."""
        found = min(2 * n_probe, len(self.centroids_))
        lists = quantizer.search(q32, found)[1]
        _, lists = _rank(q64, self.centroids_[np.maximum(lists, 0)], lists, n_probe)
        return np.ascontiguousarray(lists)

    def _search(self, queries: np.ndarray, k: int):
        index, quantizer = self.searcher
        from faiss.contrib.ivf_tools import search_preassigned

        q64 = np.asarray(queries, dtype=np.float64)
        q32 = np.ascontiguousarray(q64, dtype=np.float32)
        lists = self._probes(quantizer, q64, q32, index.nprobe)
        m = min(k + _MARGIN, self.n_samples)
        ids = search_preassigned(index, q32, m, lists)[1]
        points = np.asarray(self.codes_[np.maximum(ids, 0)], dtype=np.float64)
        dist, ids = _rank(q64, points, ids, k)
        short = ~np.isfinite(dist[:, -1])  # too few codes in the probed lists: search exactly
        if short.any():
            every = np.broadcast_to(np.arange(self.n_samples), (int(short.sum()), self.n_samples))
            codes = np.broadcast_to(self.codes_, (len(every), *self.codes_.shape))
            dist[short], ids[short] = _rank(q64[short], np.asarray(codes, np.float64), every, k)
        return dist, ids

    def kth_training_distance(self, k: int) -> np.ndarray:
        out = np.empty(self.n_samples)
        for start in range(0, self.n_samples, _CHUNK):  # (no (n, k) arrays of every row)
            chunk = self.codes_[start : start + _CHUNK]
            rows = np.arange(start, start + len(chunk))
            out[rows] = _without_self(*self._search(chunk, k + 1), rows, k)[0][:, -1]
        return out

    def kneighbors(self, queries, n_neighbors, return_distance=True):
        k = int(n_neighbors)
        training = queries is None
        source = self.codes_ if training else np.asarray(queries)
        parts = []
        for start in range(0, len(source), _CHUNK):
            chunk = source[start : start + _CHUNK]
            if training:
                rows = np.arange(start, start + len(chunk))
                parts.append(_without_self(*self._search(chunk, k + 1), rows, k))
            else:
                parts.append(self._search(chunk, k))
        dist = np.concatenate([p[0] for p in parts]) if parts else np.empty((0, k))
        ids = np.concatenate([p[1] for p in parts]) if parts else np.empty((0, k), np.int64)
        return (dist, ids) if return_distance else ids


def _nearest_centroid(points: np.ndarray, centroids: np.ndarray) -> np.ndarray:
    """Each point's nearest centroid: faiss proposes 3 (float32), exact float64 distances pick.

    (A float64 NumPy distance matrix would write ``n x n_lists`` floats per pass.)
    """
    import faiss

    quantizer = faiss.IndexFlatL2(centroids.shape[1])
    quantizer.add(np.ascontiguousarray(centroids, dtype=np.float32))
    found = min(3, len(centroids))
    nearest = np.empty(len(points), dtype=np.int64)
    for start in range(0, len(points), _CHUNK):
        chunk = np.asarray(points[start : start + _CHUNK], dtype=np.float64)
        lists = quantizer.search(np.ascontiguousarray(chunk, dtype=np.float32), found)[1]
        nearest[start : start + len(chunk)] = _rank(
            chunk, centroids[np.maximum(lists, 0)], lists, 1
        )[1][:, 0]
    return nearest


class SubsetIndex(NeighborIndex):
    """Exact search over a seeded subset of at most ``max_rows`` training codes (no faiss needed).

    The neighbours are the nearest codes *of the subset*: distances grow
    somewhat with the subsampling (as for any subsampled detector), and the
    cost per row stays that of ``max_rows`` codes. A training row in the
    subset leaves itself out; the others search the whole subset. All the
    training codes are kept (for their leave-one-out distances).

    Examples
    --------
    >>> codes = np.arange(10.0)[:, None]
    >>> index = SubsetIndex(max_rows=4).fit(codes)
    >>> index.rows_.tolist()
    [2, 4, 5, 7]
    >>> index.kneighbors(np.array([[5.2]]), 2)[1].tolist()
    [[5, 4]]
    """

    def __init__(self, max_rows: int = EXACT_MAX_ROWS, random_state: int = 0) -> None:
        self.max_rows, self.random_state = max_rows, random_state

    def fit(self, codes: np.ndarray) -> SubsetIndex:
        n = len(codes)
        rng = np.random.default_rng(self.random_state)
        self.rows_ = np.sort(rng.choice(n, size=min(n, int(self.max_rows)), replace=False))
        self.codes_ = _compact(codes)
        self.subset_ = ExactIndex().fit(self.codes_[self.rows_])
        self.n_samples = n
        return self

    def kneighbors(self, queries, n_neighbors, return_distance=True):
        k = int(n_neighbors)
        if queries is not None:
            dist, pos = self.subset_.kneighbors(queries, k)
            return (dist, self.rows_[pos]) if return_distance else self.rows_[pos]
        parts = []
        for start in range(0, self.n_samples, _CHUNK):
            rows = np.arange(start, min(start + _CHUNK, self.n_samples))
            dist, pos = self.subset_.kneighbors(np.asarray(self.codes_[rows], np.float64), k + 1)
            parts.append(_without_self(dist, self.rows_[pos], rows, k))
        dist = np.concatenate([p[0] for p in parts])
        ids = np.concatenate([p[1] for p in parts])
        return (dist, ids) if return_distance else ids
