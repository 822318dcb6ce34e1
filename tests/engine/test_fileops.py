"""Trash, move, delete and undo: every file accounted for, whatever goes wrong.

The trash in these tests is a folder in tmp_path (``FreedesktopTrash(folder)``), and the
autouse ``no_system_trash`` fixture redirects the system trash and forbids Send2Trash:
the real trash of the machine is never touched.
"""

from __future__ import annotations

import os
import subprocess
import sys
import threading
from pathlib import Path

import pytest

from desktop_app.engine.catalog.store import Catalog
from desktop_app.engine.errors import UsageError
from desktop_app.engine.fileops import fsutil, journal, operations, runner
from desktop_app.engine.fileops.journal import Action, OperationRunning, State
from desktop_app.engine.fileops.operations import DeleteConfirmation, Removal, Request
from desktop_app.engine.fileops.trash import FreedesktopTrash, SystemTrash
from desktop_app.engine.types import drain
from tests import unprivileged
from tests.engine.cleanup_support import (
    add_to_catalog,
    digest,
    no_system_trash,  # noqa: F401 - autouse fixture
    parse_info,
    tree_digests,
    write_file,
)

REPO = Path(__file__).resolve().parents[2]


@pytest.fixture
def catalog(tmp_path):
    with Catalog(tmp_path / "catalog.sqlite") as opened:
        yield opened


@pytest.fixture
def library(tmp_path, catalog):
    """Six files in a library folder with a sub-folder, all catalogued."""
    root = tmp_path / "lib"
    paths = [write_file(root / f"a{i}.jpg", f"photo {i} ".encode() * (100 + i)) for i in range(4)]
    paths += [write_file(root / "sub" / f"b{i}.jpg", f"sub {i} ".encode() * 50) for i in range(2)]
    catalog.add_root(str(root))
    records = [add_to_catalog(catalog, p) for p in paths]
    return root, records


@pytest.fixture
def trash(tmp_path):
    return FreedesktopTrash(tmp_path / "trash")


def request(records, **kwargs) -> Request:
    return Request(tuple(Removal(r) for r in records), **kwargs)


def accounted(catalog: Catalog, operation: int, *, besides: tuple[str, ...] = ()) -> None:
    """Every entry's file is exactly where its final state says, with its bytes.

    ``besides``: sources the test itself changed or removed before the operation.
    """
    for e in journal.entries(catalog, operation):
        assert not e.is_open, e
        if e.source in besides:
            assert e.state is State.FAILED
            continue
        where = {State.DONE: e.destination, State.FAILED: e.source, State.RESTORED: e.restored}
        place = where[e.state]
        if e.state is State.DONE and place is None:
            continue  # deleted
        assert place is not None and os.path.isfile(place), (e.state, place)
        assert digest(place) == e.digest
        others = {e.source, e.destination, e.restored} - {place, None}
        for other in others:
            assert not (os.path.exists(other) and digest(other) == e.digest and other != place)


def no_leftovers(*folders: Path) -> None:
    """No placeholder, part file or orphan .trashinfo anywhere below ``folders``."""
    for folder in folders:
        for path in folder.rglob("*"):
            assert not path.name.endswith(".doppel-part"), path
            if path.is_file():
                assert path.stat().st_size > 16 or path.suffix == ".trashinfo", path
            if path.suffix == ".trashinfo":
                assert (path.parent.parent / "files" / path.stem).exists(), path


# --------------------------------------------------------------------- trash and undo


def test_trash_then_undo_restores_the_library_byte_for_byte(tmp_path, catalog, library, trash):
    root, records = library
    before = tree_digests(root)
    report = drain(operations.apply(catalog, request(records[:3]), trash=trash))
    assert len(report.done) == 3 and not report.failed
    assert report.bytes_done == sum(r.size for r in records[:3])
    for r in records[:3]:
        assert not os.path.exists(r.path)
        assert catalog.record_at(r.path) is None  # left its group
    files = sorted((tmp_path / "trash" / "files").iterdir())
    assert [f.name for f in files] == ["a0.jpg", "a1.jpg", "a2.jpg"]
    info = (tmp_path / "trash" / "info" / "a0.jpg.trashinfo").read_text()
    assert parse_info(info) == records[0].path and "DeletionDate=" in info
    accounted(catalog, report.operation)

    back = drain(operations.undo(catalog))
    assert back.undo and len(back.done) == 3
    assert tree_digests(root) == before
    assert list((tmp_path / "trash" / "files").iterdir()) == []
    assert list((tmp_path / "trash" / "info").iterdir()) == []
    for r in records[:3]:
        again = catalog.record_at(r.path)
        assert again is not None and again.digest == r.digest and again.phash == r.phash
    accounted(catalog, report.operation)


def test_move_keeps_paths_relative_to_the_library_folder(tmp_path, catalog, library, trash):
    root, records = library
    before = tree_digests(root)
    target = tmp_path / "dupes"
    report = drain(
        operations.apply(catalog, request(records[3:], action=Action.MOVE, destination=str(target)))
    )
    assert len(report.done) == 3
    assert sorted(str(p.relative_to(target)) for p in target.rglob("*.jpg")) == [
        "a3.jpg",
        "sub/b0.jpg",
        "sub/b1.jpg",
    ]
    drain(operations.undo(catalog))
    assert tree_digests(root) == before


def test_a_name_taken_at_the_destination_is_never_overwritten(tmp_path, catalog, library, trash):
    _, records = library
    target = tmp_path / "dupes"
    write_file(target / "a0.jpg", b"someone else's photo, not to be overwritten")
    write_file(target / "a0 (2).jpg", b"another one, not to be overwritten either")
    report = drain(
        operations.apply(catalog, request(records[:1], action=Action.MOVE, destination=str(target)))
    )
    assert report.done[0].destination == str(target / "a0 (3).jpg")
    assert (target / "a0.jpg").read_bytes() == b"someone else's photo, not to be overwritten"
    assert digest(target / "a0 (3).jpg") == records[0].digest


def test_trash_names_collide_like_the_desktop_does(tmp_path, catalog, library, trash):
    _, records = library
    write_file(tmp_path / "trash" / "files" / "a0.jpg", b"trashed earlier by someone")
    report = drain(operations.apply(catalog, request(records[:1]), trash=trash))
    assert report.done[0].destination == str(tmp_path / "trash" / "files" / "a0 (2).jpg")
    assert (tmp_path / "trash" / "info" / "a0 (2).jpg.trashinfo").exists()
    assert (tmp_path / "trash" / "files" / "a0.jpg").read_bytes() == b"trashed earlier by someone"


def test_undo_never_overwrites_a_file_that_took_the_original_place(catalog, library, trash):
    _, records = library
    drain(operations.apply(catalog, request(records[:1]), trash=trash))
    Path(records[0].path).write_bytes(b"a new file with the old name")
    report = drain(operations.undo(catalog))
    restored = report.done[0].destination
    assert restored == records[0].path.replace("a0.jpg", "a0 (2).jpg")
    assert digest(restored) == records[0].digest
    assert Path(records[0].path).read_bytes() == b"a new file with the old name"
    assert "name was taken" in (report.done[0].error or "")


def test_undo_walks_back_through_operations_in_order(catalog, library, trash):
    root, records = library
    before = tree_digests(root)
    first = drain(operations.apply(catalog, request(records[:2]), trash=trash))
    second = drain(operations.apply(catalog, request(records[2:4]), trash=trash))
    assert drain(operations.undo(catalog)).operation == second.operation
    assert os.path.exists(records[2].path) and not os.path.exists(records[0].path)
    assert drain(operations.undo(catalog)).operation == first.operation
    assert tree_digests(root) == before
    with pytest.raises(UsageError, match="nothing to undo"):
        drain(operations.undo(catalog))
    ops = operations.history(catalog)
    assert [op.restored for op in ops] == [2, 2]


def test_undo_reports_files_emptied_from_the_trash(tmp_path, catalog, library, trash):
    _, records = library
    report = drain(operations.apply(catalog, request(records[:2]), trash=trash))
    os.unlink(report.done[0].destination)  # the user emptied part of the trash
    back = drain(operations.undo(catalog, report.operation))
    assert len(back.done) == 1 and len(back.failed) == 1
    assert "no longer at" in (back.failed[0].error or "")
    assert os.path.exists(records[1].path)


# --------------------------------------------------------------------- refusals


def test_files_that_changed_vanished_or_lost_their_keeper_stay(tmp_path, catalog, library, trash):
    _, records = library
    Path(records[0].path).write_bytes(b"edited since the scan")
    os.unlink(records[1].path)
    items = (
        Removal(records[0]),
        Removal(records[1]),
        Removal(records[2], keeper=str(tmp_path / "gone.jpg")),
        Removal(records[3], keeper=records[3].path),
        Removal(records[4], keeper=records[5].path),
    )
    report = drain(operations.apply(catalog, Request(items), trash=trash))
    reasons = {Path(r.source).name: r.error for r in report.failed}
    assert "changed since it was scanned" in reasons["a0.jpg"]
    assert "no longer exists" in reasons["a1.jpg"]
    assert "is gone" in reasons["a2.jpg"]
    assert "copy to keep" in reasons["a3.jpg"]
    assert [Path(r.source).name for r in report.done] == ["b0.jpg"]
    accounted(catalog, report.operation, besides=(records[0].path, records[1].path))


def test_a_keeper_that_is_a_link_to_the_copy_protects_it(tmp_path, catalog, library, trash):
    _, records = library
    link = tmp_path / "link.jpg"
    link.symlink_to(records[0].path)
    report = drain(
        operations.apply(catalog, Request((Removal(records[0], keeper=str(link)),)), trash=trash)
    )
    assert "same file" in (report.failed[0].error or "")
    assert os.path.exists(records[0].path)


def test_reference_folders_are_never_touched(tmp_path, catalog, library, trash):
    root, records = library
    catalog.set_reference(str(root / "sub"), True)
    report = drain(operations.apply(catalog, request(records), trash=trash))
    assert sorted(Path(r.source).name for r in report.failed) == ["b0.jpg", "b1.jpg"]
    assert all("reference folder" in (r.error or "") for r in report.failed)
    also = Request((Removal(records[0]),), references=(str(root),))
    assert operations.preview(catalog, also, trash=trash)[0].state is State.FAILED


def test_permanent_deletion_needs_the_setting_and_an_exact_confirmation(catalog, library, trash):
    _, records = library
    items = tuple(Removal(r) for r in records[:2])
    with pytest.raises(UsageError, match="turned off"):
        drain(operations.apply(catalog, Request(items, action=Action.DELETE)))
    wrong = DeleteConfirmation(2, 1)
    with pytest.raises(UsageError, match="confirmation"):
        drain(
            operations.apply(
                catalog, Request(items, Action.DELETE, confirmation=wrong), allow_delete=True
            )
        )
    assert all(os.path.exists(r.path) for r in records[:2])
    confirmed = operations.confirmation_for(items)
    assert confirmed == DeleteConfirmation(2, records[0].size + records[1].size)
    report = drain(
        operations.apply(
            catalog, Request(items, Action.DELETE, confirmation=confirmed), allow_delete=True
        )
    )
    assert len(report.done) == 2 and not any(os.path.exists(r.path) for r in records[:2])
    with pytest.raises(UsageError, match="nothing to undo"):
        drain(operations.undo(catalog))
    with pytest.raises(UsageError, match="permanently"):
        drain(operations.undo(catalog, report.operation))


def test_a_move_needs_a_folder(tmp_path, catalog, library):
    _, records = library
    with pytest.raises(UsageError):
        drain(operations.apply(catalog, request(records, action=Action.MOVE)))
    write_file(tmp_path / "file", b"x")
    with pytest.raises(UsageError, match="Not a folder"):
        operations.preview(
            catalog, request(records, action=Action.MOVE, destination=str(tmp_path / "file"))
        )


def test_dry_run_touches_nothing(tmp_path, catalog, library, trash):
    _, records = library
    write_file(tmp_path / "dupes" / "a0.jpg", b"taken")
    before = tree_digests(tmp_path)
    planned = operations.preview(
        catalog, request(records, action=Action.MOVE, destination=str(tmp_path / "dupes"))
    )
    assert [p.state for p in planned] == [State.PLANNED] * 6
    assert planned[0].destination == str(tmp_path / "dupes" / "a0 (2).jpg")
    trashed = operations.preview(catalog, request(records), trash=trash)
    assert trashed[0].destination == str(tmp_path / "trash" / "files" / "a0.jpg")
    assert tree_digests(tmp_path) == before
    assert not (tmp_path / "trash").exists()
    assert operations.history(catalog) == []


def test_one_operation_at_a_time(catalog, library, trash):
    _, records = library
    with journal.exclusive(catalog), pytest.raises(OperationRunning):
        drain(operations.apply(catalog, request(records), trash=trash))
    with pytest.raises(OperationRunning), journal.exclusive(catalog):
        operations.recover(catalog)


# --------------------------------------------------------------------- failures mid-way


def test_an_exception_after_some_files_leaves_everything_accounted(
    monkeypatch, catalog, library, trash
):
    root, records = library
    before = tree_digests(root)
    real = fsutil.replace_placeholder
    calls = []

    def flaky(source, placeholder):
        calls.append(source)
        if len(calls) == 3:
            raise RuntimeError("simulated bug in the middle of a batch")
        real(source, placeholder)

    monkeypatch.setattr(fsutil, "replace_placeholder", flaky)
    steps = operations.apply(catalog, request(records), trash=trash, batch_size=4)
    with pytest.raises(RuntimeError, match="simulated"):
        drain(steps)
    (op,) = operations.history(catalog)
    assert op.state is journal.OperationState.INTERRUPTED
    assert (op.done, op.failed, op.open) == (2, 2, 0)  # the second batch never started
    accounted(catalog, op.id)
    no_leftovers(root, root.parent / "trash")
    monkeypatch.setattr(fsutil, "replace_placeholder", real)
    drain(operations.undo(catalog))
    assert tree_digests(root) == before


def test_a_read_only_destination_leaves_files_in_place(monkeypatch, tmp_path, catalog, library):
    _, records = library
    target = tmp_path / "readonly"
    target.mkdir()
    real = fsutil.create_exclusive

    def refuse(path, content):
        if str(path).startswith(str(target)):
            raise PermissionError(13, "Permission denied", path)
        real(path, content)

    monkeypatch.setattr(fsutil, "create_exclusive", refuse)
    report = drain(
        operations.apply(catalog, request(records, action=Action.MOVE, destination=str(target)))
    )
    assert len(report.failed) == 6 and not report.done
    assert all("cannot be written" in (r.error or "") for r in report.failed)
    assert all(os.path.exists(r.path) for r in records)
    assert all(catalog.record_at(r.path) is not None for r in records)
    accounted(catalog, report.operation)


@pytest.mark.skipif(not unprivileged.SUPPORTED, reason="needs fork and POSIX permissions")
def test_a_really_read_only_destination():
    def move() -> tuple[int, bool]:  # as an ordinary user, even when the tests run as root
        root = folder / "lib"
        paths = [write_file(root / f"a{i}.jpg", f"photo {i} ".encode() * 100) for i in range(3)]
        target = folder / "readonly"
        target.mkdir()
        target.chmod(0o500)
        try:
            with Catalog(folder / "catalog.sqlite") as catalog:
                catalog.add_root(str(root))
                records = [add_to_catalog(catalog, p) for p in paths]
                report = drain(
                    operations.apply(
                        catalog, request(records, action=Action.MOVE, destination=str(target))
                    )
                )
        finally:
            target.chmod(0o700)
        return len(report.failed), all(os.path.exists(r.path) for r in records)

    with unprivileged.shared_folder() as folder:
        assert unprivileged.run_as_user(move) == (3, True)


def test_a_file_that_vanishes_between_reservation_and_move(monkeypatch, catalog, library, trash):
    root, records = library
    real = runner.Runner._act

    def act(self, pending):
        if pending.new.source == records[0].path:
            os.unlink(records[1].path)  # another program removes the next one meanwhile
        real(self, pending)

    monkeypatch.setattr(runner.Runner, "_act", act)
    report = drain(operations.apply(catalog, request(records[:3]), trash=trash))
    assert [Path(r.source).name for r in report.failed] == ["a1.jpg"]
    assert len(report.done) == 2
    no_leftovers(root.parent / "trash")
    accounted_entries = journal.entries(catalog, report.operation)
    assert [e.state for e in accounted_entries] == [State.DONE, State.FAILED, State.DONE]


def test_cross_device_moves_copy_verify_then_remove(monkeypatch, catalog, library, trash):
    root, records = library
    before = tree_digests(root)
    monkeypatch.setattr(fsutil, "same_device", lambda a, b: False)
    report = drain(operations.apply(catalog, request(records), trash=trash))
    assert len(report.done) == 6
    for r, result in zip(records, report.done, strict=True):
        assert digest(result.destination) == r.digest
        assert os.stat(result.destination).st_mtime_ns == r.mtime_ns
    drain(operations.undo(catalog))
    assert tree_digests(root) == before
    no_leftovers(root, root.parent / "trash")


def test_a_copy_that_does_not_verify_is_discarded(monkeypatch, catalog, library, trash):
    root, records = library
    monkeypatch.setattr(fsutil, "same_device", lambda a, b: False)
    wrong = Removal(
        type(records[0])(**{**_fields(records[0]), "digest": b"\0" * 16}),
    )
    report = drain(operations.apply(catalog, Request((wrong,)), trash=trash))
    assert "changed since it was catalogued" in (report.failed[0].error or "")
    assert digest(records[0].path) == records[0].digest
    assert list((root.parent / "trash" / "files").iterdir()) == []
    no_leftovers(root.parent / "trash")


def _fields(record):
    return {name: getattr(record, name) for name in record.__dataclass_fields__}


@pytest.mark.skipif(not os.path.isdir("/dev/shm"), reason="needs a second file system")
def test_a_real_cross_device_move(tmp_path, catalog, library):
    root, records = library
    if os.stat("/dev/shm").st_dev == os.stat(tmp_path).st_dev:
        pytest.skip("/dev/shm is on the same device here")
    import tempfile

    with tempfile.TemporaryDirectory(dir="/dev/shm") as other:
        before = tree_digests(root)
        report = drain(
            operations.apply(catalog, request(records[:2], action=Action.MOVE, destination=other))
        )
        assert len(report.done) == 2
        assert all(digest(r.destination) == records[i].digest for i, r in enumerate(report.done))
        drain(operations.undo(catalog))
        assert tree_digests(root) == before


def test_cancelling_stops_after_the_current_file(catalog, library, trash):
    _, records = library
    cancel = threading.Event()
    steps = operations.apply(catalog, request(records), trash=trash, cancel=cancel, batch_size=2)
    report = None
    while True:
        try:
            progress = next(steps)
        except StopIteration as stop:
            report = stop.value
            break
        if progress.done == 3:
            cancel.set()
    assert report.cancelled and len(report.done) == 3 and len(report.failed) == 3
    assert all(os.path.exists(r.path) for r in records[3:])
    accounted(catalog, report.operation)


def test_a_closed_generator_settles_its_batch(catalog, library, trash):
    root, records = library
    steps = operations.apply(catalog, request(records), trash=trash, batch_size=6)
    next(steps)
    next(steps)  # one file moved, five reserved
    steps.close()  # the window dropped the worker
    (op,) = operations.history(catalog)
    # The first file had moved (not yet confirmed): recorded as done; the rest stay.
    assert (op.open, op.done, op.failed) == (0, 1, 5)
    assert op.state is journal.OperationState.INTERRUPTED
    accounted(catalog, op.id)
    no_leftovers(root, root.parent / "trash")


def test_system_trash_without_undo(monkeypatch, tmp_path, catalog, library):
    _, records = library
    sent = []

    class FakeSystemTrash(SystemTrash):
        def send(self, source):
            sent.append(source)
            os.rename(source, tmp_path / os.path.basename(source))

    report = drain(operations.apply(catalog, request(records[:1]), trash=FakeSystemTrash()))
    assert sent == [records[0].path] and report.done[0].destination is None
    with pytest.raises(UsageError, match="nothing to undo"):
        drain(operations.undo(catalog))
    back = drain(operations.undo(catalog, report.operation))
    assert "system trash" in (back.failed[0].error or "")


# --------------------------------------------------------------------- crashes


CRASH = """
import os, sys
from desktop_app.engine.fileops import operations
from desktop_app.engine.fileops import fsutil
from desktop_app.engine.fileops import runner
from desktop_app.engine.fileops.operations import Removal, Request
from desktop_app.engine.fileops.journal import Action
from desktop_app.engine.catalog.store import Catalog
from desktop_app.engine.fileops.trash import FreedesktopTrash
from desktop_app.engine.types import drain

catalog_path, trash_dir, stage, undo, paths = (
    sys.argv[1], sys.argv[2], sys.argv[3], sys.argv[4] == "1", sys.argv[5:]
)
catalog = Catalog(catalog_path)
calls = {"n": 0}

def die_after(name, module, count):
    real = getattr(module, name)
    def wrapper(*args, **kwargs):
        result = real(*args, **kwargs)
        calls["n"] += 1
        if calls["n"] == count:
            os._exit(3)  # no finally, no rollback: a power cut as seen by the program
        return result
    setattr(module, name, wrapper)

if stage == "after-intents":
    real = runner.Runner._plan
    def plan(self, batch):
        out = real(self, batch)
        os._exit(3)
    runner.Runner._plan = plan
elif stage == "after-reserve":
    die_after("reserve", runner, 3)
elif stage == "before-move":
    def transfer(*args):
        os._exit(3)
    runner.transfer = transfer
elif stage == "after-rename":
    die_after("replace_placeholder", fsutil, 2)
elif stage == "after-first-rename":  # a sidecar moved, its photo not yet
    die_after("replace_placeholder", fsutil, 1)
elif stage == "after-copy":
    fsutil.same_device = lambda a, b: False
    die_after("copy_verified", fsutil, 2)
elif stage == "mid-copy":
    fsutil.same_device = lambda a, b: False
    real_fsync = os.fsync
    def fsync(fd):
        calls["n"] += 1
        if calls["n"] == 1:  # the first copy is written, not yet renamed into place
            os._exit(3)
        real_fsync(fd)
    os.fsync = fsync

trash = FreedesktopTrash(trash_dir)
if undo:
    steps = operations.undo(catalog, batch_size=4)
else:
    records = [catalog.record_at(p) for p in paths]
    steps = operations.apply(catalog, Request(tuple(Removal(r) for r in records)), trash=trash,
                          batch_size=4)
drain(steps)
sys.exit(0)
"""


def _crash(catalog: Catalog, trash_dir: Path, stage: str, paths, undo: bool = False) -> int:
    env = {**os.environ, "PYTHONPATH": str(REPO)}
    result = subprocess.run(
        [sys.executable, "-c", CRASH, catalog.path, str(trash_dir), stage, "1" if undo else "0"]
        + [str(p) for p in paths],
        env=env,
        capture_output=True,
        text=True,
        timeout=60,
    )
    assert result.returncode in (0, 3), result.stderr
    return result.returncode


@pytest.mark.parametrize(
    "stage",
    ["after-intents", "after-reserve", "before-move", "after-rename", "after-copy", "mid-copy"],
)
def test_a_crash_at_any_step_is_recovered(tmp_path, catalog, library, stage):
    root, records = library
    before = tree_digests(root)
    trash_dir = tmp_path / "trash"
    assert _crash(catalog, trash_dir, stage, [r.path for r in records]) == 3
    open_before = journal.open_entries(catalog)
    assert open_before, "the crash should leave open entries"
    settled = operations.recover(catalog)
    assert {s.entry for s in settled} == {e.id for e in open_before}
    assert all(s.outcome != "missing" for s in settled)
    (op,) = operations.history(catalog)
    assert op.state is journal.OperationState.INTERRUPTED and op.open == 0
    accounted(catalog, op.id)
    no_leftovers(root, trash_dir)
    for e in journal.entries(catalog, op.id):  # the catalog agrees with the disk
        assert (catalog.record_at(e.source) is not None) == (e.state is State.FAILED)
    if op.restorable:
        drain(operations.undo(catalog))
    assert tree_digests(root) == before


def test_placeholders_emptied_by_a_power_cut_are_cleaned_up(tmp_path, catalog, library):
    root, records = library
    before = tree_digests(root)
    trash_dir = tmp_path / "trash"
    assert _crash(catalog, trash_dir, "before-move", [r.path for r in records]) == 3
    reserved = [e for e in journal.open_entries(catalog) if e.state is State.RESERVED]
    assert len(reserved) == 4  # the first batch
    for e in reserved:  # their content never reached the disk
        Path(e.destination).write_bytes(b"")
        Path(e.info).write_bytes(b"")
    operations.recover(catalog)
    assert list((trash_dir / "files").iterdir()) == []
    assert list((trash_dir / "info").iterdir()) == []
    assert tree_digests(root) == before


@pytest.mark.parametrize("stage", ["after-rename", "after-copy"])
def test_a_crash_during_undo_is_recovered(tmp_path, catalog, library, stage):
    root, records = library
    before = tree_digests(root)
    trash = FreedesktopTrash(tmp_path / "trash")
    drain(operations.apply(catalog, request(records), trash=trash))
    assert _crash(catalog, tmp_path / "trash", stage, [], undo=True) == 3
    assert journal.open_entries(catalog)
    operations.recover(catalog)
    (op,) = operations.history(catalog)
    accounted(catalog, op.id)
    drain(operations.undo(catalog))
    assert tree_digests(root) == before
    no_leftovers(root, tmp_path / "trash")


def test_a_move_keeps_paths_relative_to_the_library_folder_not_a_sub_folder_root(
    tmp_path, catalog, library
):
    # A sub-folder once made a reference folder stays in the catalog's folder list.
    root, records = library
    catalog.set_reference(str(root / "sub"), True)
    catalog.set_reference(str(root / "sub"), False)
    target = tmp_path / "dupes"
    moving = request(records[4:], action=Action.MOVE, destination=str(target), roots=(str(root),))
    planned = operations.preview(catalog, moving)
    assert [os.path.relpath(r.destination, target) for r in planned] == ["sub/b0.jpg", "sub/b1.jpg"]
    report = drain(operations.apply(catalog, moving))
    assert sorted(os.path.relpath(r.destination, target) for r in report.done) == [
        "sub/b0.jpg",
        "sub/b1.jpg",
    ]
