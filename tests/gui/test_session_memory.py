"""The window's session gives every reload's records back to the collector."""

from __future__ import annotations

import gc
import weakref

from desktop_app.engine.config import EngineConfig
from desktop_app.engine.library import Library
from desktop_app.gui.library.session import LibrarySession
from tests.gui.factories import write_photo


class _Node:
    """An object in a reference cycle: only the collector frees it."""

    def __init__(self) -> None:
        self.me = self


def _scanned_library(tmp_path, broken: bool = False):
    """Three small photos (and a file that is no photo, if ``broken``), scanned into a
    catalog: ``(folder, catalog path, config)``."""
    root = tmp_path / "lib"
    for seed in range(3):
        write_photo(root / f"p{seed}.jpg", seed, size=(64, 48))
    if broken:
        (root / "broken.jpg").write_bytes(b"not a photo")
    catalog, config = tmp_path / "catalog.sqlite", EngineConfig(workers=0)
    with Library([str(root)], catalog=catalog, config=config) as library:
        for _ in library.scan():
            pass
    return root, catalog, config


def test_reloads_do_not_freeze_objects_for_ever(qtbot, tmp_path):
    root, catalog, config = _scanned_library(tmp_path)
    gc.unfreeze()  # start from nothing frozen, whatever ran before in this process
    session = LibrarySession(catalog, config)
    idle = lambda: session._pairs_token is None  # noqa: E731
    try:
        session.open([str(root)], rescan=False)
        qtbot.waitUntil(idle, timeout=30_000)
        collecting = gc.isenabled()
        gc.disable()  # so that the cycle is still there when the reload freezes
        try:
            garbage = weakref.ref(_Node())
            assert garbage() is not None
            session.reload()
        finally:
            if collecting:
                gc.enable()
        qtbot.waitUntil(idle, timeout=30_000)
        session.reload()
        qtbot.waitUntil(idle, timeout=30_000)
        session.close()
        gc.collect()
        assert garbage() is None, "a reload froze garbage for the life of the window"
        assert gc.get_freeze_count() == 0
    finally:
        session.shutdown()


def test_opening_reads_the_records_once_in_the_worker(qtbot, tmp_path, monkeypatch):
    import threading

    from desktop_app.engine.catalog.store import Catalog

    root, catalog, config = _scanned_library(tmp_path)
    readers: list[str] = []
    real = Catalog.record_table  # what Library.records reads the rows with

    def record_table(self, roots=None):
        readers.append(threading.current_thread().name)
        return real(self, roots)

    monkeypatch.setattr(Catalog, "record_table", record_table)
    session = LibrarySession(catalog, config)
    try:
        session.open([str(root)], rescan=False)
        qtbot.waitUntil(lambda: session.grouping is not None, timeout=30_000)
        assert len(session.library.records()) == 3
        assert threading.main_thread().name not in readers  # the worker's, handed over
        assert len(readers) == 1
    finally:
        session.shutdown()


def test_opening_makes_no_record_until_one_is_looked_up(qtbot, tmp_path):
    """The worker's rows come over whole; records are made for the groups shown."""
    from tests.gui.factories import write_library

    root = tmp_path / "lib"
    files = write_library(root, originals=2, copies=2)
    for seed in range(4):  # photos that are no copy of anything
        write_photo(root / "others" / f"x{seed}.png", 500 + seed, size=(96, 64))
    catalog, config = tmp_path / "catalog.sqlite", EngineConfig(workers=0)
    with Library([str(root)], catalog=catalog, config=config) as library:
        for _ in library.scan():
            pass
    session = LibrarySession(catalog, config)
    try:
        session.open([str(root)], rescan=False)
        qtbot.waitUntil(lambda: session.grouping is not None, timeout=30_000)
        found = session.library.records()
        assert len(found) == 10 and found.made() == 0
        summary = session.summary()
        assert (summary.photos, summary.groups, summary.extra_copies) == (10, 2, 4)
        sizes = [sorted(p.stat().st_size for p in group) for group in files.values()]
        assert summary.extra_bytes == sum(sum(s[:-1]) for s in sizes)  # all but the largest
        group = session.resolve(session.grouping, 0)
        assert found.made() == 3 and {m.image.id for m in group.members} <= set(found)
    finally:
        session.shutdown()


def test_the_files_that_could_not_be_read_come_with_the_workers_rows(
    qtbot, tmp_path, monkeypatch, allowed_warnings
):
    from desktop_app.engine.catalog.store import Catalog

    allowed_warnings.append("not an image")  # the scan says so
    root, catalog, config = _scanned_library(tmp_path, broken=True)
    monkeypatch.setattr(Catalog, "failures", lambda self, roots=None: [])  # not asked
    session = LibrarySession(catalog, config)
    reported: list[list] = []
    session.failures_changed.connect(reported.append)
    try:
        session.open([str(root)], rescan=False)
        qtbot.waitUntil(lambda: session.grouping is not None, timeout=30_000)
        assert [[f.path for f in failures] for failures in reported] == [[str(root / "broken.jpg")]]
    finally:
        session.shutdown()
