"""The catalog: one SQLite file per user, holding a cache and the user's data.

* **Cache**, rebuilt from the photos at any time: ``images`` (one row per file seen, with
  its pHash and metadata, or the reason it could not be read), ``postings`` (the segment
  inverted index, ``segment_index.py``) and ``pair_chunks`` (the pair cache, ``paircache.py``).
* **Data**, kept by every migration and salvaged by a rebuild (``schema.py``,
  ``recovery.py``): the library folders and which of them are reference folders, the
  journal of file operations, the ignore list, presets.

Image ids come from AUTOINCREMENT, so they only grow and are never reused, and a changed
file gets a new row (and id) rather than an update: the index and the pair cache then
only ever need to add the ids above their watermarks and drop the ids that are gone.

Connections follow sqlite3's one-connection-per-thread rule: the scanner opens its own
:class:`Catalog` and is the only writer; readers (the GUI thread) open another. WAL
mode lets them run side by side.
"""

from __future__ import annotations

import contextlib
import json
import logging
import os
import sqlite3
import time
from collections.abc import Iterable, Iterator, Sequence
from dataclasses import dataclass
from pathlib import Path
from typing import Any, TypeVar

import numpy as np
import numpy.typing as npt

from desktop_app.engine.catalog import schema
from desktop_app.engine.catalog.groupcache import GroupingCache
from desktop_app.engine.catalog.lockfile import OPEN_SUFFIX, SCAN_SUFFIX, FileLock
from desktop_app.engine.catalog.paircache import PairCache
from desktop_app.engine.catalog.records import (
    IMAGE_COLUMNS,
    ROWS_FORMAT,
    RecordTable,
    capture_text,
    make_record,
    pack_rows,
    unpack_rows,
)
from desktop_app.engine.catalog.rows import as_signed, as_unsigned, chunks, id_hash_arrays
from desktop_app.engine.catalog.segment_index import SegmentIndex
from desktop_app.engine.errors import (
    CatalogCorrupt,
    CatalogError,
    CatalogLocked,
    CatalogTooNew,
)
from desktop_app.engine.imaging.windows import WINDOWS
from desktop_app.engine.types import (
    FileFailure,
    HashArray,
    IdArray,
    ImageFeatures,
    ImageRecord,
)

log = logging.getLogger(__name__)

_T = TypeVar("_T")

#: Libraries of this many photos or more keep a copy of their rows for the next opening
#: (:meth:`Catalog.record_table`); smaller ones read theirs in a few milliseconds.
KEEP_ROWS_FROM = 2000


def default_catalog_path() -> Path:
    """Where the catalog lives unless the user says otherwise.

    ``DOPPEL_CATALOG`` overrides it; otherwise it is the platform's per-user data folder
    (the photo folders themselves may be read-only or shared).
    """
    override = os.environ.get("DOPPEL_CATALOG")
    if override:
        return Path(override).expanduser()
    import platformdirs

    return platformdirs.user_data_path("Doppel", appauthor=False) / "catalog.sqlite"


def encode_path(path: str) -> bytes:
    """A path as stored: the file system's own bytes, so undecodable names survive."""
    return os.fsencode(path)


def decode_path(raw: bytes) -> str:
    """Inverse of :func:`encode_path` (undecodable bytes become surrogate escapes)."""
    return os.fsdecode(raw)


def _prefix_range(root: str) -> tuple[bytes, bytes]:
    """Byte range ``[low, high)`` of every path strictly inside folder ``root``."""
    raw = encode_path(root).rstrip(b"/") + b"/"
    return raw, raw[:-1] + b"0"  # "0" is the byte after "/"


@dataclass(frozen=True, slots=True)
class Root:
    """A library folder the user added to the catalog."""

    id: int
    path: str
    scanned_ns: int | None
    reference: bool


@dataclass(frozen=True, slots=True)
class KnownFile:
    """What a re-scan compares a file on disk against."""

    id: int
    size: int
    mtime_ns: int
    hash_version: int


def _translate(path: str, error: sqlite3.Error) -> CatalogError:
    """Turn an sqlite3 exception into the user-facing catalog error it stands for."""
    text = str(error).lower()
    if "locked" in text or "busy" in text:
        return CatalogLocked(
            path, f"The catalog {path} is in use by another program (it stayed locked)."
        )
    if (
        "not a database" in text
        or "malformed" in text
        or "corrupt" in text
        or "disk i/o" in text
        or "file is encrypted" in text
    ):
        return CatalogCorrupt(path, f"The catalog {path} is damaged ({error}). It can be rebuilt.")
    if "unable to open" in text or "readonly" in text or "read-only" in text:
        return CatalogError(path, f"The catalog {path} cannot be opened for writing ({error}).")
    return CatalogError(path, f"The catalog {path} could not be used: {error}")


def _hold_open(path: str, timeout: float) -> FileLock | None:
    """The shared lock every open catalog holds (``lockfile.py``), or None if the
    folder has no room for a lock file."""
    lock = FileLock(path + OPEN_SUFFIX)
    try:
        taken = lock.acquire(exclusive=False, timeout=timeout)
    except OSError as error:
        log.debug("Cannot lock %s: %s", lock.path, error)
        return None
    if not taken:
        raise CatalogLocked(
            path, f"The catalog {path} is being rebuilt by another Doppel process; try again."
        )
    return lock


def exclusive_open_lock(path: str) -> FileLock | None:
    """The open lock of the catalog at ``path``, taken exclusively (for a rebuild).

    Returns:
        The lock (release it when done), or None if no lock file can be made there.

    Raises:
        CatalogLocked: The catalog is open in a window or another command.
    """
    lock = FileLock(path + OPEN_SUFFIX)
    try:
        taken = lock.acquire(exclusive=True)
    except OSError as error:
        log.debug("Cannot lock %s: %s", lock.path, error)
        return None
    if not taken:
        raise CatalogLocked(
            path,
            f"The catalog {path} is open in another Doppel process (a window or a "
            "command); close it and try again.",
        )
    return lock


class Catalog:
    """One open connection to the catalog file.

    Args:
        path: The SQLite file, created with its folder if missing, or ``":memory:"``.
        timeout: Seconds to wait for another process's lock before giving up.
        hold_open_lock: Hold the shared lock that tells a rebuild the catalog is open
            (``lockfile.py``); only the rebuild itself, holding it exclusively, opens
            without.

    Raises:
        CatalogLocked: Another process kept the file locked for ``timeout`` seconds.
        CatalogCorrupt: The file is not a readable SQLite database.
        CatalogTooNew: The file was written by a newer version of Doppel.
        CatalogError: The file cannot be created or opened at all.
    """

    def __init__(
        self,
        path: str | os.PathLike[str],
        *,
        timeout: float = 5.0,
        hold_open_lock: bool = True,
    ) -> None:
        self.path = str(path)
        self._timeout = timeout
        self._open_lock: FileLock | None = None
        if self.path != ":memory:":
            try:
                Path(self.path).parent.mkdir(parents=True, exist_ok=True)
            except OSError as error:
                raise CatalogError(
                    self.path, f"Cannot create the catalog folder for {self.path}: {error}"
                ) from error
            if hold_open_lock:  # False only for the rebuild, which holds it exclusively
                self._open_lock = _hold_open(self.path, timeout)
        try:
            self._db = sqlite3.connect(self.path, timeout=timeout, isolation_level=None)
        except sqlite3.Error as error:
            self._release_open_lock()
            raise _translate(self.path, error) from error
        try:
            self._configure()
            self._migrate()
        except sqlite3.Error as error:
            self._db.close()
            self._release_open_lock()
            raise _translate(self.path, error) from error
        except CatalogError:
            self._db.close()
            self._release_open_lock()
            raise
        self.index = SegmentIndex(self)
        self.pairs = PairCache(self)
        self.groupings = GroupingCache(self)

    # ----------------------------------------------------------------- lifecycle

    def _configure(self) -> None:
        db = self._db
        # Reading the header first makes a non-database file fail here, clearly.
        db.execute("PRAGMA schema_version").fetchone()
        if self.path != ":memory:":
            mode = db.execute("PRAGMA journal_mode=WAL").fetchone()[0]
            if str(mode).lower() != "wal":
                log.warning("Catalog %s is not in WAL mode (%s)", self.path, mode)
        db.execute("PRAGMA synchronous=NORMAL")
        db.execute("PRAGMA foreign_keys=ON")
        db.execute("PRAGMA temp_store=MEMORY")
        db.execute("PRAGMA cache_size=-65536")  # 64 MiB: the postings of a big library
        # Reading posting lists through a memory map skips a copy per page; it made
        # queries at threshold 16 on a million photos about 1.3x faster.
        db.execute("PRAGMA mmap_size=268435456")

    def _migrate(self) -> None:
        version = self._db.execute("PRAGMA user_version").fetchone()[0]
        if version > schema.SCHEMA_VERSION:
            raise CatalogTooNew(
                self.path,
                f"The catalog {self.path} was written by a newer version of Doppel "
                f"(schema {version}; this version knows {schema.SCHEMA_VERSION}). Update "
                "Doppel, or rebuild the catalog (your photos are not touched).",
            )
        if version == schema.SCHEMA_VERSION:
            return
        with self.transaction() as db:
            if (
                version == 0
                and db.execute("SELECT count(*) FROM sqlite_master WHERE type='table'").fetchone()[
                    0
                ]
            ):
                raise CatalogCorrupt(
                    self.path, f"{self.path} is an SQLite database but not a Doppel catalog."
                )
            schema.migrate(db, version)

    def close(self) -> None:
        """Close the connection; the object is unusable afterwards."""
        self._db.close()
        self._release_open_lock()

    def _release_open_lock(self) -> None:
        if self._open_lock is not None:
            self._open_lock.release()
            self._open_lock = None

    @contextlib.contextmanager
    def scan_lock(self) -> Iterator[None]:
        """Held while a scan writes: a second scan of this catalog is refused.

        Raises:
            CatalogLocked: Another scan (in this or another process) holds it.
        """
        if self.path == ":memory:":
            yield
            return
        lock = FileLock(self.path + SCAN_SUFFIX)
        try:
            taken = lock.acquire(exclusive=True)
        except OSError as error:  # a read-only folder: the scan fails on writing anyway
            log.debug("Cannot take the scan lock of %s: %s", self.path, error)
            taken = True
        if not taken:
            raise CatalogLocked(
                self.path,
                f"Another Doppel scan is updating the catalog {self.path}; "
                "scan again when it has finished.",
            )
        try:
            yield
        finally:
            lock.release()

    def __enter__(self) -> Catalog:
        return self

    def __exit__(self, *exc: object) -> None:
        self.close()

    def transaction(self) -> contextlib.AbstractContextManager[sqlite3.Connection]:
        """A write transaction; nested use joins the outer one.

        ``BEGIN IMMEDIATE`` takes the write lock up front, so a second writer waits for
        ``timeout`` instead of failing half-way through.
        """
        return self._within("BEGIN IMMEDIATE")

    def snapshot(self) -> contextlib.AbstractContextManager[sqlite3.Connection]:
        """A read transaction: every query inside sees the same state of the catalog."""
        return self._within("BEGIN")

    @contextlib.contextmanager
    def _within(self, begin: str) -> Iterator[sqlite3.Connection]:
        """A transaction started by ``begin`` (joining one already open): any sqlite
        error, at BEGIN, inside the body (a constraint, a full disk...) or at COMMIT,
        rolls it back and comes out as a :class:`CatalogError`."""
        if self._db.in_transaction:
            yield self._db
            return
        try:
            self._db.execute(begin)
        except sqlite3.Error as error:
            raise _translate(self.path, error) from error
        try:
            yield self._db
        except sqlite3.Error as error:
            self._rollback()
            raise _translate(self.path, error) from error
        except BaseException:
            self._rollback()
            raise
        else:
            try:
                self._db.execute("COMMIT")
            except sqlite3.Error as error:
                self._rollback()
                raise _translate(self.path, error) from error

    def _rollback(self) -> None:
        if self._db.in_transaction:
            try:
                self._db.execute("ROLLBACK")
            except sqlite3.Error as error:  # SQLite may have rolled back on its own
                log.debug("Rollback of %s failed: %s", self.path, error)

    def translate(self, error: sqlite3.Error) -> CatalogError:
        """The user-facing :class:`CatalogError` an sqlite3 exception stands for."""
        return _translate(self.path, error)

    def execute(self, sql: str, params: Sequence[object] = ()) -> sqlite3.Cursor:
        """Run one statement, translating SQLite errors to :class:`CatalogError`."""
        try:
            return self._db.execute(sql, params)
        except sqlite3.Error as error:
            raise _translate(self.path, error) from error

    def check(self) -> list[str]:
        """SQLite's own integrity check; an empty list means the file is sound."""
        rows = self.execute("PRAGMA integrity_check").fetchall()
        return [] if rows == [("ok",)] else [str(r[0]) for r in rows]

    # ----------------------------------------------------------------- meta

    @staticmethod
    def put_meta(db: sqlite3.Connection, key: str, value: str) -> None:
        """Store a ``meta`` value inside the caller's transaction ``db``."""
        db.execute(
            "INSERT INTO meta(key, value) VALUES(?, ?) "
            "ON CONFLICT(key) DO UPDATE SET value=excluded.value",
            (key, value),
        )

    def get_meta(self, key: str, default: str | None = None) -> str | None:
        """A value from the ``meta`` table."""
        row = self.execute("SELECT value FROM meta WHERE key=?", (key,)).fetchone()
        return default if row is None else str(row[0])

    def set_meta(self, key: str, value: str) -> None:
        """Store a value in the ``meta`` table."""
        with self.transaction() as db:
            self.put_meta(db, key, value)

    def meta_int(self, key: str, default: int) -> int:
        """An integer ``meta`` value."""
        value = self.get_meta(key)
        return default if value is None else int(value)

    # ----------------------------------------------------------------- roots

    def add_root(self, path: str) -> Root:
        """Register a library folder (idempotent) and return it."""
        raw = encode_path(path)
        with self.transaction() as db:
            db.execute(
                "INSERT INTO roots(path, added_ns) VALUES(?, ?) ON CONFLICT(path) DO NOTHING",
                (raw, time.time_ns()),
            )
            row = db.execute(
                "SELECT id, path, scanned_ns, reference FROM roots WHERE path=?", (raw,)
            ).fetchone()
        return Root(row[0], decode_path(row[1]), row[2], bool(row[3]))

    def roots(self) -> list[Root]:
        """Every registered library folder, in path order."""
        rows = self.execute(
            "SELECT id, path, scanned_ns, reference FROM roots ORDER BY path"
        ).fetchall()
        return [Root(r[0], decode_path(r[1]), r[2], bool(r[3])) for r in rows]

    def root(self, path: str) -> Root | None:
        """The registered folder at exactly ``path``, if any."""
        row = self.execute(
            "SELECT id, path, scanned_ns, reference FROM roots WHERE path=?",
            (encode_path(path),),
        ).fetchone()
        return None if row is None else Root(row[0], decode_path(row[1]), row[2], bool(row[3]))

    def mark_scanned(self, path: str, when_ns: int) -> None:
        """Record that a scan of ``path`` ran to completion."""
        with self.transaction() as db:
            db.execute("UPDATE roots SET scanned_ns=? WHERE path=?", (when_ns, encode_path(path)))

    def set_reference(self, path: str, reference: bool) -> None:
        """Mark a library folder as reference (its photos are never marked for removal)."""
        self.add_root(path)
        with self.transaction() as db:
            db.execute(
                "UPDATE roots SET reference=? WHERE path=?", (int(reference), encode_path(path))
            )

    # ----------------------------------------------------------------- images

    def _scope(self, roots: Sequence[str] | None) -> tuple[str, list[bytes]]:
        """SQL condition and parameters selecting the images inside ``roots``."""
        if roots is None:
            return "1", []
        if not roots:
            return "0", []
        clauses, params = [], []
        for root in roots:
            if encode_path(root).rstrip(b"/") == b"":
                return "1", []
            low, high = _prefix_range(root)
            clauses.append("(path >= ? AND path < ?)")
            params += [low, high]
        return "(" + " OR ".join(clauses) + ")", params

    def known_files(self, root: str) -> dict[str, KnownFile]:
        """Every catalogued file under ``root``, for a re-scan to compare against."""
        where, params = self._scope([root])
        rows = self.execute(
            f"SELECT id, path, size, mtime_ns, hash_version FROM images WHERE {where}", params
        )
        return {decode_path(r[1]): KnownFile(r[0], r[2], r[3], r[4]) for r in rows}

    def size(self, roots: Sequence[str] | None = None) -> int:
        """Rows inside ``roots`` (all when None): what :meth:`all_records` would return."""
        where, params = self._scope(roots)
        row = self.execute(f"SELECT count(*) FROM images WHERE {where}", params).fetchone()
        return int(row[0])

    def count(self, roots: Sequence[str] | None = None) -> tuple[int, int]:
        """(hashed images, unreadable files) inside ``roots`` (all when None)."""
        where, params = self._scope(roots)
        row = self.execute(
            f"SELECT count(phash), count(error) FROM images WHERE {where}", params
        ).fetchone()
        return int(row[0]), int(row[1])

    def add_results(
        self,
        results: Iterable[ImageFeatures | FileFailure],
        hash_version: int,
        replace: Iterable[int] = (),
    ) -> list[int]:
        """Write a batch of hashing results in one transaction.

        Args:
            results: Features of images that were read, failures of files that were not.
                Failures with ``gone`` set are not recorded.
            hash_version: The hashing algorithm's version, stored with each row.
            replace: Ids of rows these results supersede (changed files); they are
                deleted first, so a changed file gets a new id.

        Returns:
            The ids of the new rows, in the order of ``results`` (gone files skipped).
        """
        ids: list[int] = []
        with self.transaction() as db:
            self._delete(db, list(replace))
            for item in results:
                if isinstance(item, ImageFeatures):
                    variants = (
                        np.array(item.variants, dtype="<u8").tobytes() if item.variants else None
                    )
                    windows = (
                        np.array(item.windows, dtype="<u8").tobytes() if item.windows else None
                    )
                    cur = db.execute(
                        "INSERT INTO images(path, size, mtime_ns, hash_version, digest, phash,"
                        " variants, width, height, format, taken, camera, content_width,"
                        " content_height, capture, pixel_digest, sharpness, greyscale,"
                        " brightness, windows)"
                        " VALUES(?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?)",
                        (
                            encode_path(item.path),
                            item.size,
                            item.mtime_ns,
                            hash_version,
                            item.digest,
                            as_signed(item.phash),
                            variants,
                            item.width,
                            item.height,
                            item.format,
                            item.taken,
                            item.camera,
                            item.content_width,
                            item.content_height,
                            capture_text(item.capture),
                            item.pixel_digest,
                            item.sharpness,
                            int(item.greyscale),
                            item.brightness,
                            windows,
                        ),
                    )
                elif not item.gone:
                    cur = db.execute(
                        "INSERT INTO images(path, size, mtime_ns, hash_version, error)"
                        " VALUES(?, ?, ?, ?, ?)",
                        (
                            encode_path(item.path),
                            item.size,
                            item.mtime_ns,
                            hash_version,
                            item.reason,
                        ),
                    )
                else:
                    continue
                ids.append(int(cur.lastrowid or 0))
        return ids

    def undigested_same_size(self) -> list[tuple[int, str, int, int]]:
        """Hashed files with no digest yet whose size another file in the catalog has.

        Returns:
            ``(id, path, size, mtime_ns)`` of each (only files of equal size can be
            byte-identical, so only these need their whole bytes read).
        """
        rows = self.execute(
            "SELECT id, path, size, mtime_ns FROM images WHERE digest IS NULL"
            " AND phash IS NOT NULL AND size IN"
            " (SELECT size FROM images GROUP BY size HAVING COUNT(*) > 1)"
        )
        return [(int(r[0]), os.fsdecode(r[1]), int(r[2]), int(r[3])) for r in rows]

    def set_digests(self, digests: Sequence[tuple[int, int, bytes]]) -> None:
        """Store digests computed after hashing: ``(id, mtime_ns it was read at, digest)``;
        a row whose file changed since (another mtime) is left alone."""
        with self.transaction() as db:
            db.executemany(
                "UPDATE images SET digest = ? WHERE id = ? AND mtime_ns = ?",
                [(digest, image_id, mtime_ns) for image_id, mtime_ns, digest in digests],
            )

    def remove(self, ids: Sequence[int]) -> None:
        """Forget images (deleted files, files moved away by the user)."""
        if ids:
            with self.transaction() as db:
                self._delete(db, list(ids))

    def remove_paths(self, paths: Sequence[str]) -> None:
        """Forget the images at these paths, if catalogued."""
        ids = [
            row[0]
            for chunk in chunks([encode_path(p) for p in paths], 500)
            for row in self.execute(
                f"SELECT id FROM images WHERE path IN ({','.join('?' * len(chunk))})", chunk
            )
        ]
        self.remove(ids)

    def _delete(self, db: sqlite3.Connection, ids: list[int]) -> None:
        if not ids:
            return
        watermark = self.index.watermark
        indexed = []
        for chunk in chunks(ids, 500):
            marks = ",".join("?" * len(chunk))
            indexed += [
                (row[0], as_unsigned(row[1]))
                for row in db.execute(
                    f"SELECT id, phash FROM images WHERE id IN ({marks}) AND phash IS NOT NULL"
                    " AND id <= ?",
                    [*chunk, watermark],
                )
            ]
            db.execute(f"DELETE FROM images WHERE id IN ({marks})", chunk)
        if indexed:
            SegmentIndex.remove(db, indexed)

    def records(self, ids: Iterable[int]) -> dict[int, ImageRecord]:
        """Catalog rows by id (missing ids are left out)."""
        out: dict[int, ImageRecord] = {}
        for chunk in chunks(list(ids), 900):
            marks = ",".join("?" * len(chunk))
            for row in self.execute(
                f"SELECT {IMAGE_COLUMNS} FROM images WHERE id IN ({marks})", chunk
            ):
                record = make_record(row)
                out[record.id] = record
        return out

    def all_records(self, roots: Sequence[str] | None = None) -> list[ImageRecord]:
        """Every row inside ``roots`` (all when None), in path order."""
        where, params = self._scope(roots)
        rows = self.execute(
            f"SELECT {IMAGE_COLUMNS} FROM images WHERE {where} ORDER BY path", params
        )
        return [make_record(r) for r in rows]

    def record_table(self, roots: Sequence[str] | None = None) -> RecordTable:
        """Every row inside ``roots`` (all when None) by id, in path order, each made a
        record when first looked up (``records.py``).

        The rows come from the copy kept by the last reading of the same folders when no
        image row changed since; otherwise they are read from ``images`` and, for a
        library of :data:`KEEP_ROWS_FROM` photos or more, a copy is kept for the next
        reading (if the catalog can be written to at once: a scan writing in another
        process is not waited for).
        """
        where, params = self._scope(roots)
        scope = "*" if roots is None else json.dumps(sorted(roots))
        with self.snapshot() as db:
            counted = db.execute("SELECT count FROM image_changes").fetchone()
            changes = None if counted is None else int(counted[0])
            kept = db.execute(
                "SELECT changes, format, checksum, rows FROM record_rows WHERE scope = ?",
                (scope,),
            ).fetchone()
            current = kept is not None and (kept[0], kept[1]) == (changes, ROWS_FORMAT)
            if current:
                found = unpack_rows(kept[3], kept[2])
                if found is not None:
                    return RecordTable(found)
                log.warning("The kept copy of the catalog's rows is damaged; reading them")
            rows = db.execute(
                f"SELECT {IMAGE_COLUMNS} FROM images WHERE {where} ORDER BY path", params
            ).fetchall()
        if changes is not None and len(rows) >= KEEP_ROWS_FROM and not self._db.in_transaction:
            self._keep_rows(scope, changes, rows)
        return RecordTable(rows)

    def _keep_rows(self, scope: str, changes: int, rows: list[tuple[Any, ...]]) -> None:
        """Keep ``rows`` (read when ``image_changes`` was ``changes``) as the only copy,
        unless another connection is writing: then nothing is kept this time."""
        blob, checksum = pack_rows(rows)
        self._db.execute("PRAGMA busy_timeout = 0")
        try:
            with self.transaction() as db:
                db.execute("DELETE FROM record_rows")
                db.execute(
                    "INSERT INTO record_rows(scope, changes, format, checksum, rows)"
                    " VALUES(?, ?, ?, ?, ?)",
                    (scope, changes, ROWS_FORMAT, checksum, blob),
                )
        except CatalogError as error:  # busy, read-only, full: a cache, kept next time
            log.debug("Did not keep a copy of the catalog's rows: %s", error)
        finally:
            self._db.execute(f"PRAGMA busy_timeout = {int(self._timeout * 1000)}")

    def record_at(self, path: str) -> ImageRecord | None:
        """The row of the file at ``path``, if catalogued."""
        row = self.execute(
            f"SELECT {IMAGE_COLUMNS} FROM images WHERE path=?", (encode_path(path),)
        ).fetchone()
        return None if row is None else make_record(row)

    def failures(self, roots: Sequence[str] | None = None) -> list[FileFailure]:
        """Files that could not be read, with the reason, in path order."""
        where, params = self._scope(roots)
        rows = self.execute(
            f"SELECT path, size, mtime_ns, error FROM images WHERE error IS NOT NULL AND {where}"
            " ORDER BY path",
            params,
        )
        return [FileFailure(decode_path(r[0]), r[1], r[2], r[3]) for r in rows]

    def hashes(
        self, roots: Sequence[str] | None = None, *, variants: bool = False
    ) -> tuple[IdArray, HashArray, npt.NDArray[np.uint64] | None]:
        """Ids and pHashes of every hashed image inside ``roots``, in id order.

        Returns:
            ``(ids, hashes, variants)``; ``variants`` is an ``(n, 8)`` array when asked
            for and every image has them, else None.
        """
        where, params = self._scope(roots)
        column = ", variants" if variants else ""
        rows = self.execute(
            f"SELECT id, phash{column} FROM images WHERE phash IS NOT NULL AND {where} ORDER BY id",
            params,
        ).fetchall()
        ids, hashes = id_hash_arrays(rows)
        table = None
        if variants and rows and all(r[2] is not None for r in rows):
            table = np.frombuffer(b"".join(r[2] for r in rows), dtype="<u8").reshape(-1, 8)
            table = table.astype(np.uint64)
        return ids, hashes, table

    def lacking_variants(self, roots: Sequence[str] | None = None, limit: int = -1) -> set[str]:
        """Hashed files inside ``roots`` (all when None) stored without rotation hashes.

        Args:
            roots: Library folders (absolute); every folder when None.
            limit: At most this many (-1: all).

        Returns:
            Their paths.
        """
        where, params = self._scope(roots)
        rows = self.execute(
            "SELECT path FROM images WHERE phash IS NOT NULL AND variants IS NULL"
            f" AND {where} LIMIT ?",
            [*params, limit],
        )
        return {decode_path(row[0]) for row in rows}

    def windows(self, ids: IdArray) -> npt.NDArray[np.uint64]:
        """The window hashes (``imaging/windows.py``) of these images, one row each in
        the order given; images without them get a row of zeros, which match nothing
        (no photo hashes to 0: bit 63, the DC term, is set in every real pHash)."""
        count = len(WINDOWS)
        table = np.zeros((ids.shape[0], count), dtype=np.uint64)
        if not ids.size:
            return table
        position = {int(v): k for k, v in enumerate(ids.tolist())}
        for chunk in chunks(ids.tolist(), 900):
            rows = self.execute(
                f"SELECT id, windows FROM images WHERE id IN ({','.join('?' * len(chunk))})"
                " AND windows IS NOT NULL",
                chunk,
            ).fetchall()
            for image_id, blob in rows:
                values = np.frombuffer(blob, dtype="<u8")
                if values.shape[0] == count:
                    table[position[int(image_id)]] = values
        return table

    def max_id(self) -> int:
        """The largest image id ever handed out (0 for a new catalog)."""
        row = self.execute("SELECT seq FROM sqlite_sequence WHERE name='images'").fetchone()
        return 0 if row is None else int(row[0])

    def ids_in_path_order(self, roots: Sequence[str] | None = None) -> IdArray:
        """Ids of every row inside ``roots`` in the order of :meth:`all_records`."""
        where, params = self._scope(roots)
        rows = self.execute(f"SELECT id FROM images WHERE {where} ORDER BY path", params)
        ids = [r[0] for r in rows]
        return np.array(ids, dtype=np.int64)

    def hashed_ids(self, roots: Sequence[str] | None = None) -> IdArray:
        """Ids of the hashed images inside ``roots`` (all when None)."""
        where, params = self._scope(roots)
        rows = self.execute(
            f"SELECT id FROM images WHERE phash IS NOT NULL AND {where}", params
        ).fetchall()
        return np.fromiter((r[0] for r in rows), dtype=np.int64, count=len(rows))

    def query(
        self, value: int, threshold: int, roots: Sequence[str] | None = None
    ) -> tuple[IdArray, npt.NDArray[np.uint8]]:
        """Catalogued images within ``threshold`` of the hash ``value``, nearest first.

        Args:
            value: The query's 64-bit pHash.
            threshold: Largest Hamming distance to return.
            roots: Only images inside these folders (all when None).

        Returns:
            ``(ids, distances)`` sorted by distance, then id.
        """
        ids, distances = self.index.query(value, threshold)
        if roots is not None and ids.size:
            inside = np.isin(ids, self.hashed_ids(roots))
            ids, distances = ids[inside], distances[inside]
        return ids, distances
