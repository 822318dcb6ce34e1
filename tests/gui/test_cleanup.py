"""Cleaning up from the window: select, mark, dry run, trash, move, delete, undo, history.

Every test works on generated photos in ``tmp_path``, with a catalog, settings and a
trash folder there too (the ``cleanup/trash_folder`` setting); conftest's autouse
``no_system_trash`` makes any use of the real trash fail. Files are compared byte for
byte by digest before and after.
"""

from __future__ import annotations

import time

from PySide6.QtCore import Qt

from desktop_app.engine.fileops import operations
from desktop_app.engine.fileops.journal import Action, State
from desktop_app.gui.common import dialogs
from desktop_app.gui.common import settings as keys
from desktop_app.gui.groups.cards import mark_box
from tests.engine.cleanup_support import tree_digests
from tests.gui.cleanup_support import (  # noqa: F401 - fixtures
    COPIES,
    ORIGINALS,
    accept_and_wait,
    library,
    make_window,
    open_apply,
    select_duplicates,
    trash_dir,
    window,
)
from tests.gui.factories import set_action
from tests.gui.test_window import wait_idle


def test_select_duplicates_dry_run_trash_and_undo(qtbot, window, library, trash_dir):
    folder, files = library
    before = tree_digests(folder)
    select_duplicates(qtbot, window)
    marks, model, view = window.cleanup.marks, window.groups.model, window.groups.view
    assert marks.marked_count() == ORIGINALS * COPIES
    assert "8 photos marked" in window.groups.marks.text()
    for row in range(model.rowCount()):
        plan = marks.plan_for(model.grouping, row)
        assert "originals" in plan.keeper.image.path
        assert all("exports" in d.image.path for d in plan.marked)
        assert model.member(row, 0).image.id == plan.keeper.image.id  # the keeper first
        tip = view.card_tooltip(row, 0)
        assert "kept: largest pixel count (480x360 vs 360x270)" in tip

    # The dry run lists every marked file and where it would go, and touches nothing.
    dialog = open_apply(qtbot, window)
    results = dialog.results
    assert len(results) == ORIGINALS * COPIES
    assert all(r.state is State.PLANNED for r in results)
    assert all(r.destination.startswith(str(trash_dir / "files")) for r in results)
    assert dialog.go.text() == "Move 8 Photos to the Trash"
    assert tree_digests(folder) == before
    assert not trash_dir.exists() or not any(trash_dir.rglob("*.jpg"))

    report = accept_and_wait(qtbot, window, dialog)
    assert len(report.done) == ORIGINALS * COPIES and not report.failed
    assert sorted(p.name for p in (trash_dir / "files").iterdir()) == sorted(
        p.name for f in files.values() for p in f[1:]
    )
    assert all(p.exists() for f in files.values() for p in f[:1])
    assert model.rowCount() == 0  # the removed copies left their groups
    assert marks.marked_count() == 0
    result = window.cleanup.flow.result
    assert "Moved 8 photos" in result.summary.text() and "Undo" in result.summary.text()
    assert window.cleanup.actions.undo.isEnabled()
    assert "Move to Trash (8 photos)" in window.cleanup.actions.undo.text()

    with qtbot.waitSignal(window.cleanup.flow.finished, timeout=20_000) as blocker:
        window.cleanup.actions.undo.trigger()
    wait_idle(qtbot, window)
    (back,) = blocker.args[0]
    assert len(back.done) == ORIGINALS * COPIES and back.undo
    assert tree_digests(folder) == before  # byte for byte, at the original paths
    assert model.rowCount() == ORIGINALS  # restored photos are back in their groups
    assert not window.cleanup.actions.undo.isEnabled()


def test_marks_by_hand_refusals_and_regroups(qtbot, window):
    marks, model, view = window.cleanup.marks, window.groups.model, window.groups.view
    grouping = model.grouping
    plan = marks.plan_for(grouping, 0)
    assert plan.keeper is not None and not plan.marked  # the keeper shows before any mark
    ids = [model.member(0, slot).image.id for slot in range(COPIES + 1)]  # the keeper first
    assert ids[0] == plan.keeper.image.id

    # Click the box of the second card, then Space on the third.
    rect = view.visualRect(model.index(0, 0))
    box = mark_box(view.card_rect(rect, 1)).center()
    qtbot.mouseClick(view.viewport(), Qt.MouseButton.LeftButton, pos=box)
    assert [d.image.id for d in marks.plan_for(grouping, 0).marked] == [ids[1]]
    view.setFocus()
    view.select_photo(0, 2)
    qtbot.keyClick(view, Qt.Key.Key_Space)
    assert [d.image.id for d in marks.plan_for(grouping, 0).marked] == ids[1:]
    assert "2 photos marked" in window.groups.marks.text()
    # The last one of a group cannot be marked too: refused, and said why.
    view.select_photo(0, 0)
    window.cleanup.actions.toggle_mark.trigger()
    assert len(marks.plan_for(grouping, 0).marked) == 2
    assert "One photo of every group stays" in window.statusBar().currentMessage()

    # Keep only this one, then clear the group.
    view.select_photo(1, 1)
    chosen = model.member(1, 1).image.id
    window.cleanup.actions.keep_only.trigger()
    plan = marks.plan_for(grouping, 1)
    assert plan.keeper.image.id == chosen
    assert model.member(1, 0).image.id == chosen  # the new keeper moved first
    assert len(plan.marked) == COPIES
    window.cleanup.actions.clear_group.trigger()
    assert not marks.plan_for(grouping, 1).marked
    assert marks.marked_count() == 2

    # A regroup where the photos are still grouped keeps the marks.
    session = window.session
    with qtbot.waitSignal(session.grouping_changed, timeout=5000):
        window.groups.threshold.set_value(session.threshold + 2)
    assert marks.marked_count() == 2
    row = next(
        r for r in range(model.rowCount()) if ids[1] in {m.image.id for m in model.group(r).members}
    )
    assert {d.image.id for d in marks.plan_for(model.grouping, row).marked} == set(ids[1:])


def test_marks_survive_a_regroup_after_select_duplicates(qtbot, window):
    marks, model = window.cleanup.marks, window.groups.model
    select_duplicates(qtbot, window)
    window.groups.view.select_photo(0, 0)
    window.cleanup.actions.clear_group.trigger()  # the user's choice, on top of the selection
    assert marks.marked_count() == (ORIGINALS - 1) * COPIES
    kept = {m.image.id for m in model.group(0).members}
    session = window.session
    with qtbot.waitSignal(session.grouping_changed, timeout=5000):
        window.groups.step_threshold(+1)  # one stop looser
    qtbot.waitUntil(lambda: not marks.is_busy() and marks.marked_count() > 0, timeout=10_000)
    assert marks.marked_count() == (ORIGINALS - 1) * COPIES  # selection re-run, unmarks kept
    assert not {r.record.id for r in marks.plan().marked} & kept


def test_permanent_deletion_needs_the_setting_and_a_confirmation(
    qtbot, window, library, settings, monkeypatch
):
    folder, _ = library
    before = tree_digests(folder)
    select_duplicates(qtbot, window)
    flow = window.cleanup.flow
    asked = []

    def confirm(parent, count, size, answer):
        asked.append((count, size))
        return answer

    # Off by default: the choice is disabled, and a request to delete is refused.
    assert not settings.get(keys.ALLOW_DELETE)
    dialog = open_apply(qtbot, window)
    assert not dialog.delete.isEnabled()
    dialog.reject()
    monkeypatch.setattr(dialogs, "confirm_delete", lambda p, c, s: confirm(p, c, s, True))
    assert not flow.apply(window.cleanup.marks.plan().request(Action.DELETE))
    assert asked == [] and "turned off" in window.statusBar().currentMessage()
    assert tree_digests(folder) == before

    # Allowed, but not confirmed: nothing is deleted.
    window.cleanup.actions.allow_delete.setChecked(True)
    assert settings.get(keys.ALLOW_DELETE)
    monkeypatch.setattr(dialogs, "confirm_delete", lambda p, c, s: confirm(p, c, s, False))
    dialog = open_apply(qtbot, window)
    set_action(dialog, Action.DELETE)
    qtbot.waitUntil(dialog.go.isEnabled, timeout=10_000)
    assert dialog.go.text() == "Delete 8 Photos Permanently…"
    dialog.go.click()
    qtbot.wait(50)
    marked_bytes = window.cleanup.marks.marked_bytes()
    assert asked == [(8, marked_bytes)]
    assert not flow.operations.is_running() and tree_digests(folder) == before

    # Allowed and confirmed with the count and size shown: deleted, with no undo.
    monkeypatch.setattr(dialogs, "confirm_delete", lambda p, c, s: confirm(p, c, s, True))
    dialog = open_apply(qtbot, window)
    set_action(dialog, Action.DELETE)
    qtbot.waitUntil(dialog.go.isEnabled, timeout=10_000)
    report = accept_and_wait(qtbot, window, dialog)
    assert asked[-1] == (8, marked_bytes)
    assert report.action is Action.DELETE and len(report.done) == 8
    assert len(tree_digests(folder)) == ORIGINALS
    assert not window.cleanup.actions.undo.isEnabled()


def test_move_to_a_folder_keeps_paths_and_history_undoes_it(qtbot, window, library, tmp_path):
    folder, _ = library
    before = tree_digests(folder)
    select_duplicates(qtbot, window)
    target = tmp_path / "dupes"
    dialog = open_apply(qtbot, window)
    set_action(dialog, Action.MOVE)
    assert not dialog.go.isEnabled() and "Choose the folder" in dialog.summary.text()
    dialog.folder.setText(str(target))
    dialog.refresh()
    qtbot.waitUntil(dialog.go.isEnabled, timeout=10_000)
    assert all(r.destination.startswith(str(target / "exports")) for r in dialog.results)
    report = accept_and_wait(qtbot, window, dialog)
    assert sorted(p.relative_to(target).parts[0] for p in target.rglob("*.jpg")) == (
        ["exports"] * ORIGINALS * COPIES
    )
    assert report.action is Action.MOVE

    history = window.cleanup.show_history()
    assert history.operations.rowCount() == 1
    assert history.entries.rowCount() == ORIGINALS * COPIES
    assert history.undo.isEnabled()
    with qtbot.waitSignal(window.cleanup.flow.finished, timeout=20_000):
        history.undo.click()
    wait_idle(qtbot, window)
    assert tree_digests(folder) == before
    assert history.operations.row_at(0).restored == ORIGINALS * COPIES
    assert not history.undo.isEnabled()


def test_a_big_batch_shows_progress_and_can_be_cancelled(
    qtbot, window, library, monkeypatch, trash_dir
):
    from desktop_app.gui.cleanup import apply_flow

    folder, _ = library
    before = tree_digests(folder)
    real = operations.apply

    def slow(*args, **kwargs):
        steps = real(*args, **kwargs, batch_size=1)
        try:
            while True:
                report = next(steps)
                time.sleep(0.15)
                yield report
        except StopIteration as stop:
            return stop.value

    monkeypatch.setattr(operations, "apply", slow)
    monkeypatch.setattr(apply_flow, "PROGRESS_DELAY_MS", 0)
    select_duplicates(qtbot, window)
    dialog = open_apply(qtbot, window)
    flow = window.cleanup.flow
    with qtbot.waitSignal(flow.finished, timeout=20_000) as blocker:
        dialog.go.click()
        qtbot.waitUntil(lambda: flow.progress is not None and flow.progress.isVisible())
        qtbot.waitUntil(lambda: flow.progress.bar.value() >= 1, timeout=10_000)
        flow.progress.cancel.click()
    report = blocker.args[0]
    wait_idle(qtbot, window)
    assert report.cancelled and 1 <= len(report.done) < ORIGINALS * COPIES
    assert "Stopped before the end" in flow.result.summary.text()
    moved = {p.name for p in (trash_dir / "files").iterdir()}
    assert len(moved) == len(report.done)
    with qtbot.waitSignal(flow.finished, timeout=20_000):
        flow.result.undo.click()
    wait_idle(qtbot, window)
    assert tree_digests(folder) == before


def test_the_whole_group_dialog_shows_and_toggles_marks(qtbot, window):
    from desktop_app.gui.groups.cards import item_card_rect
    from desktop_app.gui.groups.group_dialog import GroupDialog

    marks, model = window.cleanup.marks, window.groups.model
    window._on_view_more_requested(0)
    (dialog,) = window.findChildren(GroupDialog)
    qtbot.waitExposed(dialog)
    members = [m.image.id for m in model.group(0).members]
    keeper = marks.plan_for(model.grouping, 0).keeper.image.id
    assert dialog.decision(keeper).keeper
    ids = [dialog.model.match_at(r).image.id for r in range(dialog.model.rowCount())]
    row = next(r for r, image_id in enumerate(ids) if image_id != keeper)
    target = dialog.model.match_at(row).image.id
    card = item_card_rect(dialog.list.visualRect(dialog.model.index(row, 0)), dialog.list.font())
    qtbot.mouseClick(dialog.list.viewport(), Qt.MouseButton.LeftButton, pos=mark_box(card).center())
    assert [d.image.id for d in marks.plan_for(model.grouping, 0).marked] == [target]
    assert dialog.decision(target).marked
    dialog.list.setFocus()
    qtbot.keyClick(dialog.list, Qt.Key.Key_Space)  # the current card: unmark it again
    assert not marks.plan_for(model.grouping, 0).marked
    assert set(members) == set(ids)
    dialog.close()
