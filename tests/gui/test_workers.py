"""Background work: the scan controller and the task runner, with a pretend library."""

from __future__ import annotations

import threading
import time
from typing import ClassVar

from desktop_app.engine.errors import CatalogLocked
from desktop_app.engine.types import Phase, Progress, ScanSummary
from desktop_app.gui.common.workers import IndexController, TaskRunner


class FakeLibrary:
    """Scans ``files`` pretend files, one every ``delay`` seconds."""

    threads: ClassVar[list[str]] = []

    def __init__(self, files: int = 20, delay: float = 0.0, fail: Exception | None = None):
        self.files, self.delay, self.fail = files, delay, fail
        self.closed = False

    def __enter__(self):
        return self

    def __exit__(self, *exc):
        self.closed = True

    def scan(self, cancel: threading.Event):
        FakeLibrary.threads.append(threading.current_thread().name)
        if self.fail is not None:
            raise self.fail
        done = 0
        for done in range(1, self.files + 1):
            if cancel.is_set():
                break
            time.sleep(self.delay)
            yield Progress(Phase.HASHING, done, self.files, f"/photos/{done}.jpg", 10.0, 1.0)
        cancelled = cancel.is_set()
        return ScanSummary(("/photos",), done, 0, 0, 0, (), cancelled, 0.1)


def test_scan_reports_progress_then_finished(qtbot):
    controller = IndexController()
    reports: list[Progress] = []
    controller.progress.connect(reports.append)
    with qtbot.waitSignal(controller.finished, timeout=5000) as blocker:
        assert controller.start(lambda: FakeLibrary(files=30, delay=0.002))
        assert controller.is_running()
        assert not controller.start(lambda: FakeLibrary())  # one at a time
    summary = blocker.args[0]
    assert summary.added == 30 and not summary.cancelled
    assert reports and reports[-1].done == 30  # the last report is never throttled away
    assert not controller.is_running()
    assert threading.main_thread().name not in FakeLibrary.threads
    controller.shutdown()


def test_cancel_stops_promptly_and_reports_finished(qtbot):
    controller = IndexController()
    with qtbot.waitSignal(controller.progress, timeout=5000):
        controller.start(lambda: FakeLibrary(files=10_000, delay=0.001))
    started = time.monotonic()
    with qtbot.waitSignal(controller.finished, timeout=5000) as blocker:
        controller.cancel()
    assert time.monotonic() - started < 1.0
    assert blocker.args[0].cancelled
    controller.shutdown()


def test_errors_come_back_as_a_signal(qtbot):
    controller = IndexController()
    error = CatalogLocked("/tmp/c.sqlite", "The catalog is in use.")
    with qtbot.waitSignal(controller.failed, timeout=5000) as blocker:
        controller.start(lambda: FakeLibrary(fail=error))
    assert blocker.args == ["The catalog is in use.", error]
    assert not controller.is_running()
    controller.shutdown()


def test_unexpected_errors_are_logged_and_reported(qtbot, allowed_warnings):
    allowed_warnings.append("Scan failed")
    controller = IndexController()
    with qtbot.waitSignal(controller.failed, timeout=5000) as blocker:
        controller.start(lambda: FakeLibrary(fail=ZeroDivisionError("boom")))
    assert blocker.args[0] == "Unexpected error: ZeroDivisionError: boom"
    controller.shutdown()


def test_shutdown_cancels_a_running_scan(qtbot):
    controller = IndexController()
    with qtbot.waitSignal(controller.progress, timeout=5000):
        controller.start(lambda: FakeLibrary(files=100_000, delay=0.001))
    controller.shutdown()
    assert controller.pool.activeThreadCount() == 0


def test_task_runner_delivers_on_the_gui_thread(qtbot):
    runner = TaskRunner()
    got: list[tuple[str, object]] = []

    def work():
        return threading.current_thread() is threading.main_thread()

    runner.submit(work, lambda value: got.append((threading.current_thread().name, value)))
    qtbot.waitUntil(lambda: bool(got))
    assert got == [(threading.main_thread().name, False)]
    runner.shutdown()


def test_task_runner_failure_and_drop(qtbot, allowed_warnings):
    allowed_warnings.append("Background task failed")
    runner = TaskRunner()
    errors: list[BaseException] = []
    runner.submit(lambda: 1 / 0, lambda _: None, errors.append)
    qtbot.waitUntil(lambda: bool(errors))
    assert isinstance(errors[0], ZeroDivisionError)

    gate = threading.Event()
    results: list[int] = []
    token = runner.submit(lambda: gate.wait(5) and 1, results.append)
    runner.drop(token)  # the caller moved on: the late result is thrown away
    gate.set()
    late = runner.submit(lambda: 2, results.append)
    qtbot.waitUntil(lambda: bool(results))
    assert results == [2] and late
    runner.shutdown()
