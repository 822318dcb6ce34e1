"""Moves and undos on disks that fail half-way: the photo is never left nowhere.

A network share can time out on a removal the server did carry out, a sync tool can take
a file at the moment we remove it, and an emptied trash can hand the photo's name to
another file. These tests play those situations with monkeypatched removals.
"""

from __future__ import annotations

import errno
import os
from pathlib import Path

import pytest

from desktop_app.engine.catalog.store import Catalog
from desktop_app.engine.fileops import fsutil, journal, operations
from desktop_app.engine.fileops.journal import Action, State
from desktop_app.engine.fileops.operations import Removal, Request
from desktop_app.engine.fileops.trash import FreedesktopTrash
from desktop_app.engine.types import drain
from tests.engine.cleanup_support import (
    add_to_catalog,
    digest,
    no_system_trash,  # noqa: F401 - autouse fixture
    write_file,
)


@pytest.fixture
def catalog(tmp_path):
    with Catalog(tmp_path / "catalog.sqlite") as opened:
        yield opened


@pytest.fixture
def records(tmp_path, catalog):
    root = tmp_path / "lib"
    paths = [write_file(root / f"a{i}.jpg", f"photo {i} ".encode() * 200) for i in range(2)]
    catalog.add_root(str(root))
    return [add_to_catalog(catalog, p) for p in paths]


def _unlink_failing(monkeypatch, victim: str, *, remove_first: bool, damage: bool = False):
    """``os.unlink(victim)`` raises a timeout, after removing (or damaging) it if asked."""
    real = os.unlink

    def unlink(path, *args, **kwargs):
        if os.fspath(path) == victim:
            if remove_first:
                real(path)
            if damage:
                Path(path).write_bytes(b"half written by a sync tool")
            raise OSError(errno.ETIMEDOUT, "Connection timed out", os.fspath(path))
        return real(path, *args, **kwargs)

    monkeypatch.setattr(os, "unlink", unlink)


def _move(catalog, tmp_path, record):
    request = Request((Removal(record),), action=Action.MOVE, destination=str(tmp_path / "moved"))
    return drain(operations.apply(catalog, request))


def test_a_removal_that_times_out_after_removing_keeps_the_copy(
    monkeypatch, tmp_path, catalog, records
):
    monkeypatch.setattr(fsutil, "same_device", lambda a, b: False)
    _unlink_failing(monkeypatch, records[0].path, remove_first=True)
    report = _move(catalog, tmp_path, records[0])
    monkeypatch.undo()
    target = tmp_path / "moved" / "a0.jpg"
    assert not os.path.exists(records[0].path)
    assert target.is_file() and digest(target) == records[0].digest  # the photo survives
    (entry,) = journal.entries(catalog, report.operation)
    assert entry.state is State.DONE and entry.destination == str(target)  # and says where


def test_a_source_damaged_during_the_removal_keeps_both(monkeypatch, tmp_path, catalog, records):
    monkeypatch.setattr(fsutil, "same_device", lambda a, b: False)
    _unlink_failing(monkeypatch, records[0].path, remove_first=False, damage=True)
    report = _move(catalog, tmp_path, records[0])
    monkeypatch.undo()
    target = tmp_path / "moved" / "a0.jpg"
    assert target.is_file() and digest(target) == records[0].digest
    (failed,) = report.failed
    assert str(target) in (failed.error or "")  # the journal says where the photo is


def test_a_removal_refused_with_the_source_intact_takes_the_copy_back(
    monkeypatch, tmp_path, catalog, records
):
    monkeypatch.setattr(fsutil, "same_device", lambda a, b: False)
    _unlink_failing(monkeypatch, records[0].path, remove_first=False)
    report = _move(catalog, tmp_path, records[0])
    monkeypatch.undo()
    assert digest(records[0].path) == records[0].digest and len(report.failed) == 1
    assert not (tmp_path / "moved" / "a0.jpg").exists()


def test_undo_across_devices_keeps_the_copy_when_the_trash_copy_vanishes(
    monkeypatch, tmp_path, catalog, records
):
    trash = FreedesktopTrash(tmp_path / "trash")
    report = drain(operations.apply(catalog, Request((Removal(records[0]),)), trash=trash))
    sent = report.done[0].destination
    assert sent is not None
    monkeypatch.setattr(fsutil, "same_device", lambda a, b: False)
    _unlink_failing(monkeypatch, sent, remove_first=True)
    back = drain(operations.undo(catalog))
    monkeypatch.undo()
    assert digest(records[0].path) == records[0].digest
    assert len(back.done) == 1


@pytest.mark.parametrize("cross_device", [False, True])
def test_undo_never_restores_a_stranger_that_took_the_name(
    monkeypatch, tmp_path, catalog, records, cross_device
):
    trash = FreedesktopTrash(tmp_path / "trash")
    report = drain(operations.apply(catalog, Request((Removal(records[0]),)), trash=trash))
    sent = report.done[0].destination
    assert sent is not None
    os.unlink(sent)  # the trash was emptied; another file took the name
    same_size = b"x" * records[0].size
    Path(sent).write_bytes(same_size)
    if cross_device:
        monkeypatch.setattr(fsutil, "same_device", lambda a, b: False)
    back = drain(operations.undo(catalog))
    assert not back.done and len(back.failed) == 1
    assert "no longer the photo" in (back.failed[0].error or "")
    assert not os.path.exists(records[0].path)  # nothing moved
    assert Path(sent).read_bytes() == same_size
    Path(sent).write_bytes(b"short")  # a size that differs is caught too
    again = drain(operations.undo(catalog, report.operation))
    assert not again.done and not os.path.exists(records[0].path)
