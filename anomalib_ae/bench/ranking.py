"""Comparing detectors over datasets: average ranks, Nemenyi critical difference, Wilcoxon.

Following Demsar (2006), each dataset is one block: a detector's score on a
dataset is its mean over seeds, detectors are ranked within each dataset (1 =
best, ties get the mean rank) and the ranks are averaged. Two detectors differ
significantly (Nemenyi test, alpha = 0.05) when their average ranks differ by
more than the critical difference ``CD = q_alpha * sqrt(k (k + 1) / (6 N))``
for ``k`` detectors and ``N`` datasets. Each detector is also compared with the
best one (lowest average rank) by a Wilcoxon signed-rank test over datasets,
with Holm's correction for the ``k - 1`` comparisons.

Only complete blocks can be ranked: detectors with results on fewer than half
of the datasets are left out of the ranking first, then datasets where any
remaining detector has no result. :func:`complete_blocks` says what it left out.

References
----------
.. [1] Demsar, J. (2006). Statistical comparisons of classifiers over multiple
   data sets. JMLR 7, 1-30.
"""

from __future__ import annotations

import numpy as np
import pandas as pd
from scipy import stats

# Demsar (2006), Table 5(a): q_0.05 of the Nemenyi test for k = 2..10 classifiers.
_Q05 = {2: 1.960, 3: 2.343, 4: 2.569, 5: 2.728, 6: 2.850, 7: 2.949, 8: 3.031, 9: 3.102, 10: 3.164}


def complete_blocks(table: pd.DataFrame) -> tuple[pd.DataFrame, list[str], list[str]]:
    """Datasets x detectors without missing cells; also the detectors and datasets dropped."""
    coverage = table.notna().mean(axis=0)
    dropped_detectors = [str(c) for c in table.columns[coverage < 0.5]]
    kept = table.drop(columns=dropped_detectors)
    complete = kept.notna().all(axis=1)
    dropped_datasets = [str(i) for i in kept.index[~complete]]
    return kept[complete], dropped_detectors, dropped_datasets


def average_ranks(table: pd.DataFrame, higher_is_better: bool = True) -> pd.Series:
    """Mean over datasets (rows) of each detector's (column's) rank, 1 = best, sorted.

    Examples
    --------
    >>> t = pd.DataFrame({"a": [0.9, 0.8], "b": [0.7, 0.8]})
    >>> average_ranks(t).to_dict()
    {'a': 1.25, 'b': 1.75}
    """
    ranks = table.rank(axis=1, ascending=not higher_is_better, method="average")
    return ranks.mean(axis=0).sort_values()


def nemenyi_q(k: int, alpha: float = 0.05) -> float:
    """The Nemenyi ``q_alpha`` for ``k`` detectors (studentized range / sqrt 2).

    Examples
    --------
    >>> round(nemenyi_q(5), 3)
    2.728
    """
    if k < 2:
        return float("nan")
    if alpha == 0.05 and k in _Q05:
        return _Q05[k]
    return float(stats.studentized_range.ppf(1 - alpha, k, 1e6) / np.sqrt(2))


def critical_difference(k: int, n_datasets: int, alpha: float = 0.05) -> float:
    """Nemenyi critical difference of average ranks for ``k`` detectors over ``n_datasets``.

    Examples
    --------
    >>> round(critical_difference(4, 14), 3)
    1.254
    """
    if k < 2 or n_datasets < 1:
        return float("nan")
    return float(nemenyi_q(k, alpha) * np.sqrt(k * (k + 1) / (6.0 * n_datasets)))


def holm(p_values: pd.Series) -> pd.Series:
    """Holm's step-down adjustment of a family of p-values.

    Examples
    --------
    >>> holm(pd.Series({"a": 0.01, "b": 0.04, "c": 0.03})).round(2).to_dict()
    {'a': 0.03, 'b': 0.06, 'c': 0.06}
    """
    p = p_values.dropna().sort_values()
    m = len(p)
    adjusted = np.minimum(1.0, np.maximum.accumulate((m - np.arange(m)) * p.to_numpy()))
    return pd.Series(adjusted, index=p.index).reindex(p_values.index)


def wilcoxon_vs_best(table: pd.DataFrame, best: str) -> pd.DataFrame:
    """Wilcoxon signed-rank test of each detector against ``best`` over the datasets.

    Returns a frame with the raw ``p`` and the Holm-adjusted ``p_holm`` (NaN
    for ``best`` itself; 1 when every paired difference is zero).
    """
    p = {}
    for name in table.columns:
        if name == best:
            p[name] = np.nan
            continue
        diff = (table[best] - table[name]).to_numpy()
        if np.allclose(diff, 0):
            p[name] = 1.0
        else:
            p[name] = float(stats.wilcoxon(table[best], table[name]).pvalue)
    p = pd.Series(p, dtype=float)
    return pd.DataFrame({"p": p, "p_holm": holm(p)})


def cliques(avg_ranks: pd.Series, cd: float) -> list[list[str]]:
    """Maximal runs of detectors (in rank order) whose average ranks lie within ``cd``.

    Examples
    --------
    >>> cliques(pd.Series({"a": 1.0, "b": 1.5, "c": 3.0}), 1.0)
    [['a', 'b']]
    """
    names, values = list(avg_ranks.index), avg_ranks.to_numpy()
    groups: list[list[str]] = []
    for i in range(len(names)):
        j = i
        while j + 1 < len(names) and values[j + 1] - values[i] <= cd:
            j += 1
        if j > i and not any(set(names[i : j + 1]) <= set(g) for g in groups):
            groups.append(names[i : j + 1])
    return groups
