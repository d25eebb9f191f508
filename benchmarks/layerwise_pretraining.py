"""Deep autoencoder with and without greedy layer-wise pretraining on ADBench sets.

ADBench protocol: stratified 70/30 split per seed, min-max scaling fitted on the train part,
AUROC of ``anomaly_score`` on the test part. Same net for both (hidden_dims=(64, 32),
latent_dim=8, 20 epochs); the pretrained one first trains each layer for 10 epochs.

Usage: AEOD_DATA_DIR=../shared/datasets python benchmarks/layerwise_pretraining.py > out.txt
Prints one line per run: dataset seed pretrain auroc fit_seconds.
"""

from __future__ import annotations

import os
import time
from pathlib import Path

import numpy as np
import torch
from sklearn.metrics import roc_auc_score
from sklearn.model_selection import train_test_split
from sklearn.preprocessing import MinMaxScaler

from anomalib_ae import AutoEncoderDetector

DATASETS = ["6_cardio", "38_thyroid", "42_WBC", "29_Pima", "18_Ionosphere", "39_vertebral"]


def main() -> None:
    torch.set_num_threads(1)
    root = Path(os.environ["AEOD_DATA_DIR"]) / "adbench" / "Classical"
    for name in DATASETS:
        data = np.load(root / f"{name}.npz")
        X, y = data["X"], data["y"]
        for seed in [0, 1, 2]:
            Xtr, Xte, _, yte = train_test_split(X, y, test_size=0.3, stratify=y, random_state=seed)
            scaler = MinMaxScaler().fit(Xtr)
            Xtr, Xte = scaler.transform(Xtr), scaler.transform(Xte)
            for pretrain in [None, "layerwise"]:
                start = time.time()
                det = AutoEncoderDetector(
                    hidden_dims=(64, 32),
                    latent_dim=8,
                    max_epochs=20,
                    pretrain=pretrain,
                    pretrain_epochs=10,
                    random_state=seed,
                ).fit(Xtr)
                auroc = roc_auc_score(yte, det.anomaly_score(Xte))
                print(name, seed, pretrain, round(auroc, 4), round(time.time() - start, 1))


if __name__ == "__main__":
    main()
