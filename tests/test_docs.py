"""The documentation stays in step with the package: README table, examples in docstrings."""

from __future__ import annotations

import inspect
import re
from pathlib import Path

import pytest

import anomalib_ae
from anomalib_ae import list_detectors

ROOT = Path(__file__).resolve().parents[1]
PUBLIC_CLASSES = [
    name for name in anomalib_ae.__all__ if inspect.isclass(getattr(anomalib_ae, name, None))
]


def test_readme_lists_every_registered_detector() -> None:
    readme = (ROOT / "README.md").read_text(encoding="utf-8")
    listed = set(re.findall(r"^\| `([a-z0-9_]+)` \|", readme, flags=re.MULTILINE))
    missing = sorted(set(list_detectors()) - listed)
    assert not missing, f"add a row for {missing} to the README's table of detectors"


@pytest.mark.parametrize("name", PUBLIC_CLASSES)
def test_public_class_has_examples(name: str) -> None:
    """numpydoc Examples run by --doctest-modules and shown in the API reference."""
    doc = inspect.getdoc(getattr(anomalib_ae, name)) or ""
    assert re.search(r"^Examples\n-{8}", doc, flags=re.MULTILINE), f"{name} has no Examples section"
    assert ">>> " in doc, f"{name}'s Examples section has no doctest"


def test_extending_guide_examples_run_as_doctests() -> None:
    """The user-written score term of docs/guide/extending.md works as shown."""
    import doctest

    from anomalib_ae.scoring import TERMS

    try:
        result = doctest.testfile(
            str(ROOT / "docs" / "guide" / "extending.md"),
            module_relative=False,
            optionflags=doctest.ELLIPSIS,
        )
    finally:
        TERMS.pop("worst_feature_error", None)
    assert result.attempted >= 10 and result.failed == 0, result
