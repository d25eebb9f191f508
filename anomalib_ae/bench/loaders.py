"""One reader per on-disk format; each returns ``(X, y)`` or raises a clear error.

Formats
-------
``.npz`` (ADBench)
    Arrays ``X`` (n, d) and ``y`` (0 normal, 1 anomaly); read without pickle.
``.mat`` (ODDS)
    Matrices ``X`` and ``y`` read with :func:`scipy.io.loadmat` (MATLAB v5).
``.csv`` / ``.parquet``
    One row per sample, numeric feature columns and a label column named one of
    :data:`LABEL_COLUMNS` (case-insensitive). Parquet needs ``pyarrow`` (or
    ``fastparquet``), which is optional.
IDX (MNIST)
    An ``*-images-idx3-ubyte`` file and its ``*-labels-idx1-ubyte`` partner,
    raw or ``.gz``; returns images ``(n, H, W)`` (uint8) and class labels.
"""

from __future__ import annotations

import gzip
import zipfile
from pathlib import Path

import numpy as np

LABEL_COLUMNS = ("y", "label", "labels", "is_anomaly", "anomaly", "outlier", "target")
_IDX_DTYPES = {
    0x08: np.uint8,
    0x09: np.int8,
    0x0B: np.dtype(">i2"),
    0x0C: np.dtype(">i4"),
    0x0D: np.dtype(">f4"),
    0x0E: np.dtype(">f8"),
}


class DatasetError(ValueError):
    """A dataset file is missing, unreadable or not in the expected layout."""


def _binary_labels(y: np.ndarray, path: Path) -> np.ndarray:
    y = np.asarray(y).ravel()
    values = set(np.unique(y).tolist())
    if not values <= {0, 1}:
        raise DatasetError(
            f"{path}: labels must be 0 (normal) / 1 (anomaly), got {sorted(values)[:10]}."
        )
    return y.astype(np.int64)


def read_npz(path: str | Path) -> tuple[np.ndarray, np.ndarray]:
    """Read an ADBench ``.npz`` file holding ``X`` and ``y``."""
    path = Path(path)
    try:
        with np.load(path, allow_pickle=False) as data:
            missing = {"X", "y"} - set(data.files)
            if missing:
                raise DatasetError(f"{path}: missing array(s) {sorted(missing)}; need 'X' and 'y'.")
            X, y = np.asarray(data["X"]), data["y"]
    except DatasetError:
        raise
    except Exception as exc:  # zip/pickle/format errors: name the file
        raise DatasetError(f"{path}: cannot read .npz file ({type(exc).__name__}: {exc}).") from exc
    return _check_shapes(X, _binary_labels(y, path), path)


def npz_shape(path: str | Path) -> tuple[tuple[int, ...], np.ndarray]:
    """Shape of ``X`` (read from its header only) and the labels ``y`` of an ``.npz`` file."""
    path = Path(path)
    try:
        with zipfile.ZipFile(path) as zf, zf.open("X.npy") as fh:
            major, _ = np.lib.format.read_magic(fh)
            read_header = (
                np.lib.format.read_array_header_1_0
                if major == 1
                else np.lib.format.read_array_header_2_0
            )
            shape = read_header(fh)[0]
        with np.load(path, allow_pickle=False) as data:
            y = _binary_labels(data["y"], path)
    except DatasetError:
        raise
    except Exception as exc:
        raise DatasetError(f"{path}: cannot read .npz file ({type(exc).__name__}: {exc}).") from exc
    return tuple(shape), y


def read_mat(path: str | Path) -> tuple[np.ndarray, np.ndarray]:
    """Read an ODDS ``.mat`` file holding ``X`` and ``y`` (MATLAB v5 format)."""
    from scipy.io import loadmat

    path = Path(path)
    try:
        data = loadmat(path)
    except NotImplementedError as exc:  # MATLAB v7.3 files are HDF5
        raise DatasetError(
            f"{path}: MATLAB v7.3 (HDF5) file; re-save it as v5 or convert it to .npz."
        ) from exc
    except Exception as exc:
        raise DatasetError(f"{path}: cannot read .mat file ({type(exc).__name__}: {exc}).") from exc
    if "X" not in data or "y" not in data:
        raise DatasetError(f"{path}: missing matrix 'X' or 'y'.")
    return _check_shapes(np.asarray(data["X"]), _binary_labels(data["y"], path), path)


def read_table(path: str | Path) -> tuple[np.ndarray, np.ndarray]:
    """Read a CSV or Parquet table with a label column (see :data:`LABEL_COLUMNS`)."""
    import pandas as pd

    path = Path(path)
    try:
        if path.suffix.lower() == ".parquet":
            try:
                frame = pd.read_parquet(path)
            except ImportError as exc:
                raise DatasetError(
                    f"{path}: reading Parquet needs pyarrow; `pip install pyarrow` or use CSV."
                ) from exc
        else:
            frame = pd.read_csv(path)
    except DatasetError:
        raise
    except Exception as exc:
        raise DatasetError(f"{path}: cannot read table ({type(exc).__name__}: {exc}).") from exc
    by_lower = {str(c).lower(): c for c in frame.columns}
    label = next((by_lower[c] for c in LABEL_COLUMNS if c in by_lower), None)
    if label is None:
        raise DatasetError(
            f"{path}: no label column; name it one of {list(LABEL_COLUMNS)} (0 normal, 1 anomaly)."
        )
    features = frame.drop(columns=[label])
    bad = [str(c) for c, dt in features.dtypes.items() if not np.issubdtype(dt, np.number)]
    if bad:
        raise DatasetError(f"{path}: non-numeric column(s) {bad}; encode or drop them.")
    return _check_shapes(
        features.to_numpy(np.float64), _binary_labels(frame[label].to_numpy(), path), path
    )


def _open(path: Path):
    return gzip.open(path, "rb") if path.suffix == ".gz" else open(path, "rb")


def read_idx_array(path: str | Path) -> np.ndarray:
    """Read one IDX file (raw or ``.gz``) into an array of its stored shape."""
    path = Path(path)
    try:
        with _open(path) as fh:
            magic = fh.read(4)
            if len(magic) != 4 or magic[:2] != b"\x00\x00" or magic[2] not in _IDX_DTYPES:
                raise DatasetError(f"{path}: not an IDX file (bad magic number {magic!r}).")
            dims = np.frombuffer(fh.read(4 * magic[3]), dtype=">i4").astype(int)
            dtype = np.dtype(_IDX_DTYPES[magic[2]])
            data = np.frombuffer(fh.read(), dtype=dtype)
    except DatasetError:
        raise
    except Exception as exc:
        raise DatasetError(f"{path}: cannot read IDX file ({type(exc).__name__}: {exc}).") from exc
    if data.size != int(np.prod(dims)):
        raise DatasetError(
            f"{path}: truncated IDX file ({data.size} values for shape {tuple(dims)})."
        )
    return data.reshape(tuple(dims)).astype(dtype.newbyteorder("="))


def idx_partner(images: Path) -> Path:
    """The labels file that goes with an IDX images file (``images`` -> ``labels``, idx3 -> idx1).

    The labels may be gzipped or raw independently of the images.
    """
    name = images.name.replace("images", "labels").replace("idx3", "idx1").removesuffix(".gz")
    raw, gz = images.with_name(name), images.with_name(name + ".gz")
    return gz if gz.exists() and not raw.exists() else raw


def read_idx(path: str | Path) -> tuple[np.ndarray, np.ndarray]:
    """Read an IDX images file and its labels partner: ``(n, H, W)`` uint8 and class labels."""
    path = Path(path)
    labels_path = idx_partner(path)
    if not labels_path.exists():
        raise DatasetError(f"{path}: labels file {labels_path.name}[.gz] not found next to it.")
    X, y = read_idx_array(path), read_idx_array(labels_path).astype(np.int64)
    return _check_shapes(X, y, path)


def _check_shapes(X: np.ndarray, y: np.ndarray, path: Path) -> tuple[np.ndarray, np.ndarray]:
    if X.ndim < 2 or len(X) != len(y):
        raise DatasetError(f"{path}: X of shape {X.shape} does not match {len(y)} labels.")
    if np.issubdtype(X.dtype, np.floating) and not np.isfinite(X).all():
        raise DatasetError(f"{path}: X contains NaN or infinite values.")
    return X, y


READERS = {
    ".npz": read_npz,
    ".mat": read_mat,
    ".csv": read_table,
    ".parquet": read_table,
    "idx": read_idx,
}
