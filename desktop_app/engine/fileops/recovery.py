"""Settling journal entries that an interruption left open, by looking at the disk.

An entry is open when the program stopped (crash, power cut, exception, cancelled
generator) between two of its steps. The file is then in one of two places, the one
the step started from or the one it was going to, and the journal says which two: we
look, decide, clean up our own placeholders and record the outcome.

The rules, for a step from ``origin`` to ``target`` (source -> destination for an
operation, destination -> restored path for an undo):

* The target is *ours* only once the entry is ``reserved``; before that, a file there is
  removed only if it holds our token (a placeholder whose reservation was not recorded).
* A complete file at the target and nothing at the origin: the step happened; it is
  recorded as completed (rolled forward).
* The origin intact (same size and modification time as recorded): the step is rolled
  back; our placeholder, our half-written copy, or our complete copy on another device,
  is removed from the target. Nothing that is not ours is ever removed.
* Neither: the file is reported missing (another program moved or deleted it).

Removing a duplicate that we created is the only deletion recovery ever makes.
"""

from __future__ import annotations

import contextlib
import enum
import json
import logging
import os
from collections.abc import Iterable
from dataclasses import dataclass
from typing import Any

from desktop_app.engine.catalog.store import Catalog
from desktop_app.engine.fileops import fsutil, journal, sidecars
from desktop_app.engine.fileops.journal import Entry, State
from desktop_app.engine.types import ImageFeatures

log = logging.getLogger(__name__)

#: Consecutive free names after which the search for a lost placeholder stops.
_GAP = 8


class Outcome(enum.StrEnum):
    """How an open entry was settled."""

    COMPLETED = "completed"
    ROLLED_BACK = "rolled back"
    MISSING = "missing"


@dataclass(frozen=True, slots=True)
class Settled:
    """One open entry, settled.

    Attributes:
        entry: The entry's id.
        operation: Its operation's id.
        source: The file's original path.
        location: Where the file is now (None when missing or deleted).
        state: The entry's new state.
        outcome: What recovery decided.
        note: A sentence for the user.
    """

    entry: int
    operation: int
    source: str
    location: str | None
    state: State
    outcome: Outcome
    note: str


# --------------------------------------------------------------------- disk checks


def intact(path: str, entry: Entry) -> bool:
    """Whether ``path`` holds the entry's file, by size and modification time.

    Moves keep both and verified copies copy the modification time, so this is cheap
    and exact for our own moves.
    """
    try:
        info = os.stat(path)
    except OSError:
        return False
    return info.st_size == entry.size and info.st_mtime_ns == entry.mtime_ns


def complete(path: str, entry: Entry) -> bool:
    """Whether ``path`` holds the entry's bytes (by digest when known, else by size)."""
    try:
        if os.path.getsize(path) != entry.size or not os.path.isfile(path):
            return False
        return entry.digest is None or fsutil.digest_file(path) == entry.digest
    except OSError:
        return False


def release(
    destination: str,
    token: bytes,
    info: str | None,
    info_text: str | None,
    *,
    reserved: bool = False,
) -> None:
    """Remove our placeholder at ``destination``, our part file and our ``.trashinfo``.

    With ``reserved`` (the journal recorded the reservation, so the names are ours), an
    empty file is removed too: after a power cut a placeholder or ``.trashinfo`` whose
    content had not reached the disk is left empty.
    """
    with contextlib.suppress(OSError):
        os.unlink(fsutil.part_path(destination, token))
    if not fsutil.remove_if_holds(destination, token) and reserved:
        fsutil.remove_if_holds(destination, b"")
    if (
        info is not None
        and info_text is not None
        and not fsutil.remove_if_holds(info, info_text.encode())
        and reserved
    ):
        fsutil.remove_if_holds(info, b"")


def release_unrecorded(
    first: str,
    token: bytes,
    info: str | None,
    info_text: str | None,
    names: Iterable[str] | None = None,
) -> None:
    """Remove placeholders of a reservation that was made but not recorded.

    The name actually reserved is one of :func:`fsutil.candidates` of ``first`` (or of
    ``names``, for a sidecar whose names follow its photo's); ours are recognised by
    their content, so this never removes anything else.
    """
    info_dir = None if info is None else os.path.dirname(info)
    free = 0
    for candidate in fsutil.candidates(first) if names is None else names:
        candidate_info = (
            None
            if info_dir is None
            else os.path.join(info_dir, os.path.basename(candidate) + ".trashinfo")
        )
        taken = os.path.lexists(candidate) or (
            candidate_info is not None and os.path.lexists(candidate_info)
        )
        if not taken:
            free += 1
            if free >= _GAP:
                return
            continue
        free = 0
        release(candidate, token, candidate_info, info_text)


def names_for(catalog: Catalog, entry: Entry, first: str, *, back: bool) -> Iterable[str] | None:
    """The names a sidecar's entry may have reserved: those following its photo's
    candidates (``sidecars.unit_names``); None for a photo's entry."""
    if entry.photo is None:
        return None
    photo = journal.entry(catalog, entry.photo)
    photo_first = photo.source if back else photo.destination
    if photo_first is None:
        return None
    if not back and first != sidecars.renamed(photo.source, entry.source, photo_first):
        return None  # reserved apart from its photo: plain candidates
    return (sidecars.renamed(photo.source, entry.source, c) for c in fsutil.candidates(photo_first))


# --------------------------------------------------------------------- catalog upkeep


def snapshot(catalog: Catalog, path: str) -> dict[str, Any] | None:
    """The catalog row of ``path`` as plain JSON data, to re-add it after an undo."""
    row = catalog.execute(
        "SELECT hash_version, digest, phash, variants, width, height, format, taken, camera,"
        " content_width, content_height FROM images WHERE path=? AND phash IS NOT NULL",
        (os.fsencode(path),),
    ).fetchone()
    if row is None:
        return None
    return {
        "hash_version": row[0],
        "digest": None if row[1] is None else bytes(row[1]).hex(),
        "phash": row[2] & 0xFFFF_FFFF_FFFF_FFFF,
        "variants": None if row[3] is None else bytes(row[3]).hex(),
        "width": row[4],
        "height": row[5],
        "format": row[6],
        "taken": row[7],
        "camera": row[8],
        "content_width": row[9],
        "content_height": row[10],
    }


def forget(catalog: Catalog, path: str) -> None:
    """Remove the file at ``path`` from the catalog (it left its groups)."""
    catalog.remove_paths([path])


def readd(catalog: Catalog, entry: Entry, path: str) -> bool:
    """Put a restored file back in the catalog from the entry's snapshot.

    Only when the file on disk is still the one snapshotted (size and modification time),
    so that the next scan sees it as unchanged. Otherwise the next scan finds it.

    Returns:
        Whether the row was added.
    """
    if entry.image is None or not intact(path, entry):
        return False
    data = json.loads(entry.image)
    variants: tuple[int, ...] = ()
    if data.get("variants"):
        raw = bytes.fromhex(data["variants"])
        variants = tuple(int.from_bytes(raw[i : i + 8], "little") for i in range(0, len(raw), 8))
    features = ImageFeatures(
        path=path,
        size=entry.size,
        mtime_ns=entry.mtime_ns,
        digest=bytes.fromhex(data["digest"]) if data.get("digest") else (entry.digest or b""),
        phash=int(data["phash"]),
        width=int(data["width"]),
        height=int(data["height"]),
        format=data.get("format") or "",
        taken=data.get("taken"),
        camera=data.get("camera"),
        variants=variants,
        content_width=data.get("content_width"),
        content_height=data.get("content_height"),
    )
    existing = catalog.record_at(path)
    replace = [] if existing is None else [existing.id]
    catalog.add_results([features], int(data["hash_version"]), replace=replace)
    return True


# --------------------------------------------------------------------- settling


def settle(catalog: Catalog, entry: Entry) -> Settled:
    """Bring one open entry to a final state, cleaning up after it, and record it."""
    if entry.state in (State.PLANNED, State.RESERVED):
        return _settle_forward(catalog, entry)
    if entry.state in (State.RESTORING, State.RESTORE_RESERVED):
        return _settle_back(catalog, entry)
    location = entry.restored if entry.state is State.RESTORED else None
    if entry.state is State.DONE:
        location = entry.destination
    elif entry.state is State.FAILED:
        location = entry.source
    return Settled(
        entry.id, entry.operation, entry.source, location, entry.state, Outcome.COMPLETED, ""
    )


def _record(
    catalog: Catalog,
    entry: Entry,
    state: State,
    outcome: Outcome,
    location: str | None,
    note: str,
    **fields: str | bytes | None,
) -> Settled:
    with catalog.transaction() as db:
        journal.update(db, entry.id, state, error=note, **fields)
        if state is State.DONE and entry.state in (State.PLANNED, State.RESERVED):
            forget(catalog, entry.source)
        if state is State.RESTORED and location is not None:
            readd(catalog, entry, location)
    level = logging.WARNING if outcome is Outcome.MISSING else logging.INFO
    log.log(level, "Journal entry %d (%s): %s", entry.id, entry.source, note)
    return Settled(entry.id, entry.operation, entry.source, location, state, outcome, note)


def _settle_forward(catalog: Catalog, entry: Entry) -> Settled:
    source, target = entry.source, entry.destination
    if target is None:  # a deletion, or a trash that does not say where
        if os.path.lexists(source):
            return _record(
                catalog,
                entry,
                State.FAILED,
                Outcome.ROLLED_BACK,
                source,
                "interrupted before the file was removed; it is still in place",
            )
        return _record(
            catalog,
            entry,
            State.DONE,
            Outcome.COMPLETED,
            None,
            "the file had been removed when the program stopped",
        )
    if entry.state is State.PLANNED:
        # Nothing was moved before the reservation was recorded.
        names = names_for(catalog, entry, target, back=False)
        release_unrecorded(target, entry.token, entry.info, entry.info_text, names)
        if os.path.lexists(source):
            return _record(
                catalog,
                entry,
                State.FAILED,
                Outcome.ROLLED_BACK,
                source,
                "interrupted before the file was moved; it is still in place",
            )
        return _record(
            catalog,
            entry,
            State.FAILED,
            Outcome.MISSING,
            None,
            "the file is no longer at its place and was not moved by Doppel",
        )
    # Reserved: the target is ours, whatever it holds.
    with contextlib.suppress(OSError):
        os.unlink(fsutil.part_path(target, entry.token))
    # A file being put back beside its photo (``runner.put_back``) reserved its source.
    with contextlib.suppress(OSError):
        os.unlink(fsutil.part_path(source, entry.token))
    fsutil.remove_if_holds(source, entry.token)
    at_target = not fsutil.holds(target, entry.token) and complete(target, entry)
    at_source = intact(source, entry)
    if at_target and not os.path.lexists(source):
        return _record(
            catalog,
            entry,
            State.DONE,
            Outcome.COMPLETED,
            target,
            f"the move had completed: the file is at {target}",
        )
    if at_source:
        if at_target:  # a verified copy on another device; the original stays
            with contextlib.suppress(OSError):
                os.unlink(target)
        release(target, entry.token, entry.info, entry.info_text, reserved=True)
        return _record(
            catalog,
            entry,
            State.FAILED,
            Outcome.ROLLED_BACK,
            source,
            "interrupted before the move completed; the file is still in place",
        )
    if os.path.lexists(source):  # changed since: keep whatever is at both places
        fsutil.remove_if_holds(target, entry.token)
        kept = "" if not os.path.lexists(target) else f"; a copy was left at {target}"
        return _record(
            catalog,
            entry,
            State.FAILED,
            Outcome.ROLLED_BACK,
            source,
            f"interrupted; the file is still in place but changed{kept}",
        )
    if os.path.lexists(target) and not fsutil.holds(target, entry.token):
        return _record(
            catalog,
            entry,
            State.DONE,
            Outcome.COMPLETED,
            target,
            f"the move had completed, but the file at {target} differs from the journal",
        )
    release(target, entry.token, entry.info, entry.info_text, reserved=True)
    return _record(
        catalog,
        entry,
        State.FAILED,
        Outcome.MISSING,
        None,
        f"the file is neither at {source} nor at {target}",
    )


def _settle_back(catalog: Catalog, entry: Entry) -> Settled:
    origin, target = entry.destination, entry.restored
    assert origin is not None and target is not None  # undo only runs on placed files
    if entry.state is State.RESTORING:
        names = names_for(catalog, entry, target, back=True)
        release_unrecorded(target, entry.token, None, None, names)
        if os.path.lexists(origin):
            return _record(
                catalog,
                entry,
                State.DONE,
                Outcome.ROLLED_BACK,
                origin,
                f"undo was interrupted; the file is still at {origin}",
            )
        return _record(
            catalog,
            entry,
            State.DONE,
            Outcome.MISSING,
            None,
            f"the file is no longer at {origin}",
        )
    with contextlib.suppress(OSError):
        os.unlink(fsutil.part_path(target, entry.token))
    at_target = not fsutil.holds(target, entry.token) and complete(target, entry)
    if at_target and not os.path.lexists(origin):
        if entry.info is not None and entry.info_text is not None:
            fsutil.remove_if_holds(entry.info, entry.info_text.encode())
        return _record(
            catalog,
            entry,
            State.RESTORED,
            Outcome.COMPLETED,
            target,
            f"undo had completed: the file is back at {target}",
        )
    if intact(origin, entry):
        if at_target:
            with contextlib.suppress(OSError):
                os.unlink(target)
        release(target, entry.token, None, None, reserved=True)
        return _record(
            catalog,
            entry,
            State.DONE,
            Outcome.ROLLED_BACK,
            origin,
            f"undo was interrupted; the file is still at {origin}",
        )
    release(target, entry.token, None, None, reserved=True)
    if os.path.lexists(target):
        return _record(
            catalog,
            entry,
            State.RESTORED,
            Outcome.COMPLETED,
            target,
            f"undo had completed, but the file at {target} differs from the journal",
        )
    where = origin if os.path.lexists(origin) else None
    return _record(
        catalog,
        entry,
        State.DONE,
        Outcome.ROLLED_BACK if where else Outcome.MISSING,
        where,
        f"undo was interrupted; the file is {'still at ' + origin if where else 'missing'}",
    )


def recover(catalog: Catalog) -> list[Settled]:
    """Settle every open entry and close operations that never recorded their end.

    Call it when a catalog is opened for cleanup work (the window at start-up, the
    command line before ``apply``/``undo``/``history``). Cheap when nothing is open.

    Returns:
        What was settled, for a report; empty after a clean shutdown.
    """
    settled = [settle(catalog, e) for e in journal.open_entries(catalog)]
    with catalog.transaction() as db:
        for operation in journal.running(catalog):
            journal.finish(
                db,
                operation,
                journal.OperationState.INTERRUPTED,
                "interrupted; the journal was reconciled with the disk",
            )
    if settled:
        log.warning("Recovered %d interrupted file operations", len(settled))
    return settled
