"""The whole window over a real catalog: open, scan, cancel, resume, regroup, query, compare.

Every test uses a catalog and settings in ``tmp_path`` and hashes in-process
(``workers=0``), on small generated photos.
"""

from __future__ import annotations

import itertools
import time

import pytest
from PySide6.QtCore import QMimeData, QPoint, QPointF, Qt, QTimer, QUrl
from PySide6.QtGui import QDropEvent, QGuiApplication, QImage
from PySide6.QtWidgets import QDialog

from desktop_app.demo import build_demo_library
from desktop_app.engine.config import DEFAULT_THRESHOLD
from desktop_app.engine.scan import scanner
from desktop_app.engine.types import Phase
from desktop_app.gui.app.main_window import MainWindow
from desktop_app.gui.common import dialogs
from desktop_app.gui.common import settings as keys
from desktop_app.gui.compare.compare_dialog import CompareDialog
from tests.gui.factories import differing_rows, scene, write_library

ORIGINALS, COPIES = 5, 2


@pytest.fixture
def library(tmp_path):
    """Five photos with two copies each, plus a broken JPEG."""
    folder = tmp_path / "photos"
    files = write_library(folder, originals=ORIGINALS, copies=COPIES)
    (folder / "broken.jpg").write_bytes(b"\xff\xd8\xff\xe0" + b"\0" * 100)
    return folder, files


@pytest.fixture
def make_window(qtbot, settings, tmp_path, allowed_warnings):
    allowed_warnings.append(r"broken\.jpg")  # the scanner logs the unreadable file

    def make() -> MainWindow:
        window = MainWindow(settings, tmp_path / "catalog.sqlite", overrides={"workers": 0})
        qtbot.addWidget(window)
        window.resize(1200, 800)
        window.show()
        return window

    return make


def wait_idle(qtbot, window, timeout=30_000):
    """Wait until no scan or pair load runs and groups are shown."""
    session = window.session
    qtbot.waitUntil(
        lambda: (
            not session.index.is_running()
            and session._pairs_token is None
            and session.grouping is not None
        ),
        timeout=timeout,
    )


def drop(window, *paths, image=None):
    mime = QMimeData()
    if paths:
        mime.setUrls([QUrl.fromLocalFile(str(p)) for p in paths])
    if image is not None:
        mime.setImageData(image)
    event = QDropEvent(
        QPointF(50, 50),
        Qt.DropAction.CopyAction,
        mime,
        Qt.MouseButton.LeftButton,
        Qt.KeyboardModifier.NoModifier,
    )
    window.dropEvent(event)
    assert event.isAccepted()


def test_empty_state_then_open_scan_and_show_groups(qtbot, make_window, library, settings):
    folder, _ = library
    window = make_window()
    assert window.pages.currentWidget() is window.empty
    assert not window.window_actions.rescan.isEnabled()
    reports = []
    window.session.index.progress.connect(reports.append)
    assert window.open_folders([str(folder)])
    assert window.pages.currentWidget() is window.groups
    wait_idle(qtbot, window)

    assert {r.phase for r in reports} >= {Phase.HASHING}
    assert any(r.total == ORIGINALS * (COPIES + 1) + 1 for r in reports if r.phase == Phase.HASHING)
    model = window.groups.model
    assert model.rowCount() == ORIGINALS
    for row in range(model.rowCount()):
        group = model.group(row)
        names = {m.image.name.split("_")[0].removesuffix(".jpg") for m in group.members}
        assert len(group.members) == COPIES + 1 and len(names) == 1
        assert group.members[0].distance == 0
        assert all(m.distance <= window.session.threshold for m in group.members)
    text = window.groups.summary.text()
    assert f"{ORIGINALS} groups" in text and f"{ORIGINALS * COPIES} extra copies" in text
    assert window.failure_panel.model.rowCount() == 1
    assert window.failure_panel.model.failure(0).path.endswith("broken.jpg")
    assert folder.name in window.windowTitle()
    assert settings.recent_libraries()[0] == [str(folder.resolve())]
    assert window.window_actions.rescan.isEnabled()
    assert window.groups.view.grab().width() > 0


@pytest.fixture
def slow_hashing(monkeypatch):
    """Make each file take 20 ms more to hash, so a scan lasts long enough to cancel."""
    original = scanner._hash_all

    def slow(*args, **kwargs):
        for result in original(*args, **kwargs):
            time.sleep(0.02)
            yield result

    monkeypatch.setattr(scanner, "_hash_all", slow)


def test_scan_progress_cancel_and_resume(qtbot, make_window, tmp_path, slow_hashing):
    folder = tmp_path / "many"
    write_library(folder, originals=20, copies=2)
    total = 60
    window = make_window()
    reports = []

    def on_progress(report):
        reports.append(report)
        if report.phase == Phase.HASHING and report.done >= 5:
            window.window_actions.stop_scan.trigger()

    window.session.index.progress.connect(on_progress)
    with qtbot.waitSignal(window.session.index.finished, timeout=30_000) as blocker:
        window.open_folders([str(folder)])
        qtbot.waitUntil(window.scan_progress.isVisible)
    first = blocker.args[0]
    assert first.cancelled
    assert 0 < first.added < total
    assert window.scan_progress.bar.maximum() == total
    assert "Scan stopped" in window.statusBar().currentMessage()
    assert not window.scan_progress.isVisible()

    window.session.index.progress.disconnect(on_progress)
    with qtbot.waitSignal(window.session.index.finished, timeout=30_000) as blocker:
        window.window_actions.rescan.trigger()
    second = blocker.args[0]
    assert not second.cancelled
    assert second.unchanged == first.added  # nothing hashed twice
    assert second.added == total - first.added
    wait_idle(qtbot, window)
    assert window.groups.model.rowCount() == 20


@pytest.fixture(scope="module")
def demo_library(tmp_path_factory):
    """Camera-like photos (1600 x 1067) with their copies: a scan takes a second or two."""
    folder = tmp_path_factory.mktemp("demo")
    build_demo_library(folder, photos=12)
    return folder


def test_window_stays_responsive_during_a_scan(qtbot, make_window, demo_library, slow_hashing):
    # Real decoding of camera-like photos, stretched by 20 ms a file so that the scan
    # lasts long enough to sample; the window also decodes thumbnails meanwhile.
    folder = demo_library
    window = make_window()
    ticks: list[float] = []
    timer = QTimer()
    timer.setInterval(20)
    timer.timeout.connect(lambda: ticks.append(time.perf_counter()))
    timer.start()
    window.open_folders([str(folder)])
    assert window.session.index.is_running()
    wait_idle(qtbot, window)  # scan, pair search, grouping, first thumbnails
    timer.stop()
    gaps = [b - a for a, b in itertools.pairwise(ticks)]
    assert len(ticks) > 10
    assert max(gaps) < 0.1, f"the event loop stalled for {max(gaps) * 1000:.0f} ms"


def test_slider_regroups_and_histogram(qtbot, make_window, library, settings):
    folder, _ = library
    window = make_window()
    window.open_folders([str(folder)])
    wait_idle(qtbot, window)
    session = window.session
    counts = window.groups.threshold.histogram.counts()
    assert sum(counts) == len(session.pairs)
    before = session.grouping
    with qtbot.waitSignal(session.grouping_changed, timeout=5000) as blocker:
        for value in (9, 6, 3, 0):  # a drag: only the last value regroups
            window.groups.threshold.set_value(value)
    after = blocker.args[0]
    assert after.threshold == 0 and before.threshold == DEFAULT_THRESHOLD
    assert after.extra_copies < before.extra_copies
    assert all(int(d) == 0 for d in after.distance)
    assert window.groups.model.rowCount() == len(after)
    assert settings.threshold() == 0
    assert session.last_regroup_seconds < 0.5
    window.window_actions.looser.trigger()  # one step that changes something: pHash
    step = window.groups.threshold.histogram.step()  # distances are even
    qtbot.waitUntil(lambda: session.grouping.threshold == step, timeout=5000)


def test_drop_a_photo_shows_ranked_matches(qtbot, make_window, library, tmp_path):
    folder, files = library
    window = make_window()
    window.open_folders([str(folder)])
    wait_idle(qtbot, window)
    outside = tmp_path / "elsewhere" / "query.png"
    outside.parent.mkdir()
    original = files["photo02"][0]
    from PIL import Image

    with Image.open(original) as picture:
        picture.resize((240, 180)).save(outside)
    panel = window.query_panel
    panel.set_threshold(16)
    with qtbot.waitSignal(window.session.query_ready, timeout=10_000):
        drop(window, outside)
    assert window.query_dock.isVisible()
    matches = [panel.model.match_at(r) for r in range(panel.model.rowCount())]
    assert matches, panel.count.text()
    distances = [m.distance for m in matches]
    assert distances == sorted(distances)
    assert {m.image.path for m in matches[:3]} == {str(p.resolve()) for p in files["photo02"]}
    assert "Photos like query.png" in panel.title.text()
    panel.set_threshold(0)
    assert all(panel.model.match_at(r).distance == 0 for r in range(panel.model.rowCount()))


def test_drop_something_else_says_so(qtbot, make_window, library, tmp_path):
    folder, _ = library
    window = make_window()
    notes = tmp_path / "notes.txt"
    notes.write_text("hello")
    drop(window, notes)  # no library open yet
    assert "Open a library first" in window.statusBar().currentMessage()
    drop(window, folder)  # a folder opens as the library
    wait_idle(qtbot, window)
    with qtbot.waitSignal(window.session.query_failed, timeout=10_000):
        drop(window, notes)
    assert window.query_panel.title.text() == "Cannot look for notes.txt"
    assert "notes.txt" in window.statusBar().currentMessage()
    mime = QMimeData()
    mime.setUrls([QUrl("https://example.com/a.jpg")])
    window.dropEvent(
        QDropEvent(
            QPointF(1, 1),
            Qt.DropAction.CopyAction,
            mime,
            Qt.MouseButton.LeftButton,
            Qt.KeyboardModifier.NoModifier,
        )
    )
    assert "Cannot use https://example.com/a.jpg" in window.statusBar().currentMessage()


def test_paste_an_image(qtbot, make_window, library):
    folder, files = library
    window = make_window()
    window.open_folders([str(folder)])
    wait_idle(qtbot, window)
    image = QImage(str(files["photo01"][0]))
    QGuiApplication.clipboard().setImage(image)
    window.query_panel.set_threshold(10)
    with qtbot.waitSignal(window.session.query_ready, timeout=10_000):
        window.window_actions.paste.trigger()
    assert window.query_panel.model.rowCount() >= 1
    best = window.query_panel.model.match_at(0)
    assert best.image.path in {str(p.resolve()) for p in files["photo01"]}
    QGuiApplication.clipboard().clear()


def test_select_two_and_compare_then_preview(qtbot, make_window, library):
    folder, _ = library
    window = make_window()
    window.open_folders([str(folder)])
    wait_idle(qtbot, window)
    view = window.groups.view
    assert not window.window_actions.compare.isEnabled()
    view.select_photo(0, 0)
    view.select_photo(0, 2, toggle=True)
    assert window.window_actions.compare.isEnabled()
    dialog = window.compare_selected()
    assert isinstance(dialog, CompareDialog)
    qtbot.addWidget(dialog)
    model = window.groups.model
    assert dialog.records == (model.member(0, 0).image, model.member(0, 2).image)
    qtbot.waitUntil(lambda: all(p.view.has_image() for p in dialog.panes), timeout=10_000)
    assert "Pixel size" in differing_rows(dialog)
    dialog.close()

    rect = view.visualRect(window.groups.model.index(1, 0))
    with qtbot.waitSignal(view.photo_activated):
        qtbot.mouseDClick(
            view.viewport(), Qt.MouseButton.LeftButton, pos=view.card_rect(rect, 1).center()
        )
    previews = [w for w in window.findChildren(QDialog) if w.isVisible()]
    assert previews and previews[-1].windowTitle() == window.groups.model.member(1, 1).image.name
    for widget in previews:
        widget.close()


def test_damaged_catalog_offers_a_rebuild(
    qtbot, make_window, library, tmp_path, monkeypatch, allowed_warnings
):
    allowed_warnings += ["Catalog problem", "rebuilt", "salvage"]
    folder, _ = library
    (tmp_path / "catalog.sqlite").write_bytes(b"this is not a database" * 100)
    asked = []
    monkeypatch.setattr(
        dialogs, "ask_catalog_action", lambda parent, error: asked.append(error) or "rebuild"
    )
    window = make_window()
    assert window.open_folders([str(folder)])
    assert asked and "damaged" in str(asked[0])
    assert list(tmp_path.glob("catalog.sqlite.damaged-*"))
    wait_idle(qtbot, window)
    assert window.groups.model.rowCount() == ORIGINALS


def test_missing_folder_is_reported(qtbot, make_window, tmp_path, monkeypatch):
    shown = []
    monkeypatch.setattr(
        dialogs, "show_error", lambda parent, title, message, details="": shown.append(message)
    )
    window = make_window()
    assert not window.open_folders([str(tmp_path / "nowhere")])
    assert shown and "nowhere" in shown[0]
    assert window.pages.currentWidget() is window.empty


def test_settings_and_geometry_persist(qtbot, make_window, settings):
    window = make_window()
    window.groups.threshold.set_value(6)
    window.query_panel.set_threshold(0)
    window.resize(900, 650)
    window.window_actions.rotations.setChecked(True)
    assert window.session.config.rotations and window.session.config.workers == 0
    window.close()
    assert settings.threshold() == 6
    again = make_window()
    assert again.groups.threshold.value() == 6
    assert again.query_panel.threshold() == DEFAULT_THRESHOLD  # each query starts there
    assert again.window_actions.rotations.isChecked()
    assert again.session.config.rotations
    assert not settings.get(keys.GEOMETRY).isEmpty()


def test_close_library_and_reopen_from_recent(qtbot, make_window, library):
    folder, _ = library
    window = make_window()
    window.open_folders([str(folder)])
    wait_idle(qtbot, window)
    window.window_actions.close_library.trigger()
    assert window.pages.currentWidget() is window.empty
    assert window.groups.model.rowCount() == 0
    assert window.empty.recent.count() == 1
    window.empty.recent.itemActivated.emit(window.empty.recent.item(0))
    wait_idle(qtbot, window)
    assert window.groups.model.rowCount() == ORIGINALS
    assert QPoint(0, 0) == QPoint(0, 0)


def test_photo_context_menu_actions(qtbot, make_window, library, monkeypatch):
    from desktop_app.gui.common import desktop

    folder, _ = library
    opened: list[str] = []
    monkeypatch.setattr(
        desktop.QDesktopServices, "openUrl", lambda url: opened.append(url.toLocalFile()) or True
    )
    window = make_window()
    window.open_folders([str(folder)])
    wait_idle(qtbot, window)
    window.groups.view.select_photo(0, 1)
    record = window.groups.model.member(0, 1).image
    window.window_actions.open_file.trigger()
    window.window_actions.copy_path.trigger()
    assert opened == [record.path]
    assert QGuiApplication.clipboard().text() == record.path
    with qtbot.waitSignal(window.session.query_ready, timeout=10_000):
        window.window_actions.find_similar.trigger()
    assert window.query_panel.model.total() >= COPIES + 1
    assert scene(0) is not None


def test_large_regroups_run_off_the_gui_thread_and_stale_ones_are_dropped(
    qtbot, make_window, library, monkeypatch
):
    from desktop_app.gui.groups import regroup

    folder, _ = library
    window = make_window()
    window.open_folders([str(folder)])
    wait_idle(qtbot, window)
    session = window.session
    monkeypatch.setattr(regroup, "SYNC_REGROUP_PAIRS", -1)  # everything is "large"
    session.regrouper.set_pairs(session.pairs, session.library.rank())  # forget the cache
    applied = []
    session.grouping_changed.connect(lambda found: applied.append(found.threshold))
    session.threshold = 3
    session.regroup()
    assert applied == []  # not on the GUI thread: nothing yet
    session.threshold = 5
    session.regroup()  # the slider moved on before the first result came back
    qtbot.waitUntil(lambda: applied == [5], timeout=5000)
    qtbot.wait(100)
    assert applied == [5] and session.grouping.threshold == 5


def test_slow_thresholds_are_warmed_up_in_the_background(qtbot, make_window, library, monkeypatch):
    from desktop_app.gui.groups import regroup

    folder, _ = library
    window = make_window()
    window.open_folders([str(folder)])
    wait_idle(qtbot, window)
    session = window.session
    monkeypatch.setattr(regroup, "SYNC_REGROUP_PAIRS", -1)
    session.regrouper.set_pairs(session.pairs, session.library.rank())
    with qtbot.waitSignal(session.grouping_changed, timeout=5000):
        session.regroup()  # the first one shown starts the warm-up of every other threshold
    reach = session.pairs.threshold
    qtbot.waitUntil(
        lambda: all(session.regrouper.cached(t) is not None for t in range(reach + 1)),
        timeout=10_000,
    )
    with qtbot.waitSignal(session.grouping_changed, timeout=10) as blocker:
        session.threshold = 2
        session.regroup()  # cached: delivered before regroup() returns
    assert blocker.args[0].threshold == 2


def test_groupings_stored_by_the_scan_are_ready_at_every_position(
    qtbot, make_window, library, monkeypatch
):
    from desktop_app.gui.groups import regroup

    folder, _ = library
    window = make_window()
    window.open_folders([str(folder)])  # scans, which stores the groupings
    wait_idle(qtbot, window)
    window.close()

    def refuse(*args, **kwargs):
        raise AssertionError("every position should come from the catalog")

    monkeypatch.setattr(regroup, "group_pairs", refuse)
    again = make_window()
    again.open_folders([str(folder)])
    wait_idle(qtbot, again)
    session = again.session
    reach = session.pairs.threshold
    assert all(session.regrouper.cached(t) is not None for t in range(reach + 1))
    for threshold in (0, 4, reach):
        with qtbot.waitSignal(session.grouping_changed, timeout=10) as blocker:
            session.threshold = threshold
            session.regroup()
        assert blocker.args[0].threshold == threshold


def test_groupings_warmed_up_in_the_window_are_kept_for_next_time(
    qtbot, make_window, library, monkeypatch
):
    from desktop_app.engine.library import Library

    folder, _ = library
    window = make_window()
    window.open_folders([str(folder)])
    wait_idle(qtbot, window)
    session = window.session
    session.library.catalog.groupings.forget()
    session.regrouper.set_pairs(session.pairs, session.library.rank())  # as after a miss
    with qtbot.waitSignal(session.regrouper.complete, timeout=10_000):
        session.regroup()
    reach = session.pairs.threshold

    def stored() -> int:
        with Library([folder], catalog=session.catalog_path) as reader:
            return len(reader.cached_groupings(reader.pairs()))

    qtbot.waitUntil(lambda: stored() == reach + 1, timeout=10_000)
