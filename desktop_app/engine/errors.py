"""Engine exceptions.

Two families, after qutebrowser's split between known environmental errors and bugs:
everything below :class:`EngineError` is a condition the user can meet with a healthy
program (a corrupt photo, a locked catalog) and carries a message fit to show as is.
Anything else that escapes the engine is a bug.
"""

from __future__ import annotations


class EngineError(Exception):
    """A known, user-facing failure. ``str(error)`` is a complete sentence for the user."""


class UnreadableImage(EngineError):
    """One file could not be read as an image; the scan records the reason and goes on."""

    def __init__(self, path: str, reason: str) -> None:
        super().__init__(f"{path}: {reason}")
        self.path = path
        self.reason = reason


class CatalogError(EngineError):
    """The catalog database cannot be used as it is."""

    def __init__(self, path: str, message: str) -> None:
        super().__init__(message)
        self.path = path


class CatalogLocked(CatalogError):
    """Another process holds a lock on the catalog for longer than we wait."""


class CatalogCorrupt(CatalogError):
    """SQLite reports the file as damaged, or it is not an SQLite database at all.

    It can be rebuilt: the hashes are a cache, and :func:`rebuild_catalog` salvages the
    journal and the user's decisions into the new file before setting the old one aside.
    """


class CatalogTooNew(CatalogError):
    """The catalog was written by a newer Doppel whose schema this version does not know."""


class UsageError(EngineError):
    """The caller asked for something impossible (a missing folder, a threshold out of range)."""
