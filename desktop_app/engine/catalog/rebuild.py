"""Rebuilding a damaged catalog without losing the user's data.

The catalog is mostly a cache of hashes that the next scan recomputes, but it also holds
the user's data (library folders, and from later schema versions the journal of file
operations, the ignore list and presets). :func:`rebuild_catalog` therefore never deletes
the old file: it reads every row of the data tables that SQLite can still return, sets
the old file aside under a dated name, and copies those rows into a fresh catalog.
"""

from __future__ import annotations

import contextlib
import logging
import os
import sqlite3
import time
from pathlib import Path

from desktop_app.engine.catalog.schema import CACHE_META_KEYS, DATA_TABLES
from desktop_app.engine.catalog.store import Catalog, exclusive_open_lock

log = logging.getLogger(__name__)

_Rows = tuple[list[str], list[tuple[object, ...]]]


def rebuild_catalog(path: str | os.PathLike[str]) -> Path | None:
    """Replace a damaged or too-new catalog by a fresh one, keeping the user's data.

    Args:
        path: The catalog file.

    Returns:
        Where the old file was set aside (``NAME.damaged-YYYYmmdd-HHMMSS``), or None if
        there was no file to set aside.

    Raises:
        CatalogLocked: Another Doppel process (a window, a command) has it open.
    """
    target = Path(path)
    target.parent.mkdir(parents=True, exist_ok=True)
    lock = exclusive_open_lock(str(target))  # refuses while a window has it open
    try:
        return _rebuild(target)
    finally:
        if lock is not None:
            lock.release()


def _rebuild(target: Path) -> Path | None:
    if not target.exists():
        Catalog(target, hold_open_lock=False).close()
        return None
    salvaged = _salvage(target)
    stamp = time.strftime("%Y%m%d-%H%M%S")
    aside = target.with_name(f"{target.name}.damaged-{stamp}")
    n = 1
    while aside.exists():
        aside = target.with_name(f"{target.name}.damaged-{stamp}-{n}")
        n += 1
    target.rename(aside)
    for suffix in ("-wal", "-shm"):
        side = target.with_name(target.name + suffix)
        if side.exists():
            side.rename(aside.with_name(aside.name + suffix))
    with Catalog(target, hold_open_lock=False) as fresh, fresh.transaction() as db:
        for table, (columns, rows) in salvaged.items():
            known = {r[1] for r in db.execute(f"PRAGMA table_info({table})")}
            keep = [i for i, c in enumerate(columns) if c in known]
            if not keep:
                continue
            names = ",".join(columns[i] for i in keep)
            marks = ",".join("?" * len(keep))
            for row in rows:
                with contextlib.suppress(sqlite3.Error):
                    db.execute(
                        f"INSERT OR REPLACE INTO {table}({names}) VALUES({marks})",
                        [row[i] for i in keep],
                    )
    log.warning("Catalog %s rebuilt; the old file is kept as %s", target, aside)
    return aside


def _salvage(path: Path) -> dict[str, _Rows]:
    """Whatever rows of the data tables can still be read from a damaged catalog."""
    out: dict[str, _Rows] = {}
    try:
        db = sqlite3.connect(f"file:{path}?mode=ro", uri=True, timeout=1.0)
    except sqlite3.Error:
        return out
    try:
        for table in DATA_TABLES:
            try:
                columns = [r[1] for r in db.execute(f"PRAGMA table_info({table})")]
                if columns:
                    out[table] = (columns, _readable_rows(db, table, columns))
            except sqlite3.Error as error:
                log.warning("Could not salvage table %s: %s", table, error)
    finally:
        db.close()
    if "roots" in out:  # the new catalog has scanned nothing yet
        columns, rows = out["roots"]
        if "scanned_ns" in columns:
            at = columns.index("scanned_ns")
            out["roots"] = (columns, [(*r[:at], None, *r[at + 1 :]) for r in rows])
    if "meta" in out:
        columns, rows = out["meta"]
        out["meta"] = (columns, [r for r in rows if r[0] not in CACHE_META_KEYS])
    return out


def _readable_rows(
    db: sqlite3.Connection, table: str, columns: list[str]
) -> list[tuple[object, ...]]:
    rows: list[tuple[object, ...]] = []
    cursor = db.execute(f"SELECT {','.join(columns)} FROM {table}")
    while True:
        try:
            row = cursor.fetchone()
        except sqlite3.Error as error:  # a damaged page: keep what came before it
            log.warning("Salvage of %s stopped after %d rows: %s", table, len(rows), error)
            break
        if row is None:
            break
        rows.append(tuple(row))
    return rows
