"""Target 1: ``AutoEncoderDetector.fit`` against a bare PyTorch loop doing the same work.

Both sides: the same ``AutoEncoderNet`` (hidden (64, 32), code 8) built from the
same seed, the same float32 rows standardised the same way, the same batch size,
epochs, Adam optimiser and per-epoch shuffle, one torch thread. The bare side
is what ``fit`` must do written as plain PyTorch: standardise, train, and score
the training rows once for the threshold (``offset_``); the ratio against the
training loop alone is printed too. Rounds are interleaved (bare, ours, bare,
ours, ...) and each ratio is the median of the per-round ratios.

With ``--equal-work`` every option of ours that adds work beyond the bare loop
is off (:data:`EQUAL_WORK`: no code-neighbour term, which needs the training
codes and a neighbour search; no per-feature error scaling, which needs the
training errors' medians; no loss trimming, which sorts each batch's losses;
standard scaling as the bare loop does; the float32 net scores the training rows,
not its float64 twin); without it ours runs at its defaults.

Usage: python benchmarks/speed/fit_overhead.py [--rows 7000] [--epochs 10] [--repeats 3]
           [--equal-work]
"""

from __future__ import annotations

import argparse
from functools import partial

import numpy as np
import torch
from _common import header, interleaved, median, ratio

from anomalib_ae import AutoEncoderDetector
from anomalib_ae.nn.mlp import AutoEncoderNet

HIDDEN, LATENT = (64, 32), 8


def bare_fit(X: np.ndarray, batch_size: int, epochs: int, score: bool = True) -> None:
    """Standardise, train with Adam on shuffled batches, then score the training rows."""
    mean, std = X.mean(0, dtype=np.float64), X.std(0, dtype=np.float64)
    T = torch.from_numpy(((X - mean) / np.where(std > 0, std, 1.0)).astype(np.float32))
    torch.manual_seed(0)
    net = AutoEncoderNet(X.shape[1], HIDDEN, LATENT)
    opt = torch.optim.Adam(net.parameters(), lr=1e-3)
    gen = torch.Generator().manual_seed(0)
    n = len(T)
    for _ in range(epochs):
        order = torch.randperm(n, generator=gen)
        for start in range(0, n, batch_size):
            x = T[order[start : start + batch_size]]
            loss = (net(x) - x).pow(2).flatten(1).mean(1).mean()
            opt.zero_grad(set_to_none=True)
            loss.backward()
            opt.step()
    if score:
        net.eval()
        with torch.inference_mode():
            errors = torch.cat([(net(x) - x).pow(2).mean(1) for x in T.split(4096)])
        np.percentile(-errors.double().numpy(), 10)


EQUAL_WORK = dict(
    code_neighbors=0,
    error_scaling="none",
    trim_fraction=0.0,
    scaler="standard",
    inference_precision="float32",
)
"""The options that add work beyond the bare loop, switched off (``--equal-work``)."""


def ours_fit(X: np.ndarray, batch_size: int, epochs: int, extra: dict | None = None) -> None:
    AutoEncoderDetector(
        hidden_dims=HIDDEN,
        latent_dim=LATENT,
        batch_size=batch_size,
        max_epochs=epochs,
        random_state=0,
        **(extra or {}),
    ).fit(X)


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--rows", type=int, default=7000)
    parser.add_argument("--epochs", type=int, default=10)
    parser.add_argument("--repeats", type=int, default=3)
    parser.add_argument("--dims", default="20,100")
    parser.add_argument("--batches", default="32,256")
    parser.add_argument("--equal-work", action="store_true", help="switch EQUAL_WORK off")
    args = parser.parse_args()
    extra = EQUAL_WORK if args.equal_work else {}
    header("fit overhead: AutoEncoderDetector.fit vs a bare PyTorch loop (target: ratio <= 1.2)")
    print(f"ours: {'equal work, off: ' + str(EQUAL_WORK) if extra else 'defaults'}")
    print(
        f"rows {args.rows}, epochs {args.epochs}, repeats {args.repeats} (+1 warm-up), interleaved\n"
    )
    print(
        "| d | batch | bare fit s | bare train-only s | ours s | ours / bare fit | ours / train-only | CPU-time ratio |"
    )
    print("|---|---|---|---|---|---|---|---|")
    rng = np.random.default_rng(0)
    for d in (int(v) for v in args.dims.split(",")):
        X = rng.normal(size=(args.rows, d)).astype(np.float32)
        for b in (int(v) for v in args.batches.split(",")):
            times = interleaved(
                {
                    "bare": partial(bare_fit, X, b, args.epochs),
                    "train": partial(bare_fit, X, b, args.epochs, score=False),
                    "ours": partial(ours_fit, X, b, args.epochs, extra),
                },
                repeats=args.repeats,
            )
            print(
                f"| {d} | {b} | {median(times['bare']['wall']):.3f} "
                f"| {median(times['train']['wall']):.3f} | {median(times['ours']['wall']):.3f} "
                f"| **{ratio(times, 'ours', 'bare'):.2f}** | {ratio(times, 'ours', 'train'):.2f} "
                f"| {ratio(times, 'ours', 'bare', 'cpu'):.2f} |",
                flush=True,
            )


if __name__ == "__main__":
    main()
