"""Progress on a terminal: one self-erasing line with count, rate and time left.

Used by the command line only. On a terminal the line is redrawn at most ten times a
second; anywhere else (a pipe, a log file, CI) only the start of each phase is printed,
so that logs stay readable. Log records are printed above the bar, not through it.
"""

from __future__ import annotations

import logging
import shutil
import time
from typing import TextIO

from desktop_app.engine.types import PHASE_LABELS, Phase, Progress, describe_progress


class ProgressPrinter:
    """Draws progress reports on ``stream``.

    Args:
        stream: Where to draw (stderr, normally).
        interval: Shortest time between two redraws of the bar, in seconds.
    """

    def __init__(self, stream: TextIO, interval: float = 0.1) -> None:
        self.stream = stream
        self.interval = interval
        self._tty = bool(getattr(stream, "isatty", lambda: False)())
        self._drawn = False
        self._last = 0.0
        self._phase: Phase | None = None

    def update(self, report: Progress) -> None:
        """Show ``report``: redraw the bar, or announce a new phase when not a terminal."""
        if not self._tty:
            if report.phase != self._phase:
                self._phase = report.phase
                print(f"{PHASE_LABELS[report.phase]}…", file=self.stream, flush=True)
            return
        now = time.monotonic()
        if report.phase == self._phase and now - self._last < self.interval:
            return
        self._phase, self._last = report.phase, now
        width = shutil.get_terminal_size((80, 24)).columns
        text = describe_progress(report)
        if report.total:
            filled = int(20 * min(report.done / report.total, 1.0))
            text = f"[{'#' * filled}{'-' * (20 - filled)}] {text}"
        if report.current:
            room = width - len(text) - 3
            name = report.current.rsplit("/", 1)[-1]
            if room > 10:
                text += "  " + (name if len(name) <= room else "…" + name[-(room - 1) :])
        self.stream.write("\r\033[K" + text[: width - 1])
        self.stream.flush()
        self._drawn = True

    def clear(self) -> None:
        """Erase the bar (before other output)."""
        if self._drawn:
            self.stream.write("\r\033[K")
            self.stream.flush()
            self._drawn = False

    def finish(self) -> None:
        """Erase the bar for good; the next report starts a new one."""
        self.clear()
        self._phase = None

    def log_handler(self) -> logging.Handler:
        """A logging handler that prints above the bar instead of through it."""
        printer = self

        class _Handler(logging.StreamHandler[TextIO]):
            def emit(self, record: logging.LogRecord) -> None:
                printer.clear()
                super().emit(record)

        return _Handler(self.stream)
