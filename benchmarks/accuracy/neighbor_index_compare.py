"""Paired AUROC / AUPRC of the default autoencoder with exact vs approximate code-neighbour search.

Reads the ``results.csv`` of ``aeod bench --suite neighbor_index`` and prints the mean of
each, the mean and largest per-job differences (approximate - exact), and per dataset.

Usage: python benchmarks/accuracy/neighbor_index_compare.py RESULTS_CSV
"""

from __future__ import annotations

import sys

import pandas as pd


def main(path: str) -> None:
    rows = pd.read_csv(path)
    rows = rows[rows["status"] == "ok"]
    wide = rows.pivot_table(index=["dataset", "seed"], columns="detector", values=["auroc", "auprc"])
    exact, approx = "autoencoder", "autoencoder_approximate"
    print(f"paired jobs: {len(wide)} (datasets {wide.index.get_level_values(0).nunique()})")
    for metric in ("auroc", "auprc"):
        diff = wide[metric][approx] - wide[metric][exact]
        print(
            f"{metric}: exact {wide[metric][exact].mean():.4f}, approximate "
            f"{wide[metric][approx].mean():.4f}, mean difference {diff.mean():+.5f}, "
            f"mean |difference| {diff.abs().mean():.5f}, largest |difference| {diff.abs().max():.4f}, "
            f"jobs identical {(diff == 0).sum()}/{len(diff)}"
        )
    per = (wide["auroc"][approx] - wide["auroc"][exact]).groupby(level=0).mean()
    print("\n| dataset | mean AUROC difference (approximate - exact) |\n|---|---|")
    for name, value in per.items():
        print(f"| {name} | {value:+.4f} |")


if __name__ == "__main__":
    main(sys.argv[1])
