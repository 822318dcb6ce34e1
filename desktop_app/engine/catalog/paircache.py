"""The pair cache: every pair of catalogued images within the largest threshold searched.

Finding all pairs is the expensive step of a first scan; keeping them makes re-opening a
library and moving the threshold slider instant, and lets a re-scan pay only for the
photos that changed. The cache is derived data and may be dropped at any time.

Storage. Pairs are stored as column chunks (packed arrays of ``a``, ``b``, distance and
transform, up to 2**20 pairs a row) rather than a row per pair: loading five million
pairs then takes a few hundred milliseconds instead of the seconds Python's sqlite3
needs to build five million tuples.

Completeness. ``pairs_upto`` is the threshold the cache is complete for, among the
images up to ``pairs_watermark``; ``pairs_rotations`` records whether rotated and
mirrored copies were searched. New images (above the watermark) have their pairs found
by querying the segment index and appended as a new chunk. Deleted images leave their
pairs behind: :meth:`PairCache.load` drops pairs whose images are not live, and
:meth:`PairCache.compact` rewrites the chunks once those are a quarter of them.
"""

from __future__ import annotations

import logging
import sqlite3
from collections.abc import Sequence
from dataclasses import dataclass
from typing import TYPE_CHECKING

import numpy as np
import numpy.typing as npt

from desktop_app.engine.catalog.rows import id_hash_arrays
from desktop_app.engine.types import HashArray, IdArray, PairSet

if TYPE_CHECKING:
    from desktop_app.engine.catalog.protocol import CatalogConnection

log = logging.getLogger(__name__)

_ID = np.dtype("<i8")
_CHUNK = 1 << 20
#: Bump when the pair search would store other pairs for the same hashes (a stored
#: cache of another version reads as empty, and the next pairing searches in full).
PAIRS_VERSION = 1
#: Chunks are rewritten once this share of their pairs refer to images that are gone.
_COMPACT_SHARE = 0.25


@dataclass(frozen=True, slots=True)
class PairState:
    """How far the stored pairs reach: complete up to ``upto`` for ids up to ``watermark``."""

    upto: int | None
    watermark: int
    rotations: bool


class PairCache:
    """The stored pairs of one open :class:`~desktop_app.engine.catalog.store.Catalog`."""

    def __init__(self, catalog: CatalogConnection) -> None:
        self._catalog = catalog

    def state(self) -> PairState:
        """How complete the stored pairs are."""
        catalog = self._catalog
        if catalog.get_meta("pairs_version", "1") != str(PAIRS_VERSION):
            return PairState(None, 0, False)
        upto = catalog.get_meta("pairs_upto")
        return PairState(
            None if upto is None else int(upto),
            catalog.meta_int("pairs_watermark", 0),
            catalog.get_meta("pairs_rotations", "0") == "1",
        )

    def pending(self) -> tuple[IdArray, HashArray]:
        """Hashed images whose pairs are not stored yet (above the pair watermark), by id."""
        rows = self._catalog.execute(
            "SELECT id, phash FROM images WHERE id > ? AND phash IS NOT NULL ORDER BY id",
            (self._catalog.meta_int("pairs_watermark", 0),),
        ).fetchall()
        return id_hash_arrays(rows)

    def store(
        self,
        pairs: PairSet,
        *,
        watermark: int,
        rotations: bool,
        replace: bool,
        extra: PairSet | None = None,
    ) -> None:
        """Save pairs.

        Args:
            pairs: With ``replace``, the complete result of a search at
                ``pairs.threshold``; otherwise the pairs of newly added images, searched
                at (at least) the cache's threshold.
            watermark: Largest image id whose pairs are now all stored.
            rotations: Whether the search matched rotated and mirrored copies.
            replace: Replace the whole cache rather than append to it.
            extra: More pairs of the same search, none of them in ``pairs`` (the window
                pairs ``window_pairs.fold`` leaves apart), stored in the same
                transaction, so that the two sets are never merged in memory.
        """
        catalog = self._catalog
        with catalog.transaction() as db:
            if replace:
                db.execute("DELETE FROM pair_chunks")
                catalog.put_meta(db, "pairs_version", str(PAIRS_VERSION))
                catalog.put_meta(db, "pairs_upto", str(pairs.threshold))
                catalog.put_meta(db, "pairs_rotations", "1" if rotations else "0")
            else:
                state = self.state()
                if state.upto is None or pairs.threshold < state.upto:
                    raise ValueError("appended pairs must reach the cache's threshold")
                if state.rotations != rotations:
                    raise ValueError("appended pairs must use the cache's rotation setting")
                pairs = pairs.within(state.upto)
                extra = None if extra is None else extra.within(state.upto)
            for part in (pairs, extra):
                if part is None:
                    continue
                for start in range(0, len(part), _CHUNK):
                    stop = start + _CHUNK
                    db.execute(
                        "INSERT INTO pair_chunks(a, b, distance, transform) VALUES(?, ?, ?, ?)",
                        (
                            part.a[start:stop].astype(_ID).tobytes(),
                            part.b[start:stop].astype(_ID).tobytes(),
                            part.distance[start:stop].astype(np.uint8).tobytes(),
                            part.transform[start:stop].astype(np.uint8).tobytes(),
                        ),
                    )
            catalog.put_meta(db, "pairs_watermark", str(watermark))
            catalog.put_meta(db, "pairs_live", str(_live_count(db, watermark)))

    def load(
        self, threshold: int, roots: Sequence[str] | None = None, *, live: IdArray | None = None
    ) -> PairSet:
        """Stored pairs within ``threshold`` whose images are both live and inside ``roots``.

        Args:
            threshold: Largest distance to keep.
            roots: Library folders (every folder when None).
            live: The ids of the hashed images to keep pairs of, when the caller has
                read them already (a Library has its records): ``roots`` is then not
                used, and the catalog not asked (a scan of every image row, 30 ms at
                20,000 photos).

        Raises:
            ValueError: The cache does not reach ``threshold``.
        """
        state = self.state()
        if state.upto is None or threshold > state.upto:
            raise ValueError(f"stored pairs reach {state.upto}, not {threshold}")
        catalog = self._catalog
        with catalog.snapshot() as db:
            chunks = db.execute("SELECT a, b, distance, transform FROM pair_chunks").fetchall()
            live_ids = catalog.hashed_ids(roots) if live is None else live
        if not chunks or not live_ids.size:
            return PairSet.empty(threshold)
        a = np.concatenate([np.frombuffer(c[0], dtype=_ID) for c in chunks])
        b = np.concatenate([np.frombuffer(c[1], dtype=_ID) for c in chunks])
        distance = np.concatenate([np.frombuffer(c[2], dtype=np.uint8) for c in chunks])
        transform = np.concatenate([np.frombuffer(c[3], dtype=np.uint8) for c in chunks])
        keep = _live_mask(live_ids, a, b) & (distance <= threshold)
        return PairSet(
            a[keep].astype(np.int64),
            b[keep].astype(np.int64),
            distance[keep],
            transform[keep],
            threshold,
        )

    def compact(self) -> bool:
        """Rewrite the chunks without the pairs of deleted images, if they are many.

        Returns:
            Whether the cache was rewritten.
        """
        state = self.state()
        if state.upto is None:
            return False
        # Pairs name images up to the watermark only, and ids are never handed out twice:
        # while as many of those are hashed as when the pairs were stored, none is gone.
        live = _live_count(self._catalog, state.watermark)
        if self._catalog.get_meta("pairs_live") == str(live):
            return False
        stored = (
            sum(
                int(r[0])
                for r in self._catalog.execute("SELECT length(a) FROM pair_chunks").fetchall()
            )
            // _ID.itemsize
        )
        everything = self.load(state.upto)
        if not stored or 1 - len(everything) / stored <= _COMPACT_SHARE:
            return False
        log.info("Compacting the pair cache: %d of %d pairs are live", len(everything), stored)
        self.store(everything, watermark=state.watermark, rotations=state.rotations, replace=True)
        return True

    def forget(self) -> None:
        """Drop every stored pair (after a change of hashing or rotation settings)."""
        catalog = self._catalog
        with catalog.transaction() as db:
            db.execute("DELETE FROM pair_chunks")
            db.execute(
                "DELETE FROM meta WHERE key IN ('pairs_upto', 'pairs_watermark',"
                " 'pairs_rotations', 'pairs_version', 'pairs_live')"
            )


def _live_count(db: sqlite3.Connection | CatalogConnection, watermark: int) -> int:
    """Hashed images with an id up to ``watermark``."""
    row = db.execute(
        "SELECT count(*) FROM images WHERE id <= ? AND phash IS NOT NULL", (watermark,)
    ).fetchone()
    return int(row[0])


def _live_mask(live_ids: IdArray, a: IdArray, b: IdArray) -> npt.NDArray[np.bool_]:
    """Which pairs have both ends among ``live_ids`` (ids are small dense integers)."""
    top = int(max(live_ids.max(), a.max(initial=0), b.max(initial=0))) + 1
    live = np.zeros(top, dtype=bool)
    live[live_ids] = True
    return live[a] & live[b]
