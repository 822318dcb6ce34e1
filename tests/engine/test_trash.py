"""Trash locations: the freedesktop layout, per-drive trash folders, the Send2Trash path.

Nothing here reaches the real trash: XDG_DATA_HOME points into tmp_path, drives are
simulated by patching the device lookup, and Send2Trash is forbidden.
"""

from __future__ import annotations

import datetime as dt
import os
import stat

import pytest

from desktop_app.engine.catalog.store import Catalog
from desktop_app.engine.fileops import operations, trash
from desktop_app.engine.fileops.operations import Removal, Request
from desktop_app.engine.fileops.trash import (
    FreedesktopTrash,
    SystemTrash,
    TrashUnavailable,
)
from desktop_app.engine.types import drain
from tests.engine.cleanup_support import (
    add_to_catalog,
    no_system_trash,  # noqa: F401 - autouse fixture
    parse_info,
    write_file,
)


def test_the_home_trash_follows_xdg_data_home(tmp_path):
    where = FreedesktopTrash().location(str(tmp_path / "a.jpg"))
    assert where.files == str(tmp_path / "xdg-data" / "Trash" / "files")
    assert where.info == str(tmp_path / "xdg-data" / "Trash" / "info")
    assert stat.S_IMODE(os.stat(where.files).st_mode) == 0o700
    assert FreedesktopTrash().label == "the trash"


def test_trashinfo_quotes_paths_and_dates_like_the_spec(tmp_path):
    t = FreedesktopTrash(tmp_path / "t")
    where = t.location("/photos/été 2019/a b.jpg")
    text = t.info_text("/photos/été 2019/a b.jpg", where, dt.datetime(2024, 5, 1, 13, 45, 10))
    assert text == (
        "[Trash Info]\nPath=/photos/%C3%A9t%C3%A9%202019/a%20b.jpg\n"
        "DeletionDate=2024-05-01T13:45:10\n"
    )
    assert parse_info(text) == "/photos/été 2019/a b.jpg"


@pytest.fixture
def other_drive(tmp_path, monkeypatch):
    """Pretend tmp_path/drive is another file system mounted at tmp_path/drive."""
    drive = tmp_path / "drive"
    drive.mkdir()
    real = trash._device

    def device(path):
        return 999 if str(path).startswith(str(drive)) else real(path)

    monkeypatch.setattr(trash, "_device", device)
    monkeypatch.setattr(trash, "_mount_point", lambda path: str(drive))
    return drive


def test_files_on_another_drive_go_to_that_drives_trash(tmp_path, other_drive):
    source = write_file(other_drive / "photos" / "a.jpg", b"x" * 100)
    where = FreedesktopTrash().location(str(source))
    uid = os.getuid()
    assert where.files == str(other_drive / f".Trash-{uid}" / "files")
    assert where.topdir == str(other_drive)
    text = FreedesktopTrash().info_text(str(source), where, dt.datetime(2024, 1, 1))
    assert "Path=photos/a.jpg\n" in text  # relative to the drive's top


def test_a_shared_sticky_trash_on_the_drive_is_preferred(other_drive):
    shared = other_drive / ".Trash"
    shared.mkdir()
    shared.chmod(0o1777)
    where = FreedesktopTrash().location(str(other_drive / "a.jpg"))
    assert where.files == str(shared / str(os.getuid()) / "files")


def test_a_shared_trash_without_the_sticky_bit_is_not_used(other_drive):
    (other_drive / ".Trash").mkdir()
    where = FreedesktopTrash().location(str(other_drive / "a.jpg"))
    assert f".Trash-{os.getuid()}" in where.files


def test_no_usable_trash_on_the_drive_leaves_files_in_place(tmp_path, other_drive, monkeypatch):
    catalog = Catalog(tmp_path / "c.sqlite")
    record = add_to_catalog(catalog, write_file(other_drive / "a.jpg", b"y" * 100))

    def refuse(path):
        raise PermissionError(13, "Permission denied", path)

    monkeypatch.setattr(trash, "_make_private_dir", refuse)
    with pytest.raises(TrashUnavailable):
        FreedesktopTrash().location(record.path)
    report = drain(operations.apply(catalog, Request((Removal(record),))))
    assert "no trash folder" in (report.failed[0].error or "")
    assert os.path.exists(record.path)
    catalog.close()


def test_the_system_trash_of_macos_and_windows_has_no_undo():
    system = SystemTrash()
    assert not system.restorable
    with pytest.raises(TrashUnavailable):
        system.location("/x.jpg")
    assert "Put Back" in system.restore_hint() or "Restore" in system.restore_hint()
    with pytest.raises(AssertionError, match="real system trash"):
        system.send("/nonexistent.jpg")  # the test guard stands in for Send2Trash
