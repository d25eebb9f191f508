"""The bad inputs every detector is tried on, shared by the tests and the docs table.

Each case says what it is, builds its data, and states the one outcome every
detector must give: ``None`` for "finite scores" (a correct result) or an
``(exception type, message regex)`` pair for a clear error.
``docs/scripts/bad_input_table.py`` runs the same cases to write the table in
``docs/reliability.md``, so the table stays true.
"""

from __future__ import annotations

import warnings
from collections.abc import Callable
from dataclasses import dataclass
from typing import Any

import numpy as np
import pandas as pd
import scipy.sparse as sp

from anomalib_ae import get_detector

N_ROWS, N_COLS = 40, 4
COLUMNS = [f"f{i}" for i in range(N_COLS)]
ENTRY_POINTS = (
    "score_samples",
    "decision_function",
    "predict",
    "anomaly_score",
    "feature_scores",
    "transform",
)

Expected = tuple[type[Exception], str] | None


@dataclass(frozen=True)
class Case:
    """One bad input: ``make()`` builds it; ``expected`` is the promised outcome."""

    name: str
    description: str
    make: Callable[[], Any]
    expected: Expected

    def __repr__(self) -> str:
        return self.name


def normal(n: int = N_ROWS, d: int = N_COLS, seed: int = 0) -> np.ndarray:
    return np.random.default_rng(seed).normal(size=(n, d))


def frame(X: np.ndarray | None = None) -> pd.DataFrame:
    return pd.DataFrame(normal() if X is None else X, columns=COLUMNS)


def _with(value: float) -> np.ndarray:
    X = normal()
    X[3, 1] = value
    return X


def _mixed_frame() -> pd.DataFrame:
    df = frame()
    df["f3"] = ["a", "b"] * (N_ROWS // 2)
    return df


def _nullable_frame() -> pd.DataFrame:
    df = frame()
    df["f0"] = pd.array([1, None] * (N_ROWS // 2), dtype="Int64")
    return df


NAN = (ValueError, r"X contains NaN .*column\(s\) \[.*impute")
INF = (ValueError, r"X contains infinity .*column\(s\) \[.*clip")
NOT_2D = (ValueError, r"expects a 2-D array .*got an array of shape")
NON_NUMERIC = (TypeError, r"[Nn]on-numeric .*encode or drop")

# Inputs given to ``fit`` (and, when fitting works, scored back).
FIT_CASES = [
    Case("nan", "a NaN value", lambda: _with(np.nan), NAN),
    Case("inf", "an infinite value", lambda: _with(np.inf), INF),
    Case("-inf", "a negative infinite value", lambda: _with(-np.inf), INF),
    Case(
        "nullable_na", "DataFrame with a pandas `Int64` column holding `NA`", _nullable_frame, NAN
    ),
    Case(
        "no_rows", "0 rows, shape (0, 4)", lambda: np.empty((0, N_COLS)), (ValueError, r"0 sample")
    ),
    Case(
        "no_columns",
        "0 columns, shape (40, 0)",
        lambda: np.empty((N_ROWS, 0)),
        (ValueError, r"0 feature"),
    ),
    Case("one_row", "a single row", lambda: normal(n=1), None),
    Case("two_rows", "two rows", lambda: normal(n=2), None),
    Case("one_column", "a single column", lambda: normal(d=1), None),
    Case("constant_columns", "every column constant", lambda: np.ones((N_ROWS, N_COLS)), None),
    Case(
        "one_constant_column",
        "one constant column",
        lambda: np.c_[normal(d=3), np.full(N_ROWS, 7.0)],
        None,
    ),
    Case("duplicate_rows", "every row the same", lambda: np.tile(normal(n=1), (N_ROWS, 1)), None),
    Case("huge", "magnitudes around 1e30", lambda: normal() * 1e30, None),
    Case("tiny", "magnitudes around 1e-30", lambda: normal() * 1e-30, None),
    Case(
        "mixed_scales",
        "columns at 1e30 and 1e-30 side by side",
        lambda: normal() * np.array([1e30, 1e-30, 1.0, 1e15]),
        None,
    ),
    Case(
        "near_float_max",
        "magnitudes near the float64 limit (1e307)",
        lambda: normal() / 10 * 1e307,
        None,
    ),
    Case(
        "int",
        "integer dtype",
        lambda: np.random.default_rng(0).integers(0, 10, (N_ROWS, N_COLS)),
        None,
    ),
    Case("bool", "boolean dtype", lambda: normal() > 0, None),
    Case(
        "uint8",
        "uint8 dtype (e.g. pixels)",
        lambda: np.random.default_rng(0).integers(0, 256, (N_ROWS, N_COLS)).astype(np.uint8),
        None,
    ),
    Case("float16", "float16 dtype", lambda: normal().astype(np.float16), None),
    Case("float32", "float32 dtype", lambda: normal().astype(np.float32), None),
    Case("object_numbers", "object array holding numbers", lambda: normal().astype(object), None),
    Case("list", "nested Python lists", lambda: normal().tolist(), None),
    Case(
        "bool_frame",
        "DataFrame with a boolean column",
        lambda: frame().assign(f3=lambda d: d.f3 > 0),
        None,
    ),
    Case("string_column", "DataFrame with a string column", _mixed_frame, NON_NUMERIC),
    Case(
        "category_column",
        "DataFrame with a categorical column",
        lambda: frame().assign(f3=pd.Categorical(["a", "b"] * (N_ROWS // 2))),
        NON_NUMERIC,
    ),
    Case(
        "string_array",
        "NumPy array of strings",
        lambda: np.array([["a", "b"]] * N_ROWS),
        NON_NUMERIC,
    ),
    Case(
        "object_dict",
        "object array holding a dict",
        lambda: np.array([[{"a": 1}, 1.0]] * 3, dtype=object),
        NON_NUMERIC,
    ),
    Case(
        "complex",
        "complex dtype",
        lambda: normal().astype(complex),
        (ValueError, "Complex data not supported"),
    ),
    Case("1d", "1-D array", lambda: normal()[:, 0], NOT_2D),
    Case("scalar", "a scalar", lambda: np.float64(1.0), NOT_2D),
    Case("3d", "3-D array (e.g. images)", lambda: normal().reshape(N_ROWS, 2, 2), NOT_2D),
    Case("sparse", "SciPy sparse CSR matrix", lambda: sp.csr_matrix(normal()), None),
    Case("sparse_csc", "SciPy sparse CSC array", lambda: sp.csc_array(normal()), None),
    Case(
        "sparse_nan",
        "SciPy sparse matrix with a stored NaN",
        lambda: sp.csr_matrix(_with(np.nan)),
        NAN,
    ),
    Case("none", "None", lambda: None, (ValueError, r"got an array of shape \(\)|None")),
]

# Inputs given to every scoring entry point of a detector fitted on ``frame()``.
SCORE_CASES = [
    Case("nan", "a NaN value", lambda: frame(_with(np.nan)), NAN),
    Case("inf", "an infinite value", lambda: frame(_with(np.inf)), INF),
    Case("no_rows", "0 rows", lambda: frame().iloc[:0], (ValueError, r"0 sample")),
    Case("one_row", "a single row", lambda: frame().iloc[:1], None),
    Case("huge", "rows at 1e30", lambda: frame(normal() * 1e30), None),
    Case(
        "near_float_max",
        "rows near the float64 limit (1e307)",
        lambda: frame(normal() / 10 * 1e307),
        None,
    ),
    Case(
        "int",
        "integer dtype",
        lambda: frame(np.random.default_rng(0).integers(0, 10, (N_ROWS, N_COLS))),
        None,
    ),
    Case("bool", "boolean dtype", lambda: frame(normal() > 0), None),
    Case("float32", "float32 dtype", lambda: frame(normal().astype(np.float32)), None),
    Case("sparse", "SciPy sparse CSR matrix (no column names)", lambda: sp.csr_matrix(normal()), None),
    Case("array_no_names", "a plain array (no column names): a warning, then scores", normal, None),
    Case(
        "wrong_width",
        "3 columns instead of 4 (plain array)",
        lambda: normal(d=3),
        (ValueError, r"3 features, but .* 4 features"),
    ),
    Case(
        "reordered_columns",
        "the columns in another order",
        lambda: frame()[COLUMNS[::-1]],
        (ValueError, r"same order .*feature_names_in_"),
    ),
    Case(
        "renamed_column",
        "a column renamed",
        lambda: frame().rename(columns={"f0": "g0"}),
        (ValueError, r"unseen at fit time.*\n.*g0"),
    ),
    Case(
        "extra_column",
        "an extra column",
        lambda: frame().assign(f4=1.0),
        (ValueError, r"unseen at fit time"),
    ),
    Case(
        "missing_column",
        "a column missing",
        lambda: frame().drop(columns="f0"),
        (ValueError, r"missing"),
    ),
    Case("string_column", "a string column", _mixed_frame, NON_NUMERIC),
    Case("1d", "one row given as a 1-D array", lambda: normal()[0], NOT_2D),
    Case("3d", "3-D array", lambda: normal().reshape(N_ROWS, 2, 2), NOT_2D),
]


OUT_OF_RANGE = (ValueError, r"undefined \(NaN\) scores .*too far outside the range")

# Where a detector gives a clear error instead of the promised result: (detector,
# "fit:case" or "score:case") -> (the error it gives, why). Kept short and honest.
DENSE_ONLY = (TypeError, "dense data is required")
KNOWN_LIMITS: dict[tuple[str, str], tuple[Expected, str]] = {
    **{
        ("cooks_distance", f"{phase}:{case}"): (
            DENSE_ONLY,
            "Cook's distance fits a least-squares regression on dense rows; the neural "
            "detectors densify sparse rows one batch at a time",
        )
        for phase, case in (
            ("fit", "sparse"),
            ("fit", "sparse_csc"),
            ("fit", "sparse_nan"),
            ("score", "sparse"),
        )
    },
    ("cooks_distance", "score:near_float_max"): (
        OUT_OF_RANGE,
        "Cook's distance multiplies a row's squared residual by its leverage, so rows beyond "
        "about 1e77 (far outside the training range) overflow to NaN; "
        "the score guard turns that into a clear error",
    ),
}


# Detectors that take images ((n, H, W) or (n, C, H, W)) answer 3-D input differently.
IMAGE_OUTCOMES: dict[str, Expected] = {
    "fit:3d": None,
    "score:3d": (ValueError, r"fitted on rows of 4 features, got images .*flatten"),
}


def accepts_images(detector: Any) -> bool:
    """Whether ``detector`` takes image input (it, or its member detector, has ``image_shape``)."""
    params = detector.get_params(deep=False)
    member = params.get("detector")  # a meta-detector takes what its member takes
    if isinstance(member, str):
        member = get_detector(member)
    if member is not None and hasattr(member, "get_params"):
        return accepts_images(member)
    return "image_shape" in params


def expected_outcome(detector_name: str, phase: str, case: Case) -> Expected:
    """The outcome ``case`` must give for ``detector_name`` in ``phase`` ("fit" or "score")."""
    key = f"{phase}:{case.name}"
    limit = KNOWN_LIMITS.get((detector_name, key))
    if limit is not None:
        return limit[0]
    if key in IMAGE_OUTCOMES and accepts_images(get_detector(detector_name)):
        return IMAGE_OUTCOMES[key]
    return case.expected


def _images(n: int, *shape: int) -> np.ndarray:
    return np.random.default_rng(0).random((n, *shape))


# Detectors that take images, fitted on ``IMAGE_FIT`` (20 images of 6x6), then given these.
IMAGE_FIT = lambda: _images(20, 6, 6)  # noqa: E731
IMAGE_CASES = [
    Case(
        "other_size",
        "images of another size (5x5)",
        lambda: _images(4, 5, 5),
        (ValueError, r"fitted on images of shape .*resize them to \(6, 6\)"),
    ),
    Case(
        "other_channels",
        "images with 3 channels instead of 1",
        lambda: _images(4, 3, 6, 6),
        (ValueError, r"fitted on images .*with 1 channel"),
    ),
    Case(
        "channel_axis",
        "the same images with a channel axis (n, 1, 6, 6)",
        lambda: _images(4, 1, 6, 6),
        None,
    ),
    Case("flattened", "the same images flattened to rows (n, 36)", lambda: _images(4, 36), None),
    Case(
        "flattened_wrong",
        "rows of the wrong width (n, 35)",
        lambda: _images(4, 35),
        (ValueError, r"35 features, but .* 36 features"),
    ),
    Case(
        "5d", "a 5-D array", lambda: _images(4, 1, 1, 6, 6), (ValueError, r"2-D array|images|shape")
    ),
    Case(
        "nan_pixel",
        "an image with a NaN pixel",
        lambda: np.where(np.arange(36).reshape(1, 6, 6) == 7, np.nan, _images(4, 6, 6)),
        NAN,
    ),
]


def entry_points(detector: Any) -> list[str]:
    """The scoring entry points ``detector`` has."""
    return [name for name in ENTRY_POINTS if hasattr(detector, name)]


def run_case(call: Callable[[Any], Any], data: Any) -> tuple[str, Any]:
    """Call ``call(data)``; return ``("ok", result)`` or ``("error", exception)``."""
    with warnings.catch_warnings():
        warnings.simplefilter("ignore")
        try:
            return "ok", call(data)
        except Exception as exc:  # noqa: BLE001 - the outcome is what we record
            return "error", exc


def finite_result(result: Any) -> bool:
    """Whether ``result`` (scores, labels, codes) is a non-empty all-finite array."""
    arr = np.asarray(result, dtype=np.float64)
    return arr.size > 0 and bool(np.isfinite(arr).all())
