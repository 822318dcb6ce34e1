"""The window's hash index setting: stored, validated, handed to the engine."""

import pytest

from desktop_app.gui.app.main_window import MainWindow
from desktop_app.gui.common import dialogs
from desktop_app.gui.common import settings as keys


@pytest.fixture
def window(qtbot, settings, tmp_path):
    window = MainWindow(settings, tmp_path / "catalog.sqlite", overrides={"workers": 0})
    qtbot.addWidget(window)
    return window


def test_the_index_location_reaches_the_engine(window, settings, monkeypatch, tmp_path):
    assert settings.engine_config().index == "sqlite"
    chosen = f"milvus:{tmp_path / 'index.db'}"
    monkeypatch.setattr(dialogs, "ask_index_location", lambda parent, current: chosen)
    window.window_actions.index_location.trigger()
    assert settings.get(keys.INDEX) == chosen
    assert window.session.config.index == chosen
    assert "milvus:" in window.statusBar().currentMessage()
    monkeypatch.setattr(dialogs, "ask_index_location", lambda parent, current: None)
    window.window_actions.index_location.trigger()  # cancelled: unchanged
    assert settings.engine_config().index == chosen


def test_a_bad_stored_index_falls_back_to_the_catalog(settings, allowed_warnings):
    allowed_warnings.append("Ignoring a bad index setting")
    settings.set(keys.INDEX, "elasticsearch:9200")
    assert settings.engine_config().index == "sqlite"


def test_the_dialog_refuses_what_is_not_an_index(qtbot, monkeypatch):
    from desktop_app.gui.common.dialogs import QInputDialog, QMessageBox

    warned = []
    monkeypatch.setattr(QMessageBox, "warning", lambda *a: warned.append(a[2]))
    monkeypatch.setattr(QInputDialog, "getText", lambda *a, **k: (" milvus:/x/i.db ", True))
    assert dialogs.ask_index_location(None, "sqlite") == "milvus:/x/i.db"
    monkeypatch.setattr(QInputDialog, "getText", lambda *a, **k: ("milvus:", True))
    assert dialogs.ask_index_location(None, "sqlite") is None and warned
    monkeypatch.setattr(QInputDialog, "getText", lambda *a, **k: ("sqlite", False))
    assert dialogs.ask_index_location(None, "sqlite") is None
