"""Journalled writes of keepers' XMP sidecars (the metadata merge), and their undo.

An operation that carries the removed copies' metadata over to the keepers writes each
keeper's sidecar through this module, before any copy is removed. Each write is one row
of the ``sidecar_edits`` table (user data, like the journal) holding the sidecar's
exact bytes before (none if it did not exist) and after:

``planned``
    Committed before the write. The new bytes go to a temporary file beside the sidecar
    (``fsutil.part_path``), are ``fsync`` ed, then renamed over it (or linked to its
    name when it is new, which fails rather than overwrite a file made meanwhile).
``done`` / ``failed``
    The sidecar holds the new bytes / was left as it was, with the reason.
``undoing``
    Undo committed its intent; the earlier bytes go back the same way (or the created
    sidecar is removed).
``undone``
    The sidecar is byte for byte what it was before the operation.

Undo leaves a sidecar that changed after the merge as it is, and says so. Recovery
settles ``planned`` and ``undoing`` rows by comparing the file with both versions.
"""

from __future__ import annotations

import contextlib
import enum
import logging
import os
import time
from dataclasses import dataclass

from desktop_app.engine.catalog.store import Catalog, decode_path, encode_path
from desktop_app.engine.fileops import fsutil

log = logging.getLogger(__name__)


class EditState(enum.StrEnum):
    """The life of one sidecar write (see the module docstring)."""

    PLANNED = "planned"
    DONE = "done"
    FAILED = "failed"
    UNDOING = "undoing"
    UNDONE = "undone"


@dataclass(frozen=True, slots=True)
class Edit:
    """One journalled sidecar write.

    Attributes:
        id: Row id.
        operation: The file operation it belongs to.
        path: The sidecar.
        before: Its bytes before, None if it did not exist.
        after: Its bytes after the write.
        token: Names our temporary file.
        state: See :class:`EditState`.
        note: Why it failed, or how it was settled.
        keeper: The photo whose sidecar it is.
        summary: What was carried over (``rating 4; keywords dawn, harbour``).
    """

    id: int
    operation: int
    path: str
    before: bytes | None
    after: bytes
    token: bytes
    state: EditState
    note: str | None
    keeper: str
    summary: str


_COLUMNS = "id, operation, path, before, after, token, state, note, keeper, summary"


def _edit(row: tuple[object, ...]) -> Edit:
    return Edit(
        id=int(row[0]),  # type: ignore[call-overload]
        operation=int(row[1]),  # type: ignore[call-overload]
        path=decode_path(row[2]),  # type: ignore[arg-type]
        before=None if row[3] is None else bytes(row[3]),  # type: ignore[call-overload]
        after=bytes(row[4]),  # type: ignore[call-overload]
        token=bytes(row[5]),  # type: ignore[call-overload]
        state=EditState(str(row[6])),
        note=row[7],  # type: ignore[arg-type]
        keeper=decode_path(row[8]),  # type: ignore[arg-type]
        summary=str(row[9]),
    )


def edits(catalog: Catalog, operation: int) -> list[Edit]:
    """The sidecar writes of one operation, in the order they were made."""
    rows = catalog.execute(
        f"SELECT {_COLUMNS} FROM sidecar_edits WHERE operation=? ORDER BY id", (operation,)
    )
    return [_edit(tuple(r)) for r in rows]


def _set(catalog: Catalog, edit: int, state: EditState, note: str | None = None) -> None:
    with catalog.transaction() as db:
        db.execute(
            "UPDATE sidecar_edits SET state=?, note=coalesce(?, note), updated_ns=? WHERE id=?",
            (str(state), note, time.time_ns(), edit),
        )


def _current(path: str) -> bytes | None:
    try:
        with open(path, "rb") as stream:
            return stream.read()
    except FileNotFoundError:
        return None


def _put(path: str, content: bytes | None, token: bytes, *, new: bool) -> None:
    """Make ``path`` hold ``content`` (remove it for None), atomically, never overwriting
    a file when ``new``."""
    if content is None:
        os.unlink(path)
        fsutil.fsync_dir(os.path.dirname(path) or ".")
        return
    part = fsutil.part_path(path, token)
    fsutil.create_exclusive(part, content)
    try:
        with open(part, "rb+") as stream:
            os.fsync(stream.fileno())
        if new:
            os.link(part, path)  # fails if the name was taken meanwhile
            os.unlink(part)
        else:
            with contextlib.suppress(OSError):  # keep the sidecar's permission bits
                os.chmod(part, os.stat(path).st_mode & 0o7777)
            os.replace(part, path)
    except BaseException:
        with contextlib.suppress(OSError):
            os.unlink(part)
        raise
    fsutil.fsync_dir(os.path.dirname(path) or ".")


def write(
    catalog: Catalog, operation: int, keeper: str, path: str, after: bytes, summary: str
) -> Edit:
    """Write ``after`` into the sidecar at ``path``, journalled (see the module docstring)."""
    before = _current(path)
    token = os.urandom(16)
    with catalog.transaction() as db:
        cur = db.execute(
            f"INSERT INTO sidecar_edits({_COLUMNS.split(', ', 1)[1]}, updated_ns)"
            " VALUES(?, ?, ?, ?, ?, ?, ?, ?, ?, ?)",
            (
                operation, encode_path(path), before, after, token, str(EditState.PLANNED),
                None, encode_path(keeper), summary, time.time_ns(),
            ),
        )  # fmt: skip
        edit_id = int(cur.lastrowid or 0)
    try:
        _put(path, after, token, new=before is None)
    except OSError as error:
        reason = f"the sidecar could not be written: {error.strerror or error}"
        log.warning("%s: %s", path, reason)
        _set(catalog, edit_id, EditState.FAILED, reason)
    else:
        _set(catalog, edit_id, EditState.DONE)
    return edit_by_id(catalog, edit_id)


def edit_by_id(catalog: Catalog, edit_id: int) -> Edit:
    """One sidecar write by id."""
    row = catalog.execute(f"SELECT {_COLUMNS} FROM sidecar_edits WHERE id=?", (edit_id,)).fetchone()
    if row is None:
        raise KeyError(edit_id)
    return _edit(tuple(row))


def undo(catalog: Catalog, operation: int) -> list[Edit]:
    """Put every sidecar the operation wrote back to its earlier bytes, newest first."""
    out = []
    for e in reversed(edits(catalog, operation)):
        if e.state is not EditState.DONE:
            continue
        if _current(e.path) != e.after:
            _set(catalog, e.id, EditState.DONE, "changed since the merge; left as it is")
            out.append(edit_by_id(catalog, e.id))
            continue
        _set(catalog, e.id, EditState.UNDOING)
        try:
            _put(e.path, e.before, e.token, new=False)
        except OSError as error:
            _set(catalog, e.id, EditState.DONE, f"not put back: {error.strerror or error}")
        else:
            _set(catalog, e.id, EditState.UNDONE, "")
        out.append(edit_by_id(catalog, e.id))
    return out


def recover(catalog: Catalog) -> list[Edit]:
    """Settle the writes an interruption left ``planned`` or ``undoing``."""
    rows = catalog.execute(
        f"SELECT {_COLUMNS} FROM sidecar_edits WHERE state IN ('planned', 'undoing')"
    )
    out = []
    for e in [_edit(tuple(r)) for r in rows]:
        with contextlib.suppress(OSError):
            os.unlink(fsutil.part_path(e.path, e.token))
        now = _current(e.path)
        if e.state is EditState.PLANNED:
            done = now == e.after
            state = EditState.DONE if done else EditState.FAILED
            note = "the write had completed" if done else "interrupted before the write"
        else:
            back = now == e.before
            state = EditState.UNDONE if back else EditState.DONE
            note = "the undo had completed" if back else "undo was interrupted"
        _set(catalog, e.id, state, note)
        out.append(edit_by_id(catalog, e.id))
    if out:
        log.warning("Settled %d interrupted sidecar writes", len(out))
    return out
