"""Running file operations (apply the marks, undo) off the GUI thread.

:class:`OperationController` is the :class:`~desktop_app.gui.workers.IndexController`
pattern for ``fileops.apply`` and ``fileops.undo``: a :class:`QRunnable` iterates the
engine's generator in a pool thread and reports through the controller's long-lived
signals; Cancel sets the :class:`threading.Event` that the generator checks between
files (the files done stay done, journalled, and can be undone). The controller runs its
jobs on the pool given to it, the index controller's single thread, so that a file
operation never writes to the catalog at the same time as a scan or a pair search.

A job is a function ``work(cancel)`` returning the generator; it is called in the worker
thread and opens its own :class:`~desktop_app.engine.store.Catalog` there (:func:`apply_job`,
:func:`undo_job`), since a connection belongs to the thread that made it.
"""

from __future__ import annotations

import logging
import os
import threading
import time
from collections.abc import Callable, Generator, Sequence

from PySide6.QtCore import QObject, QRunnable, QThreadPool, Signal, Slot

from desktop_app.engine import fileops
from desktop_app.engine.errors import EngineError
from desktop_app.engine.operations import OpProgress, Report, Request
from desktop_app.engine.store import Catalog
from desktop_app.engine.trash import Trash
from desktop_app.gui.workers import PROGRESS_INTERVAL, describe_error, emit_safely, stop_pool

log = logging.getLogger(__name__)

Steps = Generator[OpProgress, None, object]
Job = Callable[[threading.Event], Steps]


def apply_job(
    catalog_path: str | os.PathLike[str], request: Request, trash: Trash, allow_delete: bool
) -> Job:
    """The job that carries out ``request`` (``fileops.apply``); returns a Report."""

    def work(cancel: threading.Event) -> Steps:
        with Catalog(catalog_path) as catalog:
            steps = fileops.apply(
                catalog, request, trash=trash, allow_delete=allow_delete, cancel=cancel
            )
            return (yield from steps)

    return work


def undo_job(catalog_path: str | os.PathLike[str], operations: Sequence[int]) -> Job:
    """The job that undoes ``operations`` in this order; returns a list of Reports."""

    def work(cancel: threading.Event) -> Steps:
        reports: list[Report] = []
        with Catalog(catalog_path) as catalog:
            for operation in operations:
                if cancel.is_set():
                    break
                reports.append((yield from fileops.undo(catalog, operation, cancel=cancel)))
        return reports

    return work


class _OperationJob(QRunnable):
    def __init__(self, controller: OperationController, work: Job, cancel: threading.Event) -> None:
        super().__init__()
        self._controller = controller
        self._work = work
        self._cancel = cancel

    def run(self) -> None:
        controller = self._controller
        try:
            steps = self._work(self._cancel)
            last = 0.0
            while True:
                try:
                    report = next(steps)
                except StopIteration as stop:
                    result = stop.value
                    break
                now = time.monotonic()
                if now - last >= PROGRESS_INTERVAL or report.done == report.total:
                    emit_safely(controller.progress, report)
                    last = now
        except Exception as error:
            if not isinstance(error, EngineError):
                log.exception("File operation failed")
            emit_safely(controller._job_failed, describe_error(error), error)
            return
        emit_safely(controller._job_finished, result)


class OperationController(QObject):
    """Runs one file operation at a time in the background.

    Args:
        pool: The pool to run on (the index controller's single-thread pool).
        parent: Owner.

    Signals:
        progress(OpProgress): Files handled so far (throttled).
        finished(object): The job's result (a Report, or a list of them for undo).
        failed(str, object): The job stopped on an error: its message and the exception.
        running_changed(bool): An operation started or ended.
    """

    progress = Signal(object)
    finished = Signal(object)
    failed = Signal(str, object)
    running_changed = Signal(bool)
    _job_finished = Signal(object)
    _job_failed = Signal(str, object)

    def __init__(self, pool: QThreadPool, parent: QObject | None = None) -> None:
        super().__init__(parent)
        self.pool = pool
        self._cancel = threading.Event()
        self._running = False
        self._job_finished.connect(self._on_job_finished)
        self._job_failed.connect(self._on_job_failed)

    def is_running(self) -> bool:
        """Whether an operation is running (or queued behind a scan)."""
        return self._running

    def start(self, work: Job) -> bool:
        """Run ``work(cancel)`` in the pool.

        Returns:
            False if an operation is already running (nothing is started).
        """
        if self._running:
            return False
        self._cancel = threading.Event()
        self._running = True
        self.running_changed.emit(True)
        self.pool.start(_OperationJob(self, work, self._cancel))
        return True

    def cancel(self) -> None:
        """Stop after the current file; what was done stays done (and can be undone)."""
        self._cancel.set()

    def shutdown(self) -> None:
        """Stop the running operation after its current file and wait for the thread."""
        self._cancel.set()
        stop_pool(self.pool)

    @Slot(object)
    def _on_job_finished(self, result: object) -> None:
        self._running = False
        self.running_changed.emit(False)
        self.finished.emit(result)

    @Slot(str, object)
    def _on_job_failed(self, message: str, error: object) -> None:
        self._running = False
        self.running_changed.emit(False)
        self.failed.emit(message, error)
