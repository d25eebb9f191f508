"""Choose a score rule on one group of ADBench sets, measure it on the others.

Issue 20 asks for default rules that transfer: chosen on one group of data
sets and confirmed on another. This script fits one detector (``--detector``,
default the :class:`~anomalib_ae.AutoEncoderEnsembleDetector`) once per
(data set, seed) under ADBench's unsupervised protocol (``adbench_split``:
70/30 stratified, min-max scaling fitted on the train part, fit on the
contaminated train part without labels) with its wide-table rule off, keeps
the test values of its own score (the ensemble's Mahalanobis terms; a plain
detector's net terms, ``input_neighbors=None``) and of the input-space
nearest-neighbour distances (``k`` = 1-10, in the detector's scaled input
space, leave-one-out on the training rows), and evaluates every candidate
rule from those values:

- ``net``: the detector's own score (the ensemble: its Mahalanobis pair, its
  default on tall tables);
- ``knn_k``: the distance to the ``k``-th nearest training row, always
  (PyOD's ``KNN(method="largest")``);
- ``mean_k``: the mean distance to the ``k`` nearest (``method="mean"``);
- ``blend_w_k``: ``(1 - w)`` of the ``net`` score plus ``w`` of the
  ``k``-th distance, each over its training median;
- ``wide_blend_w_k``: the mean distance to the 3 nearest on wide tables,
  ``blend_w_k`` elsewhere;
- ``wide_knn_k``, ``wide_mean_k``: that distance on wide tables (the Gaussians
  would be fitted on no more rows than features), ``net`` elsewhere:
  the form of the ensemble's ``score_terms="auto"`` and of the plain
  detectors' ``input_neighbors="auto"``, whose default is ``wide_mean_3``.

Every candidate depends only on the input's shape. For each group the rule
with the best mean AUROC on that group is chosen and its mean AUROC / AUPRC
on every group printed (a leave-one-group-out table), next to PyOD's KNN
(``k = 5``, the same distances) and the detector's own score.

Test values are cached per (data set, seed) under ``--cache``, so a re-run only
recomputes the table. Example (about 10 minutes on 2 cores)::

    AEOD_DATA_DIR=/work/shared/datasets python benchmarks/accuracy/transfer.py \
        --cache /tmp/transfer --seeds 0 1 2
    # the same for a plain detector, on the embedding sets only
    ... transfer.py --cache /tmp/transfer --detector vae --groups resnet18 vit
"""

from __future__ import annotations

import argparse
import os
from pathlib import Path

import numpy as np
from sklearn.metrics import average_precision_score, roc_auc_score
from sklearn.neighbors import NearestNeighbors

from anomalib_ae import get_detector
from anomalib_ae.bench.datasets import load, select
from anomalib_ae.bench.protocols import adbench_split, derive_seed
from anomalib_ae.detectors._terms import is_wide
from anomalib_ae.detectors.ensemble import TALL_TERMS

GROUPS = {
    "classical": "adbench/Classical/*",
    "resnet18": "adbench/CV_by_ResNet18/*",
    "vit": "adbench/CV_by_ViT/*",
}
KS = tuple(range(1, 11))
BLEND_KS = (1, 3, 5, 10)
WEIGHTS = (0.25, 0.5, 0.75)
BLEND_REFS = tuple(f"blend_{w}_3" for w in WEIGHTS)


def net_only(detector: str):
    """``detector`` at its defaults with its wide-table rule off (its own score everywhere)."""
    det = get_detector(detector)
    params = det.get_params()
    if "score_terms" in params:
        det.set_params(score_terms=TALL_TERMS)
    if "input_neighbors" in params:
        det.set_params(input_neighbors=None)
    return det


def _values(
    detector: str, name: str, X: np.ndarray, y: np.ndarray, seed: int
) -> dict[str, np.ndarray]:
    split = adbench_split(X, y, seed, dataset=name)
    X_train = split.X_train.reshape(len(split.X_train), -1)
    X_test = split.X_test.reshape(len(split.X_test), -1)
    det = net_only(detector)
    det.set_params(random_state=derive_seed(name, seed) % 2**31).fit(X_train)  # as the harness
    keep = det.get_params().get("mahalanobis_keep", 0.5)
    out = {
        "y": split.y_test,
        "net": -det.score_samples(X_test),
        "net_train": -det.score_samples(X_train),
        "wide": np.array(is_wide(len(X_train), X_train.shape[1], keep)),
    }
    search = NearestNeighbors().fit(det.scaler_.transform(X_train))
    k_max = min(max(KS), len(X_train) - 1)
    train_d = search.kneighbors(None, k_max)[0]
    test_d = search.kneighbors(det.scaler_.transform(X_test), k_max)[0]
    out["knn"], out["knn_train"] = test_d, train_d  # the k_max nearest, nearest first
    return out


def _median(v: np.ndarray) -> float:
    m = float(np.median(v))
    return m if m > 0 else float(np.mean(np.abs(v))) or 1.0


def candidates(v: dict[str, np.ndarray]) -> dict[str, np.ndarray]:
    """Every candidate rule's test scores (higher = more anomalous) from one split's values."""
    maha, maha_scale = v["net"], _median(v["net_train"])
    out = {"net": maha}
    k_max = v["knn"].shape[1]
    wide_rule = v["knn"][:, : min(3, k_max)].mean(1)  # the shipped rule on wide tables
    for k in KS:
        kth, mean = v["knn"][:, min(k, k_max) - 1], v["knn"][:, : min(k, k_max)].mean(1)
        out[f"knn_{k}"], out[f"mean_{k}"] = kth, mean
        if k in BLEND_KS:
            scale = _median(v["knn_train"][:, min(k, k_max) - 1])
            for w in WEIGHTS:
                blend = (1 - w) * maha / maha_scale + w * kth / scale
                out[f"blend_{w}_{k}"] = blend
                out[f"wide_blend_{w}_{k}"] = wide_rule if bool(v["wide"]) else blend
        out[f"wide_knn_{k}"] = kth if bool(v["wide"]) else maha
        out[f"wide_mean_{k}"] = mean if bool(v["wide"]) else maha
    return out


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    parser.add_argument("--cache", type=Path, required=True)
    parser.add_argument("--seeds", type=int, nargs="+", default=[0, 1, 2])
    parser.add_argument("--data-dir", default=os.environ.get("AEOD_DATA_DIR"))
    parser.add_argument("--detector", default="autoencoder_ensemble")
    parser.add_argument("--groups", nargs="+", choices=list(GROUPS), default=list(GROUPS))
    parser.add_argument(
        "--split-classical",
        action="store_true",
        help="two halves of the classical sets (alternate by name): choose on one, check the other",
    )
    args = parser.parse_args()
    args.cache.mkdir(parents=True, exist_ok=True)
    scores: dict[str, dict[str, dict[str, list[tuple[float, float]]]]] = {}
    for group in args.groups:
        infos, _ = select([GROUPS[group]], args.data_dir)
        for i, info in enumerate(sorted(infos, key=lambda info: info.name)):
            label = group
            if group == "classical" and args.split_classical:
                label = ("classical_a", "classical_b")[i % 2]
            X, y = load(info)
            for seed in args.seeds:
                stem = f"{args.detector}__{info.name.replace('/', '__')}__{seed}"
                path = args.cache / f"{stem}__v3.npz"
                if not path.exists():
                    np.savez_compressed(path, **_values(args.detector, info.name, X, y, seed))
                v = dict(np.load(path))
                for cand, s in candidates(v).items():
                    metric = (roc_auc_score(v["y"], s), average_precision_score(v["y"], s))
                    by_set = scores.setdefault(cand, {}).setdefault(label, {})
                    by_set.setdefault(info.name, []).append(metric)
    groups = list(scores["net"])

    def mean(cand: str, group: str) -> np.ndarray:
        return np.mean([np.mean(m, 0) for m in scores[cand][group].values()], 0)

    sets = {g: len(scores["net"][g]) for g in groups}
    print(
        f"{args.detector}; seeds {args.seeds}; sets per group {sets}; AUROC / AUPRC, mean over sets"
    )
    print("| chosen on | rule chosen | " + " | ".join(groups) + " |")
    print("|---|---|" + "---|" * len(groups))
    for chooser in groups:
        # best mean AUROC; a tie goes to the shape-gated rule (it can also hold elsewhere), then
        # to the simpler rule (no blend: on wide-only groups every gated blend ties with it)
        best = max(
            scores,
            key=lambda c: (round(mean(c, chooser)[0], 12), c.startswith("wide_"), "blend" not in c),
        )
        cells = [f"{mean(best, g)[0]:.3f} / {mean(best, g)[1]:.3f}" for g in groups]
        print(f"| {chooser} | `{best}` | " + " | ".join(cells) + " |")
    for ref in ("net", "knn_5", "mean_3", "wide_knn_1", "wide_mean_3", *BLEND_REFS):
        cells = [f"{mean(ref, g)[0]:.3f} / {mean(ref, g)[1]:.3f}" for g in groups]
        print(f"| (reference) | `{ref}` | " + " | ".join(cells) + " |")


if __name__ == "__main__":
    main()
