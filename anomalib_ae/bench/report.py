"""The benchmark report: Markdown tables (also printed to the terminal) and PNG plots.

Given an output directory holding ``results.csv`` (and ``run.json``, written
by the runner), :func:`write_report` writes ``report.md``, ``cd_auroc.png``
(critical-difference diagram, see :mod:`~anomalib_ae.bench.ranking`) and
``box_auroc.png`` (AUROC over every dataset x seed, per detector).

Rows with status ``ok`` or ``warning`` carry metrics; ``error`` rows are listed
in a table of problems. A detector's score on a dataset is its mean over seeds.
"""

from __future__ import annotations

import json
import os
import platform
import shlex
import sys
from datetime import datetime, timezone
from importlib import metadata
from pathlib import Path

import numpy as np
import pandas as pd

from anomalib_ae.bench.metrics import METRICS
from anomalib_ae.bench.plots import box_plot, cd_diagram
from anomalib_ae.bench.ranking import (
    average_ranks,
    complete_blocks,
    critical_difference,
    wilcoxon_vs_best,
)
from anomalib_ae.bench.report_images import image_sections
from anomalib_ae.bench.store import ResultStore

RESULTS = "results.csv"
RUN_INFO = "run.json"
_PACKAGES = ("anomalib_ae", "torch", "pytorch-lightning", "scikit-learn", "pyod", "numpy", "scipy")


def environment() -> dict:
    """Package versions and machine description for a report header."""
    versions = {}
    for name in _PACKAGES:
        try:
            versions[name] = metadata.version(name)
        except metadata.PackageNotFoundError:
            versions[name] = "not installed"
    return {
        "versions": versions,
        "python": platform.python_version(),
        "platform": platform.platform(),
        "processor": platform.processor() or platform.machine(),
        "cpu_model": cpu_model(),
        "cpu_count": os.cpu_count(),
    }


def cpu_model() -> str:
    """The processor's model name (``/proc/cpuinfo`` on Linux), else ``platform.processor()``.

    Float results of the same code differ between processor families (their
    vectorised kernels round differently), so a report names the model.

    Examples
    --------
    >>> isinstance(cpu_model(), str)
    True
    """
    try:
        with open("/proc/cpuinfo", encoding="utf-8") as info:
            for line in info:
                if line.startswith("model name"):
                    return line.split(":", 1)[1].strip()
    except OSError:
        pass
    return platform.processor() or platform.machine()


def record_run(
    output: str | Path,
    suite: str,
    argv: list[str] | None = None,
    variants: dict[str, str] | None = None,
    added_rows: bool = True,
) -> dict:
    """Add this invocation (command, date, environment) to ``output/run.json``.

    ``variants`` maps the label of each suite variant run to the detector it
    varies (kept in ``run.json`` for the report's comparison of each variant
    with its base). ``added_rows=False`` (every job already done) records the
    variants but not the invocation, so the header lists only the runs that
    produced rows.
    """
    path = Path(output) / RUN_INFO
    info = {"suite": suite, **_run_info(Path(output))}
    command = "aeod " + " ".join(
        shlex.quote(a) for a in (argv if argv is not None else sys.argv[1:])
    )
    if added_rows:
        info["runs"].append({"command": command, "date": _now(), **environment()})
    if variants:
        info["variants"] = {**info.get("variants", {}), **variants}
    path.parent.mkdir(parents=True, exist_ok=True)
    path.write_text(json.dumps(info, indent=2))
    return info


def _now() -> str:
    return datetime.now(timezone.utc).strftime("%Y-%m-%d %H:%M UTC")


def load_results(output: str | Path) -> pd.DataFrame:
    """The rows of ``output/results.csv`` with numeric metric columns."""
    path = Path(output) / RESULTS
    if not path.exists():
        raise ValueError(f"No results in {output}: {path} does not exist; run `aeod bench` first.")
    frame = pd.DataFrame(ResultStore(path).read())
    if frame.empty:
        raise ValueError(f"{path} holds no finished jobs yet.")
    for col in (*METRICS, "fit_seconds", "score_seconds", "peak_memory_mb", "seed"):
        frame[col] = pd.to_numeric(frame[col], errors="coerce")
    return frame


def markdown_table(frame: pd.DataFrame, index_name: str = "") -> str:
    """A GitHub-flavoured Markdown table of ``frame`` (strings as given, floats to 3 places)."""
    header = [index_name or (frame.index.name or "")] + [str(c) for c in frame.columns]
    lines = ["| " + " | ".join(header) + " |", "|" + "|".join("---" for _ in header) + "|"]
    for idx, row in frame.iterrows():
        cells = [str(idx)] + [_cell(v) for v in row]
        lines.append("| " + " | ".join(cells) + " |")
    return "\n".join(lines)


def _cell(value) -> str:
    if isinstance(value, float | np.floating):
        return "" if np.isnan(value) else f"{value:.3f}"
    return str(value)


def per_dataset_table(ok: pd.DataFrame, metric: str, order: list[str]) -> pd.DataFrame:
    """``mean ± std`` over seeds of ``metric`` for each dataset x detector (best in bold)."""
    stats = ok.groupby(["dataset", "detector"])[metric].agg(["mean", "std"])
    means = stats["mean"].unstack()
    stds = stats["std"].unstack()
    table = pd.DataFrame(index=means.index, columns=order, dtype=object)
    for ds in means.index:
        best = means.loc[ds].max()
        for det in order:
            m = means.loc[ds].get(det, np.nan)
            if pd.isna(m):
                table.loc[ds, det] = "–"
                continue
            s = stds.loc[ds].get(det, np.nan)
            text = f"{m:.3f}" if pd.isna(s) else f"{m:.3f} ± {s:.3f}"
            table.loc[ds, det] = f"**{text}**" if np.isclose(m, best) else text
    table.index.name = "dataset"
    return table


def summary(frame: pd.DataFrame) -> tuple[pd.DataFrame, dict]:
    """Per-detector summary (means, ranks, wins, Wilcoxon vs best) and the ranking details."""
    ok = frame[frame["status"].isin(["ok", "warning"])]
    detectors = sorted(frame["detector"].unique())
    auroc = ok.groupby(["dataset", "detector"])["auroc"].mean().unstack().reindex(columns=detectors)
    auprc = ok.groupby(["dataset", "detector"])["auprc"].mean().unstack().reindex(columns=detectors)
    blocks, dropped_det, dropped_ds = complete_blocks(auroc)
    ranks = average_ranks(blocks) if len(blocks) else pd.Series(dtype=float)
    best = ranks.index[0] if len(ranks) else None
    wilcoxon = (
        wilcoxon_vs_best(blocks, best) if best is not None and len(blocks) > 1 else pd.DataFrame()
    )
    wins = (blocks.eq(blocks.max(axis=1), axis=0)).sum() if len(blocks) else pd.Series(dtype=int)
    counts = frame.groupby(["detector", "status"]).size().unstack(fill_value=0)
    table = pd.DataFrame(index=detectors)
    table["mean AUROC"] = auroc.mean()
    table["mean AUPRC"] = auprc.mean()
    table["avg rank"] = ranks.reindex(detectors)
    table["wins"] = wins.reindex(detectors)
    table["p (Wilcoxon vs best, Holm)"] = (
        wilcoxon["p_holm"].reindex(detectors) if len(wilcoxon) else np.nan
    )
    table["fit s (mean)"] = ok.groupby("detector")["fit_seconds"].mean().reindex(detectors)
    table["peak MiB (median)"] = (
        ok.groupby("detector")["peak_memory_mb"].median().reindex(detectors)
    )
    table["jobs ok/warn/err"] = [
        "/".join(str(int(counts.loc[d].get(s, 0))) for s in ("ok", "warning", "error"))
        for d in detectors
    ]
    order = list(ranks.index) + [d for d in detectors if d not in ranks.index]
    table = table.loc[order]
    table["wins"] = table["wins"].map(lambda v: "" if pd.isna(v) else str(int(v)))
    table.index.name = "detector"
    details = {
        "ranks": ranks,
        "blocks": blocks,
        "best": best,
        "cd": critical_difference(len(ranks), len(blocks)),
        "dropped_detectors": dropped_det,
        "dropped_datasets": dropped_ds,
        "order": order,
    }
    return table, details


def parameters_table(frame: pd.DataFrame, order: list[str]) -> pd.DataFrame:
    """The parameters the suite set for each detector (``library defaults`` when none).

    Examples
    --------
    >>> frame = pd.DataFrame({"detector": ["a", "b"], "params": ["{}", '{"lr": 0.01}']})
    >>> parameters_table(frame, ["a", "b"])["parameters"].tolist()
    ['library defaults', '`{"lr": 0.01}`']
    """
    cells = {}
    for det in order:
        values = sorted(set(frame.loc[frame["detector"] == det, "params"].fillna("{}")))
        cells[det] = "; ".join("library defaults" if v in ("", "{}") else f"`{v}`" for v in values)
    table = pd.DataFrame({"parameters": pd.Series(cells, dtype=object)})
    table.index.name = "detector"
    return table


def variants_table(frame: pd.DataFrame, variants: dict[str, str]) -> pd.DataFrame:
    """Each variant against the detector it varies, paired over the datasets both ran.

    ``variants`` maps a variant's label to its base's. Per dataset the score is
    the mean over seeds; the columns give the variant's mean minus the base's
    (AUROC and AUPRC), the datasets where the variant's AUROC is higher / lower,
    and the two-sided Wilcoxon signed-rank p-value of the AUROC differences
    (unadjusted; blank when every difference is zero). In an ablation the
    variant undoes one choice, so a negative difference is what that choice adds.

    Examples
    --------
    >>> frame = pd.DataFrame({
    ...     "dataset": ["a", "a", "b", "b"], "detector": ["ae", "ae_mse"] * 2,
    ...     "auroc": [0.9, 0.8, 0.7, 0.75], "auprc": [0.5, 0.4, 0.3, 0.3],
    ... })
    >>> row = variants_table(frame, {"ae_mse": "ae"}).loc["ae_mse"]
    >>> row["base"], round(float(row["Δ AUROC"]), 3), row["AUROC higher / lower"]
    ('ae', -0.025, '1 / 1')
    """
    from scipy.stats import wilcoxon

    if frame.empty:  # every job failed: no variant to compare, the errors are reported
        return pd.DataFrame()
    means = frame.groupby(["dataset", "detector"])[["auroc", "auprc"]].mean().unstack("detector")
    rows = {}
    for label, base in variants.items():
        if not {label, base} <= set(means["auroc"].columns):
            continue
        both = means.dropna(subset=[("auroc", label), ("auroc", base)])
        if both.empty:
            continue
        diff = both["auroc"][label] - both["auroc"][base]
        p = wilcoxon(diff).pvalue if (diff != 0).any() and len(diff) > 1 else np.nan
        rows[label] = {
            "base": base,
            "datasets": len(both),
            "Δ AUROC": diff.mean(),
            "Δ AUPRC": (both["auprc"][label] - both["auprc"][base]).mean(),
            "AUROC higher / lower": f"{int((diff > 0).sum())} / {int((diff < 0).sum())}",
            "p (Wilcoxon)": p,
        }
    table = pd.DataFrame.from_dict(rows, orient="index")
    table.index.name = "variant"
    return table


def problems_table(frame: pd.DataFrame) -> pd.DataFrame:
    """Error and warning rows grouped by dataset, detector, status and message."""
    bad = frame[frame["status"].isin(["error", "warning"])].copy()
    if bad.empty:
        return pd.DataFrame()
    bad["message"] = bad["error"].str.slice(0, 240)
    grouped = bad.groupby(["dataset", "detector", "status", "message"]).size().rename("jobs")
    return grouped.reset_index().set_index("dataset")


def _run_info(output: Path) -> dict:
    path = output / RUN_INFO
    return json.loads(path.read_text()) if path.exists() else {"runs": []}


def _header(output: Path, info: dict) -> list[str]:
    lines = [f"# Benchmark report: {info.get('suite', output.name)}", ""]
    runs = info.get("runs", [])
    if runs:
        lines.append("Produced by (each invocation that added rows; re-runs resume):")
        lines.append("")
        lines += [
            f"- `{run['command']}` on {run['date']}, "
            f"{run.get('cpu_model', run['processor'])} x {run['cpu_count']}"
            for run in runs
        ]
        env = runs[-1]
    else:
        env = environment()
    lines += [
        "",
        "Versions: " + ", ".join(f"{k} {v}" for k, v in env["versions"].items()),
        "",
        f"Machine: {env['platform']}, {env.get('cpu_model', env['processor'])}, "
        f"{env['cpu_count']} CPUs, Python {env['python']}",
        "",
        f"Report rendered {_now()}.",
        "",
    ]
    return lines


def render(output: str | Path, plots: bool = True) -> tuple[str, str]:
    """Build the report of ``output``: (Markdown text, terminal text); writes the PNGs."""
    output = Path(output)
    frame = load_results(output)
    table, details = summary(frame)
    ok = frame[frame["status"].isin(["ok", "warning"])]
    n_ds, n_seeds = frame["dataset"].nunique(), frame["seed"].nunique()
    sections = [
        "## Summary",
        "",
        f"{len(frame)} jobs: {frame['dataset'].nunique()} datasets x {frame['detector'].nunique()} "
        f"detectors x {n_seeds} seed(s), protocol(s) {', '.join(sorted(frame['protocol'].unique()))}. "
        "Means are over datasets of the per-dataset mean over seeds. Average rank by AUROC "
        f"(1 = best) over the {len(details['blocks'])} datasets where every ranked detector has a "
        "result; wins = datasets where the detector has the best mean AUROC (ties count for each); "
        f"p = Wilcoxon signed-rank test against the best-ranked detector ({details['best']}) over "
        "datasets, Holm-adjusted.",
        "",
        markdown_table(table),
        "",
    ]
    if details["dropped_detectors"] or details["dropped_datasets"]:
        sections += [
            "Left out of the ranking (missing results): detectors "
            f"{details['dropped_detectors'] or 'none'}; datasets {details['dropped_datasets'] or 'none'}.",
            "",
        ]
    terminal = [markdown_table(table)]
    if plots and len(details["ranks"]) >= 2:
        cd_diagram(
            details["ranks"],
            details["cd"],
            output / "cd_auroc.png",
            f"Average AUROC rank over {len(details['blocks'])} datasets (Nemenyi CD, alpha=0.05)",
        )
        sections += [
            "## Critical-difference diagram (AUROC)",
            "",
            f"Nemenyi critical difference at alpha = 0.05: CD = {details['cd']:.2f} for "
            f"{len(details['ranks'])} detectors over {len(details['blocks'])} datasets (Demsar 2006); "
            "detectors joined by a bar are not significantly different.",
            "",
            "![critical-difference diagram](cd_auroc.png)",
            "",
        ]
    if plots and not ok.empty:
        box_plot(
            ok[["detector", "auroc"]].rename(columns={"auroc": "value"}),
            output / "box_auroc.png",
            "AUROC",
            "AUROC over every dataset x seed",
        )
        sections += ["## AUROC distribution", "", "![AUROC box plots](box_auroc.png)", ""]
    for metric, label in (("auroc", "AUROC"), ("auprc", "AUPRC")):
        tab = per_dataset_table(ok, metric, details["order"]) if not ok.empty else pd.DataFrame()
        sections += [f"## {label} per dataset (mean ± std over seeds; best in bold)", ""]
        sections += [markdown_table(tab) if not tab.empty else "No successful jobs.", ""]
    sections += image_sections(output, frame, markdown_table)
    info = _run_info(output)
    variants = variants_table(ok, info.get("variants", {}))
    if not variants.empty:
        sections += [
            "## Variants against their base (paired over datasets)",
            "",
            "Δ = the variant's mean over datasets minus its base's, on the datasets both ran "
            "(per-dataset means over seeds); higher / lower = datasets where the variant's "
            "AUROC is above / below the base's; p = two-sided Wilcoxon signed-rank test of the "
            "AUROC differences, not adjusted for the number of variants. A variant that undoes "
            "one choice of its base shows what that choice adds as a negative Δ.",
            "",
            markdown_table(variants),
            "",
        ]
    if "params" in frame.columns:
        sections += ["## Parameters (set by the suite; the rest are the library's defaults)", ""]
        sections += [markdown_table(parameters_table(frame, details["order"])), ""]
    issues = problems_table(frame)
    sections += ["## Errors and warnings", ""]
    sections += [markdown_table(issues) if not issues.empty else "None.", ""]
    if not issues.empty:
        terminal += [
            "",
            f"{len(frame[frame['status'] == 'error'])} error row(s), "
            f"{len(frame[frame['status'] == 'warning'])} warning row(s); see report.md.",
        ]
    terminal.insert(0, f"{n_ds} datasets, {len(frame)} jobs")
    return "\n".join(_header(output, info) + sections), "\n".join(terminal)


def write_report(output: str | Path, plots: bool = True) -> tuple[Path, str]:
    """Write ``output/report.md`` (and the plots); return its path and the terminal text."""
    markdown, terminal = render(output, plots)
    path = Path(output) / "report.md"
    path.write_text(markdown, encoding="utf-8")
    return path, terminal
