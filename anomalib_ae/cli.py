"""The ``aeod`` command line: parses options and calls :mod:`anomalib_ae.bench`.

Errors a user can fix (an unknown suite, detector or protocol, a missing
results folder) are reported as one line, not a traceback.
"""

from __future__ import annotations

import functools
import sys
from pathlib import Path

import click

from anomalib_ae._version import __version__
from anomalib_ae.io.cli_files import COMMANDS


def _split(values: tuple[str, ...]) -> list[str]:
    """Options given repeatedly and/or comma-separated, as one list."""
    return [v.strip() for value in values for v in value.split(",") if v.strip()]


def _seeds(text: str | None) -> list[int]:
    """``"0,1,2"`` or ``"0-2"`` -> ``[0, 1, 2]``."""
    if not text:
        return []
    seeds: list[int] = []
    try:
        for part in text.split(","):
            lo, _, hi = part.strip().partition("-")
            seeds.extend(range(int(lo), int(hi) + 1) if hi else [int(lo)])
    except ValueError:
        raise click.BadParameter(f"{text!r}: use integers like '0,1,2' or '0-4'.") from None
    return seeds


def _friendly(func):
    """Turn ``ValueError``/``OSError`` into a one-line ``click.ClickException``."""

    @functools.wraps(func)
    def wrapper(*args, **kwargs):
        try:
            return func(*args, **kwargs)
        except (ValueError, TypeError, OSError) as exc:
            raise click.ClickException(str(exc)) from exc

    return wrapper


@click.group()
@click.version_option(__version__, prog_name="aeod")
def main() -> None:
    """anomalib_ae: autoencoder anomaly detectors and their benchmark."""


@main.command()
@click.option(
    "--suite",
    default="quick",
    show_default=True,
    help="Built-in suite name (quick, adbench, ...) or path of a suite .toml file.",
)
@click.option(
    "--detectors",
    multiple=True,
    help="Detectors to run instead of the suite's "
    "(comma-separated or repeated): registry names, baselines, @ours, @baselines, "
    "or 'package.module:Class'.",
)
@click.option(
    "--datasets",
    multiple=True,
    help="Datasets instead of the suite's: names or globs "
    "over name or group/name (e.g. 'embedded/*', 'adbench/Classical/*').",
)
@click.option("--seeds", default=None, help="Seeds instead of the suite's: '0,1,2' or '0-2'.")
@click.option("--protocol", "protocols", multiple=True, help="Protocol(s): adbench, novelty, ...")
@click.option(
    "--data-dir",
    type=click.Path(file_okay=False),
    default=None,
    help="Data directory [default: $AEOD_DATA_DIR, else ./datasets].",
)
@click.option(
    "--output",
    default="aeod-results",
    show_default=True,
    type=click.Path(file_okay=False),
    help="Folder for results.csv, report.md and the plots; re-running resumes it.",
)
@click.option(
    "--n-jobs",
    default=1,
    show_default=True,
    type=click.IntRange(min=1),
    help="Jobs run in parallel (one process each).",
)
@click.option(
    "--timeout",
    default=None,
    type=click.FloatRange(min=0, min_open=True),
    help="Seconds per job before it is killed and recorded as an error "
    "[default: the suite's, else none].",
)
@click.option(
    "--threads-per-job",
    default=1,
    show_default=True,
    type=click.IntRange(min=1),
    help="torch/BLAS threads of each job.",
)
@click.option("--retry-errors", is_flag=True, help="Run again the jobs recorded as errors.")
@click.option(
    "--backend",
    type=click.Choice(["local", "dask"]),
    default="local",
    show_default=True,
    help="Where jobs run: this machine, or a dask.distributed cluster "
    '(pip install "anomalib_ae[dask]").',
)
@click.option(
    "--scheduler",
    default=None,
    help="With --backend dask: scheduler address (tcp://host:8786) "
    "[default: a local cluster of --n-jobs workers].",
)
@_friendly
def bench(
    suite,
    detectors,
    datasets,
    seeds,
    protocols,
    data_dir,
    output,
    n_jobs,
    timeout,
    threads_per_job,
    retry_errors,
    backend,
    scheduler,
) -> None:
    """Run a benchmark suite, append one row per job to OUTPUT/results.csv, write the report.

    Finished jobs are skipped, so re-running the same command resumes an
    interrupted run; a failing or timed-out job becomes an error row.
    """
    from anomalib_ae.bench.datasets import resolve_data_dir
    from anomalib_ae.bench.report import RESULTS, record_run, write_report
    from anomalib_ae.bench.runner import pending, run_jobs
    from anomalib_ae.bench.store import ResultStore
    from anomalib_ae.bench.suites import (
        build_jobs,
        load_suite,
        missing_dataset_jobs,
        variant_base,
    )

    config = load_suite(suite).with_overrides(
        detectors=_split(detectors),
        datasets=_split(datasets),
        seeds=_seeds(seeds),
        protocols=_split(protocols),
    )
    jobs, unmatched = build_jobs(config, data_dir)
    root = resolve_data_dir(data_dir)
    for pattern in unmatched:
        click.echo(
            f"warning: dataset {pattern!r} matched nothing (embedded or under {root}).", err=True
        )
    jobs += missing_dataset_jobs(config, unmatched)
    if not jobs:
        raise click.ClickException(
            f"No datasets: {config.datasets} matched nothing under {root}; "
            "set --data-dir or AEOD_DATA_DIR, or see `aeod datasets`."
        )
    store = ResultStore(Path(output) / RESULTS)
    store.repair(drop_status={"error"} if retry_errors else (), keys={job.key for job in jobs})
    todo = pending(jobs, store)
    click.echo(
        f"suite {config.name}: {len(jobs)} jobs, {len(jobs) - len(todo)} already done; "
        f"results in {store.path}",
        err=True,
    )
    labels = {job.detector.label for job in jobs}
    variants = {k: variant_base(v) for k, v in config.variants.items() if k in labels}
    record_run(output, config.name, _command_line(), variants=variants, added_rows=bool(todo))
    errors: list[dict] = []
    try:
        with click.progressbar(
            length=len(todo), label="jobs", file=sys.stderr, show_pos=True, show_eta=True
        ) as bar:

            def advance(row: dict) -> None:
                if row["status"] == "error":
                    errors.append(row)
                bar.update(1)

            run_jobs(
                todo,
                store,
                n_jobs=n_jobs,
                timeout=timeout or config.timeout,
                threads_per_job=threads_per_job,
                on_row=advance,
                backend=backend,
                scheduler=scheduler,
            )
    except KeyboardInterrupt:
        done = len(store.done_keys())
        click.echo(
            f"\nInterrupted: {done} finished job(s) are saved in {store.path}; "
            "run the same command again to resume.",
            err=True,
        )
        sys.exit(130)
    for row in errors:
        click.echo(
            f"error: {row['dataset']} / {row['detector']} / seed {row['seed']}: {row['error']}",
            err=True,
        )
    _pictures(output, jobs, config)
    path, terminal = write_report(output)
    click.echo(terminal)
    click.echo(f"\nreport: {path}", err=True)


def _pictures(output, jobs, config) -> None:
    """Write the pictures of each image dataset of the run (once; a re-run keeps them)."""
    from anomalib_ae.bench.pictures import PICTURES, write_image_pictures
    from anomalib_ae.bench.suites import detector_specs

    ae_params = next((s.params for s in detector_specs(config) if s.label == "autoencoder"), {})
    seen = set()
    for job in jobs:
        info = job.dataset
        if info.kind != "image" or info.format == "missing" or info.name in seen:
            continue
        seen.add(info.name)
        if (Path(output) / PICTURES / f"{info.name}_latent_scatter.png").exists():
            continue
        click.echo(f"pictures of {info.name} ...", err=True)
        try:
            write_image_pictures(output, info, ae_params=ae_params)
        except Exception as exc:  # pictures are a bonus: the report is still written
            click.echo(f"warning: pictures of {info.name} failed: {exc}", err=True)


def _command_line() -> list[str]:
    """This command's arguments: from ``sys.argv`` under ``aeod``, else rebuilt from its options."""
    if Path(sys.argv[0]).name == "aeod":
        return sys.argv[1:]
    ctx = click.get_current_context()
    args = [ctx.info_name or "bench"]
    for name, value in ctx.params.items():
        flag = "--" + name.replace("_", "-").replace("protocols", "protocol")
        if value in (None, (), False):
            continue
        if value is True:
            args.append(flag)
        else:
            args += [flag, ",".join(map(str, value)) if isinstance(value, tuple) else str(value)]
    return args


@main.command()
@click.option(
    "--data-dir",
    type=click.Path(file_okay=False),
    default=None,
    help="Data directory [default: $AEOD_DATA_DIR, else ./datasets].",
)
@_friendly
def datasets(data_dir) -> None:
    """List the available datasets: n, d, anomaly rate and source."""
    from anomalib_ae.bench.datasets import catalogue, describe, resolve_data_dir

    root = resolve_data_dir(data_dir)
    click.echo(f"data directory: {root}{'' if root.is_dir() else ' (not found)'}")
    click.echo(f"{'name':<22} {'group':<24} {'n':>8} {'d':>6} {'anomalies':>9}  source")
    for info in catalogue(data_dir):
        row = describe(info)
        if row["error"]:
            click.echo(f"{info.name:<22} {info.group:<24} unreadable: {row['error']}")
            continue
        rate = "-" if row["anomaly_rate"] is None else f"{100 * row['anomaly_rate']:.1f}%"
        click.echo(
            f"{info.name:<22} {info.group:<24} {row['n']:>8} {row['d']:>6} {rate:>9}  "
            f"{row['source']}"
        )


@main.command()
def detectors() -> None:
    """List the detectors a suite can name."""
    from anomalib_ae.bench.detectors import BASELINES
    from anomalib_ae.registry import _REGISTRY

    click.echo("ours (@ours):")
    for name, target in sorted(_REGISTRY.items()):
        click.echo(f"  {name:<24} {target}")
    click.echo("baselines (@baselines):")
    for name, (target, _) in BASELINES.items():
        click.echo(f"  {name:<24} {target}")


@main.command()
@click.argument("directory", type=click.Path(file_okay=False))
@click.option("--no-plots", is_flag=True, help="Skip the PNG plots.")
@_friendly
def report(directory, no_plots) -> None:
    """Re-render DIRECTORY/report.md (and plots) from DIRECTORY/results.csv."""
    from anomalib_ae.bench.report import write_report

    path, terminal = write_report(directory, plots=not no_plots)
    click.echo(terminal)
    click.echo(f"\nreport: {path}", err=True)


# fit, score, info, export: files in and out (anomalib_ae.io)
for _command in COMMANDS:
    main.add_command(_command)

if __name__ == "__main__":  # python -m anomalib_ae.cli
    main()
