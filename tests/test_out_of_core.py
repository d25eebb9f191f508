"""Memory-mapped input: fit and score stream it in chunks, never copying it whole."""

from __future__ import annotations

import numpy as np
import pytest

from anomalib_ae import AutoEncoderDetector
from anomalib_ae.detectors._validation import validate_rows
from anomalib_ae.training import data as data_module
from anomalib_ae.training.data import ArrayBatches, ArrayDataModule, RowSubset, is_streamed

SMALL = dict(hidden_dims=(8,), latent_dim=2, max_epochs=2, batch_size=32, random_state=0)


@pytest.fixture
def memmap_rows(tmp_path):
    """A 300 x 6 float32 ``.npy`` file opened with ``mmap_mode="r"``, and the same rows in memory."""
    rows = np.random.default_rng(0).normal(size=(300, 6)).astype(np.float32)
    path = tmp_path / "rows.npy"
    np.save(path, rows)
    return np.load(path, mmap_mode="r"), rows


def test_validation_keeps_the_memmap(memmap_rows):
    mm, _ = memmap_rows
    checked = validate_rows(AutoEncoderDetector(), mm, reset=True)
    assert checked.dtype == np.float32
    assert np.shares_memory(checked, mm)  # a view, not a copy
    assert is_streamed(checked)


def test_memmap_fit_and_scores_match_in_memory(memmap_rows):
    mm, rows = memmap_rows
    on_disk = AutoEncoderDetector(**SMALL).fit(mm)
    in_memory = AutoEncoderDetector(**SMALL).fit(rows)
    np.testing.assert_array_equal(on_disk.score_samples(mm), in_memory.score_samples(rows))
    assert on_disk.offset_ == in_memory.offset_


def test_memmap_is_read_in_chunks(memmap_rows, monkeypatch):
    """With a tiny chunk size, no read of fit or scoring exceeds one chunk of rows."""
    mm, _ = memmap_rows
    monkeypatch.setattr(data_module, "STREAM_CHUNK_ROWS", 64)
    reads = []
    original = ArrayBatches._dense

    def spy(self, rows):
        reads.append(rows.stop - rows.start)
        return original(self, rows)

    monkeypatch.setattr(ArrayBatches, "_dense", spy)
    det = AutoEncoderDetector(**{**SMALL, "inference_batch_size": 50}).fit(mm)
    scores = det.score_samples(mm)
    assert scores.shape == (300,) and np.isfinite(scores).all()
    assert reads and max(reads) <= 64
    assert sum(reads) >= 300 * (SMALL["max_epochs"] + 2)  # epochs, offset scoring, scoring


def test_memmap_validation_split_stays_on_disk(memmap_rows):
    mm, _ = memmap_rows
    dm = ArrayDataModule(mm, batch_size=32, validation_fraction=0.2, seed=0)
    assert isinstance(dm.train_X, RowSubset) and isinstance(dm.val_X, RowSubset)
    assert len(dm.train_X) + len(dm.val_X) == 300
    det = AutoEncoderDetector(**{**SMALL, "early_stopping": True, "patience": 1}).fit(mm)
    assert "val_loss" in det.history_[0]


def test_row_subset_reads_only_its_rows():
    X = np.arange(20.0).reshape(10, 2)
    sub = RowSubset(X, [0, 4, 9])
    assert sub.shape == (3, 2) and len(sub) == 3
    np.testing.assert_array_equal(sub[1:3], X[[4, 9]])
    np.testing.assert_array_equal(np.asarray(sub), X[[0, 4, 9]])


def test_shards_cover_every_row_once_and_match_in_length():
    X = np.arange(22.0).reshape(11, 2)
    shards = [ArrayBatches(X, 2, shuffle=True, seed=3, rank=r, num_replicas=2) for r in range(2)]
    rows = [np.concatenate([b.numpy() for b in s]) for s in shards]
    assert len(shards[0]) == len(shards[1]) and len(rows[0]) == len(rows[1]) == 6
    assert set(np.concatenate(rows)[:, 0]) == set(X[:, 0])  # 11 rows + 1 wrapped


def test_grouped_batches_are_the_ungrouped_ones_in_order():
    X = np.random.default_rng(1).normal(size=(100, 3))
    plain = list(ArrayBatches(X, 8, shuffle=True, seed=5))
    grouped = list(ArrayBatches(X, 8, shuffle=True, seed=5, group=4))
    assert len(grouped) == len(ArrayBatches(X, 8, shuffle=True, seed=5, group=4)) == 4
    flat = [b for g in grouped for b in g]
    assert len(flat) == len(plain)
    for a, b in zip(flat, plain):
        assert np.array_equal(a.numpy(), b.numpy())
