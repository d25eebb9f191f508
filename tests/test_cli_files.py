"""``aeod fit``, ``score``, ``info`` and ``export``, run in-process with CliRunner."""

from __future__ import annotations

import io
import json

import numpy as np
import pandas as pd
import pytest
from click.testing import CliRunner

from anomalib_ae import load
from anomalib_ae.cli import main

FIT_PARAMS = ["--param", "max_epochs=2", "--param", "hidden_dims=(8,)", "--param", "random_state=0"]


@pytest.fixture(scope="module")
def tables(tmp_path_factory):
    """A training CSV with an id column, a test table in shuffled id order, a fitted model."""
    root = tmp_path_factory.mktemp("files")
    rng = np.random.default_rng(0)
    X = rng.normal(size=(200, 4)) * [1.0, 5.0, 0.5, 2.0]
    train = pd.DataFrame(X, columns=["a", "b", "c", "d"])
    train.insert(0, "id", [f"row{i}" for i in range(len(X))])
    train.to_csv(root / "train.csv", index=False)
    test = train.sample(frac=0.3, random_state=1)
    test.loc[test.index[:3], ["a", "b"]] = 40.0  # some outliers
    test.to_csv(root / "test.csv", index=False)
    model = root / "model.aeod"
    result = CliRunner().invoke(
        main,
        [
            "fit",
            str(root / "train.csv"),
            "--detector",
            "autoencoder",
            *FIT_PARAMS,
            "--id-column",
            "id",
            "--model",
            str(model),
        ],
    )
    assert result.exit_code == 0, result.output
    return root, train, test, model


def _score(args, input=None):
    return CliRunner().invoke(main, ["score", *map(str, args)], input=input)


def test_csv_scores_equal_the_python_api_in_input_order(tables):
    root, _, test, model = tables
    result = _score([model, root / "test.csv"])
    assert result.exit_code == 0, result.output
    out = pd.read_csv(io.StringIO(result.stdout))
    assert list(out.columns) == ["id", "anomaly_score", "label"]
    assert out["id"].tolist() == test["id"].tolist()
    det = load(model)
    frame = pd.read_csv(root / "test.csv")[["a", "b", "c", "d"]]
    np.testing.assert_array_equal(out["anomaly_score"].to_numpy(), -det.score_samples(frame))
    np.testing.assert_array_equal(out["label"].to_numpy(), det.predict(frame))
    assert (out["label"].to_numpy()[:3] == -1).all()
    assert "scoring" not in result.stderr  # no progress bar off a terminal


def test_parquet_round_trip_and_columns_in_any_order(tables):
    pytest.importorskip("pyarrow", reason="the `parquet` extra is not installed")
    root, _, test, model = tables
    test[["d", "id", "c", "b", "a"]].to_parquet(root / "test.parquet", index=False)
    result = _score([model, root / "test.parquet", "--output", root / "scores.parquet"])
    assert result.exit_code == 0, result.output
    out = pd.read_parquet(root / "scores.parquet")
    csv = pd.read_csv(io.StringIO(_score([model, root / "test.csv"]).stdout))
    assert out["id"].tolist() == test["id"].tolist()
    np.testing.assert_array_equal(out["anomaly_score"].to_numpy(), csv["anomaly_score"].to_numpy())


def test_fit_from_parquet_equals_fit_from_csv(tables, tmp_path):
    pytest.importorskip("pyarrow", reason="the `parquet` extra is not installed")
    root, train, test, model = tables
    train.to_parquet(tmp_path / "train.parquet", index=False)
    other = tmp_path / "m.aeod"
    args = [
        "fit",
        str(tmp_path / "train.parquet"),
        "--detector",
        "autoencoder",
        *FIT_PARAMS,
        "--id-column",
        "id",
        "--model",
        str(other),
    ]
    assert CliRunner().invoke(main, args).exit_code == 0
    frame = test[["a", "b", "c", "d"]]
    np.testing.assert_array_equal(
        load(other).score_samples(frame), load(model).score_samples(frame)
    )


def test_standard_input_and_output(tables, tmp_path):
    root, train, test, _ = tables
    model = tmp_path / "stdin.aeod"
    fit = CliRunner().invoke(
        main,
        [
            "fit",
            "-",
            "--detector",
            "autoencoder",
            *FIT_PARAMS,
            "--columns",
            "a,b,c",
            "--id-column",
            "id",
            "--model",
            str(model),
        ],
        input=train.drop(columns="d").to_csv(index=False),
    )
    assert fit.exit_code == 0, fit.output
    result = _score([model, "-", "--output", "-"], input=test.drop(columns="d").to_csv(index=False))
    assert result.exit_code == 0, result.output
    out = pd.read_csv(io.StringIO(result.stdout))
    assert out["id"].tolist() == test["id"].tolist()
    expected = -load(model).score_samples(test[["a", "b", "c"]])
    np.testing.assert_array_equal(out["anomaly_score"].to_numpy(), expected)


@pytest.mark.parametrize(
    ("edit", "message"),
    [
        (lambda t: t.drop(columns="c"), "column 'c' is missing"),
        (lambda t: t.assign(extra=1.0), "column 'extra' is not one of the model's features"),
        (
            lambda t: t.assign(b=["nan" if i == 4 else "1" for i in range(len(t))]),
            "column 'b', row 5: 'nan' is NaN",
        ),
        (
            lambda t: t.assign(b=["" if i == 2 else "1" for i in range(len(t))]),
            "column 'b', row 3: the value is empty",
        ),
        (
            lambda t: t.assign(d=["1.5"] * 6 + ["abc"] + ["1"] * (len(t) - 7)),
            "column 'd', row 7: 'abc' is not a number",
        ),
        (lambda t: t.drop(columns="id"), "column 'id' is missing"),
    ],
    ids=["missing", "extra", "nan", "empty", "non-numeric", "missing-id"],
)
def test_bad_input_exits_2_naming_column_and_row(tables, edit, message):
    root, _, test, model = tables
    result = _score([model, "-"], input=edit(test.copy()).to_csv(index=False))
    assert result.exit_code == 2, result.output
    assert message in result.output
    assert "Traceback" not in result.output


def test_bad_training_table_exits_2(tmp_path):
    path = tmp_path / "t.csv"
    path.write_text("a,b\n1,2\n3,x\n")
    result = CliRunner().invoke(
        main, ["fit", str(path), "--detector", "autoencoder", "--model", str(tmp_path / "m")]
    )
    assert result.exit_code == 2 and "column 'b', row 2: 'x' is not a number" in result.output


def test_calibrated_model_writes_p_values_and_flags(tables, tmp_path):
    root, train, test, _ = tables
    model = tmp_path / "cal.aeod"
    args = [
        "fit",
        str(root / "train.csv"),
        "--detector",
        "autoencoder",
        *FIT_PARAMS,
        "--param",
        "calibration=0.3",
        "--id-column",
        "id",
        "--model",
        str(model),
    ]
    assert CliRunner().invoke(main, args).exit_code == 0
    result = _score([model, root / "test.csv", "--fdr", "0.2"])
    assert result.exit_code == 0, result.output
    out = pd.read_csv(io.StringIO(result.stdout))
    assert list(out.columns) == ["id", "anomaly_score", "label", "p_value", "flag"]
    det, frame = load(model), test[["a", "b", "c", "d"]]
    np.testing.assert_array_equal(out["p_value"].to_numpy(), det.p_values(frame))
    np.testing.assert_array_equal(out["flag"].to_numpy(), det.flag(frame, fdr=0.2))


def test_info_reads_metadata_without_tensors(tables, monkeypatch):
    import torch

    _, _, _, model = tables

    def no_tensors(*args, **kwargs):
        raise AssertionError("aeod info loaded tensors")

    monkeypatch.setattr(torch, "load", no_tensors)
    result = CliRunner().invoke(main, ["info", str(model), "--json"])
    assert result.exit_code == 0, result.output
    facts = json.loads(result.stdout)
    assert facts["class"] == "AutoEncoderDetector" and facts["checksum_ok"] is True
    assert facts["features"] == ["a", "b", "c", "d"] and facts["id_columns"] == ["id"]
    assert facts["params"]["max_epochs"] == 2 and facts["versions"]["torch"]
    text = CliRunner().invoke(main, ["info", str(model)]).stdout
    assert "checksum: ok" in text and "features (4): a, b, c, d" in text


def test_info_reports_a_checksum_mismatch(tables, tmp_path):
    import zipfile

    _, _, _, model = tables
    with zipfile.ZipFile(model) as archive:
        meta, payload = archive.read("metadata.json"), archive.read("tensors.pt")
    tampered = tmp_path / "tampered.aeod"
    with zipfile.ZipFile(tampered, "w") as archive:
        archive.writestr(
            "metadata.json", meta.replace(b'"contamination": 0.1', b'"contamination": 0.2')
        )
        archive.writestr("tensors.pt", payload)
    result = CliRunner().invoke(main, ["info", str(tampered)])
    assert result.exit_code == 0 and "MISMATCH" in result.stdout


def test_export_onnx_scores_like_the_cli(tables):
    ort = pytest.importorskip("onnxruntime", reason="the `onnx` extra is not installed")
    root, _, test, model = tables
    result = CliRunner().invoke(main, ["export", str(model), "--onnx", str(root / "m.onnx")])
    assert result.exit_code == 0, result.output
    session = ort.InferenceSession(str(root / "m.onnx"), providers=["CPUExecutionProvider"])
    onnx_scores = session.run(["anomaly_score"], {"X": test[["a", "b", "c", "d"]].to_numpy()})[0]
    cli = pd.read_csv(io.StringIO(_score([model, root / "test.csv"]).stdout))
    np.testing.assert_allclose(onnx_scores, cli["anomaly_score"].to_numpy(), rtol=1e-5, atol=0)


def test_export_refuses_a_detector_without_a_graph(tmp_path):
    path = tmp_path / "t.csv"
    pd.DataFrame(np.random.default_rng(0).normal(size=(40, 3)), columns=list("xyz")).to_csv(
        path, index=False
    )
    model = tmp_path / "cooks.aeod"
    fit = CliRunner().invoke(
        main,
        [
            "fit",
            str(path),
            "--detector",
            "cooks_distance",
            "--param",
            "target=0",
            "--model",
            str(model),
        ],
    )
    assert fit.exit_code == 0, fit.output
    result = CliRunner().invoke(main, ["export", str(model), "--onnx", str(tmp_path / "c.onnx")])
    assert result.exit_code == 1 and "CooksDistanceDetector cannot be exported" in result.output


def test_readme_commands_run_as_written(tmp_path, monkeypatch):
    """The three commands of the README's "From a CSV to scores" section, on a small CSV."""
    import re
    import shlex
    from pathlib import Path

    readme = (Path(__file__).resolve().parents[1] / "README.md").read_text(encoding="utf-8")
    section = readme.split("## From a CSV to scores and an ONNX file", 1)[1]
    block = re.search(r"```bash\n(.*?)```", section, flags=re.DOTALL).group(1)
    commands = [line.split("#")[0].strip() for line in block.splitlines() if line.strip()]
    assert [c.split()[1] for c in commands] == ["fit", "score", "export"]
    frame = pd.DataFrame(np.random.default_rng(0).normal(size=(80, 3)), columns=list("abc"))
    frame.insert(0, "id", range(len(frame)))
    monkeypatch.chdir(tmp_path)
    frame.to_csv("train.csv", index=False)
    frame.iloc[:10].to_csv("new.csv", index=False)
    for command in commands:
        args = shlex.split(command.replace("max_epochs=20", "max_epochs=1"))[1:]
        if args[0] == "export":
            pytest.importorskip("onnxruntime", reason="the `onnx` extra is not installed")
        result = CliRunner().invoke(main, args)
        assert result.exit_code == 0, (command, result.output)
    assert pd.read_csv("scores.csv")["id"].tolist() == list(range(10))
    assert Path("model.onnx").stat().st_size > 0
