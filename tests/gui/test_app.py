"""Starting the application: icon, logging, exception hook, ``run()``."""

from __future__ import annotations

import logging
import signal
import sys

import pytest
import shiboken6
from PySide6.QtCore import QSize, QTimer
from PySide6.QtWidgets import QApplication

from desktop_app.gui.app import application as app_module
from desktop_app.gui.app.main_window import MainWindow
from desktop_app.gui.common import dialogs


@pytest.fixture
def clean_process_state(monkeypatch):
    """Undo what run() installs process-wide: hooks, handlers, the SIGINT handler."""
    monkeypatch.setattr(sys, "excepthook", sys.excepthook)
    monkeypatch.setattr(app_module, "qInstallMessageHandler", lambda handler: None)
    root = logging.getLogger()
    handlers, level = list(root.handlers), root.level
    sigint = signal.getsignal(signal.SIGINT)
    yield
    for handler in root.handlers:
        if handler not in handlers:
            handler.close()
    root.handlers[:] = handlers
    root.setLevel(level)
    signal.signal(signal.SIGINT, sigint)


def test_the_icon_has_every_size(qapp):
    icon = app_module.app_icon()
    assert not icon.isNull()
    sizes = {s.width() for s in icon.availableSizes()}
    assert {16, 32, 48, 256, 512} <= sizes
    assert not icon.pixmap(QSize(64, 64)).isNull()


def test_exception_hook_logs_and_shows_a_dialog(monkeypatch, allowed_warnings):
    allowed_warnings.append("Unexpected error")
    shown = []
    monkeypatch.setattr(
        dialogs, "show_crash", lambda parent, summary, details: shown.append((summary, details))
    )
    hook = app_module.ExceptionHook()
    try:
        raise ValueError("boom")
    except ValueError as error:
        hook(type(error), error, error.__traceback__)
    assert shown and shown[0][0] == "ValueError: boom"
    assert "Traceback" in shown[0][1] and "raise ValueError" in shown[0][1]


def test_logging_goes_to_a_file(tmp_path, clean_process_state):
    path = tmp_path / "logs" / "doppel.log"
    app_module.install_logging(path)
    logging.getLogger("desktop_app.test").info("hello %s", "file")
    for handler in logging.getLogger().handlers:
        handler.flush()
    assert "hello file" in path.read_text()


def test_run_opens_the_window_and_the_folders(qapp, tmp_path, monkeypatch, clean_process_state):
    monkeypatch.setattr(app_module, "log_file", lambda: tmp_path / "doppel.log")
    opened = []
    monkeypatch.setattr(
        MainWindow, "open_folders", lambda self, folders: opened.append(folders) or True
    )
    windows = []

    def close_it():
        windows.extend(w for w in QApplication.topLevelWidgets() if isinstance(w, MainWindow))
        for window in windows:
            window.close()

    QTimer.singleShot(300, close_it)
    assert app_module.run(["/photos/a", "/photos/b"], str(tmp_path / "catalog.sqlite")) == 0
    assert opened == [["/photos/a", "/photos/b"]]
    assert windows and not windows[0].windowIcon().isNull()
    assert qapp.applicationName() == "Doppel"
    for window in windows:
        window.deleteLater()


def test_run_refuses_a_broken_qt_binding(
    qapp, tmp_path, monkeypatch, clean_process_state, allowed_warnings
):
    allowed_warnings.append("loses references")
    monkeypatch.setattr(app_module, "log_file", lambda: tmp_path / "doppel.log")
    monkeypatch.setattr(app_module, "binding_problem", lambda: "This PySide6 loses references.")
    shown = []
    monkeypatch.setattr(
        dialogs, "show_error", lambda parent, title, message, details="": shown.append(message)
    )
    assert app_module.run([], None) == 3
    assert shown == ["This PySide6 loses references."]


def test_doppel_demo_opens_the_window_on_a_generated_library(
    qapp, qtbot, tmp_path, monkeypatch, clean_process_state
):
    from desktop_app.cli import demo as demo_command
    from desktop_app.cli.main import main
    from tests.gui.test_window import wait_idle

    monkeypatch.setattr(app_module, "log_file", lambda: tmp_path / "doppel.log")
    manifests = []
    real_build = demo_command.build_demo_library

    def build(folder, photos):
        manifests.append(real_build(folder, photos=photos, size=(480, 320)))
        return manifests[-1]

    monkeypatch.setattr(demo_command, "build_demo_library", build)
    shown = {}

    def exec_until_grouped(app):
        """The event loop, run only until the window shows the groups, then closed."""
        (window,) = [
            w
            for w in QApplication.topLevelWidgets()
            if isinstance(w, MainWindow) and shiboken6.isValid(w) and w.isVisible()
        ]
        wait_idle(qtbot, window, timeout=60_000)
        model = window.groups.model
        shown["roots"] = window.session.roots
        shown["catalog"] = str(window.session.catalog_path)
        shown["groups"] = [
            sorted(m.image.path for m in model.group(row).members)
            for row in range(model.rowCount())
        ]
        window.close()
        window.deleteLater()
        return 0

    monkeypatch.setattr(QApplication, "exec", exec_until_grouped)
    folder = tmp_path / "demo"
    assert main(["demo", str(folder), "--photos", "6"]) == 0
    manifest = manifests[0]
    assert shown["roots"] == (str(folder),)
    assert shown["catalog"] == str(folder / demo_command.CATALOG_NAME)
    expected = {}
    for copy, info in manifest["copies"].items():
        expected.setdefault(info["original"], {info["original"]}).add(copy)
    assert sorted(shown["groups"]) == sorted(sorted(paths) for paths in expected.values())
    assert len(shown["groups"]) == len(manifest["originals"]) - len(manifest["singles"]) == 4
