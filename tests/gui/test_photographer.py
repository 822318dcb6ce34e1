"""The window as a photographer found it (issue 12): each test is one of the things that
did not work on a real library of photos and their copies, and works now."""

from __future__ import annotations

import time

import pytest
from PySide6.QtCore import Qt

from desktop_app.engine.library import Library
from desktop_app.engine.scan import scanner
from desktop_app.engine.selection.plans import select
from desktop_app.engine.types import Phase
from desktop_app.gui.app.main_window import MainWindow
from desktop_app.gui.groups.cluster_view import ClusterView
from desktop_app.gui.groups.models import GroupModel
from tests.gui.factories import grouping, record, resolver, write_library
from tests.gui.test_window import wait_idle

# --------------------------------------------------------------------- helpers


@pytest.fixture
def library(tmp_path):
    """Four photos with two copies each."""
    folder = tmp_path / "photos"
    return folder, write_library(folder, originals=4, copies=2)


@pytest.fixture
def make_window(qtbot, settings, tmp_path):
    def make() -> MainWindow:
        window = MainWindow(settings, tmp_path / "catalog.sqlite", overrides={"workers": 0})
        qtbot.addWidget(window)
        window.resize(1200, 800)
        window.show()
        return window

    return make


def _group_view(qtbot, width=1000):
    """A cluster view of one group of six whose keeper (by pixel count) is its 5th photo,
    with "Select duplicates" applied: every other photo is marked."""
    sizes = [(800, 600), (1600, 1200), (1024, 768), (1200, 900), (4000, 3000), (640, 480)]
    records = {
        i: record(i, f"/photos/p{i}.jpg", width=w, height=h, size=w * h // 4)
        for i, (w, h) in enumerate(sizes, start=1)
    }
    found = grouping([[(i, 0 if i == 1 else 2) for i in records]], threshold=4)
    resolve = resolver(records)
    plan = select([resolve(found, 0)], threshold=4)
    model = GroupModel(None)
    model.plan_source = lambda g, row: plan.groups[row] if g is found else None
    model.set_grouping(found, resolve)
    view = ClusterView(None)
    view.setModel(model)
    qtbot.addWidget(view)
    view.resize(width, 400)
    view.show()
    qtbot.waitExposed(view)
    return view, plan.groups[0]


# --------------------------------------------------------------------- 1. quit during a scan


def test_quit_during_a_scan_cancels_it_and_keeps_what_was_hashed(
    qtbot, make_window, tmp_path, monkeypatch
):
    original = scanner._hash_all

    def slow(*args, **kwargs):  # 0.1 s a file: 4 s for the whole scan
        for result in original(*args, **kwargs):
            time.sleep(0.1)
            yield result

    monkeypatch.setattr(scanner, "_hash_all", slow)
    folder = tmp_path / "many"
    write_library(folder, originals=20, copies=1)
    window = make_window()
    reports = []
    window.session.index.progress.connect(reports.append)
    window.open_folders([str(folder)])
    qtbot.waitUntil(
        lambda: any(r.phase == Phase.HASHING and r.done >= 3 for r in reports), timeout=20_000
    )
    window.close()  # File > Quit
    assert not window.session.index.is_running() or window.session.library is None
    with Library([folder], catalog=tmp_path / "catalog.sqlite") as after:
        hashed, _ = after.counts()
    # The scan stopped at once (it did not run on to its end), and what it hashed is kept.
    assert 3 <= hashed < 40


# --------------------------------------------------------------------- 3. the keeper first


def test_the_keeper_comes_first_then_the_marked_copies(qtbot):
    view, plan = _group_view(qtbot, width=700)  # room for two cards and the "+N more" tile
    keeper = plan.keeper.image
    assert plan.decisions[0].image.id != keeper.id  # the group's first photo is not it
    assert view.card_tooltip(0, 0).splitlines()[0] == keeper.path
    view.select_photo(0, 0)
    assert view.selected_photos() == [keeper]
    view.select_photo(0, 1)
    assert view.selected_photos()[0].id in {d.image.id for d in plan.marked}


# --------------------------------------------------------------------- 7. small windows


@pytest.mark.parametrize("width", [300, 520, 800])
def test_every_group_shows_at_least_two_cards(qtbot, width):
    view, _ = _group_view(qtbot, width=width)
    shown, more = view.layout_cards(6)
    assert shown >= 2 and shown + more == 6
    row = view.visualRect(view.model().index(0, 0))
    tile = view.tile_rect(row, shown) if more else view.card_rect(row, shown - 1)
    assert tile.right() <= view.viewport().width()  # all of it is on screen


def test_small_window_keeps_two_cards_with_find_photo_open(qtbot, make_window, library):
    folder, _ = library
    window = make_window()
    window.open_folders([str(folder)])
    wait_idle(qtbot, window)
    window.query_dock.show()
    view = window.view

    def two_cards_in_sight() -> bool:
        shown, more = view.layout_cards(3)
        if shown < 2:
            return False
        row = view.visualRect(view.model().index(0, 0))
        last = view.tile_rect(row, shown) if more else view.card_rect(row, shown - 1)
        return last.right() <= view.viewport().width()

    window.resize(800, 500)
    qtbot.wait(50)
    assert window.width() <= 800 and two_cards_in_sight()
    window.resize(300, 200)  # as small as it goes: the window keeps a sensible minimum
    qtbot.wait(50)
    assert window.width() >= 700 and window.height() >= 300
    assert two_cards_in_sight()
    window.query_dock.hide()
    qtbot.wait(50)  # the layout works its new minimum out
    window.resize(300, 200)
    qtbot.wait(50)
    assert 480 <= window.width() < 700 and two_cards_in_sight()


def test_group_headers_elide_rather_than_clip(qtbot):
    from PySide6.QtGui import QFontMetrics

    from desktop_app.gui.groups.group_delegate import header_texts

    view, _ = _group_view(qtbot)
    font = view.font()
    parts = header_texts(font, 200, "Group 1234", "6 photos · 12.3 MB in extra copies", "5 marked")
    assert parts[1].endswith("…")
    bold = view.font()
    bold.setBold(True)
    used = QFontMetrics(bold).horizontalAdvance(parts[0] + "   ")
    used += QFontMetrics(font).horizontalAdvance(parts[1] + "  ·  ") if parts[1] else 0
    used += QFontMetrics(font).horizontalAdvance(parts[2])
    assert used <= 200 + QFontMetrics(font).horizontalAdvance("  ·  ")


# --------------------------------------------------------------------- 8. keyboard


def test_arrow_keys_move_the_selection_and_space_marks_it(qtbot):
    view, _ = _group_view(qtbot)
    toggled = []
    view.mark_toggled.connect(lambda row, rec: toggled.append(rec.id))
    view.select_photo(0, 0)
    view.setFocus()
    qtbot.keyClick(view, Qt.Key.Key_Right)
    assert view.current_card() == (0, 1)
    second = view.current_photo()[1]
    assert view.selected_photos() == [second]  # selected and current move together
    qtbot.keyClick(view, Qt.Key.Key_Space)
    assert toggled == [second.id]  # Space marks the photo that is seen selected


# --------------------------------------------------------------------- 4. the slider


def test_slider_steps_change_something_and_the_histogram_shows_counts(qtbot):
    from desktop_app.gui.groups.histogram import ThresholdControl

    control = ThresholdControl("Threshold")
    qtbot.addWidget(control)
    control.resize(380, 140)
    control.show()
    # pHash distances between photos are even: no pair at an odd distance.
    control.histogram.set_counts([120, 0, 45, 0, 12, 0, 3, 0, 8, 0, 40, 0, 300, 0, 2100], reach=16)
    control.set_value(4)
    seen = []
    control.value_changed.connect(seen.append)
    control.slider.setFocus()
    qtbot.keyClick(control.slider, Qt.Key.Key_Right)
    assert control.value() == 6  # not 5, which shows the same groups as 4
    control.set_value(9)  # a value from the settings, or a drag between two stops
    assert control.value() == 8
    assert all(v % 2 == 0 for v in seen)
    # The marks are labelled, and each bar says its count.
    assert control.ticks.labels() == [0, 4, 8, 12, 16]
    histogram = control.histogram
    assert histogram.bar_text(2) == "45" and histogram.bar_text(14) == "2.1k"
    assert histogram.bar_tooltip(12) == "Distance 12: 300 pairs"
    assert 0 in histogram.axis_labels() and 16 in histogram.axis_labels()
    # Odd pairs (another hash, or a tie) bring every position back.
    histogram.set_counts([1, 1, 1], reach=16)
    control.set_value(5)
    assert control.value() == 5


# --------------------------------------------------------------------- 2. marks that last


def _select_duplicates(qtbot, window):
    marks = window.cleanup.marks
    with qtbot.waitSignal(marks.message, timeout=10_000):
        window.cleanup.actions.select_duplicates.trigger()
    qtbot.waitUntil(lambda: not marks.is_busy())


def test_marks_are_kept_in_the_catalog_and_come_back(qtbot, make_window, library):
    folder, _ = library
    window = make_window()
    window.open_folders([str(folder)])
    wait_idle(qtbot, window)
    _select_duplicates(qtbot, window)
    marks, model = window.cleanup.marks, window.groups.model
    unmarked = marks.plan_for(model.grouping, 0).marked[0].image  # the user keeps it too
    assert marks.toggle(0, unmarked.id)
    count = marks.marked_count()
    assert count == 4 * 2 - 1
    window.close()  # File > Quit with marks not applied

    again = make_window()
    said = []
    again.cleanup.marks.message.connect(said.append)
    again.open_folders([str(folder)])
    wait_idle(qtbot, again)
    marks = again.cleanup.marks
    qtbot.waitUntil(lambda: not marks.is_busy() and marks.marked_count() == count)
    assert marks.auto  # Select Duplicates keeps running on regroups, as before quitting
    assert unmarked.id not in {r.record.id for r in marks.plan().marked}
    assert any("marks from last time are back: 7 marked" in m for m in said)
    # Clearing them is kept too.
    again.cleanup.actions.clear_all.trigger()
    again.close_library()
    again.open_folders([str(folder)])
    wait_idle(qtbot, again)
    assert again.cleanup.marks.marked_count() == 0


# --------------------------------------------------------------------- 5. marks and the slider


def test_narrowing_the_threshold_says_which_marks_it_hides_and_brings_them_back(
    qtbot, make_window, library
):
    folder, _ = library
    window = make_window()
    window.open_folders([str(folder)])
    wait_idle(qtbot, window)
    session, marks, model = window.session, window.cleanup.marks, window.groups.model
    for row in range(model.rowCount()):  # one copy of each group marked by hand
        plan = marks.plan_for(model.grouping, row)
        assert marks.toggle(row, next(d.image.id for d in plan.decisions if not d.keeper))
    assert marks.marked_count() == 4
    said = []
    marks.message.connect(said.append)
    with qtbot.waitSignal(session.grouping_changed, timeout=5000):
        window.groups.threshold.set_value(0)
    qtbot.waitUntil(lambda: bool(said), timeout=5000)
    assert "hidden, " in said[-1] and "(widen it to bring" in said[-1]  # not "dropped"
    hidden = marks.hidden_count()
    assert hidden > 0 and marks.marked_count() == 4 - hidden
    assert f"{hidden} mark{'s' if hidden > 1 else ''} hidden" in said[-1]
    assert "in no group at this threshold (widen it to bring" in said[-1]
    assert f"({4} before)" in said[-1]
    assert f"{hidden} mark{'s' if hidden > 1 else ''} hidden at this threshold" in (
        window.groups.marks.text()
    )
    with qtbot.waitSignal(session.grouping_changed, timeout=5000):
        window.groups.threshold.set_value(12)
    qtbot.waitUntil(lambda: len(said) >= 2, timeout=5000)
    assert f"{hidden} hidden mark{'s' if hidden > 1 else ''} came back" in said[-1]
    assert marks.marked_count() == 4 and marks.hidden_count() == 0


def test_a_regroup_after_select_duplicates_replaces_the_old_count(qtbot, make_window, library):
    folder, _ = library
    window = make_window()
    window.open_folders([str(folder)])
    wait_idle(qtbot, window)
    _select_duplicates(qtbot, window)
    marks = window.cleanup.marks
    assert "Marked 8 copies" in window.statusBar().currentMessage()
    with qtbot.waitSignal(window.session.grouping_changed, timeout=5000):
        window.groups.threshold.set_value(0)
    qtbot.waitUntil(lambda: not marks.is_busy())
    qtbot.waitUntil(lambda: "At distance 0" in window.statusBar().currentMessage(), timeout=5000)
    message = window.statusBar().currentMessage()
    assert "Marked 8" not in message and f"{marks.marked_count()} photo" in message
    assert "(8 before)" in message


# --------------------------------------------------------------------- 6. the "Show all" dialog


def _group_dialog(qtbot, count=12):
    from desktop_app.gui.groups.group_dialog import GroupDialog

    records = {
        i: record(i, f"/photos/p{i}.jpg", width=400 + 100 * i, height=300 + 75 * i)
        for i in range(1, count + 1)
    }
    found = grouping([[(i, 0 if i == 1 else 2) for i in records]], threshold=4)
    group = resolver(records)(found, 0)
    plan = select([group], threshold=4).groups[0]
    dialog = GroupDialog(group, None, plan=lambda: plan)
    qtbot.addWidget(dialog)
    dialog.show()
    qtbot.waitExposed(dialog)
    return dialog, plan


def test_show_all_repaints_every_card_whose_thumbnail_arrived(qtbot):
    from desktop_app.gui.groups.models import ThumbnailsRole

    dialog, _ = _group_dialog(qtbot)
    view = dialog.list
    model = view.model()
    columns = sum(1 for r in range(model.rowCount()) if view.visualRect(model.index(r, 0)).y() == 0)
    assert 2 <= columns < 6
    viewport = view.viewport()
    painted = []
    viewport.update = lambda *area: painted.append(area)  # what the view asks to repaint
    # Thumbnails of the last card of the first line and of the first cards of the third
    # arrive together: every card between them is repainted, not their bounding box.
    first, last = columns - 1, 2 * columns + 1
    view.dataChanged(model.index(first, 0), model.index(last, 0), [ThumbnailsRole])
    for row in range(first, last + 1):
        card = view.visualRect(model.index(row, 0))
        assert any(not area or area[0].contains(card) for area in painted), row


@pytest.mark.qt_log_ignore("does not support (raise|propagateSizeHints)")  # offscreen
def test_show_all_tooltips_say_why_a_photo_is_kept_or_marked(qtbot):
    dialog, plan = _group_dialog(qtbot)
    keeper = plan.keeper
    assert dialog.model.match_at(0).image.id == keeper.image.id  # the keeper first here too
    assert keeper.note in dialog.card_tooltip(0)
    marked = plan.marked[0]
    row = next(
        r for r in range(dialog.model.rowCount()) if dialog.model.match_at(r).image == marked.image
    )
    assert marked.note in dialog.card_tooltip(row)
    # What the mouse shows, over the marked card.
    from PySide6.QtCore import QEvent
    from PySide6.QtGui import QHelpEvent
    from PySide6.QtWidgets import QApplication, QToolTip

    viewport = dialog.list.viewport()
    pos = dialog.list.visualRect(dialog.model.index(row, 0)).center()
    QApplication.sendEvent(
        viewport, QHelpEvent(QEvent.Type.ToolTip, pos, viewport.mapToGlobal(pos))
    )
    assert marked.note in QToolTip.text()


# --------------------------------------------------------------------- 9. an empty library


def test_an_empty_library_says_so_once_and_offers_nothing_to_do(qtbot, make_window, tmp_path):
    empty = tmp_path / "empty"
    empty.mkdir()
    window = make_window()
    window.open_folders([str(empty)])
    wait_idle(qtbot, window)
    page = window.groups
    assert page.stack.currentWidget() is page.notice
    assert "No photos in this library yet" in page.notice.text()
    assert "slider" not in page.notice.text()  # nothing contradicts it
    assert "No photos" not in page.summary.text()  # said once, in the middle
    assert not page.threshold.isEnabled() and not page.marks.isVisible()
    actions = window.cleanup.actions
    for action in (actions.select_duplicates, actions.not_copies, actions.export):
        assert not action.isEnabled(), action.text()
    assert not window.window_actions.looser.isEnabled()
    assert window.window_actions.rescan.isEnabled()  # the way out


# --------------------------------------------------------------------- 10. Find Photo


def _drop_files(window, *paths):
    from PySide6.QtCore import QMimeData, QPointF, QUrl
    from PySide6.QtGui import QDropEvent

    mime = QMimeData()
    mime.setUrls([QUrl.fromLocalFile(str(p)) for p in paths])
    event = QDropEvent(
        QPointF(50, 50),
        Qt.DropAction.CopyAction,
        mime,
        Qt.MouseButton.LeftButton,
        Qt.KeyboardModifier.NoModifier,
    )
    window.dropEvent(event)


def test_each_query_starts_at_the_default_distance(qtbot, make_window, library, settings):
    from desktop_app.engine.config import DEFAULT_THRESHOLD

    folder, files = library
    window = make_window()
    window.open_folders([str(folder)])
    wait_idle(qtbot, window)
    panel = window.query_panel
    with qtbot.waitSignal(window.session.query_ready, timeout=10_000):
        window.query_dock.ask_file(str(files["photo00"][1]))
    panel.set_threshold(0)  # "0 matches within distance 0" would follow every query
    window.close()
    again = make_window()
    again.open_folders([str(folder)])
    wait_idle(qtbot, again)
    with qtbot.waitSignal(again.session.query_ready, timeout=10_000):
        again.query_dock.ask_file(str(files["photo01"][1]))
    assert again.query_panel.threshold() == DEFAULT_THRESHOLD
    again.query_panel.set_threshold(0)
    with qtbot.waitSignal(again.session.query_ready, timeout=10_000):
        again.query_dock.ask_file(str(files["photo02"][1]))
    assert again.query_panel.threshold() == DEFAULT_THRESHOLD
    assert again.query_panel.model.rowCount() >= 2


def test_dropping_several_files_asks_about_each(qtbot, make_window, library):
    folder, files = library
    window = make_window()
    window.open_folders([str(folder)])
    wait_idle(qtbot, window)
    dropped = [files[name][1] for name in ("photo00", "photo01", "photo02")]
    asked = []
    window.query_dock.message.connect(asked.append)
    with qtbot.waitSignal(window.session.query_ready, timeout=10_000) as blocker:
        _drop_files(window, *dropped)
    assert blocker.args[0].query.path == str(dropped[0].resolve())
    assert any("3 photos to find" in m for m in asked)
    button = window.query_panel.next_button
    assert button.isVisible() and button.isEnabled() and "2 of 3" in button.text()
    for expected in dropped[1:]:
        with qtbot.waitSignal(window.session.query_ready, timeout=10_000) as blocker:
            button.click()
        assert blocker.args[0].query.path == str(expected.resolve())
    assert not button.isEnabled()
    with qtbot.waitSignal(window.session.query_ready, timeout=10_000):
        window.query_dock.ask_file(str(files["photo03"][0]))  # one photo: no Next button
    assert not button.isVisible()


# --------------------------------------------------------------------- 11. small things


def test_file_dialogs_open_near_the_library(qtbot, make_window, library, monkeypatch):
    from PySide6.QtWidgets import QFileDialog

    folder, _ = library
    window = make_window()
    window.open_folders([str(folder)])
    wait_idle(qtbot, window)
    started = []

    def folder_dialog(parent, title, start, *args):
        started.append(start)
        return ""

    def files_dialog(parent, title, start, *args):
        started.append(start)
        return [], ""

    monkeypatch.setattr(QFileDialog, "getExistingDirectory", folder_dialog)
    monkeypatch.setattr(QFileDialog, "getOpenFileNames", files_dialog)
    monkeypatch.setattr(
        QFileDialog, "getOpenFileName", lambda p, t, start, *a: files_dialog(p, t, start)
    )
    window.window_actions.open_folder.trigger()
    window.window_actions.add_folder.trigger()
    window.window_actions.find_photo.trigger()
    window.cleanup.actions.check_import.trigger()
    resolved = str(folder.resolve())
    assert started == [str(folder.parent.resolve())] * 2 + [resolved, str(folder.parent.resolve())]


def test_small_photos_say_their_megapixels(qtbot):
    from desktop_app.gui.common import text

    assert text.megapixels(record(1, "/p/a.jpg", width=200, height=150)) == "0.03 MP"
    assert text.megapixels(record(2, "/p/b.jpg", width=6000, height=4000)) == "24.0 MP"


def test_a_long_status_message_is_shown_whole(qtbot, make_window):
    window = make_window()
    window.resize(800, 500)
    message = (
        "Checking holiday-2024 against your library, which is now a reference folder "
        "(Library › Folders to change that): only the import's photos that the library "
        "already has will be marked."
    )
    window.statusBar().showMessage(message, 10_000)
    qtbot.wait(20)
    bar = window.statusBar()
    assert bar.currentMessage() == message
    lines = bar.fontMetrics().lineSpacing()
    assert bar.height() >= 2 * lines  # room for the second line it needs at 800 pixels
    label = bar.label
    assert label.isVisible() and label.wordWrap() and label.text() == message
    metrics = label.fontMetrics()
    assert metrics.horizontalAdvance(message) > label.width()  # it would not fit on one line
    assert label.height() >= 2 * metrics.lineSpacing()  # so it takes two
    assert label.geometry().right() <= window.width()


def test_the_compare_dialog_fits_a_768_pixel_screen(qtbot):
    from desktop_app.gui.compare.compare_dialog import CompareDialog

    left = record(1, "/p/a.jpg", width=200, height=150)
    right = record(2, "/p/b.jpg", width=6000, height=4000)
    dialog = CompareDialog(left, right)
    qtbot.addWidget(dialog)
    dialog.show()
    assert dialog.height() <= 768 - 70  # a laptop screen, less its panel and the title bar
    assert dialog.minimumSizeHint().height() <= 768 - 70
    assert dialog.height() <= dialog.screen().availableGeometry().height()
