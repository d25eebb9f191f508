"""One fitted detector scored from several threads at once, as a web service would use it."""

from __future__ import annotations

from concurrent.futures import ThreadPoolExecutor

import numpy as np

from tests.conftest import fast_detector


def test_concurrent_scoring_gives_the_sequential_scores(detector_name):
    rng = np.random.default_rng(0)
    det = fast_detector(detector_name).fit(rng.normal(size=(200, 5)))
    inputs = [rng.normal(size=(n, 5)) for n in (1, 7, 64, 300)]
    sequential = [det.score_samples(X) for X in inputs]
    calls = [i for i in range(len(inputs)) for _ in range(6)]
    with ThreadPoolExecutor(max_workers=8) as pool:
        results = list(pool.map(lambda i: det.score_samples(inputs[i]), calls))
    for i, scores in zip(calls, results):
        np.testing.assert_array_equal(scores, sequential[i])
    # the shared state survives: the scores after the threads are the scores before
    np.testing.assert_array_equal(det.score_samples(inputs[-1]), sequential[-1])


def test_concurrent_first_calls_on_a_loaded_detector(detector_name, tmp_path):
    """No warm-up: the threads race to build the lazily made parts (float64 twin, index)."""
    from anomalib_ae import load

    rng = np.random.default_rng(1)
    det = fast_detector(detector_name).fit(rng.normal(size=(200, 5)))
    X = rng.normal(size=(50, 5))
    expected = det.score_samples(X)
    det.save(tmp_path / "det.aeod")
    loaded = load(tmp_path / "det.aeod")
    with ThreadPoolExecutor(max_workers=8) as pool:
        results = list(pool.map(lambda _: loaded.score_samples(X), range(16)))
    for scores in results:
        np.testing.assert_array_equal(scores, expected)
