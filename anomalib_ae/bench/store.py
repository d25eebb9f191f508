"""The results CSV: one complete line per finished job, appended atomically.

Each row is written with a single ``write`` on a file opened in append mode,
then flushed and ``fsync``-ed, so a row is either entirely on disk or absent,
whatever kills the process. A line cut short anyway (power loss, a full disk)
has no final newline; :meth:`ResultStore.repair` drops it before new rows are
appended, and :meth:`ResultStore.read` ignores it and keeps the last row of
each job key, so a resumed run never sees duplicate or corrupt rows.
"""

from __future__ import annotations

import csv
import io
import os
from collections.abc import Iterable
from pathlib import Path

from anomalib_ae.bench.jobs import ROW_FIELDS


def _format(value) -> str:
    if isinstance(value, float):
        return repr(value)
    return " ".join(str(value).split())  # one physical line per row


class ResultStore:
    """Append-only CSV of job rows at ``path`` (created with a header on first append).

    Examples
    --------
    >>> import tempfile, pathlib
    >>> store = ResultStore(pathlib.Path(tempfile.mkdtemp()) / "results.csv")
    >>> store.append({"key": "a", "status": "ok", "auroc": 0.9})
    >>> [(r["key"], r["auroc"]) for r in store.read()]
    [('a', '0.9')]
    """

    def __init__(self, path: str | os.PathLike, fields: Iterable[str] = ROW_FIELDS) -> None:
        self.path = Path(path)
        self.fields = tuple(fields)

    def _line(self, row: dict) -> bytes:
        buffer = io.StringIO()
        csv.writer(buffer, lineterminator="\n").writerow(
            [_format(row.get(name, "")) for name in self.fields]
        )
        return buffer.getvalue().encode("utf-8")

    def _write(self, data: bytes) -> None:
        fd = os.open(self.path, os.O_WRONLY | os.O_APPEND | os.O_CREAT, 0o644)
        try:
            view = memoryview(data)
            while view:
                view = view[os.write(fd, view) :]
            os.fsync(fd)
        finally:
            os.close(fd)

    def append(self, row: dict) -> None:
        """Write one row (and the header first if the file is new), then fsync."""
        self.path.parent.mkdir(parents=True, exist_ok=True)
        data = self._line(row)
        if not self.path.exists() or self.path.stat().st_size == 0:
            data = self._line(dict(zip(self.fields, self.fields))) + data
        else:
            self.check_header()
        self._write(data)

    def check_header(self) -> None:
        """Raise ``ValueError`` if the existing file was written with other columns."""
        with open(self.path, encoding="utf-8", errors="replace") as fh:
            header = next(csv.reader([fh.readline().rstrip("\n")]), [])
        if tuple(header) != self.fields:
            raise ValueError(
                f"{self.path} has other columns than this version writes; "
                "choose a new output directory or move the old results away."
            )

    def _lines(self) -> list[str]:
        if not self.path.exists():
            return []
        text = self.path.read_bytes().decode("utf-8", errors="replace")
        lines = text.split("\n")
        return lines[:-1]  # the piece after the last newline is empty or a cut-off row

    def read(self) -> list[dict]:
        """Complete rows, the last one of each ``key`` kept (in first-seen order)."""
        lines = self._lines()
        if not lines:
            return []
        header = next(csv.reader([lines[0]]))
        rows: dict[str, dict] = {}
        for record in csv.reader(lines[1:]):
            if len(record) != len(header):
                continue  # a damaged line: not a row
            row = dict(zip(header, record))
            rows[row.get("key", "")] = row
        return list(rows.values())

    def done_keys(self) -> set[str]:
        """Keys of the jobs that have a row."""
        return {row["key"] for row in self.read()}

    def repair(self, drop_status: Iterable[str] = (), keys: Iterable[str] | None = None) -> int:
        """Rewrite the file without cut-off lines, duplicates and rows whose status is in ``drop_status``.

        ``keys``, when given, limits the dropping by status to the rows of those
        job keys (e.g. the jobs of the grid being re-run). The rewrite goes to a
        temporary file that replaces the CSV atomically. Returns the number of
        lines removed.
        """
        lines = self._lines()
        raw = self.path.read_bytes() if self.path.exists() else b""
        drop_status, keys = set(drop_status), None if keys is None else set(keys)
        rows = [
            r
            for r in self.read()
            if r.get("status") not in drop_status or (keys is not None and r.get("key") not in keys)
        ]
        kept = len(rows) + 1 if lines else 0
        total = len(lines) + (0 if raw.endswith(b"\n") or not raw else 1)
        if total == kept and total > 0 or not raw:
            return 0
        header = next(csv.reader([lines[0]])) if lines else list(self.fields)
        tmp = self.path.with_name(self.path.name + ".tmp")
        with open(tmp, "w", newline="", encoding="utf-8") as fh:
            writer = csv.writer(fh, lineterminator="\n")
            writer.writerow(header)
            for row in rows:
                writer.writerow([row.get(name, "") for name in header])
            fh.flush()
            os.fsync(fh.fileno())
        os.replace(tmp, self.path)
        return total - kept
