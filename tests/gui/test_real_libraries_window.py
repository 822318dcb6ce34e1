"""The window on real libraries: exclusions are a setting, what a scan left out and which
folders are offline are said, and forgetting offline photos is the user's choice."""

from __future__ import annotations

import shutil

import pytest

from desktop_app.gui.app.main_window import MainWindow
from desktop_app.gui.common import dialogs
from desktop_app.gui.common import settings as keys
from tests.gui.factories import write_photo


@pytest.fixture
def window(qtbot, settings, tmp_path, allowed_warnings, monkeypatch):
    allowed_warnings.append(r"missing or empty")

    def refuse(parent, title, message, details=""):
        raise AssertionError(f"{title}: {message}")  # a modal box would hang the test

    monkeypatch.setattr(dialogs, "show_error", refuse)
    made = MainWindow(settings, tmp_path / "catalog.sqlite", overrides={"workers": 0})
    qtbot.addWidget(made)
    made.show()
    return made


def _scan_and_wait(qtbot, window, start):
    with qtbot.waitSignal(window.session.index.finished, timeout=30_000) as blocker:
        start()
    qtbot.waitUntil(lambda: window.session._pairs_token is None, timeout=30_000)
    return blocker.args[0]


def test_exclusions_setting_and_what_was_left_out(qtbot, window, settings, tmp_path, monkeypatch):
    root = tmp_path / "photos"
    write_photo(root / "a.jpg", 1, size=(96, 72))
    write_photo(root / "Private" / "p.jpg", 2, size=(96, 72))
    write_photo(root / "Catalog Previews.lrdata" / "0" / "q.jpg", 3, size=(96, 72))
    monkeypatch.setattr(dialogs, "ask_exclusions", lambda parent, current: ["Private"])
    window.window_actions.exclusions.trigger()
    assert settings.get(keys.EXCLUDE) == "Private"
    assert window.session.config.exclude == ("Private",)
    summary = _scan_and_wait(qtbot, window, lambda: window.open_folders([str(root)]))
    assert summary.added == 1
    assert sorted(summary.skipped) == [str(root / "Catalog Previews.lrdata"), str(root / "Private")]
    message = window.statusBar().currentMessage()
    assert "left out" in message and "Private" in message and "lrdata" in message


def test_an_unplugged_drive_is_offline_until_the_user_forgets_it(
    qtbot, window, tmp_path, monkeypatch
):
    root = tmp_path / "drive"
    for seed in range(2):
        write_photo(root / f"p{seed}.jpg", seed, size=(96, 72))
    _scan_and_wait(qtbot, window, lambda: window.open_folders([str(root)]))
    window.close_library()
    shutil.rmtree(root)  # unplugged
    summary = _scan_and_wait(qtbot, window, lambda: window.open_folders([str(root)]))
    assert summary.offline == (str(root),) and summary.removed == 0
    assert len(window.session.library.records()) == 2
    assert "offline" in window.statusBar().currentMessage()
    asked = []
    monkeypatch.setattr(
        dialogs, "confirm_forget_offline", lambda parent, folders: asked.append(folders)
    )  # returns None: not confirmed
    window.window_actions.forget_offline.trigger()
    assert asked == [(str(root),)] and not window.session.index.is_running()
    assert len(window.session.library.records()) == 2
    monkeypatch.setattr(dialogs, "confirm_forget_offline", lambda parent, folders: True)
    summary = _scan_and_wait(qtbot, window, window.window_actions.forget_offline.trigger)
    assert summary.removed == 2
    assert window.session.library.records() == {}
