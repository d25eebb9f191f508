"""Exact OLS influence measures, in-sample and for new rows, from one shared factorisation.

Every regression here has an intercept and regresses one *target* column of a
table on all its other columns. :func:`fit_influence` fits all the targets
asked for from a single pivoted QR factorisation of the centred table (no
per-target refit), and :func:`score_influence` gives, for any new row, the
influence it would have if it were added to that fit, in closed form
(Sherman-Morrison) from the stored inverse Gram matrix: no refit, and each
row's result is independent of the other rows scored with it.

Notation: ``n`` rows, ``k`` parameters per regression (intercept included),
residual ``e``, leverage ``h``, ``MSE = SSE / (n - k)``. Cook's distance is
``D = e**2 / (k * MSE) * h / (1 - h)**2`` (Cook, 1977).

Shared algebra. Let ``P`` be the inverse Gram matrix of the centred columns
(the intercept is then orthogonal to them) and ``u`` a centred row. The
regression of column ``j`` on the other columns has the prediction residual
``(P u)_j / P_jj`` and ``SSE_j = 1 / P_jj``, and the row's leverage in it is
``1/n + u'P u - (P u)_j**2 / P_jj`` (a Schur complement), so every target comes
out of one ``P``. A new row with prediction residual ``r`` and
``q = 1/n + u'(X'X)^-1 u`` (``X`` the regressors of the target) gets, in the
fit refitted with it, leverage ``q / (1 + q)``, residual ``r / (1 + q)``,
``SSE + r**2 / (1 + q)`` and so Cook's distance
``r**2 * q / ((1 + q) * k * MSE_new)``; its externally studentised residual is
the prediction t statistic ``r / sqrt(MSE * (1 + q))``.

References
----------
.. [1] Cook, R. D. (1977). Detection of influential observation in linear
   regression. Technometrics 19(1), 15-18.
.. [2] Belsley, D. A., Kuh, E. and Welsch, R. E. (1980). Regression
   Diagnostics. Wiley.
"""

from __future__ import annotations

from dataclasses import dataclass
from typing import NamedTuple

import numpy as np
from scipy import linalg, special

ALIAS_TOL = 1e-7
"""A column whose distance from the span of the columns kept before it is below
this share of its own (centred) norm is aliased and dropped, as R's ``lm`` does."""

LEVERAGE_TOL = 1e-10
"""Rows with ``1 - h`` below this are fitted exactly; their distance is undefined and set to 0."""

_CONSTANT_RTOL = 1e4 * np.finfo(np.float64).eps

_BLOCK_ROWS = 1024
"""Rows per block of the out-of-sample formulas: the n x targets temporaries stay in
cache, and the block's small matrix product stays below the size at which OpenBLAS
starts its threads (from 2048 rows of 20 columns), which cost 5-8x on a busy machine."""


class Influence(NamedTuple):
    """Per-row, per-target influence measures, each of shape (n_rows, n_targets).

    ``pvalue`` is None when it was not asked for (it is the costly part).
    """

    cooks_distance: np.ndarray
    pvalue: np.ndarray | None
    leverage: np.ndarray
    studentized_residual: np.ndarray


@dataclass(frozen=True)
class LinearState:
    """Everything the out-of-sample formulas need: plain arrays and numbers.

    ``gram_inv`` is the inverse Gram matrix of the kept columns after centring
    (``location``) and scaling to unit norm (``scale``); ``rss`` is each
    target's residual sum of squares in the target's own units.
    """

    location: np.ndarray
    scale: np.ndarray
    kept_columns: np.ndarray
    gram_inv: np.ndarray
    targets: np.ndarray
    informative: np.ndarray
    rss: np.ndarray
    n_samples: int
    n_params: int

    def target_positions(self) -> np.ndarray:
        """Position of each informative target among ``kept_columns``."""
        return np.searchsorted(self.kept_columns, self.targets[self.informative])


@dataclass(frozen=True)
class Degeneracies:
    """What :func:`fit_influence` had to work around (indices into the columns)."""

    constant: np.ndarray
    aliased: np.ndarray
    uninformative_targets: np.ndarray
    n_exact_rows: int


def cooks_pvalues(
    distance: np.ndarray, informative: np.ndarray, n_params: int, df: int
) -> np.ndarray:
    """P-values of Cook's distances under F(n_params, df); 1 for uninformative targets.

    Examples
    --------
    >>> cooks_pvalues(np.array([[0.0, 5.0]]), np.array([True, False]), 3, 10)
    array([[1., 1.]])
    """
    pvalue = np.ones_like(distance)
    if informative.any():
        pvalue[:, informative] = special.fdtrc(n_params, df, distance[:, informative])
    return pvalue


def fit_influence(
    X: np.ndarray, targets: np.ndarray, *, pvalues: bool = True
) -> tuple[LinearState, Influence, Degeneracies]:
    """Regress each column in ``targets`` on all other columns of ``X`` (with an intercept).

    Constant columns and columns that are (near-)exact linear combinations of
    others are dropped from the regressors; a target that the other columns fit
    exactly (constant, aliased, or fewer rows than parameters) is
    *uninformative*: its distances, residuals and studentised residuals are 0
    and its p-values 1. Rows with leverage 1 get distance 0 too.

    Parameters
    ----------
    X : ndarray of shape (n_samples, n_features)
    targets : ndarray of int
        Columns to regress on the others.
    pvalues : bool, default=True
        Also compute the p-values (F(k, n - k)).

    Returns
    -------
    state : LinearState
        The fitted state for :func:`score_influence`.
    influence : Influence
        In-sample measures, equal to statsmodels' ``OLSInfluence`` on full-rank designs.
    degeneracies : Degeneracies

    Examples
    --------
    >>> import numpy as np
    >>> rng = np.random.default_rng(0)
    >>> X = rng.normal(size=(30, 3))
    >>> state, infl, _ = fit_influence(X, np.array([2]))
    >>> infl.cooks_distance.shape, state.n_params
    ((30, 1), 3)
    """
    X = np.asarray(X, dtype=np.float64)
    targets = np.asarray(targets, dtype=np.intp)
    n, d = X.shape
    location = X.mean(axis=0)
    centred = X - location
    norms = np.sqrt(np.einsum("ij,ij->j", centred, centred))
    constant = norms <= _CONSTANT_RTOL * np.sqrt(n) * np.abs(location)
    scale = np.where(constant, 1.0, norms)
    candidates = np.flatnonzero(~constant)

    kept, aliased, gram_inv, rows_p, coef, qsq = _factorise(
        centred[:, candidates] / scale[candidates]
    )
    kept, aliased = candidates[kept], candidates[aliased]
    leverage_full = 1.0 / n + qsq

    # A kept target is uninformative when a dropped column carries its own part.
    pos = np.searchsorted(kept, targets)
    informative = np.zeros(len(targets), dtype=bool)
    for i, (t, p) in enumerate(zip(targets, pos)):
        if p < len(kept) and kept[p] == t:
            own = 1.0 / np.sqrt(gram_inv[p, p])
            informative[i] = not np.any(np.abs(coef[p]) * own > ALIAS_TOL)
    n_params = len(kept)

    p = pos[informative]
    pjj = np.diag(gram_inv)[p]
    resid = rows_p[:, p] / pjj
    resid2 = resid**2
    sse = resid2.sum(axis=0)
    h = leverage_full[:, None] - resid2 * pjj
    df = n - n_params
    one_minus = 1.0 - h
    exact = one_minus <= LEVERAGE_TOL
    n_exact = int(exact.sum())
    if n_exact:
        one_minus[exact] = 1.0
    cooks = resid2 * h * (df / max(n_params, 1) / sse) / one_minus**2
    cooks[exact] = 0.0
    student = _external_student(resid, resid2, one_minus, sse, df, exact)
    rss = np.zeros(len(targets))
    rss[informative] = sse * scale[targets[informative]] ** 2
    cooks = _scatter(cooks, informative, 0.0)
    leverage = _scatter(h, informative, leverage_full[:, None])
    student = _scatter(student, informative, 0.0)

    state = LinearState(
        location=location,
        scale=scale,
        kept_columns=kept,
        gram_inv=gram_inv,
        targets=targets,
        informative=informative,
        rss=rss,
        n_samples=n,
        n_params=n_params,
    )
    degeneracies = Degeneracies(
        constant=np.flatnonzero(constant),
        aliased=np.sort(aliased),
        uninformative_targets=targets[~informative],
        n_exact_rows=n_exact,
    )
    pvalue = cooks_pvalues(cooks, informative, n_params, n - n_params) if pvalues else None
    return state, Influence(cooks, pvalue, leverage, student), degeneracies


def _factorise(Z: np.ndarray) -> tuple[np.ndarray, ...]:
    """Pivoted QR of unit-norm centred columns ``Z``.

    Returns the kept and aliased column positions (kept sorted), the inverse
    Gram matrix of the kept columns, ``Z_kept @ gram_inv``, the coefficients of
    each aliased column on the kept ones, and each row's ``z' gram_inv z``.
    """
    n, m = Z.shape
    if m == 0:
        empty = np.zeros((0, 0))
        return (
            np.zeros(0, np.intp),
            np.zeros(0, np.intp),
            empty,
            np.zeros((n, 0)),
            empty,
            np.zeros(n),
        )
    q, r, piv = linalg.qr(Z, mode="economic", pivoting=True)
    diag = np.abs(np.diag(r))
    small = np.flatnonzero(diag <= ALIAS_TOL)
    rank = int(small[0]) if len(small) else len(diag)
    r_inv = linalg.solve_triangular(r[:rank, :rank], np.eye(rank))
    coef = linalg.solve_triangular(r[:rank, :rank], r[:rank, rank:])
    order = np.argsort(piv[:rank])
    r_inv = r_inv[order]  # rows follow the sorted kept columns
    gram_inv = r_inv @ r_inv.T
    rows_p = q[:, :rank] @ r_inv.T
    qsq = np.einsum("ij,ij->i", q[:, :rank], q[:, :rank])
    return piv[:rank][order], piv[rank:], gram_inv, rows_p, coef[order], qsq


def _external_student(
    resid: np.ndarray,
    resid2: np.ndarray,
    one_minus: np.ndarray,
    sse: np.ndarray,
    df: int,
    exact: np.ndarray,
) -> np.ndarray:
    """Externally studentised residuals; 0 where the deleted fit is exact (undefined)."""
    if df <= 1:
        return np.zeros_like(resid)
    s2_del_one_minus = (sse - resid2 / one_minus) * one_minus / (df - 1)
    ok = ~exact & (s2_del_one_minus > 1e-12 * sse / df * one_minus)
    if ok.all():
        return resid / np.sqrt(s2_del_one_minus)
    return np.where(ok, resid / np.sqrt(np.where(ok, s2_del_one_minus, 1.0)), 0.0)


def _scatter(values: np.ndarray, mask: np.ndarray, fill: float | np.ndarray) -> np.ndarray:
    """Columns ``values`` placed at ``mask`` among ``len(mask)`` columns filled with ``fill``."""
    if mask.all():
        return values
    out = np.empty((len(values), len(mask)))
    out[...] = fill
    out[:, mask] = values
    return out


def _new_row_terms(state: LinearState, X: np.ndarray) -> tuple[np.ndarray, ...]:
    """Prediction residuals, ``q`` per informative target, and ``q`` of the whole design."""
    X = np.asarray(X, dtype=np.float64)
    cols = state.kept_columns
    u = (X[:, cols] - state.location[cols]) / state.scale[cols]
    v = u @ state.gram_inv
    quad = 1.0 / state.n_samples + np.einsum("ij,ij->i", u, v)
    p = state.target_positions()
    inv_pjj = 1.0 / np.diag(state.gram_inv)[p]
    vp = v[:, p]
    resid = vp * inv_pjj
    q = quad[:, None] - vp * resid
    return resid, q, quad


def new_row_cooks_distance(state: LinearState, X: np.ndarray) -> np.ndarray:
    """Cook's distance of each row of ``X`` if added alone to the fit, per informative target.

    The lean part of :func:`score_influence` that scoring needs: shape
    (n_rows, n_informative_targets). Computed ``_BLOCK_ROWS`` rows at a time,
    so its temporaries stay in cache and the time per row does not grow with
    the number of rows (each row's result depends on that row only).

    Examples
    --------
    >>> import numpy as np
    >>> state, _, _ = fit_influence(np.random.default_rng(0).normal(size=(30, 3)), np.arange(3))
    >>> new_row_cooks_distance(state, np.zeros((2, 3))).shape
    (2, 3)
    """
    out = np.empty((len(X), int(np.count_nonzero(state.informative))))
    for start in range(0, len(X), _BLOCK_ROWS):
        out[start : start + _BLOCK_ROWS] = _new_row_cooks_block(
            state, X[start : start + _BLOCK_ROWS]
        )
    return out


def _new_row_cooks_block(state: LinearState, X: np.ndarray) -> np.ndarray:
    resid, q, _ = _new_row_terms(state, X)
    sse = state.rss[state.informative] / state.scale[state.targets[state.informative]] ** 2
    n, k = state.n_samples, state.n_params
    # r^2 q / ((1 + q) k MSE_new) with MSE_new = (SSE + r^2 / (1 + q)) / (n + 1 - k)
    resid2 = resid**2
    return resid2 * q * ((n + 1 - k) / max(k, 1)) / ((1.0 + q) * sse + resid2)


def score_influence(state: LinearState, X: np.ndarray, *, pvalues: bool = True) -> Influence:
    """Influence each row of ``X`` would have if it were added to the fit alone.

    Leverage, residual and Cook's distance of the row in the fit refitted on
    the training rows plus that row, computed in closed form; the
    studentised residual is the prediction t statistic (the externally
    studentised residual of the row in that refit). Aliased columns are
    ignored, as in the fit. Uninformative targets give 0 (p-value 1).

    Parameters
    ----------
    state : LinearState
        From :func:`fit_influence`.
    X : ndarray of shape (n_rows, n_features)
    pvalues : bool, default=True
        Also compute the p-values, from F(k, n + 1 - k) (the refit's degrees of freedom).

    Returns
    -------
    Influence

    Examples
    --------
    >>> import numpy as np
    >>> rng = np.random.default_rng(0)
    >>> X = rng.normal(size=(30, 3))
    >>> state, _, _ = fit_influence(X, np.arange(3))
    >>> score_influence(state, np.array([[0.0, 0.0, 10.0]])).cooks_distance.shape
    (1, 3)
    """
    inf = state.informative
    resid, q, quad = _new_row_terms(state, X)
    sse = state.rss[inf] / state.scale[state.targets[inf]] ** 2
    mse = sse / (state.n_samples - state.n_params) if inf.any() else sse
    cooks = _scatter(new_row_cooks_distance(state, X), inf, 0.0)
    leverage = _scatter(q / (1.0 + q), inf, (quad / (1.0 + quad))[:, None])
    student = _scatter(resid / np.sqrt(mse * (1.0 + q)), inf, 0.0)
    df_new = state.n_samples + 1 - state.n_params
    pvalue = cooks_pvalues(cooks, inf, state.n_params, df_new) if pvalues else None
    return Influence(cooks, pvalue, leverage, student)
