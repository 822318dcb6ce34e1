"""Sidecars travel with their photo: trash, move, delete, undo and crashes keep them together.

The library: a RAW with its ``.xmp``, a HEIC with its ``.aae`` and Live Photo ``.mov``, a
JPEG with darktable's ``photo.jpg.xmp``, and a RAW + JPEG pair sharing one ``.xmp``.
"""

from __future__ import annotations

import os
from pathlib import Path

import pytest

from desktop_app.engine.catalog import sidecar_table
from desktop_app.engine.catalog.store import Catalog
from desktop_app.engine.fileops import journal, operations, runner, sidecars
from desktop_app.engine.fileops.journal import Action, State
from desktop_app.engine.fileops.operations import Removal, Request, confirmation_for
from desktop_app.engine.fileops.trash import FreedesktopTrash
from desktop_app.engine.types import drain
from tests.engine.cleanup_support import (
    add_to_catalog,
    no_system_trash,  # noqa: F401 - autouse fixture
    tree_digests,
    write_file,
)
from tests.engine.test_fileops import _crash, no_leftovers

OWN = {
    "IMG_1.CR3": ["IMG_1.xmp"],
    "IMG_2.HEIC": ["IMG_2.AAE", "IMG_2.MOV"],
    "photo.jpg": ["photo.jpg.xmp"],
}


@pytest.fixture
def catalog(tmp_path):
    with Catalog(tmp_path / "catalog.sqlite") as opened:
        yield opened


@pytest.fixture
def library(tmp_path, catalog):
    root = tmp_path / "lib"
    records = []
    for k, (photo, extras) in enumerate(OWN.items()):
        records.append(add_to_catalog(catalog, write_file(root / photo, b"pixels %d " % k * 90)))
        for extra in extras:
            write_file(root / extra, f"sidecar {extra} of {photo} ".encode() * 5)
    # A RAW + JPEG pair sharing one .xmp: it stays with the copy that stays.
    write_file(root / "IMG_3.CR3", b"raw three " * 80)
    records.append(add_to_catalog(catalog, write_file(root / "IMG_3.JPG", b"jpeg three " * 80)))
    write_file(root / "IMG_3.xmp", b"shared sidecar of IMG_3 " * 5)
    catalog.add_root(str(root))
    return root, records


@pytest.fixture
def trash(tmp_path):
    return FreedesktopTrash(tmp_path / "trash")


def request(records, **kwargs) -> Request:
    return Request(tuple(Removal(r) for r in records), **kwargs)


def test_sidecars_are_recognised_in_both_forms_and_shared_ones_are_left():
    names = [
        "IMG_1.CR3", "IMG_1.xmp", "IMG_1.CR3.pp3", "IMG_1.CR3.dop", "IMG_2.HEIC", "IMG_2.aae",
        "IMG_2.mov", "IMG_3.CR3", "IMG_3.JPG", "IMG_3.XMP", "IMG_10.xmp", "notes.txt",
    ]  # fmt: skip
    assert sidecars.in_listing("IMG_1.CR3", names) == [
        "IMG_1.CR3.dop",
        "IMG_1.CR3.pp3",
        "IMG_1.xmp",
    ]
    assert sidecars.in_listing("IMG_2.HEIC", names) == ["IMG_2.aae", "IMG_2.mov"]
    assert sidecars.in_listing("IMG_3.JPG", names) == []  # shared with IMG_3.CR3
    assert sidecars.kind("IMG_2.mov") == "live photo"
    assert sidecars.renamed("/a/x.jpg", "/a/x.jpg.xmp", "/t/x (2).jpg") == "/t/x (2).jpg.xmp"
    assert sidecars.renamed("/a/x.CR3", "/a/x.XMP", "/t/x (2).CR3") == "/t/x (2).XMP"


def test_the_xmp_read_for_capture_follows_the_same_listing(tmp_path):
    from desktop_app.engine.imaging import sidecar_files, xmp

    for name in ("IMG_3.CR3", "IMG_3.JPG", "IMG_3.XMP", "IMG_4.jpg", "img_4.JPG.xmp"):
        (tmp_path / name).write_bytes(b"x")
    listing = sidecar_files.Listing(os.listdir(tmp_path))
    # Reading: the RAW+JPEG pair's shared stem-form .xmp describes both ...
    assert listing.xmp("IMG_3.JPG") == "IMG_3.XMP"
    assert xmp.find_sidecar(tmp_path / "IMG_3.CR3") == str(tmp_path / "IMG_3.XMP")
    # ... while for moving it belongs to neither.
    assert listing.xmp("IMG_3.JPG", shared=False) is None
    assert sidecar_files.find(str(tmp_path / "IMG_3.JPG")) == []
    assert xmp.find_sidecar(tmp_path / "IMG_4.jpg") == str(tmp_path / "img_4.JPG.xmp")
    (tmp_path / "IMG_5.jpg").write_bytes(b"x")
    assert xmp.find_sidecar(tmp_path / "IMG_5.jpg") is None
    (tmp_path / "IMG_5.jpg.xmp").write_bytes(b"x")  # the folder changed: listed again
    os.utime(tmp_path, ns=(0, os.stat(tmp_path).st_mtime_ns + 10**9))
    assert xmp.find_sidecar(tmp_path / "IMG_5.jpg") == str(tmp_path / "IMG_5.jpg.xmp")


def test_trash_takes_the_sidecars_and_undo_brings_them_back(catalog, library, trash, tmp_path):
    root, records = library
    before = tree_digests(root)
    report = drain(operations.apply(catalog, request(records), trash=trash))
    assert len(report.done) == 4
    gone = {name for extras in OWN.values() for name in extras} | set(OWN) | {"IMG_3.JPG"}
    assert sorted(os.listdir(root)) == ["IMG_3.CR3", "IMG_3.xmp"]
    in_trash = set(os.listdir(tmp_path / "trash" / "files"))
    assert in_trash == gone
    assert {r.source: {Path(s.source).name for s in r.sidecars} for r in report.done} == {
        str(root / p): set(extras) for p, extras in {**OWN, "IMG_3.JPG": []}.items()
    }
    no_leftovers(root, tmp_path / "trash")  # every sidecar has its own .trashinfo
    drain(operations.undo(catalog))
    assert tree_digests(root) == before
    assert os.listdir(tmp_path / "trash" / "files") == []
    assert sidecar_table.of(catalog, [str(root / "IMG_1.CR3")]) == {
        str(root / "IMG_1.CR3"): [(str(root / "IMG_1.xmp"), "xmp")]
    }  # back in the catalog with the photo


def test_a_move_to_a_taken_name_renames_the_sidecars_with_the_photo(catalog, library, tmp_path):
    root, records = library
    before = tree_digests(root)
    target = tmp_path / "dupes"
    write_file(target / "IMG_1.CR3", b"someone else's photo " * 5)
    moving = request(records[:1], action=Action.MOVE, destination=str(target), roots=(str(root),))
    report = drain(operations.apply(catalog, moving))
    (done,) = report.done
    assert done.destination == str(target / "IMG_1 (2).CR3")
    assert [s.destination for s in done.sidecars] == [str(target / "IMG_1 (2).xmp")]
    assert sorted(os.listdir(target)) == ["IMG_1 (2).CR3", "IMG_1 (2).xmp", "IMG_1.CR3"]
    drain(operations.undo(catalog))
    assert tree_digests(root) == before
    assert os.listdir(target) == ["IMG_1.CR3"]


def test_a_sidecar_that_cannot_move_keeps_its_photo_in_place(
    monkeypatch, catalog, library, trash, tmp_path
):
    root, records = library
    before = tree_digests(root)
    real = runner.transfer

    def transfer(source, placeholder, token, digest):
        if source.endswith(".MOV"):
            raise OSError(13, "Permission denied", source)
        real(source, placeholder, token, digest)

    monkeypatch.setattr(runner, "transfer", transfer)
    report = drain(operations.apply(catalog, request(records[1:2]), trash=trash))
    (failed,) = report.failed
    assert failed.source == str(root / "IMG_2.HEIC") and "IMG_2.MOV" in (failed.error or "")
    assert {Path(s.source).name: s.state for s in failed.sidecars} == {
        "IMG_2.AAE": State.FAILED,  # it had moved, and was put back
        "IMG_2.MOV": State.FAILED,
    }
    assert tree_digests(root) == before
    no_leftovers(root, tmp_path / "trash")
    assert os.listdir(tmp_path / "trash" / "files") == []
    assert catalog.record_at(str(root / "IMG_2.HEIC")) is not None


def test_an_unreadable_sidecar_keeps_its_photo_in_place(monkeypatch, catalog, library, trash):
    root, records = library
    real = runner.fsutil.digest_file

    def digest_file(path):
        if path.endswith(".xmp"):
            raise PermissionError(13, "Permission denied", path)
        return real(path)

    monkeypatch.setattr(runner.fsutil, "digest_file", digest_file)
    report = drain(operations.apply(catalog, request(records[:1]), trash=trash))
    (failed,) = report.failed
    assert "sidecar IMG_1.xmp cannot be read" in (failed.error or "")
    assert (root / "IMG_1.CR3").exists() and (root / "IMG_1.xmp").exists()


def test_permanent_deletion_removes_the_sidecars_too(catalog, library):
    root, records = library
    items = tuple(Removal(r) for r in records[2:3])
    deleting = Request(items, Action.DELETE, confirmation=confirmation_for(items))
    drain(operations.apply(catalog, deleting, allow_delete=True))
    assert not (root / "photo.jpg").exists() and not (root / "photo.jpg.xmp").exists()


@pytest.mark.parametrize(
    "stage",
    [
        "after-intents",
        "after-reserve",
        "before-move",
        "after-first-rename",
        "after-rename",
        "after-copy",
        "mid-copy",
    ],
)
def test_an_interrupted_operation_leaves_photo_and_sidecars_together(
    tmp_path, catalog, library, stage
):
    root, records = library
    before = tree_digests(root)
    trash_dir = tmp_path / "trash"
    assert _crash(catalog, trash_dir, stage, [r.path for r in records]) == 3
    assert journal.open_entries(catalog)
    settled = operations.recover(catalog)
    if stage == "after-first-rename":  # the moved IMG_1.xmp went back beside its photo
        assert [s.source for s in settled if s.note == "put back beside the rest of its photo"] == [
            str(root / "IMG_1.xmp")
        ]
    (op,) = operations.history(catalog)
    assert op.open == 0
    for photo, extras in OWN.items():  # each unit is wholly in place or wholly in the trash
        here = [(root / n).exists() for n in [photo, *extras]]
        assert all(here) or not any(here), (stage, photo, here)
    no_leftovers(root, trash_dir)
    if op.restorable:
        drain(operations.undo(catalog))
    assert tree_digests(root) == before


def test_the_scan_records_each_photos_sidecars(tmp_path, catalog):
    from desktop_app.engine.config import EngineConfig
    from desktop_app.engine.scan import scanner
    from tests.engine.cleanup_support import write_photo

    root = tmp_path / "scanned"
    write_photo(root / "a.jpg")
    write_file(root / "a.jpg.xmp", b"<x:xmpmeta/> darktable sidecar")
    write_file(root / "a.aae", b"apple edits " * 3)
    write_photo(root / "b.jpg", seed=3)
    drain(scanner.scan(catalog, [str(root)], EngineConfig()))  # type: ignore[arg-type]
    found = sidecar_table.of(catalog, [str(root / "a.jpg"), str(root / "b.jpg")])
    assert found == {
        str(root / "a.jpg"): [(str(root / "a.aae"), "aae"), (str(root / "a.jpg.xmp"), "xmp")]
    }


@pytest.mark.parametrize("stage", ["after-first-rename", "after-rename", "after-copy"])
def test_an_interrupted_undo_brings_photo_and_sidecars_back_together(
    tmp_path, catalog, library, trash, stage
):
    root, records = library
    before = tree_digests(root)
    drain(operations.apply(catalog, request(records), trash=trash))
    assert _crash(catalog, tmp_path / "trash", stage, [], undo=True) == 3
    operations.recover(catalog)
    drain(operations.undo(catalog))  # the rest of the undo
    assert tree_digests(root) == before
    no_leftovers(root, tmp_path / "trash")


def test_sidecars_stay_in_the_trash_with_a_photo_that_cannot_come_back(
    tmp_path, catalog, library, trash
):
    root, records = library
    report = drain(operations.apply(catalog, request(records[:1]), trash=trash))
    os.unlink(report.done[0].destination)  # the photo was emptied from the trash
    back = drain(operations.undo(catalog))
    (left,) = back.failed
    assert "no longer at" in (left.error or "")
    assert [s.error for s in left.sidecars] == ["left with its photo, which cannot be put back"]
    assert not (root / "IMG_1.xmp").exists()


def test_photo_notes_for_the_window_and_the_json(library):
    from desktop_app.engine.library import Library

    root, _records = library
    notes = Library.photo_notes([str(root / "IMG_2.HEIC"), str(root / "IMG_3.JPG")])
    heic = notes[str(root / "IMG_2.HEIC")]
    assert heic.sidecars == (
        (str(root / "IMG_2.AAE"), "aae"),
        (str(root / "IMG_2.MOV"), "live photo"),
    )
    assert heic.lines == ["Sidecars (go with it): IMG_2.AAE, IMG_2.MOV"]
    assert notes[str(root / "IMG_3.JPG")].lines == []  # its .xmp is shared with the RAW


def test_undo_batches_keep_each_photo_with_its_sidecars(tmp_path, catalog, library, trash):
    root, records = library
    before = tree_digests(root)
    write_file(root / "IMG_2.HEIC.dummy", b"x" * 40)  # not a sidecar: stays
    drain(operations.apply(catalog, request(records), trash=trash))
    for name in ("IMG_1.CR3", "IMG_2.HEIC", "photo.jpg"):  # every original name is taken now
        write_file(root / name, b"someone else's " * 4)
    back = drain(operations.undo(catalog, batch_size=1))
    restored = {Path(r.destination).name: [Path(s.destination).name for s in r.sidecars]
                for r in back.done}  # fmt: skip
    assert restored["IMG_2 (2).HEIC"] == ["IMG_2 (2).AAE", "IMG_2 (2).MOV"]
    assert restored["IMG_1 (2).CR3"] == ["IMG_1 (2).xmp"]
    assert restored["photo (2).jpg"] == ["photo (2).jpg.xmp"]
    assert len(tree_digests(root)) == len(before) + 4
