"""Groupings at every slider position, computed once and kept in the catalog.

The threshold slider has seventeen positions. Grouping the pairs at one of them costs
from milliseconds to over a second on a large library (``grouping.py`` is linear in the
pairs within the threshold, and a library of 100,000 photos can hold millions of pairs
within 16), which is too slow for a slider but cheap to do once for all seventeen.
The scan does it after pairing and stores the result here; the window loads it with the
pairs, so that every slider position is a lookup from the first moment.

A stored set of groupings is only valid for the exact pairs and tie-break order it was
computed from: its key is a digest (xxh3-128) of the pair arrays and of the rank, so a
re-scan, a "not copies" decision or a change of folder order simply misses and the
groupings are computed again. Like the pair cache, this is derived data that may be
dropped at any time; it is not salvaged by a rebuild.
"""

from __future__ import annotations

import logging
from collections.abc import Mapping
from typing import TYPE_CHECKING

import numpy as np
import xxhash

from desktop_app.engine.types import Grouping, IdArray, PairSet

if TYPE_CHECKING:
    from desktop_app.engine.catalog.protocol import CatalogConnection

log = logging.getLogger(__name__)

#: Bump when grouping.py would group the same pairs differently.
GROUPING_VERSION = 1

_ID = np.dtype("<i8")


def signature(pairs: PairSet, rank: IdArray) -> bytes:
    """The key of the groupings of ``pairs`` with tie-break order ``rank``.

    Hashing the arrays costs about 10 ms for five million pairs; it is what makes the
    cache impossible to get wrong.
    """
    digest = xxhash.xxh3_128()
    digest.update(GROUPING_VERSION.to_bytes(4, "little"))
    digest.update(pairs.threshold.to_bytes(4, "little"))
    for array in (pairs.a, pairs.b, pairs.distance, pairs.transform, rank):
        digest.update(np.ascontiguousarray(array).data)
        digest.update(len(array).to_bytes(8, "little"))
    return digest.digest()


class GroupingCache:
    """The stored groupings of one open :class:`~desktop_app.engine.catalog.store.Catalog`."""

    def __init__(self, catalog: CatalogConnection) -> None:
        self._catalog = catalog

    def load(self, key: bytes) -> dict[int, Grouping]:
        """The groupings stored under ``key``, by threshold (empty when none are)."""
        rows = self._catalog.execute(
            "SELECT threshold, offsets, members, distance, transform FROM groupings"
            " WHERE signature=?",
            (key,),
        ).fetchall()
        return {
            int(row[0]): Grouping(
                offsets=np.frombuffer(row[1], dtype=_ID).astype(np.int64),
                members=np.frombuffer(row[2], dtype=_ID).astype(np.int64),
                distance=np.frombuffer(row[3], dtype=np.uint8).copy(),
                transform=np.frombuffer(row[4], dtype=np.uint8).copy(),
                threshold=int(row[0]),
            )
            for row in rows
        }

    def store(self, key: bytes, groupings: Mapping[int, Grouping]) -> None:
        """Replace whatever is stored by ``groupings`` (one per threshold) under ``key``."""
        with self._catalog.transaction() as db:
            db.execute("DELETE FROM groupings")
            db.executemany(
                "INSERT INTO groupings(threshold, signature, offsets, members, distance,"
                " transform) VALUES(?, ?, ?, ?, ?, ?)",
                (
                    (
                        threshold,
                        key,
                        found.offsets.astype(_ID).tobytes(),
                        found.members.astype(_ID).tobytes(),
                        found.distance.astype(np.uint8).tobytes(),
                        found.transform.astype(np.uint8).tobytes(),
                    )
                    for threshold, found in sorted(groupings.items())
                ),
            )
        log.debug("Stored groupings at %d thresholds", len(groupings))

    def forget(self) -> None:
        """Drop every stored grouping."""
        with self._catalog.transaction() as db:
            db.execute("DELETE FROM groupings")
