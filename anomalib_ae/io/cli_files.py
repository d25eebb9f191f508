"""The ``aeod fit``, ``score``, ``info`` and ``export`` commands (click); logic in :mod:`anomalib_ae.io`.

Bad input (a missing or extra column, NaN, a value that is not a number)
exits with code 2 and one line naming the column and row; other errors a user
can fix exit with code 1 and one line.
"""

from __future__ import annotations

import functools
import json
import sys

import click

from anomalib_ae.io.tables import SchemaError, read_table, write_table


class BadInput(click.ClickException):
    """A table that does not fit the model's schema: exit code 2."""

    exit_code = 2


def _errors(func):
    @functools.wraps(func)
    def wrapper(*args, **kwargs):
        try:
            return func(*args, **kwargs)
        except SchemaError as exc:
            raise BadInput(str(exc)) from exc
        except (ValueError, TypeError, OSError, ImportError, NotImplementedError) as exc:
            raise click.ClickException(str(exc)) from exc

    return wrapper


def _split(values: tuple[str, ...]) -> list[str]:
    return [v.strip() for value in values for v in value.split(",") if v.strip()]


@click.command()
@click.argument("data")
@click.option("--detector", required=True, help="Registry name (see `aeod detectors`).")
@click.option("--param", "params", multiple=True, help="Detector parameter KEY=VALUE (repeatable).")
@click.option(
    "--columns",
    multiple=True,
    help="Feature columns (comma-separated or repeated) [default: all but the ids].",
)
@click.option(
    "--id-column", "id_columns", multiple=True, help="Column(s) passed through, not features."
)
@click.option(
    "--model", required=True, type=click.Path(dir_okay=False), help="Detector file to write."
)
@_errors
def fit(data, detector, params, columns, id_columns, model) -> None:
    """Fit a detector on DATA (CSV, Parquet, or - for standard input) and save it."""
    from anomalib_ae.io.workflow import fit_table, parse_params

    frame = read_table(data)
    det = fit_table(
        frame,
        detector,
        parse_params(params),
        model,
        columns=_split(columns) or None,
        id_columns=_split(id_columns),
    )
    click.echo(
        f"fitted {type(det).__name__} on {len(frame)} rows, "
        f"{det.n_features_in_} features -> {model}",
        err=True,
    )


@click.command()
@click.argument("model", type=click.Path(exists=True, dir_okay=False))
@click.argument("data")
@click.option(
    "--output",
    default="-",
    show_default=True,
    help="CSV or .parquet file, or - for standard output.",
)
@click.option(
    "--id-column", "id_columns", multiple=True, help="Id column(s) to copy [default: the fit's]."
)
@click.option(
    "--fdr",
    type=click.FloatRange(0, 1, min_open=True, max_open=True),
    default=None,
    help="False discovery rate of the flag column (calibrated models) [default: 0.1].",
)
@_errors
def score(model, data, output, id_columns, fdr) -> None:
    """Score DATA with the detector in MODEL: ids, anomaly_score, label (p_value, flag)."""
    from anomalib_ae.io.workflow import score_table

    frame = read_table(data)
    ids = _split(id_columns) or None
    if sys.stderr.isatty() and len(frame):
        with click.progressbar(length=len(frame), label="scoring", file=sys.stderr) as bar:
            result = score_table(frame, model, id_columns=ids, fdr=fdr, progress=bar.update)
    else:
        result = score_table(frame, model, id_columns=ids, fdr=fdr)
    write_table(result, output)


@click.command()
@click.argument("model", type=click.Path(exists=True, dir_okay=False))
@click.option("--json", "as_json", is_flag=True, help="Print JSON.")
@_errors
def info(model, as_json) -> None:
    """Class, parameters, versions, features and checksum of MODEL (no tensors loaded)."""
    from anomalib_ae.io.workflow import describe

    facts = describe(model)
    if as_json:
        click.echo(json.dumps(facts, indent=1, default=repr))
        return
    click.echo(f"class: {facts['class']} ({facts['target']})")
    click.echo(
        f"checksum: {'ok' if facts['checksum_ok'] else 'MISMATCH (file modified or corrupt)'}"
    )
    click.echo("versions: " + ", ".join(f"{k} {v}" for k, v in facts["versions"].items()))
    click.echo(f"features ({len(facts['features'])}): {', '.join(facts['features'])}")
    if facts["id_columns"]:
        click.echo(f"id columns: {', '.join(facts['id_columns'])}")
    click.echo("parameters:")
    for key, value in facts["params"].items():
        click.echo(f"  {key} = {value!r}")


@click.command()
@click.argument("model", type=click.Path(exists=True, dir_okay=False))
@click.option(
    "--onnx",
    "onnx_path",
    required=True,
    type=click.Path(dir_okay=False),
    help="ONNX file to write.",
)
@click.option(
    "--max-neighbor-rows",
    type=click.IntRange(min=1),
    default=None,
    help="Largest training-code set a code-neighbour term is exported with (exactly).",
)
@_errors
def export(model, onnx_path, max_neighbor_rows) -> None:
    """Export the detector in MODEL to one ONNX graph (raw rows -> score, label)."""
    from anomalib_ae.export.onnx import MAX_NEIGHBOR_ROWS
    from anomalib_ae.persistence import load

    det = load(model)
    det.to_onnx(onnx_path, max_neighbor_rows=max_neighbor_rows or MAX_NEIGHBOR_ROWS)
    click.echo(f"wrote {onnx_path} (input X: float64, batch x {det.n_features_in_})", err=True)


COMMANDS = (fit, score, info, export)
