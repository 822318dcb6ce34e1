"""Long-running engine work is a generator of :class:`Progress` reports.

The generator's return value is its result. The command line draws the reports as a
bar, the window forwards them from a worker thread as signals, and tests and scripts
that only want the result call :func:`drain`.
"""

from __future__ import annotations

from collections.abc import Generator
from typing import TypeVar

from desktop_app.engine.types import Progress

T = TypeVar("T")


def drain(steps: Generator[Progress, None, T]) -> T:
    """Run a progress generator to its end and return its return value."""
    while True:
        try:
            next(steps)
        except StopIteration as stop:
            return stop.value  # type: ignore[no-any-return]
