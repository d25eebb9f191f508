"""Target 5: ``CooksDistanceDetector`` multi-target fit against statsmodels, and scoring growth.

Fit: on 100k x 20 rows, ``CooksDistanceDetector()`` regresses every column on
the other 19 (20 targets) and keeps each row's Cook's distances. The
reference does the same with statsmodels, one OLS per target:
``OLS(X[:, j], add_constant(X[:, others])).fit().get_influence().cooks_distance``.
Interleaved rounds; the ratio is the median of per-round ratios (target: ours
within 3x of the reference, i.e. ratio <= 3).

Scoring: ``score_samples`` on 10k, 100k and 1M new rows; time per row should
stay flat (linear in rows).

Usage: python benchmarks/speed/cooks.py [--rows 100000] [--repeats 3]
"""

from __future__ import annotations

import argparse
import time
from functools import partial

import numpy as np
from _common import header, interleaved, median, ratio

from anomalib_ae import CooksDistanceDetector


def statsmodels_per_target(X: np.ndarray) -> np.ndarray:
    import statsmodels.api as sm

    distances = []
    for j in range(X.shape[1]):
        others = np.delete(X, j, axis=1)
        fit = sm.OLS(X[:, j], sm.add_constant(others)).fit()
        distances.append(fit.get_influence().cooks_distance[0])
    return np.column_stack(distances)


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--rows", type=int, default=100_000)
    parser.add_argument("--repeats", type=int, default=3)
    args = parser.parse_args()
    header("Cook's distance: multi-target fit vs one statsmodels OLS per target (target: <= 3x)")
    rng = np.random.default_rng(0)
    d = 20
    mix = rng.normal(size=(d, d)) / np.sqrt(d)
    X = rng.normal(size=(args.rows, d)) @ mix + rng.normal(scale=0.5, size=(args.rows, d))
    times = interleaved(
        {
            "statsmodels": partial(statsmodels_per_target, X),
            "ours": partial(CooksDistanceDetector().fit, X),
        },
        repeats=args.repeats,
        warmup=0,
    )
    print(f"\nfit, {args.rows:,} x {d} (20 targets), repeats {args.repeats}")
    print("| statsmodels, 20 OLS + influence s | ours fit s | ours / statsmodels |")
    print("|---|---|---|")
    print(
        f"| {median(times['statsmodels']['wall']):.3f} | {median(times['ours']['wall']):.3f} "
        f"| **{ratio(times, 'ours', 'statsmodels'):.2f}** |"
    )
    det = CooksDistanceDetector().fit(X)
    print("\nscoring new rows (score_samples)")
    print("| rows | s | us/row | vs largest |")
    print("|---|---|---|---|")
    results = []
    for n in (10_000, 100_000, 1_000_000):
        new = rng.normal(size=(n, d)) @ mix
        det.score_samples(new[:1000])
        best = []
        for _ in range(3):
            start = time.perf_counter()
            det.score_samples(new)
            best.append(time.perf_counter() - start)
        results.append((n, median(best)))
    per_row_big = results[-1][1] / results[-1][0]
    for n, s in results:
        print(f"| {n:,} | {s:.4f} | {s / n * 1e6:.3f} | **{s / n / per_row_big:.2f}** |")


if __name__ == "__main__":
    main()
