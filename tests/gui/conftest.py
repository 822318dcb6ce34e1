"""Fixtures of the window tests: offscreen Qt, private settings, and leak checks.

``QT_QPA_PLATFORM`` is set before anything imports Qt (Picard's conftest does the
same), so the tests need no display. Every test gets its own QSettings folder, and
fails if a thread pool of ours still has a job running when it ends, if a Python thread
was left behind, or if something logged an unexpected warning (qutebrowser's logfail).
Thumbnails go to a cache folder of the test (``XDG_CACHE_HOME``).
The system trash is out of reach: ``XDG_DATA_HOME`` points into ``tmp_path`` and
Send2Trash raises.
"""

from __future__ import annotations

import os

os.environ.setdefault("QT_QPA_PLATFORM", "offscreen")

import logging
import re
import threading
import time

import pytest
import shiboken6
from PySide6.QtCore import QSettings, QThreadPool

from desktop_app.gui.common import settings as gui_settings
from desktop_app.gui.common.workers import LIVE_POOLS


@pytest.fixture(autouse=True)
def private_settings(tmp_path, monkeypatch):
    """Point every QSettings at a folder of this test, never the user's own."""
    folder = str(tmp_path / "settings")
    for fmt in (QSettings.Format.NativeFormat, QSettings.Format.IniFormat):
        for scope in (QSettings.Scope.UserScope, QSettings.Scope.SystemScope):
            QSettings.setPath(fmt, scope, folder)
    monkeypatch.setenv("XDG_CONFIG_HOME", folder)
    monkeypatch.setenv("XDG_CACHE_HOME", str(tmp_path / "cache"))  # thumbnails on disk
    return folder


@pytest.fixture(autouse=True)
def no_system_trash(tmp_path, monkeypatch):
    """Redirect the freedesktop trash into tmp_path and forbid Send2Trash.

    The cleanup tests also set a trash folder of their own in the settings; this is the
    net under it, so that no window test can ever touch the real trash.
    """
    monkeypatch.setenv("XDG_DATA_HOME", str(tmp_path / "xdg-data"))
    import send2trash

    def refuse(*args, **kwargs):
        raise AssertionError("a test tried to use the real system trash")

    monkeypatch.setattr(send2trash, "send2trash", refuse)


@pytest.fixture
def settings(tmp_path):
    """A :class:`Settings` backed by an INI file of this test."""
    store = QSettings(str(tmp_path / "doppel.ini"), QSettings.Format.IniFormat)
    return gui_settings.Settings(store)


@pytest.fixture
def allowed_warnings():
    """Regular expressions of warning log messages a test expects."""
    return []


@pytest.fixture(autouse=True)
def no_unexpected_warnings(caplog, allowed_warnings):
    """Fail the test if anything logged a warning it did not declare."""
    caplog.set_level(logging.INFO)
    yield
    unexpected = [
        r
        for r in caplog.get_records("call")
        if r.levelno >= logging.WARNING
        and not any(re.search(p, r.getMessage()) for p in allowed_warnings)
    ]
    assert not unexpected, [f"{r.name}: {r.getMessage()}" for r in unexpected]


@pytest.fixture(autouse=True)
def no_dangling_threads():
    """Fail if a pool of ours or the global pool still runs a job, or a thread is left.

    Runs after pytest-qt closed the test's widgets, so a window's shutdown has happened.
    """
    before = set(threading.enumerate())
    yield
    pools = [p for p in list(LIVE_POOLS) if shiboken6.isValid(p)]  # deleted ones are done
    busy = [p.objectName() for p in pools if p.activeThreadCount()]
    if QThreadPool.globalInstance().activeThreadCount():
        busy.append("global")
    for pool in pools:
        pool.waitForDone(5000)  # do not let a leak spill into the next test
    assert not busy, f"thread pools still running after the test: {busy}"
    deadline = time.monotonic() + 2.0
    left: list[threading.Thread] = []
    while time.monotonic() < deadline:
        left = [
            t
            for t in threading.enumerate()
            if t not in before
            and t.is_alive()
            and not isinstance(t, threading._DummyThread)  # Qt pool threads, idle
        ]
        if not left:
            break
        time.sleep(0.02)
    assert not left, f"threads left running after the test: {[t.name for t in left]}"


def pytest_collection_modifyitems(items):
    """Ignore the offscreen platform's one harmless warning about top-level windows."""
    for item in items:
        item.add_marker(pytest.mark.qt_log_ignore("does not support propagateSizeHints"))
