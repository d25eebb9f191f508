"""Point a library warning at the user's line, whatever wraps the call."""

from __future__ import annotations

import sys
from pathlib import Path

import sklearn


def caller_stacklevel() -> int:
    """``stacklevel`` that points a warning at the first frame outside this package and sklearn.

    ``fit`` is wrapped (``_fit_context`` and others), so a fixed level would
    point into a wrapper. Call it where the warning is raised:
    ``warnings.warn(message, stacklevel=caller_stacklevel())``.

    Examples
    --------
    >>> caller_stacklevel() >= 1
    True
    """
    skip = (str(Path(__file__).parents[1]), str(Path(sklearn.__file__).parent))
    frame, level = sys._getframe(1), 1
    while frame is not None and frame.f_code.co_filename.startswith(skip):
        frame, level = frame.f_back, level + 1
    return level
