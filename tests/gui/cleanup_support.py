"""Shared fixtures of the cleanup tests: a library of originals and copies, a window
with a trash folder in ``tmp_path``, and the steps of a cleanup."""

from __future__ import annotations

import pytest

from desktop_app.gui.app.main_window import MainWindow
from desktop_app.gui.common import settings as keys
from tests.gui.factories import write_library
from tests.gui.test_window import wait_idle

__all__ = [
    "COPIES",
    "ORIGINALS",
    "accept_and_wait",
    "library",
    "make_window",
    "open_apply",
    "select_duplicates",
    "trash_dir",
    "window",
]

ORIGINALS, COPIES = 4, 2


@pytest.fixture
def library(tmp_path):
    """Four photos (480 x 360) in originals/, two smaller copies of each in exports/."""
    folder = tmp_path / "photos"
    files = write_library(folder, originals=ORIGINALS, copies=COPIES)
    return folder, files


@pytest.fixture
def trash_dir(tmp_path):
    return tmp_path / "trash"


@pytest.fixture
def make_window(qtbot, settings, tmp_path, trash_dir):
    settings.set(keys.TRASH_FOLDER, str(trash_dir))

    def make() -> MainWindow:
        window = MainWindow(settings, tmp_path / "catalog.sqlite", overrides={"workers": 0})
        qtbot.addWidget(window)
        window.resize(1200, 800)
        window.show()
        return window

    return make


@pytest.fixture
def window(qtbot, make_window, library):
    """The window with the library open and its groups shown."""
    made = make_window()
    assert made.open_folders([str(library[0])])
    wait_idle(qtbot, made)
    return made


def select_duplicates(qtbot, window):
    marks = window.cleanup.marks
    window.cleanup.actions.select_duplicates.trigger()
    qtbot.waitUntil(lambda: not marks.is_busy() and marks.marked_count() > 0, timeout=10_000)


def open_apply(qtbot, window):
    dialog = window.cleanup.flow.open_dialog()
    assert dialog is not None
    qtbot.waitUntil(dialog.go.isEnabled, timeout=10_000)
    return dialog


def accept_and_wait(qtbot, window, dialog):
    with qtbot.waitSignal(window.cleanup.flow.finished, timeout=20_000) as blocker:
        dialog.go.click()
    wait_idle(qtbot, window)
    return blocker.args[0]
