"""Cleaning up from the window, library side: not-copies, reference folders, checking an
import, export, and the recovery of an interrupted operation at start-up."""

from __future__ import annotations

import csv
import io
import json
import shutil

import pytest

from desktop_app.engine.catalog.store import Catalog
from desktop_app.engine.fileops import journal
from desktop_app.gui.common import dialogs
from tests.engine.cleanup_support import tree_digests
from tests.gui.cleanup_support import (  # noqa: F401 - fixtures
    COPIES,
    ORIGINALS,
    library,
    make_window,
    select_duplicates,
    trash_dir,
    window,
)
from tests.gui.factories import write_library
from tests.gui.test_window import wait_idle


def test_not_copies_hides_the_group_until_forgotten(qtbot, window):
    model, view, session = window.groups.model, window.groups.view, window.session
    group = model.group(1)
    view.select_photo(1, 0)
    with qtbot.waitSignal(session.grouping_changed, timeout=5000):
        assert window.cleanup.not_copies()
    assert model.rowCount() == ORIGINALS - 1
    shown = {m.image.id for r in range(model.rowCount()) for m in model.group(r).members}
    assert not shown & {m.image.id for m in group.members}
    assert "not copies" in window.statusBar().currentMessage()

    # Two selected photos of another group: only that pair is remembered.
    view.select_photo(0, 0)
    view.select_photo(0, 1, toggle=True)
    pair = [r.path for r in view.selected_photos()]
    with qtbot.waitSignal(session.grouping_changed, timeout=5000):
        assert window.cleanup.not_copies()

    dialog = window.cleanup.show_ignore_list()
    assert dialog.model.rowCount() == 3 + 1  # every pair of the group, then the pair
    newest = dialog.model.row_at(0)
    assert {newest.a_path, newest.b_path} == set(pair)
    with qtbot.waitSignal(session.grouping_changed, timeout=5000):
        assert dialog.forget_rows(range(dialog.model.rowCount())) == 4
    assert dialog.model.rowCount() == 0
    assert model.rowCount() == ORIGINALS
    assert all(len(model.group(r).members) == COPIES + 1 for r in range(model.rowCount()))


def test_a_reference_folder_is_never_marked_and_keeps(qtbot, window, library):
    folder, _ = library
    marks, model, view = window.cleanup.marks, window.groups.model, window.groups.view
    dialog = window.cleanup.show_folders()
    assert [dialog.model.row_at(0)] == [(str(folder.resolve()), False)]
    assert not dialog.add_reference(str(folder.parent))  # not in the library
    assert "not in the library" in dialog.status.text()
    assert dialog.add_reference(str(folder / "exports"))
    exports = str((folder / "exports").resolve())
    assert dialog.model.rowCount() == 2 and dialog.model.row_at(1) == (exports, True)
    with Catalog(window.session.catalog_path) as catalog:  # kept in the catalog
        assert [r.path for r in catalog.roots() if r.reference] == [exports]
    assert marks.references == (exports,)

    select_duplicates(qtbot, window)
    for row in range(model.rowCount()):
        plan = marks.plan_for(model.grouping, row)
        assert plan.keeper.reference and plan.keeper.image.path.startswith(exports)
        assert all(not d.image.path.startswith(exports) for d in plan.marked)
        originals = [m.image.path for m in model.group(row).members if "originals" in m.image.path]
        assert [d.image.path for d in plan.marked] == originals
    # A reference photo cannot be marked, and the window says why.
    members = len(model.group(0).members)
    slot = next(  # the keeper comes first; the other reference photo after the marked ones
        k for k in range(1, members) if exports in model.member(0, k).image.path
    )
    view.select_photo(0, slot)
    window.cleanup.actions.toggle_mark.trigger()
    assert "reference folder" in window.statusBar().currentMessage()
    assert "in a reference folder" in view.card_tooltip(0, slot)

    # Unchecked again: the photos there can be marked.
    dialog.model.setData(dialog.model.index(1, 1), 0, 10)  # Qt.CheckStateRole
    assert marks.references == ()


def test_check_an_import_against_the_library(qtbot, make_window, tmp_path):
    home = tmp_path / "library"
    files = write_library(home, originals=3, copies=0, seed=5)
    imported = tmp_path / "card"
    imported.mkdir()
    shutil.copyfile(files["photo00"][0], imported / "DSC_0001.jpg")  # already in the library
    from PIL import Image

    with Image.open(files["photo01"][0]) as picture:  # a re-saved copy
        picture.resize((240, 180)).save(imported / "DSC_0002.jpg", quality=80)
    new = write_library(tmp_path / "other", originals=1, copies=0, seed=9)["photo00"][0]
    shutil.copyfile(new, imported / "DSC_0003.jpg")  # new, not in the library
    before = tree_digests(home)

    window = make_window()
    window.open_folders([str(home)])
    wait_idle(qtbot, window)
    assert window.groups.model.rowCount() == 0
    assert not window.cleanup.check_import(str(home / "originals"))  # inside the library
    assert window.cleanup.check_import(str(imported))
    marks = window.cleanup.marks
    qtbot.waitUntil(
        lambda: not window.session.index.is_running() and marks.marked_count() > 0,
        timeout=20_000,
    )
    wait_idle(qtbot, window)
    qtbot.waitUntil(lambda: not marks.is_busy())
    marked = sorted(r.record.name for r in marks.plan().marked)
    assert marked == ["DSC_0001.jpg", "DSC_0002.jpg"]
    assert all(str(home.resolve()) in r.keeper for r in marks.plan().marked)
    assert set(window.session.roots) == {str(home.resolve()), str(imported.resolve())}
    assert marks.references == (str(home.resolve()),)
    assert tree_digests(home) == before


def test_export_groups_and_marks_as_csv_and_json(qtbot, window, tmp_path):
    select_duplicates(qtbot, window)
    for name in ("groups.csv", "groups.json"):
        target = tmp_path / name
        window.cleanup.export(str(target))
        qtbot.waitUntil(lambda: "Exported" in window.statusBar().currentMessage())
        window.statusBar().clearMessage()
    rows = list(csv.DictReader(io.StringIO((tmp_path / "groups.csv").read_text("utf-8"))))
    assert len(rows) == ORIGINALS * (COPIES + 1)
    assert sum(r["marked"] == "True" for r in rows) == ORIGINALS * COPIES
    assert sum(r["keeper"] == "True" for r in rows) == ORIGINALS
    data = json.loads((tmp_path / "groups.json").read_text("utf-8"))
    assert data["summary"]["marked"] == ORIGINALS * COPIES
    assert data["roots"] == list(window.session.roots)
    assert data["groups"][0]["reason"].startswith("kept: largest pixel count")


@pytest.fixture
def interrupted(tmp_path, library):
    """A catalog whose trash operation was cut short by a 'power cut' after one move."""
    from tests.engine.test_fileops import _crash

    _, files = library
    catalog_path = tmp_path / "catalog.sqlite"
    copies = [str(p.resolve()) for p in files["photo00"][1:]]
    with Catalog(catalog_path) as catalog:
        from tests.engine.cleanup_support import add_to_catalog

        for path in copies:
            add_to_catalog(catalog, path)
        assert _crash(catalog, tmp_path / "trash", "after-rename", copies) == 3
    return copies


def test_an_interrupted_operation_is_settled_at_start_and_reported(
    qtbot, make_window, interrupted, monkeypatch, allowed_warnings
):
    allowed_warnings.append(r"Recovered \d+ interrupted file operations")  # the engine's
    shown = []
    monkeypatch.setattr(dialogs, "show_recovery", lambda parent, lines: shown.append(lines))
    window = make_window()
    assert window.cleanup.recovered
    qtbot.waitUntil(lambda: bool(shown))
    (lines,) = shown
    assert any(interrupted[0] in line for line in lines)
    assert "interrupted operation was settled" in window.statusBar().currentMessage()
    with Catalog(window.session.catalog_path) as catalog:
        assert not journal.open_entries(catalog)


def test_keep_rules_dialog_selects_with_its_rules_and_remembers_the_preset(qtbot, window, settings):
    from desktop_app.engine.selection.keeprules import Criterion, KeepRules
    from desktop_app.gui.common import settings as keys

    dialog = window.cleanup.show_keep_rules()
    dialog.set_rules(KeepRules((Criterion.SIZE, Criterion.PATH)))
    assert dialog.save_preset("Larger file first")
    dialog.within.setChecked(True)
    marks = window.cleanup.marks
    with qtbot.waitSignal(marks.message, timeout=10_000):
        dialog.select.click()
    assert marks.rules.criteria == (Criterion.SIZE, Criterion.PATH) and marks.within
    assert settings.get(keys.KEEP_PRESET) == "Larger file first"
    assert settings.get(keys.SELECT_WITHIN)
    assert marks.marked_count() == ORIGINALS * COPIES


def test_the_trash_folder_setting(qtbot, window, settings, tmp_path, monkeypatch):
    from desktop_app.engine.fileops.trash import FreedesktopTrash
    from desktop_app.gui.common import settings as keys

    chosen = str(tmp_path / "my-trash")
    monkeypatch.setattr(dialogs, "ask_trash_location", lambda parent, current: chosen)
    window.cleanup.actions.trash_folder.trigger()
    assert settings.get(keys.TRASH_FOLDER) == chosen
    trash = settings.trash()
    assert isinstance(trash, FreedesktopTrash) and trash.folder == chosen
    assert chosen in window.statusBar().currentMessage()
    monkeypatch.setattr(dialogs, "ask_trash_location", lambda parent, current: None)
    window.cleanup.actions.trash_folder.trigger()  # cancelled: unchanged
    assert settings.get(keys.TRASH_FOLDER) == chosen
