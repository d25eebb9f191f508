"""The dataset catalogue: embedded sets plus every readable file under the data directory.

The data directory is, in order: the ``data_dir`` argument (``--data-dir``),
the ``AEOD_DATA_DIR`` environment variable, else ``datasets/`` under the
current working directory. Files are found recursively: ``.npz``, ``.mat``,
``.csv``, ``.parquet`` and IDX image files (``*-images-idx3-ubyte[.gz]``).

Each dataset has a short ``name`` (the file stem; qualified by its folder when
two files share a stem) and a ``group`` (its folder relative to the data
directory, or ``"embedded"``). Selection patterns (shell globs) match either
the name or ``group/name``: ``"embedded/*"``, ``"adbench/Classical/*"``,
``"breast_cancer"``.
"""

from __future__ import annotations

import fnmatch
import os
from dataclasses import dataclass
from pathlib import Path

import numpy as np

from anomalib_ae.bench.embedded import EMBEDDED
from anomalib_ae.bench.loaders import READERS, DatasetError, npz_shape

DATA_DIR_ENV = "AEOD_DATA_DIR"
_SUFFIXES = (".npz", ".mat", ".csv", ".parquet")


@dataclass(frozen=True)
class DatasetInfo:
    """Where a dataset comes from; picklable, so a job can load it in another process.

    ``format`` is ``"embedded"``, ``".npz"``, ``".mat"``, ``".csv"``,
    ``".parquet"`` or ``"idx"``; ``location`` is the embedded name or the file path.
    """

    name: str
    group: str
    format: str
    location: str
    kind: str = "tabular"
    labels: str = "binary"

    @property
    def source(self) -> str:
        if self.format == "embedded":
            return EMBEDDED[self.location].source
        return self.location

    def matches(self, pattern: str) -> bool:
        return fnmatch.fnmatchcase(self.name, pattern) or fnmatch.fnmatchcase(
            f"{self.group}/{self.name}", pattern
        )


def resolve_data_dir(data_dir: str | os.PathLike | None = None) -> Path:
    """The data directory: ``data_dir``, else ``$AEOD_DATA_DIR``, else ``./datasets``.

    Examples
    --------
    >>> resolve_data_dir("/tmp/somewhere").as_posix()
    '/tmp/somewhere'
    """
    if data_dir:
        return Path(data_dir)
    env = os.environ.get(DATA_DIR_ENV)
    return Path(env) if env else Path.cwd() / "datasets"


def _file_format(path: Path) -> str | None:
    name = path.name.lower()
    if "images-idx" in name and (name.endswith("ubyte") or name.endswith("ubyte.gz")):
        return "idx"
    return path.suffix.lower() if path.suffix.lower() in _SUFFIXES else None


def _stem(path: Path, fmt: str) -> str:
    if fmt == "idx":  # mnist/t10k-images-idx3-ubyte.gz -> mnist_t10k
        return f"{path.parent.name}_{path.name.split('-images')[0]}"
    return path.stem


def discover(data_dir: str | os.PathLike | None = None) -> list[DatasetInfo]:
    """Every dataset file under the data directory (empty when it does not exist)."""
    root = resolve_data_dir(data_dir)
    if not root.is_dir():
        return []
    found = []
    for path in sorted(root.rglob("*")):
        fmt = _file_format(path) if path.is_file() else None
        if fmt is None:
            continue
        labels = "multiclass" if fmt == "idx" else "binary"
        kind = "image" if fmt == "idx" else "tabular"
        group = path.parent.relative_to(root).as_posix()
        found.append(DatasetInfo(_stem(path, fmt), group, fmt, str(path), kind, labels))
    stems = [d.name for d in found]
    return [
        d if stems.count(d.name) == 1 else _renamed(d, f"{d.group}/{d.name}".lstrip("./"))
        for d in found
    ]


def _renamed(info: DatasetInfo, name: str) -> DatasetInfo:
    return DatasetInfo(name, info.group, info.format, info.location, info.kind, info.labels)


def catalogue(data_dir: str | os.PathLike | None = None) -> list[DatasetInfo]:
    """The embedded datasets followed by the files under the data directory.

    Examples
    --------
    >>> [d.name for d in catalogue("/nonexistent")][:2]
    ['breast_cancer', 'wine']
    """
    embedded = [
        DatasetInfo(name, "embedded", "embedded", name, spec.kind, spec.labels)
        for name, spec in EMBEDDED.items()
    ]
    return embedded + discover(data_dir)


def select(
    patterns: list[str], data_dir: str | os.PathLike | None = None
) -> tuple[list[DatasetInfo], list[str]]:
    """Datasets matching any of ``patterns`` (in catalogue order) and the patterns matching none.

    A pattern that names a file path (absolute, or relative to the current
    directory) selects that file even outside the data directory.
    """
    known = catalogue(data_dir)
    chosen: list[DatasetInfo] = []
    unmatched: list[str] = []
    for pattern in patterns:
        hits = [d for d in known if d.matches(pattern)]
        if not hits and Path(pattern).suffix and (fmt := _file_format(Path(pattern))):
            path = Path(pattern)
            hits = [DatasetInfo(_stem(path, fmt), "file", fmt, str(path))]
        if not hits:
            unmatched.append(pattern)
        chosen.extend(d for d in hits if d not in chosen)
    return chosen, unmatched


def load(info: DatasetInfo) -> tuple[np.ndarray, np.ndarray]:
    """Read a dataset: ``(X, y)``; raises :class:`DatasetError` naming the file on failure."""
    if info.format == "embedded":
        return EMBEDDED[info.location].build()
    if info.format == "missing":
        raise DatasetError(
            f"dataset {info.name!r} not found: no embedded dataset and no file under the "
            "data directory has that name."
        )
    path = Path(info.location)
    if not path.exists():
        raise DatasetError(f"dataset {info.name!r}: file {path} not found.")
    return READERS[info.format](path)


def describe(info: DatasetInfo) -> dict:
    """n, d (features per row), anomaly rate and source of a dataset, for ``aeod datasets``."""
    row = {"name": info.name, "group": info.group, "kind": info.kind, "source": info.source}
    try:
        if info.format == ".npz":
            shape, y = npz_shape(info.location)
        else:
            X, y = load(info)
            shape = X.shape
    except DatasetError as exc:
        return {**row, "n": None, "d": None, "anomaly_rate": None, "error": str(exc)}
    d = int(np.prod(shape[1:]))
    rate = float(np.mean(y)) if info.labels == "binary" else None
    return {**row, "n": int(shape[0]), "d": d, "anomaly_rate": rate, "error": ""}
