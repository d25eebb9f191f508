"""scikit-learn's own estimator checks over every registered detector."""

from __future__ import annotations

from sklearn.utils.estimator_checks import parametrize_with_checks

from anomalib_ae import list_detectors
from tests.conftest import fast_detector

# Expected failures, each with its reason: {class name: {check name: reason}}. None today:
# every detector's scores and codes are independent of the batch (anomalib_ae.scoring.precision).
EXPECTED_FAILED_CHECKS: dict[str, dict[str, str]] = {}


def _expected_failed_checks(estimator) -> dict[str, str]:
    return EXPECTED_FAILED_CHECKS.get(type(estimator).__name__, {})


def _estimators():
    out = []
    for name in list_detectors():
        det = fast_detector(name)
        out.append(det)
    # the code-neighbour score (on by default for images only) on the tabular path too
    out.append(fast_detector("autoencoder", code_neighbors=1))
    # the latent-density term (a MADE fitted on the training codes)
    out.append(fast_detector("autoencoder", code_density=True))
    # the float32 scoring path (fixed blocks of rows) and its batch invariance
    out.append(fast_detector("autoencoder_ensemble", inference_precision="float32"))
    out.append(fast_detector("vae", inference_precision="float32"))
    return out


@parametrize_with_checks(_estimators(), expected_failed_checks=_expected_failed_checks)
def test_sklearn_compatible(estimator, check):
    check(estimator)
