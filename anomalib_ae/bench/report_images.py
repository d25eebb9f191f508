"""Report sections of image suites: one-class AUROC per class and mean, and the pictures.

One-class rows name their dataset ``<dataset>/<class>`` (see
:attr:`anomalib_ae.bench.jobs.Job.dataset_label`); the generic report treats
each class as a dataset, and these sections put the classes back together.
"""

from __future__ import annotations

from pathlib import Path

import numpy as np
import pandas as pd

from anomalib_ae.bench.pictures import PICTURES


def one_class_tables(frame: pd.DataFrame) -> tuple[pd.DataFrame, dict[str, pd.DataFrame]]:
    """Mean AUROC per dataset x detector and, per dataset, AUROC per class x detector.

    The mean of a detector on a dataset is the mean over classes of the mean
    over seeds; ``±`` is the standard deviation over seeds of the mean over
    classes (from the seeds that cover every class; none when fewer than two
    do). Per-class cells are means over seeds.

    Examples
    --------
    >>> rows = pd.DataFrame({"dataset": ["d/0", "d/1", "d/0", "d/1"], "detector": ["a"] * 4,
    ...                      "seed": [0, 0, 1, 1], "auroc": [0.9, 0.7, 0.8, 0.6],
    ...                      "protocol": ["one_class"] * 4, "status": ["ok"] * 4})
    >>> means, per_class = one_class_tables(rows)
    >>> means.loc["d", "a"], per_class["d"].loc["0", "a"]
    ('0.750 ± 0.071', '**0.850**')
    """
    ok = frame[(frame["protocol"] == "one_class") & frame["status"].isin(["ok", "warning"])].copy()
    if ok.empty:
        return pd.DataFrame(), {}
    parts = ok["dataset"].str.rsplit("/", n=1, expand=True)
    ok["base"], ok["class"] = parts[0], parts[1]
    class_means = ok.groupby(["base", "detector", "class"])["auroc"].mean()
    stats = class_means.groupby(["base", "detector"]).mean().to_frame("mean")
    stats["std"] = np.nan
    for (base, det), group in ok.groupby(["base", "detector"]):
        # spread over seeds of the class mean, from the seeds that cover every class
        n_classes = ok.loc[ok["base"] == base, "class"].nunique()
        by_seed = group.groupby("seed").agg(mean=("auroc", "mean"), n=("class", "nunique"))
        complete = by_seed.loc[by_seed["n"] == n_classes, "mean"]
        if len(complete) > 1:
            stats.loc[(base, det), "std"] = complete.std()
    order = stats["mean"].groupby("detector").mean().sort_values(ascending=False).index
    means = pd.DataFrame(index=sorted(ok["base"].unique()), columns=list(order), dtype=object)
    for (base, det), row in stats.iterrows():
        std = "" if np.isnan(row["std"]) else f" ± {row['std']:.3f}"
        means.loc[base, det] = f"{row['mean']:.3f}{std}"
    means = means.fillna("–")
    means.index.name = "dataset"
    per_class = {}
    for base, group in ok.groupby("base"):
        table = group.groupby(["class", "detector"])["auroc"].mean().unstack()
        table = table.reindex(columns=[d for d in order if d in table.columns])
        table = table.loc[sorted(table.index, key=_class_key)]
        best = table.max(axis=1)
        shown = table.map(lambda v: "–" if np.isnan(v) else f"{v:.3f}")
        for cls in table.index:
            for det in table.columns:
                if np.isclose(table.loc[cls, det], best[cls]):
                    shown.loc[cls, det] = f"**{shown.loc[cls, det]}**"
        shown.index.name = "normal class"
        per_class[base] = shown
    return means, per_class


def _class_key(label: str):
    try:
        return (0, float(label), label)
    except ValueError:
        return (1, 0.0, label)


def image_sections(output: Path, frame: pd.DataFrame, markdown_table) -> list[str]:
    """Markdown for the one-class tables and the pictures (empty when there are none)."""
    sections: list[str] = []
    means, per_class = one_class_tables(frame)
    if not means.empty:
        sections += [
            "## One-class protocol: mean AUROC over classes",
            "",
            "Each class in turn is the normal class: trained on the train-part images of that "
            "class, tested on the whole test part (anomaly = any other class). Mean over classes "
            "of the mean over seeds; ± is the standard deviation over seeds of the class mean.",
            "",
            markdown_table(means),
            "",
        ]
        for base, table in per_class.items():
            sections += [
                f"### {base}: AUROC per normal class (mean over seeds; best in bold)",
                "",
                markdown_table(table),
                "",
            ]
    pictures = sorted((output / PICTURES).glob("*.png"))
    if pictures:
        sections += ["## Pictures", ""]
        for path in pictures:
            title = path.stem.replace("_", " ")
            sections += [f"### {title}", "", f"![{title}]({PICTURES}/{path.name})", ""]
    return sections
