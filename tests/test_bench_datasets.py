"""The dataset catalogue and one loader per format."""

from __future__ import annotations

import gzip
import struct

import numpy as np
import pandas as pd
import pytest
from scipy.io import savemat

from anomalib_ae.bench.datasets import (
    DATA_DIR_ENV,
    catalogue,
    describe,
    load,
    resolve_data_dir,
    select,
)
from anomalib_ae.bench.embedded import EMBEDDED
from anomalib_ae.bench.loaders import DatasetError, read_idx
from tests.conftest import require_data


@pytest.fixture
def data_dir(tmp_path):
    rng = np.random.default_rng(0)
    X, y = rng.normal(size=(50, 4)), (np.arange(50) < 5).astype(int)
    (tmp_path / "adbench").mkdir()
    np.savez(tmp_path / "adbench" / "1_toy.npz", X=X, y=y)
    savemat(tmp_path / "odds.mat", {"X": X, "y": y[:, None]})
    pd.DataFrame(X, columns=list("abcd")).assign(label=y).to_csv(
        tmp_path / "table.csv", index=False
    )
    images = rng.integers(0, 255, size=(6, 3, 2), dtype=np.uint8)
    with gzip.open(tmp_path / "train-images-idx3-ubyte.gz", "wb") as fh:
        fh.write(struct.pack(">BBBBiii", 0, 0, 8, 3, 6, 3, 2) + images.tobytes())
    with open(tmp_path / "train-labels-idx1-ubyte", "wb") as fh:  # raw, not gzipped
        fh.write(struct.pack(">BBBBi", 0, 0, 8, 1, 6) + bytes([0, 1, 2, 3, 4, 5]))
    return tmp_path


def test_embedded_datasets_are_documented_rare_class_sets():
    for name, spec in EMBEDDED.items():
        X, y = spec.build()
        if spec.labels == "multiclass":  # labelled images for the one_class protocol
            assert spec.kind == "image" and X.ndim == 3 and len(np.unique(y)) > 2
            continue
        assert X.ndim == 2 and len(X) == len(y)
        assert 0.02 < y.mean() < 0.1, name
        np.testing.assert_array_equal(spec.build()[1], y)  # fixed, not random per call


def test_catalogue_finds_every_format(data_dir):
    by_name = {d.name: d for d in catalogue(data_dir)}
    assert {"breast_cancer", "wine", "digits"} <= set(by_name)
    assert by_name["1_toy"].group == "adbench" and by_name["1_toy"].format == ".npz"
    for name in ("1_toy", "odds", "table"):
        X, y = load(by_name[name])
        assert X.shape == (50, 4) and y.sum() == 5
    images = by_name[f"{data_dir.name}_train"]
    assert images.kind == "image" and images.labels == "multiclass"
    X, y = load(images)
    assert X.shape == (6, 3, 2) and X.dtype == np.uint8 and y.tolist() == [0, 1, 2, 3, 4, 5]


def test_describe_reports_n_d_and_rate(data_dir):
    info = next(d for d in catalogue(data_dir) if d.name == "1_toy")
    row = describe(info)
    assert (row["n"], row["d"], row["anomaly_rate"]) == (50, 4, 0.1)


def test_select_by_name_group_glob_and_path(data_dir):
    chosen, unmatched = select(
        ["embedded/*", "adbench/*", "nope", str(data_dir / "odds.mat")], data_dir
    )
    assert [d.name for d in chosen] == [
        "breast_cancer",
        "wine",
        "digits",
        "digits_images",
        "1_toy",
        "odds",
    ]
    assert unmatched == ["nope"]


def test_data_dir_resolution_order(monkeypatch, tmp_path):
    monkeypatch.setenv(DATA_DIR_ENV, str(tmp_path / "env"))
    assert resolve_data_dir(tmp_path / "arg") == tmp_path / "arg"
    assert resolve_data_dir() == tmp_path / "env"
    monkeypatch.delenv(DATA_DIR_ENV)
    monkeypatch.chdir(tmp_path)
    assert resolve_data_dir() == tmp_path / "datasets"


def test_bad_files_raise_dataset_error_naming_the_file(tmp_path):
    (tmp_path / "broken.npz").write_bytes(b"garbage")
    np.savez(tmp_path / "nolabels.npz", X=np.zeros((3, 2)))
    pd.DataFrame({"a": [1.0], "b": [0]}).to_csv(tmp_path / "nolabel.csv", index=False)
    by_name = {d.name: d for d in catalogue(tmp_path)}
    for name, message in [
        ("broken", "broken.npz"),
        ("nolabels", "missing array"),
        ("nolabel", "no label column"),
    ]:
        with pytest.raises(DatasetError, match=message):
            load(by_name[name])
    assert "broken.npz" in describe(by_name["broken"])["error"]


def test_truncated_idx_file(tmp_path):
    with open(tmp_path / "t-images-idx3-ubyte", "wb") as fh:
        fh.write(struct.pack(">BBBBiii", 0, 0, 8, 3, 6, 3, 2) + b"\x00" * 5)
    (tmp_path / "t-labels-idx1-ubyte").write_bytes(struct.pack(">BBBBi", 0, 0, 8, 1, 6) + bytes(6))
    with pytest.raises(DatasetError, match="truncated"):
        read_idx(tmp_path / "t-images-idx3-ubyte")


def test_real_adbench_and_mnist_files_load():
    path = require_data("adbench/Classical/14_glass.npz")
    info = next(d for d in catalogue(path.parents[2]) if d.name == "14_glass")
    X, y = load(info)
    with np.load(path) as raw:
        assert X.shape == raw["X"].shape and np.array_equal(y, raw["y"])
    assert len(X) == 214 and 0 < y.mean() < 0.1
    X, y = read_idx(require_data("mnist/t10k-images-idx3-ubyte.gz"))
    assert X.shape == (10000, 28, 28) and set(np.unique(y)) == set(range(10))
