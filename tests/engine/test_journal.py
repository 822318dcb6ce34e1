"""The journal in the catalog: schema v2, migrations that keep data, salvage, the lock."""

from __future__ import annotations

import sqlite3
import subprocess
import sys
import time
from pathlib import Path

import pytest

from desktop_app.engine.catalog import schema
from desktop_app.engine.catalog.rebuild import rebuild_catalog
from desktop_app.engine.catalog.store import Catalog
from desktop_app.engine.fileops import journal
from desktop_app.engine.fileops.journal import Action, NewEntry, OperationRunning, State
from desktop_app.engine.selection import not_copies, presets
from desktop_app.engine.selection.plans import KeepRules
from tests.engine.cleanup_support import record

REPO = Path(__file__).resolve().parents[2]


def v1_catalog(path: Path) -> None:
    """A catalog as version 1 wrote it, with a reference folder and a meta value."""
    db = sqlite3.connect(path, isolation_level=None)
    db.execute("BEGIN")
    schema.STEPS[0](db)
    db.execute("INSERT INTO roots(path, added_ns, reference) VALUES(?, ?, 1)", (b"/lib", 5))
    db.execute("INSERT INTO meta(key, value) VALUES('user_choice', 'kept')")
    db.execute("PRAGMA user_version=1")
    db.execute("COMMIT")
    db.close()


def entry(source: str, token: bytes = b"t" * 16) -> NewEntry:
    return NewEntry(source, source + ".dest", None, None, token, b"d" * 16, 10, 20)


def test_version_2_adds_the_cleanup_tables_and_keeps_every_row(tmp_path):
    path = tmp_path / "old.sqlite"
    v1_catalog(path)
    with Catalog(path) as catalog:
        assert catalog.execute("PRAGMA user_version").fetchone()[0] == schema.SCHEMA_VERSION
        (root,) = catalog.roots()
        assert root.path == "/lib" and root.reference
        assert catalog.get_meta("user_choice") == "kept"
        assert journal.operations(catalog) == [] and not_copies.ignored(catalog) == []
    for table in ("operations", "journal", "ignored_pairs", "presets"):
        assert table in schema.DATA_TABLES


def test_entries_move_through_states_and_operations_count_them(tmp_path):
    with Catalog(tmp_path / "c.sqlite") as catalog:
        op = journal.begin(catalog, Action.TRASH, "/trash")
        with catalog.transaction() as db:
            ids = journal.add(db, op, [entry("/a"), entry("/b"), entry("/c")])
            journal.update(db, ids[0], State.RESERVED, destination="/trash/a")
            journal.update(db, ids[1], State.FAILED, error="no")
        assert [e.id for e in journal.open_entries(catalog)] == [ids[0], ids[2]]
        with catalog.transaction() as db:
            journal.update(db, ids[0], State.DONE)
            journal.update(db, ids[2], State.DONE)
            journal.finish(db, op, journal.OperationState.FINISHED)
        (summary,) = journal.operations(catalog)
        assert (summary.files, summary.done, summary.failed, summary.open) == (3, 2, 1, 0)
        assert summary.bytes_done == 20 and summary.restorable == 2
        assert summary.target == "/trash" and summary.finished_ns
        assert journal.entry(catalog, ids[0]).destination == "/trash/a"
        assert journal.undoable(catalog)[0].id == op
        with pytest.raises(ValueError), catalog.transaction() as db:
            journal.update(db, ids[0], State.DONE, size=3)  # type: ignore[arg-type]


def test_a_damaged_catalog_is_rebuilt_with_the_journal_ignore_list_and_presets(tmp_path):
    path = tmp_path / "c.sqlite"
    with Catalog(path) as catalog:
        op = journal.begin(catalog, Action.MOVE, "/out")
        with catalog.transaction() as db:
            (eid,) = journal.add(db, op, [entry("/lib/a.jpg")])
            journal.update(db, eid, State.DONE)
        not_copies.ignore(catalog, [record(1, "/lib/x.jpg"), record(2, "/lib/y.jpg")])
        presets.save(catalog, "mine", KeepRules.parse("size"))
    aside = rebuild_catalog(path)
    assert aside is not None and aside.exists()
    with Catalog(path) as catalog:
        (summary,) = journal.operations(catalog)
        assert summary.id == op and summary.done == 1 and summary.target == "/out"
        assert journal.entries(catalog, op)[0].source == "/lib/a.jpg"
        assert len(not_copies.ignored(catalog)) == 1
        assert presets.load(catalog, "mine") == KeepRules.parse("size")
        # New ids continue after the salvaged ones.
        assert journal.begin(catalog, Action.TRASH, None) > op


def test_one_file_operation_at_a_time_even_across_processes(tmp_path):
    path = tmp_path / "c.sqlite"
    Catalog(path).close()
    holder = subprocess.Popen(
        [
            sys.executable,
            "-c",
            "import sys, time\n"
            "from desktop_app.engine.fileops import journal\n"
            "from desktop_app.engine.catalog.store import Catalog\n"
            "with journal.exclusive(Catalog(sys.argv[1])):\n"
            "    print('held', flush=True)\n"
            "    time.sleep(30)\n",
            str(path),
        ],
        env={"PYTHONPATH": str(REPO)},
        stdout=subprocess.PIPE,
        text=True,
    )
    try:
        assert holder.stdout is not None and holder.stdout.readline().strip() == "held"
        with Catalog(path) as catalog, pytest.raises(OperationRunning), journal.exclusive(catalog):
            pass
    finally:
        holder.kill()
        holder.communicate()
    time.sleep(0.05)
    with Catalog(path) as catalog, journal.exclusive(catalog):  # released by the OS
        pass
