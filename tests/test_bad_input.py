"""Bad input at every entry point of every registered detector: a finite result or one clear error.

The cases live in ``tests/bad_inputs.py`` (shared with the docs table).
"""

from __future__ import annotations

import re

import numpy as np
import pytest
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st
from hypothesis.extra import numpy as hnp

from anomalib_ae import list_detectors
from tests.bad_inputs import (
    FIT_CASES,
    IMAGE_CASES,
    IMAGE_FIT,
    KNOWN_LIMITS,
    OUT_OF_RANGE,
    SCORE_CASES,
    Expected,
    accepts_images,
    entry_points,
    expected_outcome,
    finite_result,
    frame,
    run_case,
)
from tests.conftest import fast_detector

_FITTED: dict[str, object] = {}


def fitted_on_frame(name: str):
    """One detector per name fitted on ``frame()``, shared by the scoring cases (read only)."""
    if name not in _FITTED:
        _FITTED[name] = fast_detector(name, max_epochs=1).fit(frame())
    return _FITTED[name]


def assert_outcome(outcome: str, value, expected: Expected, where: str) -> None:
    if expected is None:
        assert outcome == "ok", f"{where}: expected a result, got {value!r}"
        assert finite_result(value), f"{where}: non-finite or empty result {value!r}"
        return
    exc_type, pattern = expected
    assert outcome == "error", f"{where}: expected {exc_type.__name__}, got a result"
    assert isinstance(value, exc_type), f"{where}: {type(value).__name__}: {value}"
    assert re.search(pattern, str(value), re.DOTALL), f"{where}: unclear message {str(value)!r}"
    assert "torch" not in str(value).lower(), f"{where}: torch leaks into {str(value)!r}"


@pytest.mark.parametrize("case", FIT_CASES, ids=repr)
def test_bad_input_at_fit(detector_name, case):
    det = fast_detector(detector_name, max_epochs=1)
    expected = expected_outcome(detector_name, "fit", case)
    outcome, value = run_case(det.fit, case.make())
    if outcome == "ok" and expected is None:
        for method in entry_points(det):
            outcome, value = run_case(getattr(det, method), case.make())
            assert_outcome(outcome, value, expected, f"fit then {method}")
    else:
        assert_outcome(outcome, value, expected, "fit")


@pytest.mark.parametrize("case", SCORE_CASES, ids=repr)
def test_bad_input_at_scoring(detector_name, case):
    det = fitted_on_frame(detector_name)
    expected = expected_outcome(detector_name, "score", case)
    for method in entry_points(det):
        outcome, value = run_case(getattr(det, method), case.make())
        assert_outcome(outcome, value, expected, method)


@pytest.mark.parametrize("case", IMAGE_CASES, ids=repr)
def test_wrong_image_shapes(detector_name, case):
    det = fast_detector(detector_name, max_epochs=1)
    if not accepts_images(det):
        pytest.skip(f"{detector_name} takes tables only (3-D input: see test_bad_input_at_*)")
    key = f"{detector_name}/images"
    if key not in _FITTED:
        _FITTED[key] = det.fit(IMAGE_FIT())
    det = _FITTED[key]
    for method in entry_points(det):
        outcome, value = run_case(getattr(det, method), case.make())
        assert_outcome(outcome, value, case.expected, method)


def test_failed_refit_leaves_detector_unfitted(detector_name):
    det = fast_detector(detector_name, max_epochs=1).fit(frame())
    with pytest.raises(ValueError, match="NaN"):
        det.fit(np.full((5, 2), np.nan))
    assert not [k for k in vars(det) if k.endswith("_")], "a failed fit left fitted attributes"
    assert det.fit(frame()).score_samples(frame()).shape == (len(frame()),)


# ---- property-based: random shapes, dtypes and values --------------------------------------
_DTYPES = st.sampled_from([np.float64, np.float32, np.int64, np.int8, np.uint8, np.bool_])


@st.composite
def tables(draw):
    dtype = draw(_DTYPES)
    shape = draw(st.tuples(st.integers(1, 30), st.integers(1, 6)))
    if np.issubdtype(dtype, np.floating):
        big = float(np.float32(1e30))
        elements = st.floats(-big, big, allow_nan=False, allow_infinity=False, width=32)
    else:
        elements = None
    return draw(hnp.arrays(dtype, shape, elements=elements))


@pytest.mark.parametrize("name", list_detectors())
@settings(max_examples=10, deadline=None, suppress_health_check=[HealthCheck.too_slow])
@given(X=tables())
def test_random_tables_fit_and_score_finite(name, X):
    det = fast_detector(name, max_epochs=1)
    det.fit(X)
    scores = det.score_samples(X)
    assert scores.shape == (len(X),) and scores.dtype == np.float64
    assert np.isfinite(scores).all()
    assert set(np.unique(det.predict(X))) <= {-1, 1}


@pytest.mark.parametrize("name", list_detectors())
@settings(max_examples=10, deadline=None, suppress_health_check=[HealthCheck.too_slow])
@given(
    X=hnp.arrays(
        np.float64,
        st.tuples(st.integers(1, 20), st.just(3)),
        elements=st.floats(allow_nan=True, allow_infinity=True, width=64),
    )
)
def test_random_values_at_scoring_finite_or_clear_error(name, X):
    det = fitted_on_frame_array(name)
    limited = (name, "score:near_float_max") in KNOWN_LIMITS and np.abs(X).max() > 1e75
    if np.isfinite(X).all() and limited:
        outcome, value = run_case(det.score_samples, X)
        expected = None if outcome == "ok" else OUT_OF_RANGE
        assert_outcome(outcome, value, expected, "score_samples")
    elif np.isfinite(X).all():
        assert np.isfinite(det.score_samples(X)).all()
    else:
        with pytest.raises(ValueError, match="NaN|infinity"):
            det.score_samples(X)


def fitted_on_frame_array(name: str):
    key = f"{name}/array3"
    if key not in _FITTED:
        X = np.random.default_rng(1).normal(size=(40, 3))
        _FITTED[key] = fast_detector(name, max_epochs=1).fit(X)
    return _FITTED[key]


@pytest.mark.slow  # runs every case on every detector: minutes
def test_docs_table_is_current():
    import subprocess
    import sys
    from pathlib import Path

    root = Path(__file__).resolve().parents[1]
    script = root / "docs" / "scripts" / "bad_input_table.py"
    result = subprocess.run(
        [sys.executable, str(script), "--check"], cwd=root, capture_output=True, text=True
    )
    assert result.returncode == 0, result.stdout + result.stderr[-2000:]
