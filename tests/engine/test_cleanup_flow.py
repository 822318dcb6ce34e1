"""The window's cleanup flow through the engine: groups, select, apply, undo, ignore.

Real generated photos, a real scan, the Library's groups; the trash is a folder in
tmp_path. This is the sequence the window's controller runs, without Qt.
"""

from __future__ import annotations

import os
import shutil

import pytest

from desktop_app.demo import synthetic_photo, write_variant
from desktop_app.engine.config import EngineConfig
from desktop_app.engine.fileops import operations
from desktop_app.engine.fileops.operations import Action
from desktop_app.engine.fileops.trash import FreedesktopTrash
from desktop_app.engine.library import Library
from desktop_app.engine.selection import not_copies
from desktop_app.engine.selection.plans import KeepRules, select
from desktop_app.engine.types import drain
from tests.engine.cleanup_support import (
    ignore_group,
    no_system_trash,  # noqa: F401 - autouse fixture
    tree_digests,
)

SIZE = (640, 427)


@pytest.fixture
def folder(tmp_path):
    root = tmp_path / "photos"
    for seed in range(3):
        picture = synthetic_photo(seed + 60, SIZE)
        (root / "2024").mkdir(parents=True, exist_ok=True)
        picture.save(root / "2024" / f"IMG_{seed}.jpg", "JPEG", quality=92)
        if seed == 0:
            write_variant(picture, "resize50", root / "exports" / "IMG_0_web")
            write_variant(picture, "png", root / "exports" / "IMG_0")
            shutil.copyfile(root / "2024" / "IMG_0.jpg", root / "2024" / "IMG_0 (1).jpg")
    return root


@pytest.fixture
def library(folder, tmp_path):
    with Library(
        [folder], catalog=tmp_path / "catalog.sqlite", config=EngineConfig(workers=0)
    ) as opened:
        drain(opened.scan())
        yield opened


def test_select_apply_undo_through_the_library(folder, tmp_path, library):
    before = tree_digests(folder)
    (group,) = library.groups(10)
    plan = select([group], KeepRules.parse("pixels,format,path"), threshold=10)
    keeper = plan.groups[0].keeper.image
    assert keeper.name == "IMG_0.png"  # same pixels as the JPEGs; PNG is preferred
    assert plan.groups[0].reason == "kept: preferred format (PNG vs JPEG)"
    assert sorted(d.image.name for d in plan.groups[0].marked) == [
        "IMG_0 (1).jpg",
        "IMG_0.jpg",
        "IMG_0_web.jpg",
    ]
    trash = FreedesktopTrash(tmp_path / "trash")
    report = drain(operations.apply(library.catalog, plan.request(), trash=trash))
    assert len(report.done) == 3 and not report.failed
    library.refresh()
    assert library.groups(10) == []  # the removed copies left their group
    assert os.path.exists(keeper.path)

    back = drain(operations.undo(library.catalog))
    assert len(back.done) == 3
    assert tree_digests(folder) == before
    library.refresh()
    (again,) = library.groups(10)  # back without a re-scan
    assert {m.image.path for m in again.members} == {m.image.path for m in group.members}
    assert not library.needs_scan()


def test_a_group_said_not_to_be_copies_disappears_and_comes_back(library):
    (group,) = library.groups(10)
    ignore_group(library.catalog, group)
    library.refresh()
    assert library.groups(10) == []
    not_copies.unignore_records(library.catalog, [m.image for m in group.members])
    library.refresh()
    assert len(library.groups(10)) == 1


def test_reference_folder_in_the_catalog_is_honoured_by_apply(folder, tmp_path, library):
    library.catalog.set_reference(str(folder / "exports"), True)
    (group,) = library.groups(10)
    plan = select(
        [group],
        threshold=10,
        references=[r.path for r in library.catalog.roots() if r.reference],
    )
    assert plan.groups[0].keeper.image.name == "IMG_0.png"
    assert all(not d.marked for d in plan.groups[0].decisions if "exports" in d.image.path)
    target = tmp_path / "dupes"
    request = plan.request(Action.MOVE, destination=str(target), roots=library.roots)
    report = drain(operations.apply(library.catalog, request))
    assert sorted(os.path.relpath(r.destination, target) for r in report.done) == [
        "2024/IMG_0 (1).jpg",
        "2024/IMG_0.jpg",
    ]
