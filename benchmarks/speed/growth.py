"""Target 4: time per row from 10k to 1M rows (d = 100), and peak memory on a 1M-row memmap.

Time: ``fit`` (one epoch, default batch size) and ``score_samples`` on 10k,
100k and 1M rows of d = 100 held in memory, one torch thread; the table gives
microseconds per row and the ratio to the 1M-row figure (target: within 1.5x).

Memory: a fresh Python process opens a 1M x 100 float32 ``.npy`` file with
``np.load(mmap_mode="r")``, then fits (one epoch) and scores it. Its peak
resident set (``VmHWM``) minus its resident set just before ``fit`` is the
memory the detector needed, compared with the 400 MB of data (target: < 1.5x).
It counts the pages of the file that the process reads (up to 1x: a memory
map is read through the page cache) as well as every copy.

Usage: python benchmarks/speed/growth.py [--sizes 10000,100000,1000000] [--tmp DIR]
"""

from __future__ import annotations

import argparse
import json
import subprocess
import sys
import tempfile
import time
from pathlib import Path

import numpy as np
from _common import header

from anomalib_ae import AutoEncoderDetector

D = 100
PARAMS = dict(max_epochs=1, random_state=0)

MEMORY_CHILD = """
import json, sys, time
import numpy as np, torch
torch.set_num_threads(1)
from anomalib_ae import AutoEncoderDetector

def status():
    out = {}
    for line in open("/proc/self/status"):
        key, value = line.split(":", 1)
        if key in ("VmRSS", "VmHWM", "RssAnon", "RssFile"):
            out[key] = int(value.split()[0]) / 1024
    return out

X = np.load(sys.argv[1], mmap_mode="r")
AutoEncoderDetector(max_epochs=1, random_state=0).fit(X[:1000])  # warm-up: lazy imports
before = status()
start = time.perf_counter()
det = AutoEncoderDetector(max_epochs=1, random_state=0).fit(X)
fit_s = time.perf_counter() - start
start = time.perf_counter()
scores = det.score_samples(X)
score_s = time.perf_counter() - start
print(json.dumps({"before": before, "after": status(), "fit_s": fit_s, "score_s": score_s,
                  "data_mb": X.nbytes / 2**20, "finite": bool(np.isfinite(scores).all())}))
"""


def timing(sizes: list[int]) -> None:
    rng = np.random.default_rng(0)
    X = rng.normal(size=(max(sizes), D)).astype(np.float32)
    AutoEncoderDetector(**PARAMS).fit(X[:2000])  # warm-up
    rows = []
    for n in sizes:
        start = time.perf_counter()
        det = AutoEncoderDetector(**PARAMS).fit(X[:n])
        fit_s = time.perf_counter() - start
        start = time.perf_counter()
        det.score_samples(X[:n])
        score_s = time.perf_counter() - start
        rows.append((n, fit_s, score_s))
        print(f"  measured n={n}: fit {fit_s:.2f} s, score {score_s:.3f} s", flush=True)
    big = rows[-1]
    print("\n| rows | fit s | fit us/row | vs largest | score s | score us/row | vs largest |")
    print("|---|---|---|---|---|---|---|")
    for n, f, s in rows:
        fr, sr = f / n * 1e6, s / n * 1e6
        print(
            f"| {n:,} | {f:.2f} | {fr:.1f} | **{fr / (big[1] / big[0] * 1e6):.2f}** "
            f"| {s:.3f} | {sr:.2f} | **{sr / (big[2] / big[0] * 1e6):.2f}** |"
        )


def memory(n: int, tmp: Path) -> None:
    path = tmp / "growth_rows.npy"
    out = np.lib.format.open_memmap(path, mode="w+", dtype=np.float32, shape=(n, D))
    rng = np.random.default_rng(1)
    for start in range(0, n, 100_000):
        out[start : start + 100_000] = rng.normal(size=(min(100_000, n - start), D))
    out.flush()
    del out
    try:
        child = subprocess.run(
            [sys.executable, "-c", MEMORY_CHILD, str(path)], capture_output=True, text=True
        )
        if child.returncode != 0:
            print(child.stderr[-2000:])
            return
        res = json.loads(child.stdout.strip().splitlines()[-1])
    finally:
        path.unlink()
    b, a, data = res["before"], res["after"], res["data_mb"]
    peak = a["VmHWM"] - b["VmRSS"]
    print(
        f"\nmemmap {n:,} x {D} float32 ({data:.0f} MiB): fit {res['fit_s']:.1f} s, score {res['score_s']:.1f} s"
    )
    print("| measure | MiB | / data size |")
    print("|---|---|---|")
    print(
        f"| peak RSS growth during fit + score (VmHWM - RSS before) | {peak:.0f} | **{peak / data:.2f}** |"
    )
    print(f"| RSS before fit (interpreter, torch, Lightning) | {b['VmRSS']:.0f} | |")
    print(
        f"| after: anonymous (copies, nets, scores) growth | {a['RssAnon'] - b['RssAnon']:.0f} | {(a['RssAnon'] - b['RssAnon']) / data:.2f} |"
    )
    print(
        f"| after: file-backed (pages of the memmap) growth | {a['RssFile'] - b['RssFile']:.0f} | {(a['RssFile'] - b['RssFile']) / data:.2f} |"
    )
    print(f"scores finite: {res['finite']}")


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--sizes", default="10000,100000,1000000")
    parser.add_argument("--tmp", default=None, help="folder for the temporary .npy file")
    parser.add_argument("--skip-memory", action="store_true")
    parser.add_argument("--memory-only", action="store_true")
    args = parser.parse_args()
    sizes = [int(s) for s in args.sizes.split(",")]
    header("growth: time per row 10k -> 1M (target: within 1.5x) and memmap peak memory (< 1.5x)")
    print(f"d {D}, {PARAMS}, default batch size; in-memory float32 rows\n")
    if not args.memory_only:
        timing(sizes)
    if not args.skip_memory:
        with tempfile.TemporaryDirectory(dir=args.tmp) as tmp:
            memory(max(sizes), Path(tmp))


if __name__ == "__main__":
    main()
