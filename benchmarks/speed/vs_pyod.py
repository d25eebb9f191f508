"""Target 2: fit time against PyOD's AutoEncoder and VAE on ADBench cardio, mnist, shuttle.

Data: the 70 % train part of each dataset as the harness's ADBench protocol
makes it (stratified split, at most 10,000 rows, min-max scaled), from
``$AEOD_DATA_DIR/adbench/Classical``. One torch thread on both sides.

Settings matched to PyOD's defaults (read from pyod/models/auto_encoder.py and
vae.py): AutoEncoder: 10 epochs, batch 32, Adam lr 1e-3 with weight decay
1e-5, hidden [64, 32] with batch norm and dropout 0.2 (ours: hidden_dims=(64,),
latent_dim=32, batch_norm=True, dropout=0.2); VAE: 30 epochs, batch 32, Adam
lr 1e-3 with weight decay 1e-5, encoder [128, 64, 32], latent 2, dropout 0.2,
no batch norm, beta 1. PyOD runs with ``verbose=0`` (no per-epoch printing);
otherwise its defaults. "ours default" is ``AutoEncoderDetector()`` /
``VAEDetector()`` as shipped. Interleaved rounds (pyod, ours matched, ours
default); ratios are medians of per-round ratios (target: matched < 1, and
default below matched).

Usage: python benchmarks/speed/vs_pyod.py [--repeats 2] [--datasets 6_cardio,24_mnist,32_shuttle]
"""

from __future__ import annotations

import argparse
from functools import partial

from _common import adbench_train, header, interleaved, median, ratio

from anomalib_ae import AutoEncoderDetector, VAEDetector

MATCHED_AE = dict(
    hidden_dims=(64,),
    latent_dim=32,
    batch_norm=True,
    dropout=0.2,
    weight_decay=1e-5,
    max_epochs=10,
    batch_size=32,
    lr=1e-3,
    random_state=0,
)
MATCHED_VAE = dict(
    hidden_dims=(128, 64, 32),
    latent_dim=2,
    batch_norm=False,
    dropout=0.2,
    weight_decay=1e-5,
    max_epochs=30,
    batch_size=32,
    lr=1e-3,
    beta=1.0,
    random_state=0,
)


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--repeats", type=int, default=2)
    parser.add_argument("--datasets", default="6_cardio,24_mnist,32_shuttle")
    parser.add_argument("--models", default="ae,vae")
    args = parser.parse_args()
    import pyod
    from pyod.models.auto_encoder import AutoEncoder
    from pyod.models.vae import VAE

    header("fit time vs PyOD AutoEncoder / VAE (target: matched < 1, default lower still)")
    print(f"pyod {pyod.__version__}; repeats {args.repeats} (+1 warm-up), interleaved\n")
    print(
        "| dataset | rows x d | model | PyOD s | ours matched s | ours default s | matched / PyOD | default / PyOD |"
    )
    print("|---|---|---|---|---|---|---|---|")
    models = {
        "ae": ("AutoEncoder", partial(AutoEncoder, verbose=0), AutoEncoderDetector, MATCHED_AE),
        "vae": ("VAE", partial(VAE, verbose=0), VAEDetector, MATCHED_VAE),
    }
    for name in args.datasets.split(","):
        X = adbench_train(name)
        for key in args.models.split(","):
            label, pyod_cls, ours_cls, matched = models[key]
            times = interleaved(
                {
                    "pyod": lambda: pyod_cls().fit(X),  # noqa: B023 - run inside the loop
                    "matched": lambda: ours_cls(**matched).fit(X),  # noqa: B023
                    "default": lambda: ours_cls(random_state=0).fit(X),  # noqa: B023
                },
                repeats=args.repeats,
            )
            print(
                f"| {name} | {X.shape[0]} x {X.shape[1]} | {label} "
                f"| {median(times['pyod']['wall']):.2f} | {median(times['matched']['wall']):.2f} "
                f"| {median(times['default']['wall']):.2f} "
                f"| **{ratio(times, 'matched', 'pyod'):.2f}** | **{ratio(times, 'default', 'pyod'):.2f}** |",
                flush=True,
            )


if __name__ == "__main__":
    main()
