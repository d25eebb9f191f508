"""Benchmark suites: TOML files naming datasets, detectors, seeds, protocols and parameters.

The built-in suites ship inside the package (``anomalib_ae/bench/suites/*.toml``,
found by name: ``quick``, ``adbench``, ...); any other ``.toml`` file is
read by path. Keys (all optional except ``datasets`` and ``detectors``)::

    description = "one line"
    datasets = ["embedded/*"]              # globs over name or group/name
    detectors = ["@ours", "pyod_iforest"]  # @ours = every registered detector, read at run time
    seeds = [0, 1, 2]
    protocols = ["adbench"]
    timeout = 600                          # seconds per job (optional)

    [protocol_options]                     # passed to the protocol function
    max_rows = 10000

    [params."@ours"]                       # for each of ours, the keys it accepts
    max_epochs = 20

    [params.pyod_autoencoder]              # for one detector (overrides the group's)
    epoch_num = 20

    [variants.autoencoder_standard]        # an ablation: a labelled copy of a detector
    detector = "autoencoder"               # with the base's suite params, then these
    scaler = "standard"

A variant runs under its own label (``autoencoder_standard`` above), so it sits
beside its base in the results, the tables and the plots; list the label in
``detectors`` to run it. It takes the same per-job seed as its base, so the two
differ only in the parameters the variant changes. The report sets each variant
against its ``detector``; ``compare_to = "<label>"`` names another row of the
suite to set it against instead (e.g. a variant that adds one option to another
variant's settings).
"""

from __future__ import annotations

import sys
from dataclasses import dataclass, field, replace
from importlib import resources
from pathlib import Path

import numpy as np

from anomalib_ae.bench.datasets import DatasetInfo, load, select
from anomalib_ae.bench.detectors import (
    BASELINES,
    OURS,
    DetectorSpec,
    accepted_params,
    expand,
    import_target,
    resolve,
)
from anomalib_ae.bench.jobs import Job
from anomalib_ae.bench.protocols import list_protocols
from anomalib_ae.registry import list_detectors

if sys.version_info >= (3, 11):
    import tomllib
else:  # pragma: no cover - Python 3.10
    import tomli as tomllib

_KEYS = {
    "description",
    "datasets",
    "detectors",
    "seeds",
    "protocols",
    "protocol_options",
    "params",
    "timeout",
    "variants",
}


@dataclass(frozen=True)
class Suite:
    """A benchmark grid before its datasets and detectors are resolved."""

    name: str
    datasets: list[str]
    detectors: list[str]
    seeds: list[int] = field(default_factory=lambda: [0, 1, 2])
    protocols: list[str] = field(default_factory=lambda: ["adbench"])
    protocol_options: dict = field(default_factory=dict)
    params: dict = field(default_factory=dict)
    variants: dict = field(default_factory=dict)
    timeout: float | None = None
    description: str = ""

    def with_overrides(self, **overrides) -> Suite:
        """A copy with the non-empty ``overrides`` replacing the suite's values (validated)."""
        suite = replace(self, **{k: v for k, v in overrides.items() if v})
        validate(suite)
        return suite


def builtin_suites() -> list[str]:
    """Names of the suites shipped with the package."""
    folder = resources.files("anomalib_ae.bench") / "suites"
    return sorted(p.name[:-5] for p in folder.iterdir() if p.name.endswith(".toml"))


def load_suite(name_or_path: str) -> Suite:
    """Read a built-in suite by name or a suite file by path."""
    path = Path(name_or_path)
    if path.suffix == ".toml" or path.exists():
        if not path.is_file():
            raise ValueError(f"Suite file {path} not found.")
        text, name = path.read_text(encoding="utf-8"), path.stem
    else:
        resource = resources.files("anomalib_ae.bench") / "suites" / f"{name_or_path}.toml"
        if not resource.is_file():
            raise ValueError(
                f"Unknown suite {name_or_path!r}; built-in suites: {', '.join(builtin_suites())}, "
                "or give the path of a .toml file."
            )
        text, name = resource.read_text(encoding="utf-8"), name_or_path
    try:
        config = tomllib.loads(text)
    except tomllib.TOMLDecodeError as exc:
        raise ValueError(f"Suite {name_or_path}: invalid TOML ({exc}).") from exc
    return suite_from_dict(config, name)


def suite_from_dict(config: dict, name: str = "custom") -> Suite:
    """Validate a suite's keys and build a :class:`Suite`."""
    unknown = sorted(set(config) - _KEYS)
    if unknown:
        raise ValueError(f"Suite {name}: unknown key(s) {unknown}; allowed: {sorted(_KEYS)}.")
    for key in ("datasets", "detectors"):
        if not config.get(key):
            raise ValueError(f"Suite {name}: '{key}' must list at least one entry.")
    protocols = list(config.get("protocols", ["adbench"]))
    suite = Suite(
        name=name,
        datasets=list(config["datasets"]),
        detectors=list(config["detectors"]),
        seeds=[int(s) for s in config.get("seeds", [0, 1, 2])],
        protocols=protocols,
        protocol_options=dict(config.get("protocol_options", {})),
        params=dict(config.get("params", {})),
        variants={k: dict(v) for k, v in config.get("variants", {}).items()},
        timeout=config.get("timeout"),
        description=config.get("description", ""),
    )
    validate(suite)
    return suite


def validate(suite: Suite) -> None:
    """Raise ``ValueError`` for unknown protocols or detectors, or no seeds."""
    bad = [p for p in suite.protocols if p not in list_protocols()]
    if bad:
        raise ValueError(
            f"Suite {suite.name}: unknown protocol(s) {bad}; available: {list_protocols()}."
        )
    if not suite.seeds:
        raise ValueError(f"Suite {suite.name}: 'seeds' must list at least one seed.")
    _check_variants(suite)
    detector_specs(suite)  # raises for an unknown detector name


def _check_variants(suite: Suite) -> None:
    taken = set(list_detectors()) | set(BASELINES)
    rows = taken | set(suite.variants)  # what compare_to may name (run by this call or not)
    for label, table in suite.variants.items():
        where = f"Suite {suite.name}: variant {label!r}"
        if not isinstance(table, dict) or not isinstance(table.get("detector"), str):
            raise ValueError(f"{where} needs a 'detector' key naming the detector it varies.")
        if label in taken or ":" in label:
            raise ValueError(
                f"{where}: the label must differ from detector names and contain no ':'."
            )
        if table["detector"] in suite.variants:
            raise ValueError(f"{where} varies another variant; name a detector instead.")
        if "compare_to" in table and (
            table["compare_to"] == label or table["compare_to"] not in rows
        ):
            raise ValueError(
                f"{where}: compare_to must name a registered detector, a baseline or another "
                f"variant of the suite, got {table['compare_to']!r}."
            )


def variant_base(table: dict) -> str:
    """The row a variant's report sets it against: ``compare_to``, else its ``detector``.

    Examples
    --------
    >>> variant_base({"detector": "autoencoder", "latent_dim": 4})
    'autoencoder'
    >>> variant_base({"detector": "autoencoder", "compare_to": "autoencoder_tuned"})
    'autoencoder_tuned'
    """
    return table.get("compare_to", table["detector"])


def _base_spec(suite: Suite, name: str) -> DetectorSpec:
    params = {}
    if name in list_detectors() and OURS in suite.params:
        cls = import_target(resolve(name).target)
        params.update(accepted_params(cls, suite.params[OURS]))
    params.update(suite.params.get(name, {}))
    return resolve(name, params)


def detector_specs(suite: Suite) -> list[DetectorSpec]:
    """Resolve the suite's detectors (``@ours`` read from the registry now) with their params.

    A variant is its base detector's spec, relabelled, with the variant's parameters on top.
    """
    specs = []
    for name in expand(suite.detectors):
        if name in suite.variants:
            overrides = dict(suite.variants[name])
            overrides.pop("compare_to", None)  # the report's, not the detector's
            base = _base_spec(suite, overrides.pop("detector"))
            specs.append(replace(base, label=name, params={**base.params, **overrides}))
        else:
            specs.append(_base_spec(suite, name))
    return specs


def build_jobs(suite: Suite, data_dir=None) -> tuple[list[Job], list[str]]:
    """The suite's job grid and the dataset patterns that matched nothing.

    Every dataset x detector x seed x protocol is one job, in an order that
    finishes one dataset before starting the next.
    """
    datasets, unmatched = select(suite.datasets, data_dir)
    specs = detector_specs(suite)
    jobs = [
        Job(dataset, spec, seed, protocol, options)
        for dataset in datasets
        for protocol in suite.protocols
        for options in protocol_grid(dataset, protocol, suite.protocol_options)
        for seed in suite.seeds
        for spec in specs
    ]
    return jobs, unmatched


def protocol_grid(dataset: DatasetInfo, protocol: str, options: dict) -> list[dict]:
    """The protocol options of each job of ``dataset``: one per class for ``one_class``.

    ``one_class`` takes the classes from the option ``classes`` (a list) when
    given, else from the dataset's labels (a dataset that cannot be read gets
    one job per seed and detector, which becomes an error row). A protocol that
    does not fit the dataset's labels gets no jobs: ``one_class`` needs class
    labels (``labels="multiclass"``), the others need 0/1 labels; so
    ``embedded/*`` in a suite picks the sets each protocol can use. Other
    protocols get ``options`` unchanged.
    """
    options = dict(options)
    classes = options.pop("classes", None)
    if (protocol == "one_class") != (dataset.labels == "multiclass"):
        return []
    if protocol != "one_class" or "normal_class" in options:
        return [options]
    if classes is None:
        try:
            classes = np.unique(load(dataset)[1]).tolist()
        except Exception:  # a dataset that cannot be read fails in its own job
            return [options]
    return [{**options, "normal_class": c} for c in classes]


def missing_dataset_jobs(suite: Suite, patterns: list[str]) -> list[Job]:
    """Placeholder jobs for dataset names that matched no file, so they become error rows.

    Only plain names (no glob characters) are reported this way; a glob that
    matches nothing is simply empty.
    """
    names = [p for p in patterns if not any(ch in p for ch in "*?[")]
    specs = detector_specs(suite)
    return [
        Job(
            DatasetInfo(name, "missing", "missing", name),
            spec,
            seed,
            protocol,
            dict(suite.protocol_options),
        )
        for name in names
        for protocol in suite.protocols
        for seed in suite.seeds
        for spec in specs
    ]


__all__ = [
    "BASELINES",
    "Suite",
    "build_jobs",
    "builtin_suites",
    "detector_specs",
    "load_suite",
    "missing_dataset_jobs",
]
