"""The cleanup's parts on constructed data: Marks, the table models, the dialogs."""

from __future__ import annotations

import pytest
from PySide6.QtCore import Qt

from desktop_app.engine.catalog.store import Catalog
from desktop_app.engine.cleanup import Cleanup
from desktop_app.engine.fileops.journal import Action, Entry, Operation, OperationState, State
from desktop_app.engine.fileops.requests import FileResult, Report
from desktop_app.engine.selection import presets
from desktop_app.engine.selection.keeprules import Criterion, KeepRules
from desktop_app.engine.selection.not_copies import IgnoredPair
from desktop_app.engine.selection.plans import Plan, select
from desktop_app.gui.cleanup.apply_dialogs import ApplyDialog, report_text
from desktop_app.gui.cleanup.keep_rules_dialog import KeepRulesDialog, _move
from desktop_app.gui.cleanup.row_models import (
    EntryModel,
    FileResultModel,
    FolderModel,
    IgnoredPairModel,
    OperationModel,
)
from desktop_app.gui.groups.marking import Marks
from desktop_app.gui.groups.models import GroupModel, PlanRole
from tests.gui.factories import grouping, record, resolver, set_action

# --------------------------------------------------------------------- Marks


@pytest.fixture
def records():
    """Seven photos; the larger the id in a group, the smaller the file."""
    return {i: record(i, f"/photos/p{i}.jpg", size=10_000 - 1000 * i) for i in range(1, 8)}


@pytest.fixture
def marks(qtbot, records):
    made = Marks()
    made.set_grouping(grouping([[(1, 0), (2, 3), (3, 5)], [(4, 0), (5, 1)]]), records)
    yield made
    made.shutdown()


def marked_ids(marks, row):
    return [d.image.id for d in marks.plan_for(marks.grouping, row).marked]


def test_every_group_shows_its_keeper_before_any_mark(marks):
    plan = marks.plan_for(marks.grouping, 0)
    assert plan.keeper.image.id == 1 and not plan.marked
    assert plan.keeper.note.startswith("kept: larger file")
    assert marks.plan_for(grouping([[(1, 0), (2, 3)]]), 0) is None  # another grouping
    assert marks.marked_count() == 0 and marks.plan().groups == ()


def test_marks_by_hand_and_the_last_copy_refused(qtbot, marks):
    changed = []
    marks.changed.connect(changed.append)
    assert marks.toggle(0, 2) and marks.toggle(0, 3)
    assert marked_ids(marks, 0) == [2, 3] and changed == [[0], [0]]
    with qtbot.waitSignal(marks.message) as said:
        assert not marks.toggle(0, 1)
    assert "One photo of every group stays" in said.args[0]
    marks.keep_only(1, 5)
    assert marked_ids(marks, 1) == [4]
    assert marks.marked_count() == 3
    assert marks.marked_bytes() == sum(10_000 - 1000 * i for i in (2, 3, 4))
    plan = marks.plan()
    assert [r.record.id for r in plan.marked] == [2, 3, 4]
    assert {r.keeper for r in plan.marked} == {"/photos/p1.jpg", "/photos/p5.jpg"}
    marks.clear(0)
    assert marks.marked_count() == 1


def test_marks_follow_a_regroup_and_say_what_they_drop(qtbot, marks, records):
    marks.toggle(0, 2)
    marks.toggle(0, 3)
    marks.toggle(1, 5)
    # 3 leaves every group; 2 and 5 end up together with 4, both still marked.
    with qtbot.waitSignal(marks.message) as said:
        marks.set_grouping(grouping([[(4, 0), (5, 1), (2, 2)], [(1, 0), (6, 2)]]), records)
    assert said.args[0] == (
        "At distance 10: 2 photos marked (3 before); 1 mark hidden, its photo is in no group "
        "at this threshold (widen it to bring it back)."
    )
    assert marked_ids(marks, 0) == [5, 2]
    assert marked_ids(marks, 1) == []
    assert marks.hidden_count() == 1
    # A mark the rules no longer allow (it would mark every photo of a group) goes too.
    with qtbot.waitSignal(marks.message) as said:
        marks.set_grouping(grouping([[(2, 0), (5, 1)]]), records)
    assert said.args[0] == "1 mark no longer allowed by the rules."
    assert len(marked_ids(marks, 0)) == 1


def test_select_duplicates_runs_off_the_gui_thread_and_keeps_user_choices(qtbot, marks, records):
    with qtbot.waitSignal(marks.message, timeout=5000) as said:
        marks.select_duplicates()
        assert marks.is_busy()
    assert "Marked 3 copies in 2 groups" in said.args[0]
    assert marked_ids(marks, 0) == [2, 3] and marked_ids(marks, 1) == [5]
    marks.toggle(0, 3)  # the user keeps this one
    with qtbot.waitSignal(marks.changed, timeout=5000):
        marks.set_grouping(grouping([[(1, 0), (2, 3), (3, 5)], [(4, 0), (5, 1)]]), records)
    qtbot.waitUntil(lambda: not marks.is_busy())
    assert marked_ids(marks, 0) == [2] and marked_ids(marks, 1) == [5]
    full = marks.full_plan_job()()
    assert len(full.groups) == 2 and len(full.marked) == 2
    marks.clear_all()
    assert marks.marked_count() == 0 and not marks.auto


def test_reference_folders_are_never_marked(qtbot, marks, records):
    marks.set_context(references=("/photos/ref",))
    refs = {**records, 9: record(9, "/photos/ref/p9.jpg", size=100)}
    marks.set_grouping(grouping([[(9, 0), (1, 2)], [(4, 0), (5, 1)]]), refs)
    plan = marks.plan_for(marks.grouping, 0)
    assert plan.keeper.image.id == 9 and plan.keeper.reference
    with qtbot.waitSignal(marks.message) as said:
        assert not marks.toggle(0, 9)
    assert "reference folder" in said.args[0]
    with qtbot.waitSignal(marks.message, timeout=5000) as said:
        marks.select_duplicates()
    assert marked_ids(marks, 0) == [1] and marked_ids(marks, 1) == []  # no reference copy
    assert "Only photos with a copy in a reference folder" in said.args[0]


def test_the_group_model_gives_the_plans(qtmodeltester, marks, records):
    model = GroupModel()
    model.set_grouping(marks.grouping, resolver(records))
    model.plan_source = marks.plan_for
    qtmodeltester.check(model)
    marks.toggle(0, 2)
    assert [d.image.id for d in model.index(0, 0).data(PlanRole).marked] == [2]
    model.plans_changed([0])
    model.plans_changed()


# --------------------------------------------------------------------- table models


def _result(name, state, destination=None, error=None):
    return FileResult(f"/photos/{name}", destination, 1000, state, error)


def test_file_result_model_lists_files_left_in_place_first(qtmodeltester):
    model = FileResultModel()
    model.set_results(
        [
            _result("a.jpg", State.PLANNED, "/trash/files/a.jpg"),
            _result("b.jpg", State.FAILED, error="changed since it was scanned"),
        ],
        Action.TRASH,
    )
    qtmodeltester.check(model)
    assert model.index(0, 0).data() == "b.jpg"
    assert model.index(0, 2).data() == "left in place: changed since it was scanned"
    assert model.index(1, 2).data() == "will go to /trash/files/a.jpg"
    assert model.index(0, 0).data(Qt.ItemDataRole.ForegroundRole) is not None
    model.set_results([_result("c.jpg", State.DONE)], Action.DELETE)
    assert model.index(0, 2).data() == "deleted"
    model.set_results([_result("c.jpg", State.RESTORED, "/photos/c (2).jpg", "taken")], Action.MOVE)
    assert model.index(0, 2).data() == "put back at /photos/c (2).jpg (taken)"


def test_operation_entry_and_pair_models(qtmodeltester):
    operation = Operation(
        3, Action.TRASH, 1_700_000_000_000_000_000, None, OperationState.INTERRUPTED,
        "the trash", "settled at start", 2, 1, 1, 0, 0, 2048, 1,
    )  # fmt: skip
    operations = OperationModel()
    operations.set_operations([operation])
    qtmodeltester.check(operations)
    assert [operations.index(0, c).data() for c in (0, 2, 4, 7)] == [
        "3",
        "Moved to the trash",
        "1 (2.0 KB)",
        "interrupted",
    ]
    entry = Entry(
        1, 3, "/photos/a.jpg", "/trash/files/a.jpg", None, None, b"t", None, 10, 0,
        State.DONE, None, None, None, 0,
    )  # fmt: skip
    entries = EntryModel()
    entries.set_entries([entry])
    qtmodeltester.check(entries)
    assert entries.index(0, 3).data() == "/trash/files/a.jpg"
    pairs = IgnoredPairModel()
    pairs.set_pairs([IgnoredPair(b"a" * 16, b"b" * 16, 0, "/photos/x.jpg", None)])
    qtmodeltester.check(pairs)
    assert pairs.index(0, 0).data() == "/photos/x.jpg"
    assert pairs.index(0, 1).data().startswith("(file 62626262")


def test_folder_model_checks_reference_folders(qtmodeltester, qtbot):
    model = FolderModel()
    model.set_folders([("/photos", False), ("/photos/archive", True)])
    qtmodeltester.check(model)
    index = model.index(0, 1)
    assert model.flags(index) & Qt.ItemFlag.ItemIsUserCheckable
    assert model.index(1, 1).data(Qt.ItemDataRole.CheckStateRole) == Qt.CheckState.Checked
    with qtbot.waitSignal(model.reference_toggled) as toggled:
        assert model.setData(index, Qt.CheckState.Checked, Qt.ItemDataRole.CheckStateRole)
    assert toggled.args == ["/photos", True]
    assert model.row_at(0) == ("/photos", True)


# --------------------------------------------------------------------- dialogs


def test_keep_rules_dialog_reorders_edits_and_keeps_presets(qtbot, tmp_path):
    with Catalog(tmp_path / "c.sqlite") as catalog:
        dialog = KeepRulesDialog(lambda: Cleanup(catalog), KeepRules())
        qtbot.addWidget(dialog)
        assert dialog.rules() == KeepRules() and dialog.preset_name() == "default"
        dialog.criteria.setCurrentRow(3)  # larger file (the camera original is first)
        _move(dialog.criteria, -1)
        _move(dialog.criteria, -1)
        dialog.criteria.item(6).setCheckState(Qt.CheckState.Unchecked)  # preferred folder
        dialog.formats.setText("tiff, raw; jpeg")
        dialog.folders.addItem("/photos/best")
        rules = dialog.rules()
        assert rules.criteria == (
            Criterion.ORIGINAL,
            Criterion.SIZE,
            Criterion.PIXELS,
            Criterion.FORMAT,
            Criterion.DATE,
            Criterion.PATH,
        )
        assert rules.formats == ("TIFF", "RAW", "JPEG") and rules.folders == ("/photos/best",)
        assert dialog.preset_name() == ""  # changed since the preset was loaded
        assert dialog.save_preset("Prints")
        assert presets.load(catalog, "Prints") == rules
        assert dialog.preset.currentText() == "Prints" and dialog.preset_name() == "Prints"
        dialog.load_preset("default")
        assert dialog.rules() == KeepRules()
        dialog.load_preset("Prints")
        assert dialog.delete_preset()
        assert "Prints" not in presets.all_presets(catalog)
        assert dialog.rules() == KeepRules()
        assert not dialog.save_preset("   ")


def test_apply_dialog_requests_and_stale_previews(qtbot):
    a = record(1, "/photos/a.jpg", width=6000, height=4000)
    b = record(2, "/photos/copies/a.jpg")
    resolve = resolver({1: a, 2: b})
    plan: Plan = select([resolve(grouping([[(1, 0), (2, 1)]]), 0)], threshold=10)
    dialog = ApplyDialog(plan, ["/photos"], trash_label="the trash", allow_delete=False)
    qtbot.addWidget(dialog)
    requests = []
    dialog.preview_requested.connect(requests.append)
    dialog.refresh()
    first = requests[-1]
    assert first.action is Action.TRASH and [i.record.id for i in first.items] == [2]
    set_action(dialog, Action.DELETE)  # turned off: nothing changes
    assert dialog.action() is Action.TRASH
    set_action(dialog, Action.MOVE)
    assert dialog.request() is None and "Choose the folder" in dialog.summary.text()
    dialog.folder.setText("/backup/dupes")
    dialog.refresh()
    moving = requests[-1]
    assert moving.destination == "/backup/dupes" and moving.roots == ("/photos",)
    dialog.set_preview(first, [_result("a.jpg", State.PLANNED, "/trash/files/a.jpg")])
    assert not dialog.go.isEnabled()  # a late answer about the old choice
    dialog.set_preview(moving, [_result("a.jpg", State.PLANNED, "/backup/dupes/copies/a.jpg")])
    assert dialog.go.isEnabled() and dialog.go.text() == "Move 1 Photo to the Folder"
    assert dialog.previewed is moving
    dialog.set_preview_error(moving, "Not a folder: /backup/dupes")
    assert not dialog.go.isEnabled() and "Not a folder" in dialog.summary.text()


def test_report_texts():
    done = _result("a.jpg", State.DONE, "/trash/files/a.jpg")
    left = _result("b.jpg", State.FAILED, error="gone")
    report = Report(4, Action.TRASH, False, (done, left), cancelled=True)
    said = report_text(report, "the trash", restorable=True)
    assert said.startswith("Moved 1 photo (1.0 KB) to the trash.")
    assert "Stopped before the end" in said and "1 photo left where they are" in said
    assert "Ctrl+Z" in said
    assert "cannot put them back" in report_text(report, "the Trash", restorable=False)
    back = Report(4, Action.TRASH, True, (_result("a.jpg", State.RESTORED, "/photos/a.jpg"),))
    assert report_text(back, "the trash", True) == "Put back 1 photo (1.0 KB) from operation 4."


def test_large_groups_get_their_plan_from_the_worker_after_painting(qtbot, marks, monkeypatch):
    from desktop_app.gui.groups import marking

    monkeypatch.setattr(marking, "SYNC_PLAN_MEMBERS", 2)  # the 3-photo group is "large"
    marks.set_context()  # forget the plans made so far
    assert marks.plan_for(marks.grouping, 1).keeper.image.id == 4  # 2 photos: now
    with qtbot.waitSignal(marks.changed, timeout=5000) as changed:
        assert marks.plan_for(marks.grouping, 0) is None  # asked of the worker
        assert marks.plan_for(marks.grouping, 0) is None  # once
    assert changed.args == [[0]]
    assert marks.plan_for(marks.grouping, 0).keeper.image.id == 1
    assert marks.toggle(0, 2)  # a click works the same


def test_apply_dialog_offers_the_metadata_merge_and_shows_sidecars(qtbot, tmp_path):
    from desktop_app.engine.fileops.requests import MetadataMerge

    a = record(1, "/photos/a.jpg", width=6000, height=4000)
    b = record(2, "/photos/copies/a.jpg")
    resolve = resolver({1: a, 2: b})
    plan: Plan = select([resolve(grouping([[(1, 0), (2, 1)]]), 0)], threshold=10)
    dialog = ApplyDialog(plan, ["/photos"], trash_label="the trash", allow_delete=False)
    qtbot.addWidget(dialog)
    requests = []
    dialog.preview_requested.connect(requests.append)
    dialog.refresh()
    assert not requests[-1].merge_metadata  # off unless asked for
    dialog.merge.setChecked(True)  # a new dry run, with the merge
    merging = requests[-1]
    assert merging.merge_metadata
    sidecar = FileResult("/photos/copies/a.xmp", "/trash/files/a.xmp", 300, State.PLANNED)
    going = FileResult(
        "/photos/copies/a.jpg", "/trash/files/a.jpg", 1000, State.PLANNED, sidecars=(sidecar,)
    )
    dialog.set_preview(merging, [going])
    assert "1 sidecar file (.xmp, .aae, Live Photo .mov…) goes with them" in dialog.summary.text()
    assert "with its sidecar a.xmp" in dialog.model.index(0, 2).data(Qt.ItemDataRole.ToolTipRole)
    inherit = MetadataMerge("/photos/a.jpg", "/photos/a.jpg.xmp", True, "rating 4; caption")
    dialog.set_merge_preview(merging, [inherit])
    assert dialog.merge_summary.text() == (
        "1 kept photo will inherit: a.jpg: rating 4; caption (new sidecar)"
    )
    dialog.show()
    dialog.grab().save(str(tmp_path / "apply_merge.png"))

    done = Report(
        7, Action.TRASH, False, (_result("a.jpg", State.DONE, "/t/a.jpg"),),
        merges=(MetadataMerge("/photos/b.jpg", "/photos/b.jpg.xmp", False, "GPS", state="done"),),
    )  # fmt: skip
    assert "1 kept photo inherited what their copies carried" in report_text(done, "x", True)
