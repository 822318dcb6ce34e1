"""The journal of file operations, kept in the catalog (tables ``operations``, ``journal``).

Every file an operation touches gets a journal entry *before* anything happens to it,
and the entry moves through these states, each one committed before the file system
step that follows it (``operations.py`` does the steps):

``planned``
    Intent recorded: source, size, modification time, digest, the destination name
    wished for and a random token. Nothing reserved yet.
``reserved``
    The destination name is taken by our placeholder (a file holding the token).
``done``
    The file is at ``destination`` (or deleted, or in a trash that does not say where).
``failed``
    The file was left where it was; ``error`` says why.
``restoring`` / ``restore-reserved``
    Undo in progress: the same two steps backwards, towards ``restored``.
``restored``
    Undo put the file back, at ``restored`` (the source path unless something new had
    taken it).

Entries in any other state than ``done``, ``failed`` and ``restored`` are *open*: after
a crash, :func:`fileops.recover` settles each one by looking at the disk. The journal is
the user's data: migrations keep it and a damaged catalog's rebuild salvages it.
While an operation runs, commits are made with ``synchronous=FULL`` so that an entry
committed before a move survives a power cut that the move itself survives.
"""

from __future__ import annotations

import contextlib
import enum
import json
import logging
import os
import sqlite3
import sys
import threading
import time
from collections.abc import Iterator, Sequence
from dataclasses import dataclass
from typing import Any

from desktop_app.engine.catalog.store import Catalog, decode_path, encode_path
from desktop_app.engine.errors import EngineError

log = logging.getLogger(__name__)


class Action(enum.StrEnum):
    """What an operation does to the files."""

    TRASH = "trash"
    MOVE = "move"
    DELETE = "delete"


class State(enum.StrEnum):
    """The life of one journal entry (see the module docstring)."""

    PLANNED = "planned"
    RESERVED = "reserved"
    DONE = "done"
    FAILED = "failed"
    RESTORING = "restoring"
    RESTORE_RESERVED = "restore-reserved"
    RESTORED = "restored"


#: States an entry may rest in; any other one is settled by recovery.
FINAL = frozenset({State.DONE, State.FAILED, State.RESTORED})


class OperationState(enum.StrEnum):
    """Whether an operation ran to its end."""

    RUNNING = "running"
    FINISHED = "finished"
    INTERRUPTED = "interrupted"


@dataclass(frozen=True, slots=True)
class Entry:
    """One file of one operation, as the journal holds it.

    Attributes:
        id: Entry id, increasing in the order files were handled.
        operation: The operation's id.
        source: Where the file was before the operation.
        destination: Where it went (the reserved name), None for a deletion or a trash
            that does not say where.
        info: The ``.trashinfo`` written with it (freedesktop trash), if any.
        info_text: The exact content of ``info``, so recovery removes only ours.
        token: The content of our placeholders for this entry.
        digest: xxh3-128 of the file's bytes, when known.
        size: File size in bytes.
        mtime_ns: Modification time (moves and verified copies keep it).
        state: See :class:`State`.
        error: Why the entry failed, or a note about how it was settled.
        restored: Where undo put the file back.
        image: The catalog row of the file (JSON), to put it back in the catalog on undo.
        updated_ns: When the entry last changed.
        photo: For a sidecar (``sidecars.py``), the entry of the photo it belongs to:
            the two move, fail and come back together.
    """

    id: int
    operation: int
    source: str
    destination: str | None
    info: str | None
    info_text: str | None
    token: bytes
    digest: bytes | None
    size: int
    mtime_ns: int
    state: State
    error: str | None
    restored: str | None
    image: str | None
    updated_ns: int
    photo: int | None = None

    @property
    def is_open(self) -> bool:
        """Whether recovery still has to settle this entry."""
        return self.state not in FINAL


@dataclass(frozen=True, slots=True)
class Operation:
    """One user action on a set of files, with counts over its entries.

    Attributes:
        id: Operation id, increasing with time.
        action: What it did.
        started_ns: When it started (``time.time_ns``).
        finished_ns: When it ended, None while running or if interrupted.
        state: See :class:`OperationState`.
        target: The destination folder of a move, or the trash's label.
        note: Free text (e.g. how it was settled after a crash).
        files: Entries in the operation.
        done: Entries whose file is at its destination (undo can act on these).
        failed: Entries left in place.
        restored: Entries undone.
        open: Entries not settled yet.
        bytes_done: Total size of the ``done`` entries.
        restorable: ``done`` entries that undo can put back (their place is known).
    """

    id: int
    action: Action
    started_ns: int
    finished_ns: int | None
    state: OperationState
    target: str | None
    note: str | None
    files: int
    done: int
    failed: int
    restored: int
    open: int
    bytes_done: int
    restorable: int


@dataclass(frozen=True, slots=True)
class NewEntry:
    """What an operation knows about a file before touching it."""

    source: str
    destination: str | None
    info: str | None
    info_text: str | None
    token: bytes
    digest: bytes | None
    size: int
    mtime_ns: int
    image: dict[str, Any] | None = None


_ENTRY_COLUMNS = (
    "id, operation, source, destination, info, info_text, token, digest, size, mtime_ns,"
    " state, error, restored, image, updated_ns, photo"
)


def _path(raw: bytes | None) -> str | None:
    return None if raw is None else decode_path(raw)


def _raw(path: str | None) -> bytes | None:
    return None if path is None else encode_path(path)


def _entry(row: Sequence[Any]) -> Entry:
    return Entry(
        id=row[0],
        operation=row[1],
        source=decode_path(row[2]),
        destination=_path(row[3]),
        info=_path(row[4]),
        info_text=row[5],
        token=bytes(row[6]),
        digest=None if row[7] is None else bytes(row[7]),
        size=row[8],
        mtime_ns=row[9],
        state=State(row[10]),
        error=row[11],
        restored=_path(row[12]),
        image=row[13],
        updated_ns=row[14],
        photo=row[15],
    )


@contextlib.contextmanager
def durable(catalog: Catalog) -> Iterator[None]:
    """Commit with ``synchronous=FULL`` inside the block (WAL's NORMAL may lose the last
    commits on power loss, and a lost intent would be a file the journal cannot find)."""
    catalog.execute("PRAGMA synchronous=FULL")
    try:
        yield
    finally:
        with contextlib.suppress(Exception):
            catalog.execute("PRAGMA synchronous=NORMAL")


class OperationRunning(EngineError):
    """Another file operation (or recovery) is running on the same catalog."""


_memory_locks: dict[int, threading.Lock] = {}
_memory_guard = threading.Lock()


@contextlib.contextmanager
def exclusive(catalog: Catalog) -> Iterator[None]:
    """Hold the catalog's file-operation lock for the block.

    Operations, undo and recovery each take it, so that recovery never settles the
    entries of an operation that is still running (in another thread or process). It is
    an OS file lock on ``CATALOG.ops-lock``: the OS releases it when a process dies, so
    a crash never leaves it stuck.

    Raises:
        OperationRunning: Someone else holds it.
    """
    if catalog.path == ":memory:":
        with _memory_guard:
            lock = _memory_locks.setdefault(id(catalog), threading.Lock())
        if not lock.acquire(blocking=False):
            raise OperationRunning("Another file operation is running on this catalog.")
        try:
            yield
        finally:
            lock.release()
        return
    fd = os.open(catalog.path + ".ops-lock", os.O_RDWR | os.O_CREAT, 0o600)
    try:
        try:
            _lock(fd)
        except OSError as error:
            raise OperationRunning(
                f"Another file operation is running on the catalog {catalog.path}."
            ) from error
        try:
            yield
        finally:
            _unlock(fd)
    finally:
        os.close(fd)


if sys.platform == "win32":  # pragma: no cover - exercised on Windows only
    import msvcrt

    def _lock(fd: int) -> None:
        msvcrt.locking(fd, msvcrt.LK_NBLCK, 1)

    def _unlock(fd: int) -> None:
        os.lseek(fd, 0, os.SEEK_SET)
        msvcrt.locking(fd, msvcrt.LK_UNLCK, 1)

else:
    import fcntl

    def _lock(fd: int) -> None:
        fcntl.flock(fd, fcntl.LOCK_EX | fcntl.LOCK_NB)

    def _unlock(fd: int) -> None:
        fcntl.flock(fd, fcntl.LOCK_UN)


def begin(catalog: Catalog, action: Action, target: str | None, note: str | None = None) -> int:
    """Record the start of an operation and return its id."""
    with catalog.transaction() as db:
        cur = db.execute(
            "INSERT INTO operations(action, started_ns, state, target, note) VALUES(?, ?, ?, ?, ?)",
            (str(action), time.time_ns(), str(OperationState.RUNNING), _raw(target), note),
        )
        return int(cur.lastrowid or 0)


def add(
    db: sqlite3.Connection,
    operation: int,
    entries: Sequence[NewEntry],
    *,
    photo: int | None = None,
) -> list[int]:
    """Write ``planned`` entries inside the caller's transaction; returns their ids.

    ``photo`` marks them as the sidecars of that entry's photo.
    """
    now = time.time_ns()
    ids = []
    for e in entries:
        cur = db.execute(
            f"INSERT INTO journal({_ENTRY_COLUMNS.split(', ', 1)[1]})"
            " VALUES(?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?)",
            (
                operation,
                encode_path(e.source),
                _raw(e.destination),
                _raw(e.info),
                e.info_text,
                e.token,
                e.digest,
                e.size,
                e.mtime_ns,
                str(State.PLANNED),
                None,
                None,
                None if e.image is None else json.dumps(e.image, sort_keys=True),
                now,
                photo,
            ),
        )
        ids.append(int(cur.lastrowid or 0))
    return ids


#: Columns :func:`update` may change.
_UPDATABLE = frozenset({"destination", "info", "info_text", "token", "error", "restored"})


def update(db: sqlite3.Connection, entry: int, state: State, **fields: str | bytes | None) -> None:
    """Move an entry to ``state`` (and change some columns) in the caller's transaction.

    Path columns (``destination``, ``info``, ``restored``) are given as ``str``.
    """
    unknown = set(fields) - _UPDATABLE
    if unknown:
        raise ValueError(f"not updatable: {sorted(unknown)}")
    sets, params = ["state=?", "updated_ns=?"], [str(state), time.time_ns()]
    for name, value in fields.items():
        sets.append(f"{name}=?")
        if name in ("destination", "info", "restored") and isinstance(value, str):
            params.append(encode_path(value))
        else:
            params.append(value)
    db.execute(f"UPDATE journal SET {', '.join(sets)} WHERE id=?", [*params, entry])


def finish(
    db: sqlite3.Connection, operation: int, state: OperationState, note: str | None = None
) -> None:
    """Mark an operation finished or interrupted, in the caller's transaction."""
    db.execute(
        "UPDATE operations SET state=?, finished_ns=?, note=coalesce(?, note) WHERE id=?",
        (str(state), time.time_ns() if state is OperationState.FINISHED else None, note, operation),
    )


def entries(catalog: Catalog, operation: int) -> list[Entry]:
    """The entries of one operation, in the order they were handled."""
    rows = catalog.execute(
        f"SELECT {_ENTRY_COLUMNS} FROM journal WHERE operation=? ORDER BY id", (operation,)
    )
    return [_entry(r) for r in rows]


def sidecars_of(catalog: Catalog, photo: int) -> list[Entry]:
    """The sidecar entries of a photo's entry, in the order they were handled."""
    rows = catalog.execute(
        f"SELECT {_ENTRY_COLUMNS} FROM journal WHERE photo=? ORDER BY id", (photo,)
    )
    return [_entry(r) for r in rows]


def entry(catalog: Catalog, entry_id: int) -> Entry:
    """One entry by id."""
    row = catalog.execute(
        f"SELECT {_ENTRY_COLUMNS} FROM journal WHERE id=?", (entry_id,)
    ).fetchone()
    if row is None:
        raise KeyError(entry_id)
    return _entry(row)


def open_entries(catalog: Catalog) -> list[Entry]:
    """Every entry that recovery still has to settle, oldest first."""
    rows = catalog.execute(
        f"SELECT {_ENTRY_COLUMNS} FROM journal"
        " WHERE state NOT IN ('done', 'failed', 'restored') ORDER BY id"
    )
    return [_entry(r) for r in rows]


def running(catalog: Catalog) -> list[int]:
    """Operations that never recorded their end (the program stopped during them)."""
    rows = catalog.execute("SELECT id FROM operations WHERE state=? ORDER BY id", ("running",))
    return [int(r[0]) for r in rows]


_SUMMARY = """
SELECT o.id, o.action, o.started_ns, o.finished_ns, o.state, o.target, o.note,
       count(j.id),
       coalesce(sum(j.state = 'done'), 0),
       coalesce(sum(j.state = 'failed'), 0),
       coalesce(sum(j.state = 'restored'), 0),
       coalesce(sum(j.state NOT IN ('done', 'failed', 'restored')), 0),
       coalesce(sum(CASE WHEN j.state = 'done' THEN j.size ELSE 0 END), 0),
       coalesce(sum(j.state = 'done' AND j.destination IS NOT NULL), 0)
FROM operations o LEFT JOIN journal j ON j.operation = o.id
"""


def _operation(row: Sequence[Any]) -> Operation:
    return Operation(
        id=row[0],
        action=Action(row[1]),
        started_ns=row[2],
        finished_ns=row[3],
        state=OperationState(row[4]),
        target=_path(row[5]),
        note=row[6],
        files=row[7],
        done=row[8],
        failed=row[9],
        restored=row[10],
        open=row[11],
        bytes_done=row[12],
        restorable=row[13],
    )


def operation(catalog: Catalog, operation_id: int) -> Operation | None:
    """One operation with its counts, or None if there is no such id."""
    row = catalog.execute(_SUMMARY + " WHERE o.id=? GROUP BY o.id", (operation_id,)).fetchone()
    return None if row is None else _operation(row)


def operations(catalog: Catalog, limit: int | None = None) -> list[Operation]:
    """Operations, most recent first."""
    sql = _SUMMARY + " GROUP BY o.id ORDER BY o.id DESC"
    params: tuple[int, ...] = ()
    if limit is not None:
        sql += " LIMIT ?"
        params = (limit,)
    return [_operation(r) for r in catalog.execute(sql, params)]


def undoable(catalog: Catalog) -> list[Operation]:
    """Operations with files that undo could still put back, most recent first."""
    return [op for op in operations(catalog) if op.restorable and op.action is not Action.DELETE]
