"""The marks the user has not applied yet, kept in the catalog from one session to the next.

Marks only say what Apply would act on, so nothing is lost when they are forgotten, but
choosing a keeper for hundreds of groups is work. The window saves them when a library
is closed (or the window quits) and lays them over the groups when the library is opened
again. They are stored by library (its folders) and by photo path, not by catalog id:
a rebuilt catalog numbers its photos anew, and its data tables are salvaged by path.
"""

from __future__ import annotations

import logging
import time
from collections.abc import Sequence

from desktop_app.engine.catalog.store import Catalog, decode_path, encode_path
from desktop_app.engine.types import SavedMarks

log = logging.getLogger(__name__)


def library_key(roots: Sequence[str]) -> str:
    """The key of a library made of ``roots``: its folders, sorted, one a line."""
    return "\n".join(sorted(roots))


def save(catalog: Catalog, roots: Sequence[str], saved: SavedMarks) -> None:
    """Replace the saved marks of the library made of ``roots`` with ``saved`` (nothing is
    kept when nothing is marked)."""
    key = library_key(roots)
    with catalog.transaction() as db:
        db.execute("DELETE FROM saved_marks WHERE library=?", (key,))
        db.execute("DELETE FROM saved_selection WHERE library=?", (key,))
        if not saved.auto and not saved.marks:
            return
        db.execute(
            "INSERT INTO saved_selection(library, auto, saved_ns) VALUES(?, ?, ?)",
            (key, int(saved.auto), time.time_ns()),
        )
        db.executemany(
            "INSERT INTO saved_marks(library, path, marked) VALUES(?, ?, ?)",
            [(key, encode_path(path), int(marked)) for path, marked in saved.marks.items()],
        )
    log.info("Kept %d marks of %s (select duplicates: %s)", len(saved.marks), key, saved.auto)


def load(catalog: Catalog, roots: Sequence[str]) -> SavedMarks:
    """The marks saved for the library made of ``roots`` (none: an empty SavedMarks)."""
    key = library_key(roots)
    row = catalog.execute("SELECT auto FROM saved_selection WHERE library=?", (key,)).fetchone()
    if row is None:
        return SavedMarks()
    marks = {
        decode_path(path): bool(marked)
        for path, marked in catalog.execute(
            "SELECT path, marked FROM saved_marks WHERE library=?", (key,)
        )
    }
    return SavedMarks(bool(row[0]), marks)
