"""The catalog as its caches see it: a connection with transactions and a meta table.

The segment index, the pair cache and the grouping cache belong to a
:class:`~desktop_app.engine.catalog.store.Catalog`, which makes them; they type their
catalog with this protocol instead of importing ``store.py``, so the catalog package has
no import cycle.
"""

from __future__ import annotations

import sqlite3
from collections.abc import Sequence
from contextlib import AbstractContextManager
from typing import Protocol

from desktop_app.engine.errors import CatalogError
from desktop_app.engine.types import IdArray


class CatalogConnection(Protocol):
    """What the caches use of a Catalog."""

    def transaction(self) -> AbstractContextManager[sqlite3.Connection]:
        """A write transaction (see ``Catalog.transaction``)."""
        ...

    def snapshot(self) -> AbstractContextManager[sqlite3.Connection]:
        """A consistent read (see ``Catalog.snapshot``)."""
        ...

    def translate(self, error: sqlite3.Error) -> CatalogError:
        """The engine error for an SQLite error."""
        ...

    def execute(self, sql: str, params: Sequence[object] = ()) -> sqlite3.Cursor:
        """One statement on the connection."""
        ...

    @staticmethod
    def put_meta(db: sqlite3.Connection, key: str, value: str) -> None:
        """Set a meta value inside a transaction."""
        ...

    def get_meta(self, key: str, default: str | None = None) -> str | None:
        """A meta value."""
        ...

    def meta_int(self, key: str, default: int) -> int:
        """A meta value as an integer."""
        ...

    def max_id(self) -> int:
        """The largest photo id ever given."""
        ...

    def hashed_ids(self, roots: Sequence[str] | None = None) -> IdArray:
        """The ids of the photos with a hash, in ``roots`` (all when None)."""
        ...
