"""The segment inverted index in SQLite: posting lists, their upkeep and the exact query.

A posting list is one row of ``postings`` per (segment position, segment value), keyed
by :func:`mih.posting_key`, holding two packed little-endian arrays: the ids of the
images whose hash has that value in that segment, and their full 64-bit hashes. Keeping
the hash beside the id is what makes verification free of further lookups: a query reads
the posting lists the pigeonhole plan of ``mih.py`` names (one B-tree lookup each, all
in a single statement), concatenates them and checks every candidate with one numpy
XOR-and-popcount. Storing a row per (segment, image) instead would make SQLite return
each candidate as a Python tuple, a hundred times slower at high thresholds (see
docs/benchmarks.md, "Query latency").

Upkeep. ``index_watermark`` (in ``meta``) is the largest image id whose segments are in
the lists. :meth:`SegmentIndex.sync` appends the images above it (read-modify-write of
at most four lists per image) or, when they are a fifth of the catalog or more,
rebuilds every list in one sorted numpy pass. Deleting an image removes it from its four
lists at once; queries also check the few images above the watermark directly, so they
are exact while a scan is still writing.
"""

from __future__ import annotations

import logging
import sqlite3
from collections.abc import Iterator, Sequence
from typing import TYPE_CHECKING

import numpy as np
import numpy.typing as npt

from desktop_app.engine.catalog import mih
from desktop_app.engine.catalog.rows import id_hash_arrays
from desktop_app.engine.types import HashArray, IdArray

if TYPE_CHECKING:
    from desktop_app.engine.catalog.protocol import CatalogConnection

log = logging.getLogger(__name__)

_ID = np.dtype("<i8")
_HASH = np.dtype("<u8")

#: Rebuilding every list beats appending when the new images are this share of all.
_REBUILD_SHARE = 0.2


class SegmentIndex:
    """The posting lists of one open :class:`~desktop_app.engine.catalog.store.Catalog`."""

    def __init__(self, catalog: CatalogConnection) -> None:
        self._catalog = catalog

    @property
    def watermark(self) -> int:
        """Largest image id whose segments are in the posting lists."""
        return self._catalog.meta_int("index_watermark", 0)

    def sync(self) -> int:
        """Bring the posting lists up to date with the images table.

        Returns:
            How many images were added to the lists.
        """
        catalog = self._catalog
        with catalog.transaction() as db:
            watermark = self.watermark
            top = catalog.max_id()
            rows = db.execute(
                "SELECT id, phash FROM images WHERE id > ? AND phash IS NOT NULL ORDER BY id",
                (watermark,),
            ).fetchall()
            if rows:
                indexed = db.execute(
                    "SELECT count(*) FROM images WHERE id <= ? AND phash IS NOT NULL",
                    (watermark,),
                ).fetchone()[0]
                if len(rows) >= _REBUILD_SHARE * (indexed + len(rows)):
                    self._rebuild(db)
                else:
                    ids, hashes = id_hash_arrays(rows)
                    self._append(db, ids, hashes)
                log.debug("Indexed %d images (watermark %d)", len(rows), top)
            catalog.put_meta(db, "index_watermark", str(top))
            return len(rows)

    def _rebuild(self, db: sqlite3.Connection) -> None:
        db.execute("DELETE FROM postings")
        rows = db.execute("SELECT id, phash FROM images WHERE phash IS NOT NULL").fetchall()
        if rows:
            ids, hashes = id_hash_arrays(rows)
            db.executemany(
                "INSERT INTO postings(key, ids, hashes) VALUES(?, ?, ?)",
                posting_lists(ids, hashes),
            )

    @staticmethod
    def _append(db: sqlite3.Connection, ids: IdArray, hashes: HashArray) -> None:
        for key, new_ids, new_hashes in posting_lists(ids, hashes):
            row = db.execute("SELECT ids, hashes FROM postings WHERE key=?", (key,)).fetchone()
            if row is None:
                db.execute(
                    "INSERT INTO postings(key, ids, hashes) VALUES(?, ?, ?)",
                    (key, new_ids, new_hashes),
                )
            else:
                db.execute(
                    "UPDATE postings SET ids=?, hashes=? WHERE key=?",
                    (row[0] + new_ids, row[1] + new_hashes, key),
                )

    @staticmethod
    def remove(db: sqlite3.Connection, items: Sequence[tuple[int, int]]) -> None:
        """Take ``(id, hash)`` entries out of their posting lists, inside ``db``'s transaction."""
        by_key: dict[int, set[int]] = {}
        for image_id, value in items:
            for position, seg in enumerate(mih.segments_of(value)):
                by_key.setdefault(mih.posting_key(position, seg), set()).add(image_id)
        for key, gone in by_key.items():
            row = db.execute("SELECT ids, hashes FROM postings WHERE key=?", (key,)).fetchone()
            if row is None:
                continue
            ids = np.frombuffer(row[0], dtype=_ID)
            keep = ~np.isin(ids, np.fromiter(gone, dtype=np.int64, count=len(gone)))
            if keep.all():
                continue
            if not keep.any():
                db.execute("DELETE FROM postings WHERE key=?", (key,))
            else:
                hashes = np.frombuffer(row[1], dtype=_HASH)
                db.execute(
                    "UPDATE postings SET ids=?, hashes=? WHERE key=?",
                    (ids[keep].tobytes(), hashes[keep].tobytes(), key),
                )

    def query(self, value: int, threshold: int) -> tuple[IdArray, npt.NDArray[np.uint8]]:
        """Every catalogued image within ``threshold`` of the hash ``value``.

        Args:
            value: The query's 64-bit pHash.
            threshold: Largest Hamming distance to return.

        Returns:
            ``(ids, distances)`` sorted by distance, then id.
        """
        catalog = self._catalog
        keys = mih.probe_keys(value, threshold)
        with catalog.snapshot() as db:
            try:
                # Driving the join from the sorted key list makes SQLite walk the
                # posting B-tree in key order, one seek per key; "key IN (subquery)"
                # builds a temporary index first and measured 1.5x slower.
                rows = db.execute(
                    "SELECT p.ids, p.hashes FROM json_each(?) AS k"
                    " JOIN postings AS p ON p.key = k.value",
                    ("[" + ",".join(map(str, np.sort(keys).tolist())) + "]",),
                ).fetchall()
                tail = db.execute(
                    "SELECT id, phash FROM images WHERE id > ? AND phash IS NOT NULL",
                    (self.watermark,),
                ).fetchall()
            except sqlite3.Error as error:
                raise catalog.translate(error) from error
        ids = np.frombuffer(b"".join(r[0] for r in rows), dtype=_ID)
        hashes = np.frombuffer(b"".join(r[1] for r in rows), dtype=_HASH)
        if tail:
            tail_ids, tail_hashes = id_hash_arrays(tail)
            ids = np.concatenate([ids, tail_ids])
            hashes = np.concatenate([hashes, tail_hashes])
        distances = mih.hamming(hashes, np.uint64(value))
        near = distances <= threshold
        # An image is reached through every segment it shares with the query: keep it once.
        unique_ids, first = np.unique(ids[near], return_index=True)
        unique_distances = distances[near][first]
        order = np.lexsort((unique_ids, unique_distances))
        return unique_ids[order].astype(np.int64), unique_distances[order]


def posting_lists(ids: IdArray, hashes: HashArray) -> Iterator[tuple[int, bytes, bytes]]:
    """``(key, packed ids, packed hashes)`` of every posting list these images fall in."""
    columns = mih.segment_columns(hashes)
    for position in range(mih.SEGMENTS):
        values = columns[:, position].astype(np.int64)
        order = np.argsort(values, kind="stable")
        values = values[order]
        sorted_ids = ids[order].astype(_ID)
        sorted_hashes = hashes[order].astype(_HASH)
        starts = np.flatnonzero(np.r_[True, values[1:] != values[:-1]])
        stops = np.r_[starts[1:], values.shape[0]]
        base = position << mih.SEGMENT_BITS
        for start, stop in zip(starts.tolist(), stops.tolist(), strict=True):
            yield (
                base | int(values[start]),
                sorted_ids[start:stop].tobytes(),
                sorted_hashes[start:stop].tobytes(),
            )
