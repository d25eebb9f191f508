"""Read and write tables (CSV, Parquet, standard input/output) and check them against a schema.

A table is read into a :class:`pandas.DataFrame` with every column as it is in
the file; :func:`check_columns` then turns the feature columns into a float64
array, refusing a missing or extra column, an empty cell or NaN, and a value that
is not a number, each with a :class:`SchemaError` naming the column and the row
(rows counted from 1, the header not counted).
"""

from __future__ import annotations

import io
import os
import sys
from collections.abc import Sequence
from pathlib import Path
from typing import IO

import numpy as np
import pandas as pd

PARQUET_SUFFIXES = (".parquet", ".pq")
_PARQUET_MAGIC = b"PAR1"


class SchemaError(ValueError):
    """A table that does not fit the expected columns (the message names column and row)."""


def _is_parquet(name: str | os.PathLike) -> bool:
    return Path(name).suffix.lower() in PARQUET_SUFFIXES


def read_table(source: str | os.PathLike, stdin: IO[bytes] | None = None) -> pd.DataFrame:
    """Read a CSV or Parquet file, or ``"-"`` for standard input (CSV or Parquet bytes).

    Parameters
    ----------
    source : str or path-like
        A ``.parquet``/``.pq`` file is read as Parquet (needs the ``parquet``
        extra, pyarrow), anything else as CSV; ``"-"`` reads standard input and
        tells Parquet from CSV by its magic bytes.
    stdin : binary file object or None, default=None
        What ``"-"`` reads (default: ``sys.stdin.buffer``).

    Returns
    -------
    DataFrame

    Examples
    --------
    >>> import io
    >>> read_table("-", stdin=io.BytesIO(b"id,a,b\\n1,0.5,2\\n2,1.5,3\\n")).shape
    (2, 3)
    """
    if os.fspath(source) == "-":
        raw = (stdin if stdin is not None else sys.stdin.buffer).read()
        if raw.startswith(_PARQUET_MAGIC):
            return _read_parquet(io.BytesIO(raw))
        return _read_csv(io.BytesIO(raw), "standard input")
    path = Path(source)
    if not path.is_file():
        raise FileNotFoundError(f"No such data file: {path}.")
    return _read_parquet(path) if _is_parquet(path) else _read_csv(path, str(path))


def _read_csv(handle, name: str) -> pd.DataFrame:
    try:
        # every cell as text first: the schema check names the cells that are not numbers
        return pd.read_csv(handle, dtype=str, keep_default_na=False)
    except pd.errors.EmptyDataError:
        raise SchemaError(f"{name} holds no table (it is empty).") from None
    except pd.errors.ParserError as exc:
        raise SchemaError(f"{name} is not a readable CSV table ({exc}).") from None


def _read_parquet(source) -> pd.DataFrame:
    try:
        import pyarrow  # noqa: F401
    except ImportError:
        raise ImportError(
            'Reading Parquet needs pyarrow: pip install "anomalib_ae[parquet]".'
        ) from None
    return pd.read_parquet(source)


def check_columns(
    frame: pd.DataFrame, features: Sequence[str], id_columns: Sequence[str] = ()
) -> np.ndarray:
    """The feature columns of ``frame`` as float64 ``(n_rows, n_features)``, in ``features``' order.

    Parameters
    ----------
    frame : DataFrame
    features : sequence of str
        The expected feature columns (the fit-time schema).
    id_columns : sequence of str, default=()
        Columns passed through, not features; they must be present.

    Raises
    ------
    SchemaError
        For a missing column, a column that is neither a feature nor an id, an
        empty cell or NaN, or a value that is not a number (the first one found,
        with its column and row, rows counted from 1).

    Examples
    --------
    >>> frame = pd.DataFrame({"a": ["1", "x"], "b": ["2", "3"]})
    >>> check_columns(frame, ["a", "b"])
    Traceback (most recent call last):
    ...
    anomalib_ae.io.tables.SchemaError: column 'a', row 2: 'x' is not a number.
    >>> check_columns(frame.assign(a=["1", "4"]), ["b", "a"]).tolist()
    [[2.0, 1.0], [3.0, 4.0]]
    """
    present = [str(c) for c in frame.columns]
    for name in [*id_columns, *features]:
        if name not in present:
            raise SchemaError(f"column {name!r} is missing; the table has columns {present}.")
    expected = set(features) | set(id_columns)
    for name in present:
        if name not in expected:
            raise SchemaError(
                f"column {name!r} is not one of the model's features {list(features)}"
                + (f" or id columns {list(id_columns)}" if id_columns else "")
                + "; drop it or name it with --id-column."
            )
    out = np.empty((len(frame), len(features)), dtype=np.float64)
    for j, name in enumerate(features):
        out[:, j] = _numeric(frame[name], name)
    return out


def _numeric(column: pd.Series, name: str) -> np.ndarray:
    raw = column.to_numpy()
    if column.dtype.kind in "biuf":
        values = column.to_numpy(dtype=np.float64, na_value=np.nan)
        bad = ~np.isfinite(values)
        if bad.any():
            row = int(np.flatnonzero(bad)[0])
            raise SchemaError(f"column {name!r}, row {row + 1}: {raw[row]!r} is not finite.")
        return values
    cells = column.astype("string").str.strip().to_numpy(dtype=object, na_value="")
    try:
        numbers = cells.astype(np.float64)  # Python's float(): correctly rounded
    except ValueError:
        for row, cell in enumerate(cells):
            if cell == "":
                raise SchemaError(
                    f"column {name!r}, row {row + 1}: the value is empty (NaN)."
                ) from None
            try:
                float(cell)
            except ValueError:
                raise SchemaError(
                    f"column {name!r}, row {row + 1}: {raw[row]!r} is not a number."
                ) from None
        raise
    bad = ~np.isfinite(numbers)
    if bad.any():
        row = int(np.flatnonzero(bad)[0])
        what = "is NaN" if np.isnan(numbers[row]) else "is not finite"
        raise SchemaError(f"column {name!r}, row {row + 1}: {raw[row]!r} {what}.")
    return numbers


def write_table(
    frame: pd.DataFrame, target: str | os.PathLike, stdout: IO[str] | None = None
) -> None:
    """Write ``frame`` as CSV (or Parquet for a ``.parquet``/``.pq`` path); ``"-"``: standard output.

    Examples
    --------
    >>> import io
    >>> out = io.StringIO()
    >>> write_table(pd.DataFrame({"id": [1], "anomaly_score": [0.5]}), "-", stdout=out)
    >>> out.getvalue().splitlines()
    ['id,anomaly_score', '1,0.5']
    """
    if os.fspath(target) == "-":
        frame.to_csv(stdout if stdout is not None else sys.stdout, index=False)
        return
    if _is_parquet(target):
        try:
            import pyarrow  # noqa: F401
        except ImportError:
            raise ImportError(
                'Writing Parquet needs pyarrow: pip install "anomalib_ae[parquet]".'
            ) from None
        frame.to_parquet(target, index=False)
        return
    frame.to_csv(target, index=False)
