"""Running file operations (apply the marks, undo) off the GUI thread.

:class:`OperationController` is a :class:`~desktop_app.gui.common.workers.JobController`
for ``operations.apply`` and ``operations.undo``: a :class:`QRunnable` iterates the engine's
generator in a pool thread and reports through the controller's long-lived signals;
Cancel sets the :class:`threading.Event` that the generator checks between files (the
files done stay done, journalled, and can be undone). The controller runs its
jobs on the pool given to it, the index controller's single thread, so that a file
operation never writes to the catalog at the same time as a scan or a pair search.

A job is a function ``work(cancel)`` returning the generator; it is called in the worker
thread and opens its own ``Catalog`` there (:func:`apply_job`, :func:`undo_job`), since a
connection belongs to the thread that made it.
"""

from __future__ import annotations

import logging
import os
import threading
import time
from collections.abc import Sequence

from PySide6.QtCore import QObject, QThreadPool

from desktop_app.engine.cleanup import Cleanup, Report, Request, Trash
from desktop_app.gui.common.workers import (
    PROGRESS_INTERVAL,
    JobController,
    Steps,
    Work,
    emit_safely,
)

log = logging.getLogger(__name__)

#: A file operation: ``work(cancel)`` returns ``fileops``' generator of OpProgress.
Job = Work


def apply_job(
    catalog_path: str | os.PathLike[str], request: Request, trash: Trash, allow_delete: bool
) -> Job:
    """The job that carries out ``request`` (``Cleanup.apply``); returns a Report."""

    def work(cancel: threading.Event) -> Steps:
        with Cleanup(catalog_path) as cleanup:
            steps = cleanup.apply(request, trash=trash, allow_delete=allow_delete, cancel=cancel)
            return (yield from steps)

    return work


def undo_job(catalog_path: str | os.PathLike[str], operation_ids: Sequence[int]) -> Job:
    """The job that undoes ``operation_ids`` in this order; returns a list of Reports."""

    def work(cancel: threading.Event) -> Steps:
        reports: list[Report] = []
        with Cleanup(catalog_path) as cleanup:
            for operation in operation_ids:
                if cancel.is_set():
                    break
                reports.append((yield from cleanup.undo(operation, cancel=cancel)))
        return reports

    return work


class OperationController(JobController):
    """Runs one file operation at a time in the background.

    Cancel stops after the current file; what was done stays done (and can be undone).

    Args:
        pool: The pool to run on (the index controller's single-thread pool).
        parent: Owner.

    Signals:
        progress(OpProgress): Files handled so far (throttled).
        finished(object): The job's result (a Report, or a list of them for undo).
        failed(str, object): The job stopped on an error: its message and the exception.
        running_changed(bool): An operation started or ended.
    """

    job_name = "File operation"

    def __init__(self, pool: QThreadPool, parent: QObject | None = None) -> None:
        super().__init__(parent)
        self.pool = pool

    def start(self, work: Work) -> bool:
        """Run ``work(cancel)`` in the pool.

        Returns:
            False if an operation is already running (nothing is started).
        """
        return self._launch(work)

    def _relay(self, steps: Steps, cancel: threading.Event) -> object:
        # The report of the last file always goes out.
        last = 0.0
        while True:
            try:
                report = next(steps)
            except StopIteration as stop:
                return stop.value
            now = time.monotonic()
            if now - last >= PROGRESS_INTERVAL or report.done == report.total:
                emit_safely(self.progress, report)
                last = now
