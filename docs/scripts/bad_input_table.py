"""Run every bad input of ``tests/bad_inputs.py`` on every registered detector; write the table.

    python docs/scripts/bad_input_table.py            # print the table
    python docs/scripts/bad_input_table.py --write    # update docs/reliability.md in place
    python docs/scripts/bad_input_table.py --check    # exit 1 if docs/reliability.md is stale

The table sits between the ``bad-input-table`` markers of ``docs/reliability.md``.
Each row is what a user gets: "finite scores" or the exception and its message
(the detector's class name shown as ``XDetector``). Where detectors differ, the
row names which detector gives what.
"""

from __future__ import annotations

import argparse
import re
import sys
from pathlib import Path

ROOT = Path(__file__).resolve().parents[2]
sys.path.insert(0, str(ROOT))

import torch  # noqa: E402

from anomalib_ae import list_detectors  # noqa: E402
from tests.bad_inputs import (  # noqa: E402
    FIT_CASES,
    IMAGE_CASES,
    IMAGE_FIT,
    SCORE_CASES,
    accepts_images,
    entry_points,
    finite_result,
    frame,
    run_case,
)
from tests.conftest import fast_detector  # noqa: E402

DOC = ROOT / "docs" / "reliability.md"
START, END = "<!-- bad-input-table:start -->", "<!-- bad-input-table:end -->"
_FITTED: dict = {}


def describe(outcome: str, value, class_name: str) -> str:
    if outcome == "ok":
        return "finite scores" if finite_result(value) else "**non-finite result**"
    text = " ".join(str(value).split()).replace(class_name, "XDetector")
    text = re.sub(r"\d+(\.\d+)? seconds", "N seconds", text)
    if len(text) > 420:
        text = text[:417] + "..."
    return f"`{type(value).__name__}`: {text}".replace("|", "\\|")


def outcome_of(name: str, phase: str, case) -> str:
    """What the user gets for ``case``: every entry point must agree, else all are shown."""
    if phase == "fit":
        det = fast_detector(name, max_epochs=1)
        outcome, value = run_case(det.fit, case.make())
        if outcome != "ok":
            return describe(outcome, value, type(det).__name__)
    elif phase == "image":
        det = fast_detector(name, max_epochs=1)
        if not accepts_images(det):
            return "not applicable (takes tables only)"
        if (name, phase) not in _FITTED:
            _FITTED[name, phase] = det.fit(IMAGE_FIT())
        det = _FITTED[name, phase]
    else:
        if (name, phase) not in _FITTED:
            _FITTED[name, phase] = fast_detector(name, max_epochs=1).fit(frame())
        det = _FITTED[name, phase]
    results = {
        m: describe(*run_case(getattr(det, m), case.make()), type(det).__name__)
        for m in entry_points(det)
    }
    distinct = set(results.values())
    if len(distinct) == 1:
        return distinct.pop()
    return "; ".join(f"{m}: {r}" for m, r in results.items())


def table() -> str:
    torch.set_num_threads(1)
    names = list_detectors()
    lines = [
        "| when | input | what you get |",
        "|---|---|---|",
    ]
    phases = (("fit", FIT_CASES), ("score", SCORE_CASES), ("image", IMAGE_CASES))
    for phase, cases in phases:
        for case in cases:
            by_detector = {name: outcome_of(name, phase, case) for name in names}
            distinct = sorted(set(by_detector.values()))
            if len(distinct) == 1:
                result = distinct[0]
            else:
                result = "<br>".join(
                    f"{', '.join(n for n in names if by_detector[n] == r)}: {r}" for r in distinct
                )
            when = {"fit": "`fit`", "score": "scoring", "image": "scoring (fitted on images)"}[
                phase
            ]
            lines.append(f"| {when} | {case.description} | {result} |")
    return "\n".join(lines)


def main() -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    group = parser.add_mutually_exclusive_group()
    group.add_argument("--write", action="store_true", help="update docs/reliability.md")
    group.add_argument("--check", action="store_true", help="fail if docs/reliability.md is stale")
    args = parser.parse_args()
    body = table()
    if not (args.write or args.check):
        print(body)
        return 0
    doc = DOC.read_text()
    head, rest = doc.split(START, 1)
    _, tail = rest.split(END, 1)
    updated = f"{head}{START}\n{body}\n{END}{tail}"
    if args.check:
        if updated != doc:
            print("docs/reliability.md is stale: run docs/scripts/bad_input_table.py --write")
            return 1
        return 0
    DOC.write_text(updated)
    return 0


if __name__ == "__main__":
    sys.exit(main())
