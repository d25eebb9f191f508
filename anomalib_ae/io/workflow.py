"""Fit a detector on a table file, score a table file with a saved one, describe a saved one.

The logic of ``aeod fit``, ``aeod score`` and ``aeod info``. ``fit_table``
keeps the fit-time column schema (feature columns in order, id columns) in the
saved file's metadata (``extra["schema"]``); ``score_table`` checks a table
against it (:func:`~anomalib_ae.io.tables.check_columns`) before scoring.
"""

from __future__ import annotations

import ast
import os
from collections.abc import Callable, Sequence
from typing import Any

import numpy as np
import pandas as pd

from anomalib_ae.io.tables import SchemaError, check_columns
from anomalib_ae.persistence import decode_plain, load, read_metadata
from anomalib_ae.registry import get_detector

SCORE_CHUNK = 8192
"""Rows scored at a time (scores do not depend on the split; see the determinism tests)."""


def parse_params(items: Sequence[str]) -> dict[str, Any]:
    """``["max_epochs=5", "hidden_dims=(8, 4)", "scaler=minmax"]`` -> a parameter dict.

    Values are Python literals where they parse as one, else strings.

    Examples
    --------
    >>> parse_params(["max_epochs=5", "hidden_dims=(8, 4)", "scaler=minmax"])
    {'max_epochs': 5, 'hidden_dims': (8, 4), 'scaler': 'minmax'}
    """
    params: dict[str, Any] = {}
    for item in items:
        key, sep, text = item.partition("=")
        if not sep or not key.strip():
            raise ValueError(f"--param {item!r}: write KEY=VALUE, e.g. max_epochs=20.")
        try:
            value = ast.literal_eval(text.strip())
        except (ValueError, SyntaxError):
            value = text.strip()
        params[key.strip()] = value
    return params


def fit_table(
    frame: pd.DataFrame,
    detector: str,
    params: dict[str, Any],
    model: str | os.PathLike,
    *,
    columns: Sequence[str] | None = None,
    id_columns: Sequence[str] = (),
) -> Any:
    """Fit registered ``detector`` on the feature columns of ``frame`` and save it to ``model``.

    Parameters
    ----------
    frame : DataFrame
    detector : str
        Registry name (or class name).
    params : dict
        Detector parameters.
    model : str or path-like
        The detector file to write.
    columns : sequence of str or None, default=None
        The feature columns; default: every column but the id columns.
    id_columns : sequence of str, default=()

    Returns
    -------
    the fitted detector
    """
    features = (
        list(columns)
        if columns
        else [c for c in map(str, frame.columns) if c not in set(id_columns)]
    )
    if not features:
        raise SchemaError("the table has no feature columns (only id columns).")
    extra = [c for c in map(str, frame.columns) if c not in set(features) | set(id_columns)]
    X = check_columns(frame.drop(columns=extra), features, id_columns)
    det = get_detector(detector, **params)
    det.fit(pd.DataFrame(X, columns=features))
    schema = {"features": features, "id_columns": list(id_columns)}
    det.save(model, extra={"schema": schema})
    return det


def model_schema(metadata: dict) -> dict[str, list[str]]:
    """The column schema kept in a saved file (or, for a file saved from Python, its features)."""
    schema = (metadata.get("extra") or {}).get("schema")
    if schema:
        return {"features": list(schema["features"]), "id_columns": list(schema["id_columns"])}
    names = decode_plain(metadata.get("state", {}).get("feature_names_in_"))
    if isinstance(names, np.ndarray):
        return {"features": [str(n) for n in names], "id_columns": []}
    n = decode_plain(metadata.get("state", {}).get("n_features_in_"))
    if isinstance(n, int):  # fitted on a plain array: columns x0, x1, ... by position
        return {"features": [f"x{i}" for i in range(n)], "id_columns": []}
    raise SchemaError("the model file holds no feature schema.")


def score_table(
    frame: pd.DataFrame,
    model: str | os.PathLike,
    *,
    id_columns: Sequence[str] | None = None,
    fdr: float | None = None,
    progress: Callable[[int], None] | None = None,
) -> pd.DataFrame:
    """Score the rows of ``frame`` with the detector saved in ``model``, in input order.

    Parameters
    ----------
    frame : DataFrame
    model : str or path-like
    id_columns : sequence of str or None, default=None
        Columns copied to the output first; default: the fit's id columns.
    fdr : float or None, default=None
        For a calibrated model, the false discovery rate of ``flag``
        (default 0.1).
    progress : callable or None
        Called with the number of rows scored after each chunk.

    Returns
    -------
    DataFrame
        The id columns, ``anomaly_score`` (higher = more anomalous) and
        ``label`` (-1 outlier, +1 inlier, as ``predict``); for a calibrated
        model also ``p_value`` and ``flag`` (Benjamini-Hochberg at ``fdr`` over
        the whole table).
    """
    metadata = read_metadata(model)
    schema = model_schema(metadata)
    ids = list(schema["id_columns"] if id_columns is None else id_columns)
    X = check_columns(frame, schema["features"], ids)
    det = load(model)
    scores = np.empty(len(X))
    for start in range(0, len(X), SCORE_CHUNK):
        stop = min(start + SCORE_CHUNK, len(X))
        scores[start:stop] = det.score_samples(_rows(det, X[start:stop], schema))
        if progress is not None:
            progress(stop - start)
    out = frame[ids].copy() if ids else pd.DataFrame(index=frame.index)
    out["anomaly_score"] = -scores
    out["label"] = np.where(scores - det.offset_ < 0, -1, 1)
    if getattr(det, "calibration_scores_", None) is not None:
        from anomalib_ae.detectors._thresholds import benjamini_hochberg, conformal_p_values

        p = conformal_p_values(det.calibration_scores_, -scores, None)
        out["p_value"] = p
        out["flag"] = benjamini_hochberg(p, 0.1 if fdr is None else fdr)
    elif fdr is not None:
        raise ValueError(
            "--fdr needs a calibrated model (fit with --param calibration=0.2); this one has "
            "no calibration scores."
        )
    return out.reset_index(drop=True)


def _rows(det: Any, X: np.ndarray, schema: dict) -> Any:
    if getattr(det, "feature_names_in_", None) is not None:
        return pd.DataFrame(X, columns=schema["features"])
    return X


def describe(model: str | os.PathLike) -> dict[str, Any]:
    """What ``aeod info`` shows: class, parameters, versions, features, checksum (no tensors).

    Examples
    --------
    >>> import io, numpy as np
    >>> from anomalib_ae import CooksDistanceDetector
    >>> buffer = io.BytesIO()
    >>> CooksDistanceDetector(target=0).fit(np.zeros((30, 3)) + np.arange(90).reshape(30, 3) ** 0.5
    ...     ).save(buffer)
    >>> info = describe(buffer)
    >>> info["class"], info["features"], info["checksum_ok"]
    ('CooksDistanceDetector', ['x0', 'x1', 'x2'], True)
    """
    metadata = read_metadata(model)
    schema = model_schema(metadata)
    return {
        "class": str(metadata.get("class", "?")).rsplit(":", 1)[-1],
        "target": metadata.get("class"),
        "params": {k: decode_plain(v) for k, v in (metadata.get("params") or {}).items()},
        "versions": {
            k.removesuffix("_version"): metadata.get(k)
            for k in ("anomalib_ae_version", "torch_version", "numpy_version", "sklearn_version")
        },
        "format_version": metadata.get("format_version"),
        "features": schema["features"],
        "id_columns": schema["id_columns"],
        "checksum_ok": bool(metadata["checksum_ok"]),
    }
