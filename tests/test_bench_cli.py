"""The aeod CLI in-process through click's CliRunner: bench, report, datasets, errors."""

from __future__ import annotations

import pytest
from click.testing import CliRunner

from anomalib_ae import __version__, list_detectors
from anomalib_ae.bench.store import ResultStore
from anomalib_ae.bench.suites import builtin_suites, detector_specs, load_suite
from anomalib_ae.cli import main


@pytest.fixture
def tiny_suite(tmp_path):
    path = tmp_path / "tiny.toml"
    path.write_text(
        'datasets = ["wine"]\n'
        'detectors = ["autoencoder", "sklearn_lof"]\n'
        "seeds = [0, 1]\n"
        '[params."@ours"]\nmax_epochs = 1\nhidden_dims = [8]\nlatent_dim = 2\n'
    )
    return path


def test_bench_writes_csv_report_and_plots_then_resumes(tmp_path, tiny_suite):
    out = tmp_path / "out"
    args = ["bench", "--suite", str(tiny_suite), "--output", str(out), "--n-jobs", "2"]
    result = CliRunner().invoke(main, args)
    assert result.exit_code == 0, result.output
    rows = ResultStore(out / "results.csv").read()
    assert len(rows) == 4 and {r["status"] for r in rows} == {"ok"}
    assert {r["detector"] for r in rows} == {"autoencoder", "sklearn_lof"}
    for name in ("report.md", "cd_auroc.png", "box_auroc.png", "run.json"):
        assert (out / name).exists(), name
    assert "| autoencoder |" in result.output
    report = (out / "report.md").read_text()
    assert "aeod bench --suite" in report and "torch" in report

    again = CliRunner().invoke(main, args)
    assert again.exit_code == 0
    assert "4 jobs, 4 already done" in again.output
    assert len((out / "results.csv").read_text().splitlines()) == 5


def test_bench_overrides_and_missing_dataset_rows(tmp_path, tiny_suite):
    out = tmp_path / "out"
    result = CliRunner().invoke(
        main,
        [
            "bench",
            "--suite",
            str(tiny_suite),
            "--output",
            str(out),
            "--detectors",
            "sklearn_lof",
            "--datasets",
            "wine,no_such_dataset",
            "--seeds",
            "0",
        ],
    )
    assert result.exit_code == 0, result.output
    assert "'no_such_dataset' matched nothing" in result.output
    rows = {r["dataset"]: r for r in ResultStore(out / "results.csv").read()}
    assert rows["wine"]["status"] == "ok"
    assert rows["no_such_dataset"]["status"] == "error"
    assert "no_such_dataset" in rows["no_such_dataset"]["error"]


def test_report_command_rerenders(tmp_path, tiny_suite):
    out = tmp_path / "out"
    CliRunner().invoke(
        main,
        [
            "bench",
            "--suite",
            str(tiny_suite),
            "--output",
            str(out),
            "--detectors",
            "sklearn_lof",
            "--seeds",
            "0",
        ],
    )
    (out / "report.md").unlink()
    result = CliRunner().invoke(main, ["report", str(out), "--no-plots"])
    assert result.exit_code == 0, result.output
    assert (out / "report.md").exists()


@pytest.mark.parametrize(
    "args, message",
    [
        (["bench", "--suite", "nope"], "Unknown suite 'nope'"),
        (["bench", "--detectors", "nope"], "Unknown detector 'nope'"),
        (["bench", "--protocol", "nope"], "unknown protocol"),
        (["bench", "--seeds", "x"], "use integers"),
        (["report", "/nonexistent/dir"], "run `aeod bench` first"),
    ],
)
def test_errors_are_one_clear_line(args, message, tmp_path):
    if args[0] == "bench":
        args = [*args, "--output", str(tmp_path / "out")]
    result = CliRunner().invoke(main, args)
    assert result.exit_code != 0
    assert message.lower() in result.output.lower()
    assert "Traceback" not in result.output
    assert not (tmp_path / "out" / "results.csv").exists()


def test_datasets_and_detectors_and_version(tmp_path):
    result = CliRunner().invoke(main, ["datasets", "--data-dir", str(tmp_path)])
    assert result.exit_code == 0
    assert "breast_cancer" in result.output and "5.1%" in result.output
    result = CliRunner().invoke(main, ["detectors"])
    assert all(name in result.output for name in list_detectors())
    assert "pyod_iforest" in result.output
    result = CliRunner().invoke(main, ["--version"])
    assert __version__ in result.output


def test_builtin_suites_resolve_our_detectors_from_the_registry():
    assert {"quick", "adbench"} <= set(builtin_suites())
    quick = load_suite("quick")
    labels = [spec.label for spec in detector_specs(quick)]
    assert set(list_detectors()) <= set(labels)  # @ours is read at run time
    assert "pyod_iforest" in labels
    autoencoder = next(s for s in detector_specs(quick) if s.label == "autoencoder")
    assert autoencoder.params["max_epochs"] == quick.params["@ours"]["max_epochs"]


def test_images_suite_runs_on_digits_without_a_data_directory(tmp_path):
    from anomalib_ae.bench.jobs import run_job
    from anomalib_ae.bench.suites import build_jobs

    suite = load_suite("images")
    jobs, missing = build_jobs(suite, data_dir=tmp_path)  # an empty data directory
    assert missing == ["mnist*"]
    assert {job.dataset.name for job in jobs} == {"digits_images"}
    assert {job.detector.label for job in jobs} >= {"seed_ensemble", "autoencoder", "pyod_knn"}
    tuned = next(j for j in jobs if j.detector.label == "seed_ensemble_tuned")
    assert tuned.detector.params["detector_params"]["latent_dim"] == 8
    job = next(j for j in jobs if j.detector.label == "seed_ensemble" and j.seed == 0)
    assert job.detector.params == {"detector": "autoencoder", "n_estimators": 3}  # defaults
    job.detector.params["detector_params"] = {"max_epochs": 1}  # the defaults take too long here
    row = run_job(job)
    assert row["status"] == "ok", row["error"]
    assert 0.5 < float(row["auroc"]) <= 1.0
