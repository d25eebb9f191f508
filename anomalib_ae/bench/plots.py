"""Report figures (matplotlib, Agg backend): critical-difference diagram and AUROC box plots."""

from __future__ import annotations

from pathlib import Path

import numpy as np
import pandas as pd

from anomalib_ae.bench.ranking import cliques


def _figure(figsize: tuple[float, float]):
    """A figure and axes drawn without pyplot, so no backend is switched (notebooks keep theirs)."""
    from matplotlib.figure import Figure

    fig = Figure(figsize=figsize)
    return fig, fig.subplots()


def cd_diagram(avg_ranks: pd.Series, cd: float, path: str | Path, title: str = "") -> Path:
    """Draw Demsar's critical-difference diagram of ``avg_ranks`` (sorted, 1 = best) to ``path``.

    The axis runs from rank 1 (left) to ``k``; each detector hangs from its
    average rank, the better half labelled on the left and the rest on the right;
    a thick bar joins detectors whose ranks differ by at most ``cd`` (not
    significantly different by the Nemenyi test); the CD length is drawn above.
    """
    avg_ranks = avg_ranks.sort_values()
    names, ranks = list(avg_ranks.index), avg_ranks.to_numpy()
    k = len(names)
    half = (k + 1) // 2
    groups = cliques(avg_ranks, cd) if np.isfinite(cd) else []
    height = 1.6 + 0.32 * max(half, k - half) + 0.18 * len(groups)
    fig, ax = _figure((9, height))
    lo, hi = 1, max(k, 2)
    ax.set_xlim(lo - 0.5 - 0.35 * k / 4, hi + 0.5 + 0.35 * k / 4)
    ax.set_ylim(-0.3 * (max(half, k - half) + 2) - 0.15 * len(groups), 1.2)
    ax.axis("off")
    ax.hlines(0, lo, hi, color="black", lw=1)
    for r in range(lo, hi + 1):
        ax.vlines(r, 0, 0.1, color="black", lw=1)
        ax.text(r, 0.16, str(r), ha="center", va="bottom", fontsize=9)
    if np.isfinite(cd):
        ax.hlines(0.75, lo, lo + cd, color="black", lw=1.5)
        ax.vlines([lo, lo + cd], 0.7, 0.8, color="black", lw=1.5)
        ax.text(lo + cd / 2, 0.82, f"CD = {cd:.2f}", ha="center", va="bottom", fontsize=9)
    bar_y = [-0.12 - 0.14 * i for i in range(len(groups))]
    for y, group in zip(bar_y, groups):
        ax.hlines(y, avg_ranks[group[0]] - 0.03, avg_ranks[group[-1]] + 0.03, color="black", lw=3)
    first_label = (bar_y[-1] if bar_y else 0.0) - 0.3
    for i, (name, rank) in enumerate(zip(names, ranks)):
        left = i < half
        row = i if left else k - 1 - i
        y = first_label - 0.3 * row
        edge = ax.get_xlim()[0] + 0.1 if left else ax.get_xlim()[1] - 0.1
        ax.plot([rank, rank, edge], [0, y, y], color="0.3", lw=0.9)
        ax.text(
            edge,
            y + 0.05,
            f"{name} ({rank:.2f})",
            ha="left" if left else "right",
            va="bottom",
            fontsize=9,
        )
    if title:
        ax.set_title(title, fontsize=10)
    fig.tight_layout()
    path = Path(path)
    fig.savefig(path, dpi=120)
    return path


def box_plot(
    values: pd.DataFrame, path: str | Path, metric: str = "AUROC", title: str = ""
) -> Path:
    """Box plots of ``values`` (columns ``detector`` and ``value``), one per detector, best median first."""
    order = values.groupby("detector")["value"].median().sort_values(ascending=False).index
    data = [values.loc[values["detector"] == d, "value"].to_numpy() for d in order]
    fig, ax = _figure((max(6, 0.8 * len(order) + 2), 4.5))
    ax.boxplot(data, showmeans=True)
    ax.set_xticks(range(1, len(order) + 1), list(order), rotation=35, ha="right")
    ax.set_ylabel(metric)
    ax.grid(axis="y", alpha=0.3)
    if title:
        ax.set_title(title, fontsize=10)
    fig.tight_layout()
    path = Path(path)
    fig.savefig(path, dpi=120)
    return path
