"""Metrics, ranking statistics and report rendering (from a synthetic results file)."""

from __future__ import annotations

import numpy as np
import pandas as pd
import pytest

from anomalib_ae.bench.jobs import ROW_FIELDS
from anomalib_ae.bench.metrics import compute_metrics, sanitize_scores
from anomalib_ae.bench.ranking import (
    average_ranks,
    cliques,
    complete_blocks,
    critical_difference,
    wilcoxon_vs_best,
)
from anomalib_ae.bench.report import write_report
from anomalib_ae.bench.store import ResultStore


def test_top_k_metrics_use_the_true_number_of_anomalies():
    y = np.array([0, 0, 0, 1, 1])
    m = compute_metrics(y, np.array([0.1, 0.2, 0.9, 0.8, 0.3]))
    assert m["precision_at_k"] == 0.5 and m["f1_at_k"] == 0.5
    tied = compute_metrics(y, np.array([0.1, 0.5, 0.5, 0.5, 0.1]))  # 3 rows tie at the threshold
    assert tied["precision_at_k"] == pytest.approx(1 / 3)
    assert tied["f1_at_k"] == pytest.approx(2 * (1 / 3) * 0.5 / (1 / 3 + 0.5))


def test_infinite_scores_keep_their_ranking_and_nan_is_an_error():
    scores, note = sanitize_scores(np.array([1.0, np.inf, -np.inf, 2.0]))
    assert np.all(np.isfinite(scores)) and list(np.argsort(scores)) == [2, 0, 3, 1]
    assert "2 infinite" in note
    with pytest.raises(ValueError, match="NaN"):
        sanitize_scores(np.array([1.0, np.nan]))


def test_critical_difference_matches_demsar():
    # Demsar (2006), section 3.2.4: 4 classifiers over 14 data sets, CD = 1.25 at alpha 0.05.
    assert critical_difference(4, 14) == pytest.approx(1.25, abs=0.01)
    assert critical_difference(12, 20) > critical_difference(10, 20)  # beyond the table


def test_ranks_blocks_and_cliques():
    table = pd.DataFrame(
        {
            "a": [0.9, 0.8, 0.95, 0.7],
            "b": [0.8, 0.7, 0.9, np.nan],
            "c": [0.5, np.nan, np.nan, np.nan],
        },
        index=list("wxyz"),
    )
    blocks, dropped_det, dropped_ds = complete_blocks(table)
    assert dropped_det == ["c"] and dropped_ds == ["z"]
    ranks = average_ranks(blocks)
    assert ranks.to_dict() == {"a": 1.0, "b": 2.0}
    assert cliques(ranks, 1.5) == [["a", "b"]] and cliques(ranks, 0.5) == []
    assert wilcoxon_vs_best(blocks, "a").loc["b", "p"] == pytest.approx(0.25)


def _results(tmp_path, n_datasets=4, seeds=(0, 1)):
    store = ResultStore(tmp_path / "results.csv")
    rng = np.random.default_rng(0)
    for d in range(n_datasets):
        for det, base in (("good", 0.9), ("fair", 0.8), ("poor", 0.6)):
            for seed in seeds:
                row = dict.fromkeys(ROW_FIELDS, "")
                auroc = base + rng.normal(scale=0.01)
                row.update(
                    key=f"{d}{det}{seed}",
                    dataset=f"ds{d}",
                    detector=det,
                    protocol="adbench",
                    seed=seed,
                    auroc=auroc,
                    auprc=auroc / 2,
                    f1_at_k=0.5,
                    precision_at_k=0.5,
                    fit_seconds=1.0,
                    score_seconds=0.1,
                    peak_memory_mb=3.0,
                    status="ok",
                )
                store.append(row)
    row = dict.fromkeys(ROW_FIELDS, "")
    row.update(
        key="err",
        dataset="ds0",
        detector="poor",
        protocol="adbench",
        seed=9,
        status="error",
        error="fit: RuntimeError: boom",
    )
    store.append(row)
    return tmp_path


def test_report_renders_tables_and_plots(tmp_path):
    out = _results(tmp_path)
    path, terminal = write_report(out)
    text = path.read_text()
    for heading in (
        "## Summary",
        "Critical-difference",
        "AUROC per dataset",
        "AUPRC per dataset",
        "Errors and warnings",
        "Versions:",
        "Machine:",
    ):
        assert heading in text
    summary = text.split("## Summary")[1]
    assert summary.index("| good |") < summary.index("| fair |") < summary.index("| poor |")
    assert "fit: RuntimeError: boom" in text
    assert "| good |" in terminal
    assert (out / "cd_auroc.png").stat().st_size > 1000
    assert (out / "box_auroc.png").stat().st_size > 1000


def test_report_without_results_is_a_clear_error(tmp_path):
    with pytest.raises(ValueError, match="run `aeod bench` first"):
        write_report(tmp_path)
