"""Target 3: ``score_samples`` rows/s against a bare ``inference_mode`` forward pass.

The same fitted net (d = 100, hidden (64, 32), code 8) on the same float32 rows,
one torch thread. The bare side is the net's forward pass over the scaled rows
already in a tensor, batch by batch (and, second reference, that pass plus the
per-row squared error, the least work that gives a score); ours is the whole
public call (input validation, scaling, the forward pass, the per-row error,
float64 scores).
Interleaved rounds; the ratio is the median of per-round ratios of rows/s.

With ``--equal-work`` the options that add scoring work beyond the bare pass
plus its error are off (no code-neighbour search, no per-feature error
scaling, and the float32 net run on fixed blocks of rows instead of its
float64 twin: ``inference_precision="float32"``); a check then confirms the
scores do not depend on the batch they arrive in (``inference_batch_size``
1024 vs 16384, 1,000 rows scored alone, and single rows), as both precisions
guarantee.

Usage: python benchmarks/speed/scoring.py [--rows 200000] [--repeats 5] [--equal-work] [--d 100]
"""

from __future__ import annotations

import argparse
from functools import partial

import numpy as np
import torch
from _common import header, interleaved, median, ratio

from anomalib_ae import AutoEncoderDetector

EQUAL_WORK = dict(code_neighbors=0, error_scaling="none", inference_precision="float32")
"""The options that add scoring work beyond the bare pass, switched off (``--equal-work``)."""


def bare(net: torch.nn.Module, T: torch.Tensor, batch_size: int) -> None:
    with torch.inference_mode():
        for x in T.split(batch_size):
            net(x)


def bare_errors(net: torch.nn.Module, T: torch.Tensor, batch_size: int) -> None:
    """The forward pass plus the per-row squared error that makes it a score."""
    with torch.inference_mode():
        for x in T.split(batch_size):
            (net(x) - x).pow(2).mean(1)


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--rows", type=int, default=200_000)
    parser.add_argument("--repeats", type=int, default=5)
    parser.add_argument("--d", type=int, default=100)
    parser.add_argument("--equal-work", action="store_true")
    args = parser.parse_args()
    extra = EQUAL_WORK if args.equal_work else {}
    header("scoring: score_samples vs a bare inference_mode forward pass (target: >= 0.8x rows/s)")
    rng = np.random.default_rng(0)
    X = rng.normal(size=(args.rows, args.d)).astype(np.float32)
    det = AutoEncoderDetector(max_epochs=1, random_state=0, **extra).fit(X[:5000])
    # with --equal-work, the same detector on its float64 twin too (the default precision)
    twin = {**extra, "inference_precision": "float64"}
    det64 = (
        AutoEncoderDetector(max_epochs=1, random_state=0, **twin).fit(X[:5000]) if extra else None
    )
    print(f"ours: {'equal work, off: ' + str(extra) if extra else 'defaults'}")
    T = torch.from_numpy(det.scaler_.transform(X))
    print(f"rows {args.rows}, d {args.d}, repeats {args.repeats} (+1 warm-up), interleaved\n")
    extra_column = " | float64 twin rows/s | ours / float64 twin" if det64 is not None else ""
    print(
        "| inference_batch_size | bare forward rows/s | bare forward + error rows/s "
        f"| ours rows/s | ours / bare forward | ours / bare forward + error{extra_column} |"
    )
    print("|---|---|---|---|---|---|" + ("---|---|" if det64 is not None else ""))
    for b in (1024, 4096, 16384):
        det.set_params(inference_batch_size=b)
        runs = {
            "bare": partial(bare, det.net_, T, b),
            "errors": partial(bare_errors, det.net_, T, b),
            "ours": partial(det.score_samples, X),
        }
        if det64 is not None:
            runs["twin"] = partial(det64.set_params(inference_batch_size=b).score_samples, X)
        times = interleaved(runs, repeats=args.repeats)
        twin_cells = ""
        if det64 is not None:
            rate_twin = args.rows / median(times["twin"]["wall"])
            twin_cells = f" | {rate_twin:,.0f} | {1 / ratio(times, 'ours', 'twin'):.2f}"
        rate_bare = args.rows / median(times["bare"]["wall"])
        rate_errors = args.rows / median(times["errors"]["wall"])
        rate_ours = args.rows / median(times["ours"]["wall"])
        print(
            f"| {b} | {rate_bare:,.0f} | {rate_errors:,.0f} | {rate_ours:,.0f} "
            f"| **{1 / ratio(times, 'ours', 'bare'):.2f}** "
            f"| {1 / ratio(times, 'ours', 'errors'):.2f}{twin_cells} |",
            flush=True,
        )
    scores = det.set_params(inference_batch_size=1024).score_samples(X)
    same = np.array_equal(scores, det.set_params(inference_batch_size=16384).score_samples(X))
    alone = np.array_equal(scores[5000:6000], det.score_samples(X[5000:6000]))
    single = all(det.score_samples(X[i : i + 1])[0] == scores[i] for i in range(0, 200_000, 9_973))
    print(
        "\nscores independent of the batch (1024 vs 16384 rows; 1,000 rows alone; "
        f"21 single rows): {same and alone and single}"
    )


if __name__ == "__main__":
    main()
