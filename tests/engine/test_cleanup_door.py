"""The cleanup front door (engine/cleanup.py): what the window and ``doppel`` call."""

from __future__ import annotations

import shutil

import pytest

from desktop_app.demo import synthetic_photo, write_variant
from desktop_app.engine.cleanup import (
    Action,
    Cleanup,
    FreedesktopTrash,
    KeepRules,
    State,
    file_record,
    select_in,
)
from desktop_app.engine.config import EngineConfig
from desktop_app.engine.errors import CatalogError, UsageError
from desktop_app.engine.library import Library
from desktop_app.engine.types import drain
from tests.engine.cleanup_support import (
    no_system_trash,  # noqa: F401 - autouse fixture
    tree_digests,
)


@pytest.fixture
def library(tmp_path):
    root = tmp_path / "photos"
    picture = synthetic_photo(71, (480, 320))
    (root / "new").mkdir(parents=True)
    (root / "old").mkdir(parents=True)
    picture.save(root / "old" / "IMG_1.jpg", "JPEG", quality=92)
    shutil.copyfile(root / "old" / "IMG_1.jpg", root / "new" / "IMG_1.jpg")
    write_variant(picture, "resize50", root / "new" / "IMG_1_web")
    synthetic_photo(72, (480, 320)).save(root / "old" / "IMG_2.jpg", "JPEG", quality=92)
    with Library(
        [root], catalog=tmp_path / "catalog.sqlite", config=EngineConfig(workers=0)
    ) as opened:
        drain(opened.scan())
        yield opened


def test_a_cleanup_on_a_library_shares_its_catalog_and_leaves_it_open(library):
    with Cleanup(library) as cleanup:
        cleanup.save_preset("mine", KeepRules.parse("path,size"))
    # the library's catalog is still open, and holds what the Cleanup wrote
    assert library.counts()[0] == 4
    assert Cleanup(library).preset("mine") == KeepRules.parse("path,size")


def test_a_cleanup_on_a_path_opens_its_own_catalog(library):
    path = library.catalog.path
    with Cleanup(path) as cleanup:
        assert cleanup.path == path
        assert list(cleanup.folders()) == list(library.roots)
        assert cleanup.references() == ()
    with pytest.raises(CatalogError):  # closed with the with-block
        cleanup.history()


def test_select_in_keeps_the_photos_of_reference_folders(library):
    root = library.roots[0]
    cleanup = Cleanup(library)
    cleanup.set_reference(f"{root}/old", True)
    plan = select_in(library, 10, KeepRules.parse("pixels,path"))
    (group,) = plan.groups
    assert group.keeper.image.path == f"{root}/old/IMG_1.jpg"
    assert sorted(r.record.path for r in plan.marked) == [
        f"{root}/new/IMG_1.jpg",
        f"{root}/new/IMG_1_web.jpg",
    ]


def test_apply_and_undo_through_the_front_door(library, tmp_path):
    root = library.roots[0]
    before = tree_digests(tmp_path / "photos")
    cleanup = Cleanup(library)
    plan = select_in(library, 10, KeepRules.parse("pixels,path"))
    trash = FreedesktopTrash(str(tmp_path / "trash"))
    request = plan.request(Action.TRASH, roots=library.roots)
    preview = cleanup.preview(request, trash=trash)
    assert {r.state for r in preview} == {State.PLANNED}
    report = drain(cleanup.apply(request, trash=trash))
    assert len(report.done) == 2 and not report.failed
    assert [op.id for op in cleanup.undoable()] == [report.operation]
    assert len(cleanup.entries(report.operation)) == 2
    drain(cleanup.undo())
    assert tree_digests(tmp_path / "photos") == before
    assert cleanup.history()[0].restored == 2
    assert cleanup.recover() == []
    assert root in cleanup.folders()


def test_the_not_copies_list_by_file(library, tmp_path):
    root = library.roots[0]
    cleanup = Cleanup(library)
    files = [f"{root}/old/IMG_1.jpg", f"{root}/old/IMG_2.jpg"]
    assert cleanup.ignore([file_record(f) for f in files]) == 1
    (pair,) = cleanup.ignored()
    assert {pair.a_path, pair.b_path} == set(files)
    assert len(cleanup.not_copies()) == 1
    assert cleanup.unignore_records([file_record(f) for f in files]) == 1
    assert cleanup.ignored() == []
    with pytest.raises(UsageError, match="Cannot read"):
        file_record(str(tmp_path / "missing.jpg"))
