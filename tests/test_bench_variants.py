"""Suite variants: labelled copies of a detector with some parameters changed (ablations)."""

from __future__ import annotations

import numpy as np
import pytest

from anomalib_ae.bench.detectors import expand, import_target
from anomalib_ae.bench.jobs import run_job
from anomalib_ae.bench.report import render
from anomalib_ae.bench.runner import run_jobs
from anomalib_ae.bench.store import ResultStore
from anomalib_ae.bench.suites import (
    build_jobs,
    builtin_suites,
    detector_specs,
    load_suite,
    suite_from_dict,
)

TINY = {"max_epochs": 2, "hidden_dims": [8], "latent_dim": 2}


def _suite(**variants) -> dict:
    return {
        "datasets": ["wine"],
        "detectors": ["autoencoder", *variants],
        "seeds": [0],
        "params": {"@ours": dict(TINY)},
        "variants": variants,
    }


def test_a_variant_is_its_base_relabelled_with_its_parameters_on_top():
    suite = suite_from_dict(
        _suite(
            ae_same={"detector": "autoencoder"},
            ae_wide={"detector": "autoencoder", "latent_dim": 4},
        )
    )
    specs = {spec.label: spec for spec in detector_specs(suite)}
    assert specs["ae_same"].target == specs["autoencoder"].target
    assert specs["ae_same"].params == specs["autoencoder"].params == TINY
    assert specs["ae_wide"].params == {**TINY, "latent_dim": 4}


def test_a_variant_shares_its_base_seed_so_only_its_parameters_differ():
    suite = suite_from_dict(
        _suite(
            ae_same={"detector": "autoencoder"},
            ae_mse={"detector": "autoencoder", "error_scaling": "none"},
        )
    )
    jobs, _ = build_jobs(suite)
    rows = {job.detector.label: run_job(job) for job in jobs}
    assert {row["status"] for row in rows.values()} == {"ok"}
    assert float(rows["ae_same"]["auroc"]) == float(rows["autoencoder"]["auroc"])
    assert float(rows["ae_mse"]["auroc"]) != float(rows["autoencoder"]["auroc"])


def test_the_report_lists_each_detectors_parameters(tmp_path):
    suite = suite_from_dict(_suite(ae_wide={"detector": "autoencoder", "latent_dim": 4}))
    jobs, _ = build_jobs(suite)
    store = ResultStore(tmp_path / "results.csv")
    run_jobs(jobs, store, isolate=False)
    markdown, _ = render(tmp_path, plots=False)
    section = markdown.split("## Parameters")[1]
    assert '| ae_wide | `{"hidden_dims": [8], "latent_dim": 4, "max_epochs": 2}` |' in section


@pytest.mark.parametrize(
    ("variants", "message"),
    [
        ({"v": {"latent_dim": 4}}, "needs a 'detector' key"),
        ({"vae": {"detector": "autoencoder"}}, "must differ from detector names"),
        ({"a:b": {"detector": "autoencoder"}}, "contain no ':'"),
        ({"v": {"detector": "w"}, "w": {"detector": "autoencoder"}}, "varies another variant"),
        ({"v": {"detector": "no_such_detector"}}, "Unknown detector 'no_such_detector'"),
        (
            {"v": {"detector": "autoencoder", "compare_to": "v"}},
            "compare_to must name a registered",
        ),
        ({"v": {"detector": "autoencoder", "compare_to": "vea"}}, "got 'vea'"),
    ],
)
def test_bad_variants_are_named(variants, message):
    with pytest.raises(ValueError, match=message):
        suite_from_dict(_suite(**variants))


@pytest.mark.parametrize("name", builtin_suites())
def test_builtin_suites_set_only_parameters_their_detectors_accept(name):
    suite = load_suite(name)
    specs = detector_specs(suite)
    assert len({spec.label for spec in specs}) == len(specs) == len(expand(suite.detectors))
    for spec in specs:
        accepted = import_target(spec.target)().get_params()
        assert set(spec.params) <= set(accepted), spec.label
        if spec.label in suite.variants:
            changed = {k: v for k, v in spec.params.items() if accepted[k] != v}
            assert changed, f"{spec.label} changes nothing"
    assert np.isin(list(suite.variants), suite.detectors).all()  # every variant is run


def test_the_report_sets_each_variant_against_its_base(tmp_path):
    from anomalib_ae.bench.report import record_run

    suite = suite_from_dict(
        _suite(
            ae_same={"detector": "autoencoder"},
            ae_mse={"detector": "autoencoder", "error_scaling": "none"},
        )
    )
    jobs, _ = build_jobs(suite)
    run_jobs(jobs, ResultStore(tmp_path / "results.csv"), isolate=False)
    record_run(tmp_path, "custom", [], variants={"ae_same": "autoencoder", "ae_mse": "autoencoder"})
    markdown, _ = render(tmp_path, plots=False)
    section = markdown.split("## Variants against their base")[1].split("## ")[0]
    # the same detector with the same seed: no difference, and no test to run
    assert "| ae_same | autoencoder | 1 | 0.000 | 0.000 | 0 / 0 |  |" in section
    assert "| ae_mse | autoencoder | 1 |" in section


def test_a_rerun_with_nothing_to_do_records_no_invocation(tmp_path):
    from anomalib_ae.bench.report import record_run

    record_run(tmp_path, "s", ["bench"], variants={"v": "autoencoder"})
    info = record_run(tmp_path, "s", ["bench"], variants={"w": "vae"}, added_rows=False)
    assert len(info["runs"]) == 1
    assert info["variants"] == {"v": "autoencoder", "w": "vae"}


def test_a_run_whose_every_job_failed_still_renders_its_report(tmp_path):
    """A suite with variants where no job succeeded (e.g. a misspelt dataset) reports the errors."""
    from anomalib_ae.bench.report import record_run
    from anomalib_ae.bench.suites import missing_dataset_jobs

    suite = suite_from_dict({**_suite(ae_mse={"detector": "autoencoder"}), "datasets": ["nope"]})
    jobs = missing_dataset_jobs(suite, ["nope"])
    assert jobs
    run_jobs(jobs, ResultStore(tmp_path / "results.csv"), isolate=False)
    record_run(tmp_path, "custom", [], variants={"ae_mse": "autoencoder"})
    markdown, _ = render(tmp_path, plots=False)
    assert "Variants against their base" not in markdown
    assert "dataset 'nope' not found" in markdown


def test_compare_to_sets_a_variant_against_another_row(tmp_path):
    from anomalib_ae.bench.report import record_run

    variants = {
        "ae_tuned": {"detector": "autoencoder", "latent_dim": 3},
        "ae_tuned_mse": {"detector": "autoencoder", "latent_dim": 3, "error_scaling": "none"},
    }
    variants["ae_tuned_mse"]["compare_to"] = "ae_tuned"
    suite = suite_from_dict(_suite(**variants))
    spec = next(s for s in detector_specs(suite) if s.label == "ae_tuned_mse")
    assert "compare_to" not in spec.params  # the report's key, not a detector parameter
    jobs, _ = build_jobs(suite)
    run_jobs(jobs, ResultStore(tmp_path / "results.csv"), isolate=False)
    record_run(
        tmp_path, "custom", [], variants={"ae_tuned": "autoencoder", "ae_tuned_mse": "ae_tuned"}
    )
    markdown, _ = render(tmp_path, plots=False)
    section = markdown.split("## Variants against their base")[1].split("## ")[0]
    assert "| ae_tuned_mse | ae_tuned | 1 |" in section
