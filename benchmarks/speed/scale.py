"""Issue 24: fit and score time per row at 20k, 200k and 1M training rows, every detector.

Data: d = 20 synthetic rows (a 5-dimensional latent factor through a fixed
random linear map, squashed by tanh, plus noise; 1% of rows shifted as
outliers), generated from a seed. Every registered detector at its defaults
(``random_state=0``) and PyOD's ``IForest`` (defaults, ``random_state=0``)
is fitted on the first ``n`` rows for each size, then scores the same 20,000
held-out rows. One thread: ``torch.set_num_threads(1)`` and
``OMP_NUM_THREADS=1`` (faiss, BLAS). Each (detector, size) is timed once;
rows are printed as they finish.

The summary gives per-row fit and score times, their ratio at the largest
size to the smallest (target: within 1.3x), and each detector's scoring
rows/s over IForest's at 200k training rows (target for the default
``autoencoder``: >= 1).

Usage: OMP_NUM_THREADS=1 python benchmarks/speed/scale.py
           [--sizes 20000,200000,1000000] [--detectors autoencoder,iforest,...]
"""

from __future__ import annotations

import os

os.environ.setdefault("OMP_NUM_THREADS", "1")  # before numpy / faiss start their thread pools

import argparse  # noqa: E402
import json  # noqa: E402
import time  # noqa: E402

import numpy as np  # noqa: E402
from _common import header  # noqa: E402

from anomalib_ae import get_detector, list_detectors  # noqa: E402

D, N_QUERY = 20, 20_000


def make_data(n: int, seed: int = 0) -> np.ndarray:
    """``n`` rows of d = 20: tanh of a 5-d factor's linear map, noise, 1% shifted rows."""
    rng = np.random.default_rng(seed)
    W = np.random.default_rng(12345).normal(size=(5, D))  # the same map for every seed
    X = np.tanh(rng.normal(size=(n, 5)) @ W / 2) + 0.1 * rng.normal(size=(n, D))
    out = rng.random(n) < 0.01
    X[out] += rng.normal(scale=1.0, size=(int(out.sum()), D))
    return X.astype(np.float32)


def make_detector(name: str):
    if name == "iforest":
        from pyod.models.iforest import IForest

        return IForest(random_state=0)
    return get_detector(name, random_state=0)


def score(det, name: str, X: np.ndarray) -> np.ndarray:
    return det.decision_function(X) if name == "iforest" else det.score_samples(X)


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--sizes", default="20000,200000,1000000")
    parser.add_argument("--detectors", default=",".join([*list_detectors(), "iforest"]))
    parser.add_argument("--out", default=None, help="append one JSON line per result here")
    args = parser.parse_args()
    sizes = [int(s) for s in args.sizes.split(",")]
    names = args.detectors.split(",")
    try:
        import faiss

        faiss.omp_set_num_threads(1)
        faiss_note = f"faiss {faiss.__version__}, 1 thread"
    except ImportError:
        faiss_note = "no faiss (approximate search: bounded subset)"
    header("scale: per-row fit and score time at 20k, 200k, 1M training rows (d = 20)")
    print(f"OMP_NUM_THREADS={os.environ['OMP_NUM_THREADS']}, {faiss_note}")
    print(f"sizes {sizes}; detectors {names}; scoring {N_QUERY} held-out rows\n", flush=True)
    X = make_data(max(sizes) + N_QUERY)
    query = X[-N_QUERY:]
    results: dict[tuple[str, int], dict] = {}
    for name in names:
        for n in sizes:
            det = make_detector(name)
            start = time.perf_counter()
            det.fit(X[:n])
            fit_s = time.perf_counter() - start
            start = time.perf_counter()
            scores = score(det, name, query)
            score_s = time.perf_counter() - start
            row = {
                "detector": name,
                "n": n,
                "fit_s": fit_s,
                "score_s": score_s,
                "fit_us_row": 1e6 * fit_s / n,
                "score_us_row": 1e6 * score_s / N_QUERY,
                "finite": bool(np.isfinite(scores).all()),
                "index": type(getattr(det, "code_index_", None)).__name__,
            }
            results[name, n] = row
            print(
                f"  {name} n={n}: fit {fit_s:.1f} s ({row['fit_us_row']:.1f} us/row), "
                f"score {score_s:.2f} s ({row['score_us_row']:.2f} us/row), "
                f"index {row['index']}, finite {row['finite']}",
                flush=True,
            )
            if args.out:
                with open(args.out, "a") as fh:
                    fh.write(json.dumps(row) + "\n")
    summarize(results, names, sizes)


def summarize(results: dict, names: list[str], sizes: list[int]) -> None:
    small, large = sizes[0], sizes[-1]
    mid = 200_000 if 200_000 in sizes else None
    print(
        f"\n| detector | {' | '.join(f'fit us/row {n:,}' for n in sizes)} | fit {large:,}/{small:,} "
        f"| {' | '.join(f'score us/row {n:,}' for n in sizes)} | score {large:,}/{small:,} "
        "| score rows/s vs IForest at 200k |"
    )
    print("|---" * (2 * len(sizes) + 4) + "|")
    forest = results.get(("iforest", mid)) if mid else None
    for name in names:
        rows = [results.get((name, n)) for n in sizes]
        if any(r is None for r in rows):
            continue
        fit = [r["fit_us_row"] for r in rows]
        sc = [r["score_us_row"] for r in rows]
        vs = f"{forest['score_us_row'] / results[name, mid]['score_us_row']:.2f}" if forest else "-"
        print(
            f"| {name} | {' | '.join(f'{v:.1f}' for v in fit)} | **{fit[-1] / fit[0]:.2f}** "
            f"| {' | '.join(f'{v:.2f}' for v in sc)} | **{sc[-1] / sc[0]:.2f}** | {vs} |"
        )


if __name__ == "__main__":
    main()
