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
from scipy import linalg, stats

ALIAS_TOL = 1e-7
"""A column whose distance from the span of the columns kept before it is below
this share of its own (centred) norm is aliased and dropped, as R's ``lm`` does."""

LEVERAGE_TOL = 1e-10
"""Rows with ``1 - h`` below this are fitted exactly; their distance is undefined and set to 0."""

_CONSTANT_RTOL = 1e4 * np.finfo(np.float64).eps


class Influence(NamedTuple):
    """Per-row, per-target influence measures, each of shape (n_rows, n_targets)."""

    cooks_distance: np.ndarray
    pvalue: np.ndarray
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


def fit_influence(
    X: np.ndarray, targets: np.ndarray
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

    shape = (n, len(targets))
    cooks = np.zeros(shape)
    pvalue = np.ones(shape)
    leverage = np.repeat(leverage_full[:, None], len(targets), axis=1)
    student = np.zeros(shape)
    rss = np.zeros(len(targets))
    n_exact = 0
    if informative.any():
        p = pos[informative]
        pjj = np.diag(gram_inv)[p]
        resid = rows_p[:, p] / pjj
        sse = np.einsum("ij,ij->j", resid, resid)
        h = leverage_full[:, None] - resid**2 * pjj
        df = n - n_params
        mse = sse / df
        one_minus = 1.0 - h
        exact = one_minus <= LEVERAGE_TOL
        n_exact = int(exact.sum())
        safe = np.where(exact, 1.0, one_minus)
        d_ij = np.where(exact, 0.0, resid**2 * h / (n_params * mse * safe**2))
        cooks[:, informative] = d_ij
        pvalue[:, informative] = stats.f.sf(d_ij, n_params, df)
        leverage[:, informative] = h
        student[:, informative] = _external_student(resid, safe, sse, df, exact)
        rss[informative] = sse * scale[targets[informative]] ** 2

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
    resid: np.ndarray, one_minus: np.ndarray, sse: np.ndarray, df: int, exact: np.ndarray
) -> np.ndarray:
    """Externally studentised residuals; 0 where the deleted fit is exact (undefined)."""
    if df <= 1:
        return np.zeros_like(resid)
    s2_del = (sse - resid**2 / one_minus) / (df - 1)
    ok = ~exact & (s2_del > 1e-12 * sse / df)
    return np.where(ok, resid / np.sqrt(np.where(ok, s2_del * one_minus, 1.0)), 0.0)


def score_influence(state: LinearState, X: np.ndarray) -> Influence:
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

    Returns
    -------
    Influence
        p-values from F(k, n + 1 - k), the refit's degrees of freedom.

    Examples
    --------
    >>> import numpy as np
    >>> rng = np.random.default_rng(0)
    >>> X = rng.normal(size=(30, 3))
    >>> state, _, _ = fit_influence(X, np.arange(3))
    >>> score_influence(state, np.array([[0.0, 0.0, 10.0]])).cooks_distance.shape
    (1, 3)
    """
    X = np.asarray(X, dtype=np.float64)
    n_rows, n_targets = len(X), len(state.targets)
    cols = state.kept_columns
    u = (X[:, cols] - state.location[cols]) / state.scale[cols]
    v = u @ state.gram_inv
    quad = 1.0 / state.n_samples + np.einsum("ij,ij->i", u, v)

    shape = (n_rows, n_targets)
    cooks = np.zeros(shape)
    pvalue = np.ones(shape)
    leverage = np.repeat((quad / (1.0 + quad))[:, None], n_targets, axis=1)
    student = np.zeros(shape)
    inf = state.informative
    if inf.any():
        p = state.target_positions()
        pjj = np.diag(state.gram_inv)[p]
        resid = v[:, p] / pjj
        q = quad[:, None] - v[:, p] ** 2 / pjj
        sse = state.rss[inf] / state.scale[state.targets[inf]] ** 2
        n, k = state.n_samples, state.n_params
        mse = sse / (n - k)
        mse_new = (sse + resid**2 / (1.0 + q)) / (n + 1 - k)
        d_ij = resid**2 * q / ((1.0 + q) * k * mse_new)
        cooks[:, inf] = d_ij
        pvalue[:, inf] = stats.f.sf(d_ij, k, n + 1 - k)
        leverage[:, inf] = q / (1.0 + q)
        student[:, inf] = resid / np.sqrt(mse * (1.0 + q))
    return Influence(cooks, pvalue, leverage, student)
