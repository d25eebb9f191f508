"""Evaluate candidate detector configurations on the ADBench classical suite, cheaply.

The ADBench unsupervised protocol (``anomalib_ae.bench.protocols.adbench_split``) on
the 29 files of ``$AEOD_DATA_DIR/adbench/Classical``, seeds 0-2 (or fewer). Test
scores of every (detector, dataset, seed) are cached as ``.npy`` files under
``--cache`` (outside the repository), so the PyOD baselines are computed once and a
candidate is only ever fitted once per split; the summary is recomputed from the
cache each time.

A candidate is one of

- ``lib:NAME`` or ``lib:NAME:{json params}``: a registered detector of this package;
- ``proto:{json params}``: the pure-torch prototype below (quick to change while
  exploring; the ideas that win move into the library);
- a PyOD baseline name (``pyod_iforest``, ...), always included in the ranking.

Examples::

    AEOD_DATA_DIR=/work/shared/datasets python benchmarks/accuracy/sweep.py \
        --seeds 0 --cand 'lib:autoencoder' --cand 'lib:autoencoder:{"scaler": "none"}'

The summary prints, per candidate, the mean test AUROC / AUPRC over all
(dataset, seed) pairs and the average rank (by AUROC, of the per-dataset means
over seeds) among the candidate and the six PyOD baselines.
"""

from __future__ import annotations

import argparse
import hashlib
import json
import os
import time
import warnings
from pathlib import Path

import numpy as np
import pandas as pd
import torch
from sklearn.metrics import average_precision_score, roc_auc_score

from anomalib_ae.bench.protocols import adbench_split, derive_seed

BASELINES = ["pyod_iforest", "pyod_vae", "pyod_ecod", "pyod_autoencoder", "pyod_pca", "pyod_knn"]
CHEAP_BASELINES = ["pyod_iforest", "pyod_ecod", "pyod_pca", "pyod_knn"]


def datasets(root: Path) -> list[Path]:
    return sorted((root / "adbench" / "Classical").glob("*.npz"))


def split_of(path: Path, seed: int):
    data = np.load(path, allow_pickle=False)
    return adbench_split(data["X"], data["y"], seed, dataset=path.stem)


def model_seed(name: str, seed: int) -> int:
    """The seed the harness hands a detector (``jobs.run_job``)."""
    return derive_seed(name, seed) % 2**31


# ---- candidates ---------------------------------------------------------------------
def run_baseline(name: str, X_train, X_test, seed: int) -> dict[str, np.ndarray]:
    from anomalib_ae.bench.detectors import Adapter, resolve

    det = Adapter(resolve(name), seed=seed).fit(X_train)
    return {"": det.anomaly_scores(X_test)}


def run_lib(spec: str, X_train, X_test, seed: int) -> dict[str, np.ndarray]:
    from anomalib_ae import get_detector

    _, name, *rest = spec.split(":", 2)
    params = json.loads(rest[0]) if rest else {}
    for key, value in params.items():
        if isinstance(value, list):
            params[key] = tuple(value)
    # Score variants of the same fit: ``_score_types`` (a VAE's score_type values) or
    # ``_variants`` (dicts of score parameters, e.g. {"score_terms": ["reconstruction"]}).
    # The score terms are fitted in ``fit``, so each variant is a refit; training does not
    # depend on them, so with the same seed it trains the same net.
    variants = [{"score_type": v} for v in params.pop("_score_types", None) or []]
    variants += params.pop("_variants", None) or []
    params.pop("v", None)  # only versions the cache (the library code changed)
    det = get_detector(name, random_state=seed, **params).fit(X_train)
    out = {"": -det.score_samples(X_test)}
    for variant in variants:
        changed = {k: tuple(v) if isinstance(v, list) else v for k, v in variant.items()}
        refit = get_detector(name, random_state=seed, **{**params, **changed}).fit(X_train)
        if list(variant) == ["score_type"]:
            label = variant["score_type"]
        else:
            label = ",".join(f"{k}={v}" for k, v in variant.items())
        out[f"|{label}"] = -refit.score_samples(X_test)
    return out


def _scale(kind: str, X_train: np.ndarray, X_test: np.ndarray):
    if kind == "standard":
        mu, sd = X_train.mean(0), X_train.std(0)
        sd = np.where(sd > 1e-12, sd, 1.0)
        return (X_train - mu) / sd, (X_test - mu) / sd
    return X_train, X_test


def _code_knn(z_tr: np.ndarray, z_te: np.ndarray, k: int) -> np.ndarray:
    """Squared distance to the k-th nearest training code, over its training median."""
    from sklearn.neighbors import NearestNeighbors

    k = max(1, min(k, len(z_tr) - 1))
    nn = NearestNeighbors(n_neighbors=k + 1).fit(z_tr)
    d_tr = nn.kneighbors(z_tr)[0][:, k] ** 2  # column 0 is the row itself
    d_te = nn.kneighbors(z_te, n_neighbors=k)[0][:, k - 1] ** 2
    scale = np.median(d_tr)
    return d_te / (scale if scale > 1e-12 else max(d_tr.mean(), 1e-12))


def run_proto(spec: str, X_train, X_test, seed: int) -> dict[str, np.ndarray]:
    """Plain-torch loop around the library's ensemble net and trimmed loss, knobs exposed.

    Variants returned from one training (suffixes): ``m1`` (first member only) and
    ``mK`` (mean over the K members), each for ``rec`` (mean squared error) and
    ``fn`` (each feature's squared error divided by its median training error).
    """
    from anomalib_ae.nn.ensemble import AutoEncoderEnsembleNet
    from anomalib_ae.training.ensemble import trimmed_weights

    p = {
        "scaler": "standard",
        "hidden": [64, 32],
        "latent": 8,
        "epochs": 50,
        "batch": 64,
        "lr": 1e-3,
        "wd": 0.0,
        "trim": 0.0,
        "trim_warmup": 0.2,
        "members": 1,
        "steps": None,
        "latent_rule": None,
        **json.loads(spec.split(":", 1)[1]),
    }
    Xtr, Xte = _scale(p["scaler"], X_train.astype(np.float64), X_test.astype(np.float64))
    Xtr_t = torch.as_tensor(Xtr, dtype=torch.float32)
    Xte_t = torch.as_tensor(Xte, dtype=torch.float32)
    n, d = Xtr.shape
    latent = p["latent"]
    if p["latent_rule"] == "sqrt":
        latent = max(2, min(latent, int(round(np.sqrt(d)))))
    elif p["latent_rule"] == "half":
        latent = max(1, min(latent, d // 2))
    batch = min(p["batch"], n)
    per_epoch = -(-n // batch)
    epochs = p["epochs"] if p["steps"] is None else max(1, -(-p["steps"] // per_epoch))
    if p.get("min_steps"):
        epochs = max(epochs, -(-p["min_steps"] // per_epoch))
    if p.get("max_steps"):
        epochs = min(epochs, max(1, -(-p["max_steps"] // per_epoch)))
    gen = torch.Generator().manual_seed(seed)
    torch.manual_seed(seed)
    k = p["members"]
    net = AutoEncoderEnsembleNet(d, p["hidden"], latent, n_members=k)
    opt = torch.optim.Adam(net.parameters(), lr=p["lr"], weight_decay=p["wd"])
    for epoch in range(epochs):
        order = torch.randperm(n, generator=gen)
        trimming = p["trim"] > 0 and epoch >= p["trim_warmup"] * epochs
        for start in range(0, n, batch):
            x = Xtr_t[order[start : start + batch]]
            losses = (net(x) - x).pow(2).mean(-1)
            if trimming and len(x) > 1:
                losses = losses * trimmed_weights(losses, p["trim"])
            opt.zero_grad()
            losses.mean().backward()
            opt.step()
    with torch.inference_mode():
        err_tr = (net(Xtr_t) - Xtr_t).pow(2).numpy()  # (k, n, d)
        err_te = (net(Xte_t) - Xte_t).pow(2).numpy()
    med = np.median(err_tr, axis=1, keepdims=True)  # (k, 1, d)
    floor = np.maximum(err_tr.mean(axis=(1, 2), keepdims=True), 1e-12)
    med = np.where(med > 1e-12, med, floor)
    rec, fn = err_te.mean(-1), (err_te / med).mean(-1)  # (k, n_test)
    # signed-residual robust z-scores and a 90%-quantile scale, for comparison
    with torch.inference_mode():
        res_tr = (net(Xtr_t) - Xtr_t).numpy()
        res_te = (net(Xte_t) - Xte_t).numpy()
    rmed = np.median(res_tr, axis=1, keepdims=True)
    mad = 1.4826 * np.median(np.abs(res_tr - rmed), axis=1, keepdims=True)
    mad = np.where(
        mad > 1e-6, mad, np.maximum(np.abs(res_tr).mean(axis=(1, 2), keepdims=True), 1e-6)
    )
    fnz = (((res_te - rmed) / mad) ** 2).mean(-1)
    q90 = np.quantile(err_tr, 0.9, axis=1, keepdims=True)
    q90 = np.where(q90 > 1e-12, q90, floor)
    fnq = (err_te / q90).mean(-1)
    fnlog = np.log1p(err_te / med).mean(-1)
    # latent deviations: squared distance of each code from the training median, per
    # code dimension, divided by its median over the training rows
    with torch.inference_mode():
        z_tr = net.member_codes(Xtr_t).numpy()  # (k, n, L)
        z_te = net.member_codes(Xte_t).numpy()
    centre = np.median(z_tr, axis=1, keepdims=True)
    dev_tr, dev_te = (z_tr - centre) ** 2, (z_te - centre) ** 2
    dmed = np.median(dev_tr, axis=1, keepdims=True)
    dfloor = np.maximum(dev_tr.mean(axis=(1, 2), keepdims=True), 1e-12)
    dmed = np.where(dmed > 1e-12, dmed, dfloor)
    lat = (dev_te / dmed).mean(-1)
    fnlat = np.concatenate([err_te / med, dev_te / dmed], axis=-1).mean(-1)
    both = 0.5 * (fn + lat)
    # k-nearest-neighbour distance among the training codes (leave-one-out on the
    # training rows), squared and divided by its median over the training rows
    knn_k = p.get("knn_k", 5)
    knn = np.stack([_code_knn(z_tr[m], z_te[m], knn_k) for m in range(k)])
    fn_tr = (err_tr / med).mean(-1)  # (k, n)
    fn_n = fn / np.median(fn_tr, axis=1, keepdims=True)
    fnknn = 0.5 * (fn_n + knn)
    out = {
        "|rec|m1": rec[0],
        "|fn|m1": fn[0],
        "|lat|m1": lat[0],
        "|fnlat|m1": fnlat[0],
        "|both|m1": both[0],
        "|knn|m1": knn[0],
        "|fnz|m1": fnz[0],
        "|fnq|m1": fnq[0],
        "|fnlog|m1": fnlog[0],
        "|fnknn|m1": fnknn[0],
    }
    if k > 1:
        out[f"|rec|m{k}"] = rec.mean(0)
        out[f"|fn|m{k}"] = fn.mean(0)
        out[f"|lat|m{k}"] = lat.mean(0)
        out[f"|fnlat|m{k}"] = fnlat.mean(0)
        out[f"|both|m{k}"] = both.mean(0)
        out[f"|knn|m{k}"] = knn.mean(0)
        out[f"|fnz|m{k}"] = fnz.mean(0)
        out[f"|fnq|m{k}"] = fnq.mean(0)
        out[f"|fnlog|m{k}"] = fnlog.mean(0)
        out[f"|fnknn|m{k}"] = fnknn.mean(0)
    return out


def run_proto2(spec: str, X_train, X_test, seed: int) -> dict[str, np.ndarray]:
    """Second prototype: the ensemble loop with bagging knobs and code-neighbour scores.

    Knobs on top of :func:`run_proto` (min-max input, 5 members, 10% trimming):
    ``bag`` (share of the training rows each member trains on), ``fbag`` (each
    member sees a random subset of between half and all features, and is scored
    on those only), ``knn_ks`` (the code-neighbour ``k`` values scored). Scores:
    ``fn`` (median-scaled errors), ``knnK`` / ``fnknnK`` (Euclidean distance to the
    K-th nearest training code over its median, alone and added to ``fn`` over its
    median), averaged over the members.
    """
    from sklearn.neighbors import NearestNeighbors

    from anomalib_ae.nn.ensemble import AutoEncoderEnsembleNet
    from anomalib_ae.training.ensemble import trimmed_weights

    p = {
        "hidden": [64, 32],
        "latent": 8,
        "epochs": 20,
        "batch": 128,
        "lr": 1e-3,
        "trim": 0.1,
        "trim_warmup": 0.2,
        "members": 5,
        "bag": 1.0,
        "fbag": 0,
        "knn_ks": [1, 5],
        "max_steps": None,
        **json.loads(spec.split(":", 1)[1]),
    }
    Xtr_t = torch.as_tensor(np.asarray(X_train, np.float64), dtype=torch.float32)
    Xte_t = torch.as_tensor(np.asarray(X_test, np.float64), dtype=torch.float32)
    n, d = Xtr_t.shape
    n_nonlin = p["members"]
    k = n_nonlin + p.get("linear", 0)  # extra members with no activation (PCA-like)
    rng = np.random.default_rng(seed)
    row_mask = torch.ones(k, n)
    if p["bag"] < 1:
        row_mask.zero_()
        size = max(2, int(np.ceil(p["bag"] * n)))
        for m in range(k):
            row_mask[m, rng.choice(n, size=min(size, n), replace=False)] = 1.0
    feat_mask = torch.ones(k, d)
    if p["fbag"] and d > 2:
        feat_mask.zero_()
        for m in range(k):
            size = int(rng.integers(int(np.ceil(d / 2)), d + 1))
            feat_mask[m, rng.choice(d, size=size, replace=False)] = 1.0
    batch = min(p["batch"], n)
    per_epoch = -(-n // batch)
    epochs = p["epochs"]
    if p.get("max_steps"):
        epochs = min(epochs, max(1, -(-p["max_steps"] // per_epoch)))
    gen = torch.Generator().manual_seed(seed)
    torch.manual_seed(seed)
    net = AutoEncoderEnsembleNet(d, p["hidden"], p["latent"], n_members=n_nonlin)
    params = list(net.parameters())
    lin = None
    if k > n_nonlin:
        lin = AutoEncoderEnsembleNet(
            d, p["hidden"], p["latent"], n_members=k - n_nonlin, activation=None
        )
        params += list(lin.parameters())
    opt = torch.optim.Adam(params, lr=p["lr"])
    fsum = feat_mask.sum(-1, keepdim=True)

    def fwd(x):
        xk = x.unsqueeze(0) * feat_mask[:, None, :]
        if lin is None:
            z = net.encoder(xk)
            return z, net.decoder(z), xk
        z1, z2 = net.encoder(xk[:n_nonlin]), lin.encoder(xk[n_nonlin:])
        return torch.cat([z1, z2]), torch.cat([net.decoder(z1), lin.decoder(z2)]), xk

    for epoch in range(epochs):
        order = torch.randperm(n, generator=gen)
        trimming = p["trim"] > 0 and epoch >= p["trim_warmup"] * epochs
        for start in range(0, n, batch):
            idx = order[start : start + batch]
            _, rec, xk = fwd(Xtr_t[idx])
            losses = ((rec - xk).pow(2) * feat_mask[:, None, :]).sum(-1) / fsum
            w = row_mask[:, idx]
            if trimming and len(idx) > 1:
                w = w * trimmed_weights(losses.masked_fill(w == 0, -1.0), p["trim"])
            loss = (losses * w).sum() / w.sum().clamp_min(1.0)
            opt.zero_grad()
            loss.backward()
            opt.step()
    with torch.inference_mode():
        z_tr, r_tr, x_tr = fwd(Xtr_t)
        z_te, r_te, x_te = fwd(Xte_t)
        err_tr = ((r_tr - x_tr).pow(2) * feat_mask[:, None, :]).numpy()
        err_te = ((r_te - x_te).pow(2) * feat_mask[:, None, :]).numpy()
        z_tr, z_te = z_tr.double().numpy(), z_te.double().numpy()
    fm = feat_mask.numpy()[:, None, :]
    med = np.median(err_tr, axis=1, keepdims=True)
    floor = np.maximum(err_tr.mean(axis=(1, 2), keepdims=True), 1e-12)
    med = np.where(med > 1e-12, med, floor)
    fs = fsum.numpy()[:, None, :]
    fn_tr = ((err_tr / med) * fm).sum(-1) / fs[..., 0]
    fn_te = ((err_te / med) * fm).sum(-1) / fs[..., 0]
    fn_scale = np.array([_pos_median(f) for f in fn_tr])[:, None]
    out = {"|fn": fn_te.mean(0)}
    # latent deviation from the training codes' median, per dimension in units of its
    # median squared deviation (the ensemble detector's "latent" score); "both" averages
    centre = np.median(z_tr, axis=1, keepdims=True)
    dev_tr, dev_te = (z_tr - centre) ** 2, (z_te - centre) ** 2
    dmed = np.median(dev_tr, axis=1, keepdims=True)
    dfloor = np.maximum(dev_tr.mean(axis=(1, 2), keepdims=True), 1e-12)
    lat = (dev_te / np.where(dmed > 1e-12, dmed, dfloor)).mean(-1)
    out["|both"] = (0.5 * (fn_te + lat)).mean(0)
    # Mahalanobis versions: residuals and codes whitened by their (Ledoit-Wolf)
    # covariance over the training rows, or over the 90% of rows with the lowest fn
    from sklearn.covariance import LedoitWolf

    with torch.inference_mode():
        res_tr = (r_tr - x_tr).double().numpy()
        res_te = (r_te - x_te).double().numpy()

    def maha(a_tr, a_te, keep):
        cov = LedoitWolf().fit(a_tr[keep])
        m_tr, m_te = cov.mahalanobis(a_tr), cov.mahalanobis(a_te)
        return m_te / _pos_median(m_tr)

    for tag, frac in p.get("maha_fracs", [["", 1.0], ["t", 0.9]]):
        mres, mlat = [], []
        for m in range(k):
            keep = fn_tr[m] <= np.quantile(fn_tr[m], frac)
            if tag.startswith("i"):  # one more step: keep the rows closest by both distances
                cols = fm[m, 0] > 0
                a = maha(res_tr[m][:, cols], res_tr[m][:, cols], keep)
                b = maha(z_tr[m], z_tr[m], keep)
                both_tr = a + b
                keep = both_tr <= np.quantile(both_tr, frac)
            cols = fm[m, 0] > 0
            mres.append(maha(res_tr[m][:, cols], res_te[m][:, cols], keep))
            mlat.append(maha(z_tr[m], z_te[m], keep))
        mres, mlat = np.stack(mres), np.stack(mlat)
        out[f"|mres{tag}"] = mres.mean(0)
        out[f"|mlat{tag}"] = mlat.mean(0)
        out[f"|mboth{tag}"] = (0.5 * (mres + mlat)).mean(0)
        out[f"|fnmlat{tag}"] = (0.5 * (fn_te / fn_scale + mlat)).mean(0)
    for kk in p["knn_ks"]:
        dists = []
        for m in range(k):
            kq = max(1, min(kk, n - 1))
            nn_ = NearestNeighbors(n_neighbors=kq + 1).fit(z_tr[m])
            d_tr = nn_.kneighbors(z_tr[m])[0][:, kq]
            d_te = nn_.kneighbors(z_te[m], n_neighbors=kq)[0][:, kq - 1]
            dists.append(d_te / _pos_median(d_tr))
        dist = np.stack(dists)
        out[f"|knn{kk}"] = dist.mean(0)
        out[f"|fnknn{kk}"] = (fn_te / fn_scale + dist).mean(0)
    return out


def _pos_median(values: np.ndarray) -> float:
    med = float(np.median(values))
    return med if med > 1e-12 else max(float(np.mean(np.abs(values))), 1e-12)


def run(cand: str, X_train, X_test, seed: int) -> dict[str, np.ndarray]:
    if cand in BASELINES:
        return run_baseline(cand, X_train, X_test, seed)
    if cand.startswith("lib:"):
        return run_lib(cand, X_train, X_test, seed)
    if cand.startswith("proto:"):
        return run_proto(cand, X_train, X_test, seed)
    if cand.startswith("proto2:"):
        return run_proto2(cand, X_train, X_test, seed)
    raise ValueError(f"unknown candidate {cand!r}")


# ---- cache --------------------------------------------------------------------------
def key(cand: str) -> str:
    return hashlib.sha1(cand.encode()).hexdigest()[:12]


def cache_path(cache: Path, cand: str, ds: str, seed: int) -> Path:
    return cache / key(cand) / f"{ds}__{seed}.npy"


def ensure(cache: Path, cand: str, files: list[Path], seeds: list[int], verbose: bool) -> None:
    """Fit ``cand`` on every split not yet cached; store each variant's test scores."""
    for seed in seeds:
        for path in files:
            ds = path.stem
            probe = cache / key(cand) / f"{ds}__{seed}.done"
            if probe.exists():
                continue
            split = split_of(path, seed)
            t0 = time.perf_counter()
            with warnings.catch_warnings():
                warnings.simplefilter("ignore")
                variants = run(cand, split.X_train, split.X_test, model_seed(ds, seed))
            elapsed = time.perf_counter() - t0
            for suffix, scores in variants.items():
                name = cand + suffix
                out = cache_path(cache, name, ds, seed)
                out.parent.mkdir(parents=True, exist_ok=True)
                np.save(out, np.asarray(scores, dtype=np.float64))
                (out.parent / "name.txt").write_text(name)
            probe.parent.mkdir(parents=True, exist_ok=True)
            probe.write_text(json.dumps({"seconds": elapsed, "variants": list(variants)}))
            if verbose:
                print(f"  {cand[:60]} {ds} s{seed}: {elapsed:.1f}s", flush=True)


def variants_of(cache: Path, cand: str) -> list[str]:
    done = sorted((cache / key(cand)).glob("*.done"))
    if not done:
        return []
    return [cand + v for v in json.loads(done[0].read_text())["variants"]]


def metrics_table(cache: Path, names: list[str], files: list[Path], seeds: list[int]):
    labels = {(p.stem, s): split_of(p, s).y_test for p in files for s in seeds}
    rows = []
    for name in names:
        for (ds, s), y in labels.items():
            f = cache_path(cache, name, ds, s)
            if not f.exists():
                continue
            scores = np.load(f)
            scores = np.nan_to_num(scores, nan=0.0, posinf=np.finfo(float).max / 2)
            rows.append(
                dict(
                    detector=name,
                    dataset=ds,
                    seed=s,
                    auroc=roc_auc_score(y, scores),
                    auprc=average_precision_score(y, scores),
                )
            )
    return pd.DataFrame(rows)


def summary(table: pd.DataFrame, names: list[str]) -> pd.DataFrame:
    out, ref = [], {}
    for name in names:
        if name in BASELINES:
            continue
        mine_keys = set(zip(*[table.loc[table.detector == name, c] for c in ("dataset", "seed")]))
        base = [
            b
            for b in BASELINES
            if mine_keys
            <= set(zip(*[table.loc[table.detector == b, c] for c in ("dataset", "seed")]))
        ]
        sub = table[table.detector.isin([name, *base])]
        sub = sub[[k in mine_keys for k in zip(sub.dataset, sub.seed)]]
        per_ds = sub.groupby(["dataset", "detector"]).auroc.mean().unstack()
        per_ds = per_ds.dropna()
        ranks = per_ds.rank(axis=1, ascending=False).mean()
        mine = table[table.detector == name]
        for b in base:  # the baselines on the same (dataset, seed) pairs, for reference
            mb = sub[sub.detector == b]
            ref[b] = (mb.auroc.mean(), mb.auprc.mean(), ranks.get(b))
        out.append(
            dict(
                detector=name,
                n=len(mine),
                auroc=mine.auroc.mean(),
                auprc=mine.auprc.mean(),
                rank=ranks.get(name, np.nan),
                best_base_rank=ranks.drop(name, errors="ignore").min(),
                n_ranked=len(base) + 1,
            )
        )
    out += [
        dict(detector=b, n=-1, auroc=a, auprc=p, rank=r, best_base_rank=np.nan, n_ranked=-1)
        for b, (a, p, r) in ref.items()
    ]
    return pd.DataFrame(out)


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--cand", action="append", default=[], help="candidate spec")
    parser.add_argument("--seeds", type=int, nargs="+", default=[0, 1, 2])
    parser.add_argument("--datasets", nargs="*", default=None, help="file stems to keep")
    parser.add_argument("--cache", default="/tmp/aeod_cache")
    parser.add_argument("--no-baselines", action="store_true", help="rank among cached ones only")
    parser.add_argument(
        "--baselines",
        default="all",
        choices=["all", "cheap"],
        help="'cheap' skips fitting PyOD's AutoEncoder and VAE (minutes per split on 2 busy cores)",
    )
    parser.add_argument("--per-dataset", action="store_true")
    parser.add_argument("--csv", default=None, help="write the per-(dataset, seed) rows here")
    parser.add_argument("-q", "--quiet", action="store_true")
    args = parser.parse_args()

    torch.set_num_threads(1)
    root = Path(os.environ.get("AEOD_DATA_DIR", "/work/shared/datasets"))
    files = datasets(root)
    if args.datasets:
        files = [f for f in files if f.stem in set(args.datasets)]
    cache = Path(args.cache)
    fit_baselines = (
        [] if args.no_baselines else (BASELINES if args.baselines == "all" else CHEAP_BASELINES)
    )
    for cand in fit_baselines + args.cand:
        ensure(cache, cand, files, args.seeds, verbose=not args.quiet)
    cands = BASELINES + args.cand  # baselines rank whenever their scores are cached
    names = [v for c in cands for v in variants_of(cache, c)]
    table = metrics_table(cache, names, files, args.seeds)
    if args.csv:
        table.to_csv(args.csv, index=False)
    pd.set_option("display.width", 250, "display.max_colwidth", 110, "display.max_rows", 500)
    pd.set_option("display.max_columns", 50)
    if args.per_dataset:
        wide = table.groupby(["dataset", "detector"]).auroc.mean().unstack()
        short = {
            n: f"c{i}{n[n.rfind('|') - 4 :]}" if n not in BASELINES else n[5:]
            for i, n in enumerate(wide.columns)
        }
        for n, s in short.items():
            if n not in BASELINES:
                print(f"{s} = {n}")
        print(wide.rename(columns=short).round(3))
    print(summary(table, names).round(4).to_string(index=False))


if __name__ == "__main__":
    main()
