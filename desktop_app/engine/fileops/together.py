"""Keeping a photo and its sidecars together after an interruption.

:mod:`recovery` settles each journal entry on its own, by what the disk shows. A photo
and its sidecars move as a unit (sidecars first, the photo last), so an interruption
between two of them can leave the sidecars moved and the photo in place. This pass
looks at each unit that was just settled: when one of its files stayed in place and
others moved, the moved ones are put back beside it, through the journal's undo states
(``restoring``, ``restore-reserved``, ``restored``), so a crash during this pass is
settled by the next recovery like any undo. A photo never stays without its sidecars.
"""

from __future__ import annotations

import logging
import os
from collections.abc import Sequence

from desktop_app.engine.catalog.store import Catalog
from desktop_app.engine.fileops import fsutil, journal, recovery
from desktop_app.engine.fileops.journal import Entry, State
from desktop_app.engine.fileops.recovery import Outcome, Settled
from desktop_app.engine.fileops.runner import describe, transfer

log = logging.getLogger(__name__)


def settle(catalog: Catalog, settled: Sequence[Settled]) -> list[Settled]:
    """Reunite the units that ``settled`` touched; returns what was put back."""
    photos: set[int] = set()
    for s in settled:
        entry = journal.entry(catalog, s.entry)
        photos.add(entry.photo if entry.photo is not None else entry.id)
    out: list[Settled] = []
    for photo in sorted(photos):
        out += _reunite(catalog, journal.entry(catalog, photo))
    return out


def _reunite(catalog: Catalog, photo: Entry) -> list[Settled]:
    unit = [photo, *journal.sidecars_of(catalog, photo.id)]
    if len(unit) == 1 or any(e.is_open for e in unit):
        return []
    stayed = [e for e in unit if e.state is State.FAILED and os.path.lexists(e.source)]
    moved = [e for e in unit if e.state is State.DONE and e.destination is not None]
    if not stayed or not moved:
        return []
    return [_put_back(catalog, e) for e in moved]


def _put_back(catalog: Catalog, e: Entry) -> Settled:
    """Move one file of a unit back to its source, journalled like an undo."""
    assert e.destination is not None
    token = os.urandom(16)
    with catalog.transaction() as db:
        journal.update(db, e.id, State.RESTORING, token=token, restored=e.source)
    try:
        fsutil.create_exclusive(e.source, token)
    except OSError as error:
        return _record(catalog, e, State.DONE, e.destination, f"not put back: {describe(error)}")
    with catalog.transaction() as db:
        journal.update(db, e.id, State.RESTORE_RESERVED, restored=e.source)
    try:
        transfer(e.destination, e.source, token, e.digest)
    except OSError as error:
        fsutil.remove_if_holds(e.source, token)
        return _record(catalog, e, State.DONE, e.destination, f"not put back: {describe(error)}")
    if e.info is not None and e.info_text is not None:
        fsutil.remove_if_holds(e.info, e.info_text.encode())
    return _record(catalog, e, State.RESTORED, e.source, "put back beside the rest of its photo")


def _record(catalog: Catalog, e: Entry, state: State, location: str, note: str) -> Settled:
    with catalog.transaction() as db:
        journal.update(db, e.id, state, error=note)
        if state is State.RESTORED and e.photo is None:
            recovery.readd(catalog, e, location)
    log.warning("Journal entry %d (%s): %s", e.id, e.source, note)
    outcome = Outcome.ROLLED_BACK if state is State.RESTORED else Outcome.MISSING
    return Settled(e.id, e.operation, e.source, location, state, outcome, note)
