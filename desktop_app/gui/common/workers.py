"""Running engine work off the GUI thread.

Two shapes of work, after STYLE.md section 3:

* :class:`JobController` runs one long, cancellable engine generator at a time, as
  superqt's GeneratorWorker does: a :class:`QRunnable` on a :class:`QThreadPool`
  iterates the generator and reports through the controller's signals. The signals
  belong to the long-lived controller, never to the runnable
  (saga-soft/novelWriter#2926, silx-kit/silx#647). Cancelling sets the
  :class:`threading.Event` the generator checks between files; it is not a queued
  slot, since the worker thread has no event loop. :class:`IndexController` runs
  ``Library.scan`` on a dedicated single-thread pool; other jobs that write to the
  catalog (a pair search, the file operations of
  :class:`~desktop_app.gui.cleanup.jobs.OperationController`) go through the same pool, so
  there is only ever one writer.
* :class:`TaskRunner` is Anki's ``QueryOp``: run a function on a pool, then call
  ``on_success`` or ``on_failure`` on the GUI thread. A result whose callbacks were
  dropped (the caller moved on) is thrown away.

A :class:`Library` holds one SQLite connection and belongs to the thread that made it,
so jobs receive a *factory* and open their own Library inside the worker thread.

Every pool is registered in :data:`LIVE_POOLS` so that the tests can fail on a pool
that still has threads running when a test ends.
"""

from __future__ import annotations

import itertools
import logging
import threading
import time
import weakref
from collections.abc import Callable, Generator
from typing import TYPE_CHECKING, Any

from PySide6.QtCore import QObject, QRunnable, QThreadPool, Signal, Slot

from desktop_app.engine.errors import EngineError
from desktop_app.engine.types import Phase, Progress

if TYPE_CHECKING:
    from desktop_app.engine.library import Library

log = logging.getLogger(__name__)

#: Every pool made by :func:`make_pool` that is still alive.
LIVE_POOLS: weakref.WeakSet[QThreadPool] = weakref.WeakSet()

#: Shortest time between two progress signals of the same phase; a scan yields one
#: report per file, and thousands of queued signals a second would only cost repaints.
PROGRESS_INTERVAL = 0.05

LibraryFactory = Callable[[], "Library"]


def make_pool(name: str, threads: int, parent: QObject | None = None) -> QThreadPool:
    """A named thread pool, registered for the leak checks of the tests.

    Args:
        name: What the pool is for (shown in logs and thread names).
        threads: Largest number of threads it runs at once.
        parent: The QObject that owns the pool.

    Returns:
        The new pool.
    """
    pool = QThreadPool(parent)
    pool.setObjectName(name)
    pool.setMaxThreadCount(threads)
    LIVE_POOLS.add(pool)
    return pool


def stop_pool(pool: QThreadPool, timeout_ms: int = -1) -> bool:
    """Drop the queued jobs of ``pool`` and wait for the running ones.

    Returns:
        Whether every job finished in time.
    """
    pool.clear()
    return bool(pool.waitForDone(timeout_ms))


def emit_safely(signal: Any, *args: object) -> bool:
    """Emit ``signal`` from a worker thread, unless its owner was deleted meanwhile.

    The owners shut their pools down before they go, but a window torn down without
    closing (a crash, an interpreter exit) must not add a worker traceback to it.

    Returns:
        Whether the signal was emitted.
    """
    try:
        signal.emit(*args)
    except RuntimeError:  # "Signal source has been deleted"
        log.debug("Dropped a result: its receiver is gone")
        return False
    return True


def describe_error(error: BaseException) -> str:
    """The message to show for an exception raised by engine work."""
    if isinstance(error, EngineError):
        return str(error)
    return f"Unexpected error: {type(error).__name__}: {error}"


Steps = Generator[Any, None, object]
#: A job of a :class:`JobController`: ``work(cancel)`` returns the engine generator to run.
Work = Callable[[threading.Event], Steps]


class _GeneratorJob(QRunnable):
    """Runs one job of a :class:`JobController` in a pool thread and reports through it."""

    def __init__(self, controller: JobController, work: Work, cancel: threading.Event) -> None:
        super().__init__()
        self._controller = controller
        self._work = work
        self._cancel = cancel

    def run(self) -> None:
        controller = self._controller
        try:
            result = controller._relay(self._work(self._cancel), self._cancel)
        except Exception as error:
            if not isinstance(error, EngineError):
                log.exception("%s failed", controller.job_name)
            emit_safely(controller._job_failed, describe_error(error), error)
            return
        emit_safely(controller._job_finished, result)


class JobController(QObject):
    """Runs one cancellable engine generator at a time on :attr:`pool`.

    Subclasses set :attr:`pool`, start jobs with :meth:`_launch` and decide which
    progress reports are worth a signal (:meth:`_relay`).

    Signals:
        progress(object): A report from the running job (throttled).
        finished(object): The job ended, completed or cancelled: its result.
        failed(str, object): The job stopped on an error: its message and the exception.
        running_changed(bool): A job started or ended.
    """

    progress = Signal(object)
    finished = Signal(object)
    failed = Signal(str, object)
    running_changed = Signal(bool)
    # The runnable emits these; the controller re-emits them once its state is updated.
    _job_finished = Signal(object)
    _job_failed = Signal(str, object)

    #: What the log calls a job that failed on a bug (not an :class:`EngineError`).
    job_name = "Job"
    pool: QThreadPool

    def __init__(self, parent: QObject | None = None) -> None:
        super().__init__(parent)
        self._cancel = threading.Event()
        self._running = False
        self._job_finished.connect(self._on_job_finished)
        self._job_failed.connect(self._on_job_failed)

    def is_running(self) -> bool:
        """Whether a job is running (or queued behind another job of the pool)."""
        return self._running

    def cancel(self) -> None:
        """Ask the running job to stop; the engine checks between files."""
        self._cancel.set()

    def shutdown(self) -> None:
        """Cancel the running job and wait for the worker thread to end."""
        self._cancel.set()
        stop_pool(self.pool)

    def _launch(self, work: Work) -> bool:
        """Run ``work(cancel)`` in the pool, unless a job is already running.

        Returns:
            False if a job is already running (nothing is started), else True.
        """
        if self._running:
            return False
        self._cancel = threading.Event()
        self._running = True
        self.running_changed.emit(True)
        self.pool.start(_GeneratorJob(self, work, self._cancel))
        return True

    def _relay(self, steps: Steps, cancel: threading.Event) -> object:
        """Iterate ``steps`` in the worker thread, emitting :attr:`progress` for some reports.

        Returns:
            The generator's return value.
        """
        raise NotImplementedError

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


def _scan_work(factory: LibraryFactory) -> Work:
    def work(cancel: threading.Event) -> Steps:
        with factory() as library:
            return (yield from library.scan(cancel))

    return work


class IndexController(JobController):
    """Runs scans of a library in the background, one at a time.

    A cancelled scan keeps what it has done and reports finished; the next one resumes.

    Signals:
        progress(Progress): A report from the running scan (throttled).
        finished(ScanSummary): The scan ended, completed or cancelled.
        failed(str, object): The scan stopped on an error: its message and the exception.
        running_changed(bool): A scan started or ended.
    """

    job_name = "Scan"

    def __init__(self, parent: QObject | None = None) -> None:
        super().__init__(parent)
        self.pool = make_pool("doppel-index", 1, self)

    def start(self, factory: LibraryFactory) -> bool:
        """Scan the library ``factory`` opens (it is called in the worker thread).

        Returns:
            False if a scan is already running (nothing is started), else True.
        """
        return self._launch(_scan_work(factory))

    def _relay(self, steps: Steps, cancel: threading.Event) -> object:
        # The first and the last report of each phase always go out (the last one of
        # the hashing carries its total, unknown at its start while the walk runs).
        last_phase: Phase | None = None
        last_sent = 0.0
        held: Progress | None = None
        while True:
            try:
                report = next(steps)
            except StopIteration as stop:
                summary = stop.value
                break
            now = time.monotonic()
            if report.phase != last_phase or now - last_sent >= PROGRESS_INTERVAL:
                if held is not None and held.phase != report.phase:
                    emit_safely(self.progress, held)  # the last of the phase before
                if not emit_safely(self.progress, report):
                    cancel.set()  # nobody is listening any more
                last_phase, last_sent, held = report.phase, now, None
            else:
                held = report
        if held is not None:  # the last one was throttled away
            emit_safely(self.progress, held)
        return summary


class _FunctionJob(QRunnable):
    def __init__(self, runner: TaskRunner, token: int, function: Callable[[], Any]) -> None:
        super().__init__()
        self._runner = runner
        self._token = token
        self._function = function

    def run(self) -> None:
        if not self._runner._wanted(self._token):
            return  # dropped before it started
        try:
            result = self._function()
        except Exception as error:
            if not isinstance(error, EngineError):
                log.exception("Background task failed")
            emit_safely(self._runner._failed, self._token, error)
            return
        emit_safely(self._runner._succeeded, self._token, result)


class TaskRunner(QObject):
    """Runs functions on a pool and delivers their results on the GUI thread.

    Args:
        pool: The pool to run on; a new one with ``threads`` threads when None.
        name: Name of the new pool.
        threads: Threads of the new pool.
        parent: Owner of the runner.
    """

    _succeeded = Signal(int, object)
    _failed = Signal(int, object)

    def __init__(
        self,
        pool: QThreadPool | None = None,
        *,
        name: str = "doppel-tasks",
        threads: int = 1,
        parent: QObject | None = None,
    ) -> None:
        super().__init__(parent)
        self.pool = pool if pool is not None else make_pool(name, threads, self)
        self._owns_pool = pool is None
        self._tokens = itertools.count(1)
        self._callbacks: dict[int, tuple[Callable[[Any], None], Callable[[BaseException], None]]]
        self._callbacks = {}
        self._lock = threading.Lock()
        self._succeeded.connect(self._on_succeeded)
        self._failed.connect(self._on_failed)

    def submit(
        self,
        function: Callable[[], Any],
        on_success: Callable[[Any], None],
        on_failure: Callable[[BaseException], None] | None = None,
        *,
        priority: int = 0,
    ) -> int:
        """Run ``function()`` in the pool; call back with its result on the GUI thread.

        Args:
            function: The work; it must not touch widgets or GUI-thread objects.
            on_success: Called with the return value.
            on_failure: Called with the exception; by default it is logged.
            priority: Queued tasks of higher priority start first.

        Returns:
            A token for :meth:`drop`.
        """
        token = next(self._tokens)
        with self._lock:
            self._callbacks[token] = (on_success, on_failure or _log_failure)
        self.pool.start(_FunctionJob(self, token, function), priority)
        return token

    def drop(self, token: int) -> None:
        """Forget a task's callbacks: its result, when it comes, is thrown away."""
        with self._lock:
            self._callbacks.pop(token, None)

    def drop_all(self) -> None:
        """Forget every pending task's callbacks and the queued tasks."""
        with self._lock:
            self._callbacks.clear()
        if self._owns_pool:
            self.pool.clear()

    def pending(self) -> int:
        """Tasks whose results are still wanted."""
        with self._lock:
            return len(self._callbacks)

    def shutdown(self) -> None:
        """Drop everything and wait for the running task to end."""
        self.drop_all()
        if self._owns_pool:
            stop_pool(self.pool)

    def _wanted(self, token: int) -> bool:
        with self._lock:
            return token in self._callbacks

    def _take(self, token: int) -> tuple[Callable[[Any], None], Callable[[BaseException], None]]:
        with self._lock:
            return self._callbacks.pop(token, (_ignore, _ignore))

    @Slot(int, object)
    def _on_succeeded(self, token: int, result: object) -> None:
        on_success, _ = self._take(token)
        on_success(result)

    @Slot(int, object)
    def _on_failed(self, token: int, error: object) -> None:
        _, on_failure = self._take(token)
        on_failure(error)  # type: ignore[arg-type]


def _log_failure(error: BaseException) -> None:
    log.warning("Background task failed: %s", describe_error(error))


def _ignore(_: object) -> None:
    pass
