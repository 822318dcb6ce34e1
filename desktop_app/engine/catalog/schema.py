"""The catalog's schema and its migrations.

``PRAGMA user_version`` holds the schema version of a file. Each migration step takes a
file from version N to N + 1 inside one transaction. Cache tables (images, postings,
pair chunks) may be dropped and rebuilt by a step; the tables in :data:`DATA_TABLES`
hold the user's data and every step must carry their rows over.

History: version 1 holds the cache and the library folders; version 2 adds the user's
cleanup data: the journal of file operations (``operations`` and ``journal``, see
``journal.py``), the "not duplicates" memory (``ignored_pairs``,
``selection/not_copies.py``) and the
keep-the-best presets (``presets``, ``presets.py``); version 3 adds the size of the
picture without added borders to ``images`` (a cache column); version 4 adds the
``groupings`` cache; version 5 keeps the marks the user has not applied yet
(``saved_marks`` and ``saved_selection``, ``selection/saved_marks.py``); version 6
adds each photo's sidecars (a cache) and the journalled sidecar edits of the metadata
merge (``sidecar_edits``, user data); version 7 adds each photo's capture identity, pixel
digest, sharpness and greyscale flag to ``images`` (cache columns); version 8 the window
hashes of each image (``imaging/windows.py``) and the verdicts of the geometric check
(``geometry_checks``, ``search/confirm.py``); version 9 the same verdicts packed in
chunks (``geometry_packed``: their keys and confirmed flags only, read in bulk when a
library opens) and the flags of the last confirmation (``geometry_masks``), all caches;
version 10 counts the changes to ``images`` (``image_changes``, kept by triggers) and
keeps a copy of a library's rows as read (``record_rows``, ``catalog/records.py``),
valid while that count is the one it was read at: a cache.
"""

from __future__ import annotations

import sqlite3
import time
from collections.abc import Callable

#: Version of the schema this code writes.
SCHEMA_VERSION = 10

#: Tables whose rows are the user's data: kept by migrations, salvaged by a rebuild.
DATA_TABLES: tuple[str, ...] = (
    "roots",
    "meta",
    "operations",
    "journal",
    "ignored_pairs",
    "presets",
    "saved_marks",
    "saved_selection",
    "sidecar_edits",
)

#: ``meta`` keys that describe the cache; they are not salvaged into a rebuilt catalog.
CACHE_META_KEYS = frozenset(
    {
        "index_watermark",
        "pairs_upto",
        "pairs_watermark",
        "pairs_rotations",
        "pairs_version",
        "pairs_live",
        "geometry_check_version",
    }
)

_V1 = """
CREATE TABLE meta(
    key TEXT PRIMARY KEY,
    value TEXT NOT NULL
);
CREATE TABLE roots(
    id INTEGER PRIMARY KEY,
    path BLOB NOT NULL UNIQUE,
    added_ns INTEGER NOT NULL,
    scanned_ns INTEGER,
    reference INTEGER NOT NULL DEFAULT 0
);
CREATE TABLE images(
    id INTEGER PRIMARY KEY AUTOINCREMENT,
    path BLOB NOT NULL UNIQUE,
    size INTEGER NOT NULL,
    mtime_ns INTEGER NOT NULL,
    hash_version INTEGER NOT NULL,
    digest BLOB,
    phash INTEGER,
    variants BLOB,
    width INTEGER NOT NULL DEFAULT 0,
    height INTEGER NOT NULL DEFAULT 0,
    format TEXT,
    taken TEXT,
    camera TEXT,
    error TEXT
);
CREATE INDEX images_digest ON images(digest) WHERE digest IS NOT NULL;
CREATE TABLE postings(
    key INTEGER PRIMARY KEY,
    ids BLOB NOT NULL,
    hashes BLOB NOT NULL
);
CREATE TABLE pair_chunks(
    id INTEGER PRIMARY KEY,
    a BLOB NOT NULL,
    b BLOB NOT NULL,
    distance BLOB NOT NULL,
    transform BLOB NOT NULL
);
"""


# Version 2: the cleanup data. No foreign keys between ``journal`` and ``operations``:
# a salvage after damage must keep every journal row it can read, even one whose
# operation row was on a lost page (recovery.py inserts rows one by one).
_V2 = """
CREATE TABLE operations(
    id INTEGER PRIMARY KEY AUTOINCREMENT,
    action TEXT NOT NULL,
    started_ns INTEGER NOT NULL,
    finished_ns INTEGER,
    state TEXT NOT NULL,
    target BLOB,
    note TEXT
);
CREATE TABLE journal(
    id INTEGER PRIMARY KEY AUTOINCREMENT,
    operation INTEGER NOT NULL,
    source BLOB NOT NULL,
    destination BLOB,
    info BLOB,
    info_text TEXT,
    token BLOB NOT NULL,
    digest BLOB,
    size INTEGER NOT NULL,
    mtime_ns INTEGER NOT NULL,
    state TEXT NOT NULL,
    error TEXT,
    restored BLOB,
    image TEXT,
    updated_ns INTEGER NOT NULL
);
CREATE INDEX journal_operation ON journal(operation, id);
CREATE INDEX journal_open ON journal(state)
    WHERE state NOT IN ('done', 'failed', 'restored');
CREATE TABLE ignored_pairs(
    a BLOB NOT NULL,
    b BLOB NOT NULL,
    added_ns INTEGER NOT NULL,
    a_path BLOB,
    b_path BLOB,
    PRIMARY KEY(a, b)
) WITHOUT ROWID;
CREATE TABLE presets(
    name TEXT PRIMARY KEY,
    rules TEXT NOT NULL,
    updated_ns INTEGER NOT NULL
);
"""


def _run(db: sqlite3.Connection, script: str) -> None:
    # Not executescript(): it commits the open transaction first.
    for statement in script.split(";"):
        if statement.strip():
            db.execute(statement)


def _create_v1(db: sqlite3.Connection) -> None:
    _run(db, _V1)
    db.execute("INSERT INTO meta(key, value) VALUES('created_ns', ?)", (str(time.time_ns()),))


def _add_cleanup_tables(db: sqlite3.Connection) -> None:
    """Version 1 -> 2: new tables only; every existing row stays as it is."""
    _run(db, _V2)


def _add_picture_size(db: sqlite3.Connection) -> None:
    """Version 3: the size of the picture without added borders, for keep-the-best.

    Rows hashed before it have NULL there and count their whole size until re-hashed.
    """
    db.execute("ALTER TABLE images ADD COLUMN content_width INTEGER")
    db.execute("ALTER TABLE images ADD COLUMN content_height INTEGER")


def _add_groupings(db: sqlite3.Connection) -> None:
    """Version 4: the groupings at every slider position (a cache, ``groupcache.py``)."""
    db.execute(
        "CREATE TABLE groupings(threshold INTEGER PRIMARY KEY, signature BLOB NOT NULL,"
        " offsets BLOB NOT NULL, members BLOB NOT NULL, distance BLOB NOT NULL,"
        " transform BLOB NOT NULL)"
    )


def _add_saved_marks(db: sqlite3.Connection) -> None:
    """Version 5: the marks not applied yet, by library, kept from one session to the next
    (user data: new tables only, every existing row stays as it is)."""
    db.execute(
        "CREATE TABLE IF NOT EXISTS saved_marks(library TEXT NOT NULL, path BLOB NOT NULL,"
        " marked INTEGER NOT NULL, PRIMARY KEY(library, path)) WITHOUT ROWID"
    )
    db.execute(
        "CREATE TABLE IF NOT EXISTS saved_selection(library TEXT PRIMARY KEY,"
        " auto INTEGER NOT NULL, saved_ns INTEGER NOT NULL)"
    )


def _add_sidecars(db: sqlite3.Connection) -> None:
    """Version 6: each photo's sidecars (a cache the scan fills), the journal's link
    from a sidecar's entry to its photo's entry (``fileops/sidecars.py``), and the
    journalled sidecar writes of the metadata merge (``fileops/sidecar_edits.py``)."""
    db.execute(
        "CREATE TABLE IF NOT EXISTS sidecars(photo BLOB NOT NULL, path BLOB NOT NULL,"
        " kind TEXT NOT NULL, PRIMARY KEY(photo, path)) WITHOUT ROWID"
    )
    columns = {row[1] for row in db.execute("PRAGMA table_info(journal)")}
    if "photo" not in columns:
        db.execute("ALTER TABLE journal ADD COLUMN photo INTEGER")
    db.execute("CREATE INDEX IF NOT EXISTS journal_photo ON journal(photo) WHERE photo IS NOT NULL")
    db.execute(
        "CREATE TABLE IF NOT EXISTS sidecar_edits(id INTEGER PRIMARY KEY,"
        " operation INTEGER NOT NULL, path BLOB NOT NULL, before BLOB, after BLOB NOT NULL,"
        " token BLOB NOT NULL, state TEXT NOT NULL, note TEXT, keeper BLOB NOT NULL,"
        " summary TEXT NOT NULL, updated_ns INTEGER NOT NULL)"
    )


def _add_capture_identity(db: sqlite3.Connection) -> None:
    """Version 7: capture identity (JSON), pixel digest, sharpness, greyscale, brightness.

    Guarded so that it does not depend on the steps around it. Rows hashed before have
    none of these; their ``hash_version`` is reset so that the next scan reads them again
    (they are a cache). The "not copies" list keeps its rows: ``not_copies.py`` moves a
    file-digest key to the pixel digest once the file has been read again.
    """
    have = {row[1] for row in db.execute("PRAGMA table_info(images)")}
    for column, kind in (
        ("capture", "TEXT"),
        ("pixel_digest", "BLOB"),
        ("sharpness", "REAL"),
        ("greyscale", "INTEGER NOT NULL DEFAULT 0"),
        ("brightness", "REAL"),
    ):
        if column not in have:
            db.execute(f"ALTER TABLE images ADD COLUMN {column} {kind}")
    db.execute(
        "CREATE INDEX IF NOT EXISTS images_pixel_digest ON images(pixel_digest)"
        " WHERE pixel_digest IS NOT NULL"
    )
    db.execute("UPDATE images SET hash_version=0 WHERE phash IS NOT NULL AND pixel_digest IS NULL")


def _add_windows(db: sqlite3.Connection) -> None:
    """Version 8: window hashes (a cache column) and geometric-check verdicts (a cache
    table keyed by the two files' digests, so it never goes stale)."""
    columns = {row[1] for row in db.execute("PRAGMA table_info(images)")}
    if "windows" not in columns:
        db.execute("ALTER TABLE images ADD COLUMN windows BLOB")
    db.execute(
        "CREATE TABLE IF NOT EXISTS geometry_checks(first BLOB NOT NULL, second BLOB NOT NULL,"
        " transform INTEGER NOT NULL, confirmed INTEGER NOT NULL, evidence TEXT NOT NULL,"
        " cropped TEXT NOT NULL, frame TEXT, PRIMARY KEY(first, second, transform))"
    )


def _add_geometry_packed(db: sqlite3.Connection) -> None:
    """Version 9: the geometric verdicts' keys and flags, packed in chunks (a cache that
    ``search/confirm.py`` reads in bulk; filled from ``geometry_checks``), and the flags
    of the last confirmation (a cache keyed by what they depend on)."""
    db.execute(
        "CREATE TABLE IF NOT EXISTS geometry_packed(id INTEGER PRIMARY KEY,"
        " keys BLOB NOT NULL, flags BLOB NOT NULL)"
    )
    db.execute(
        "CREATE TABLE IF NOT EXISTS geometry_masks(signature BLOB NOT NULL, need BLOB NOT NULL,"
        " decided BLOB NOT NULL, confirmed BLOB NOT NULL)"
    )
    rows = db.execute(
        "SELECT first, second, transform, confirmed FROM geometry_checks"
        " WHERE length(first) = 16 AND length(second) = 16"
    ).fetchall()
    if rows:
        keys = b"".join(
            bytes(first) + bytes(second) + int(code).to_bytes(8, "little")
            for first, second, code, _ in rows
        )
        flags = bytes(int(bool(row[3])) for row in rows)
        db.execute("INSERT INTO geometry_packed(keys, flags) VALUES(?, ?)", (keys, flags))


def _add_record_rows(db: sqlite3.Connection) -> None:
    """Version 10: every insert, update and delete of an ``images`` row counts one in
    ``image_changes`` (triggers, so no writer can forget), and ``record_rows`` keeps a
    library's rows as read, with the count they were read at (a cache: a copy whose count
    is not the current one is never used)."""
    db.execute(
        "CREATE TABLE IF NOT EXISTS image_changes(only INTEGER PRIMARY KEY CHECK (only = 0),"
        " count INTEGER NOT NULL)"
    )
    db.execute("INSERT OR IGNORE INTO image_changes(only, count) VALUES(0, 0)")
    for event in ("INSERT", "UPDATE", "DELETE"):
        db.execute(
            f"CREATE TRIGGER IF NOT EXISTS images_{event.lower()}_counted AFTER {event} ON"
            " images BEGIN UPDATE image_changes SET count = count + 1; END"
        )
    db.execute(
        "CREATE TABLE IF NOT EXISTS record_rows(scope TEXT PRIMARY KEY, changes INTEGER NOT"
        " NULL, format TEXT NOT NULL, checksum BLOB NOT NULL, rows BLOB NOT NULL)"
    )


#: ``STEPS[n]`` migrates a file at version n to version n + 1 (0 is an empty file).
STEPS: dict[int, Callable[[sqlite3.Connection], None]] = {
    0: _create_v1,
    1: _add_cleanup_tables,
    2: _add_picture_size,
    3: _add_groupings,
    4: _add_saved_marks,
    5: _add_sidecars,
    6: _add_capture_identity,
    7: _add_windows,
    8: _add_geometry_packed,
    9: _add_record_rows,
}


def migrate(db: sqlite3.Connection, version: int) -> None:
    """Apply every step from ``version`` up to :data:`SCHEMA_VERSION`, in the caller's
    transaction, and record the new version."""
    for step in range(version, SCHEMA_VERSION):
        STEPS[step](db)
    db.execute(f"PRAGMA user_version={SCHEMA_VERSION}")
