"""Keeping the pair cache complete as photos come and go.

After a scan, every hashed image must have its pairs in the cache (``paircache.py``) up
to the cache's threshold. Two ways to get there, picked by cost:

* **Incremental**: each image above the pair watermark is looked up in the SQLite
  segment index (``catalog/segment_index.py``), which is exact at any threshold; its
  pairs are appended.
  A query costs milliseconds, so this is the path for a re-scan that found a few hundred
  new or changed photos.
* **Full**: the exact bulk all-pairs search of ``all_pairs.py`` over every hash loaded into
  numpy. It is the path for a first scan, for a batch of new photos that is a large
  share of the library, and when the cache must reach further (a larger threshold, or
  rotation matching switched on).

How far the cache reaches: the slider's whole range (:data:`MAX_THRESHOLD`) when the
library is small enough for that to take well under a minute, otherwise the threshold
asked for; moving the slider beyond it triggers a new full search.
"""

from __future__ import annotations

import logging
import queue
import threading
import time
from collections.abc import Generator
from typing import TYPE_CHECKING

import numpy as np

from desktop_app.engine.catalog import mih
from desktop_app.engine.catalog.paircache import PairState
from desktop_app.engine.catalog.store import Catalog
from desktop_app.engine.config import MAX_THRESHOLD
from desktop_app.engine.search import all_pairs, window_pairs
from desktop_app.engine.search.segment_join import Hits
from desktop_app.engine.types import (
    INVERSE_TRANSFORM,
    DistArray,
    HashArray,
    IdArray,
    PairSet,
    Phase,
    Progress,
    Transform,
)

if TYPE_CHECKING:
    from desktop_app.engine.search.milvus_index import MilvusIndex

log = logging.getLogger(__name__)

#: Largest library (hashed photos) whose pairs are searched over the slider's whole range.
FULL_REACH_LIMIT = 150_000
#: New photos beyond this share of the library are paired by a full search.
_INCREMENTAL_SHARE = 0.1
#: ... and beyond this count, whatever the share.
_INCREMENTAL_MAX = 20_000


def reach(hashed: int, threshold: int) -> int:
    """The threshold the pair cache should be complete up to for a library this large."""
    return MAX_THRESHOLD if hashed <= FULL_REACH_LIMIT else threshold


def update_pairs(
    catalog: Catalog,
    threshold: int,
    *,
    rotations: bool = False,
    cancel: threading.Event | None = None,
    index: MilvusIndex | None = None,
) -> Generator[Progress, None, PairState]:
    """Make the pair cache complete up to at least ``threshold`` for every hashed image.

    Args:
        catalog: The catalog to update (this generator writes to it).
        threshold: The smallest reach the caller needs.
        rotations: Match rotated and mirrored copies (needs the images' variants).
        cancel: Stops the search; the cache is then left as it was.
        index: Search this Milvus index instead of the catalog's own (SQLite segment
            index and in-memory all-pairs search); the pair records are the same.

    Yields:
        Progress of the pairing phase.

    Returns:
        The cache's state afterwards.
    """
    cancel = cancel or threading.Event()
    state = catalog.pairs.state()
    if rotations and not state.rotations and catalog.lacking_variants(limit=1):
        # Photos hashed while the setting was off have no variants until the next scan
        # hashes them again; until then, pair without rotations rather than search again
        # (and fall back again) on every call.
        log.warning("Some photos have no rotation hashes yet; scan to match rotations")
        rotations = False
    hashed = catalog.count()[0]
    target = max(threshold, reach(hashed, threshold))
    if state.upto is not None and state.rotations == rotations and state.upto >= threshold:
        target = state.upto
        pending_ids, pending_hashes = catalog.pairs.pending()
        if not pending_ids.size:
            if catalog.pairs.compact():
                log.debug("Pair cache compacted")
            return catalog.pairs.state()
        small = pending_ids.size <= min(_INCREMENTAL_MAX, _INCREMENTAL_SHARE * hashed)
        if small:
            yield from _incremental(catalog, pending_ids, pending_hashes, state, cancel, index)
            return catalog.pairs.state()
    yield from _full(catalog, target, rotations, cancel, index)
    return catalog.pairs.state()


def _full(
    catalog: Catalog,
    threshold: int,
    rotations: bool,
    cancel: threading.Event,
    index: MilvusIndex | None = None,
) -> Generator[Progress, None, None]:
    ids, hashes, variants = catalog.hashes(variants=rotations)
    # The largest id actually searched: a photo another process commits meanwhile stays
    # above the watermark, pending for the next call.
    watermark = int(ids.max()) if ids.size else 0
    if rotations and variants is None and ids.size:
        log.warning("Some images have no rotation hashes; matching without rotations")
        rotations = False
    reports: queue.Queue[tuple[int, int]] = queue.Queue()
    outcome: list[PairSet | BaseException] = []
    if index is not None:
        index.sync()  # here: the search thread below must not touch the catalog

    def work() -> None:
        try:
            if index is not None:
                outcome.append(
                    index.all_pairs(
                        ids,
                        hashes,
                        threshold,
                        variants=variants if rotations and index.rotations else None,
                        cancel=cancel,
                        progress=lambda done, total: reports.put((done, total)),
                    )
                )
                return
            outcome.append(
                all_pairs.all_pairs(
                    ids,
                    hashes,
                    threshold,
                    variants=variants if rotations else None,
                    cancel=cancel,
                    progress=lambda done, total: reports.put((done, total)),
                )
            )
        except BaseException as error:  # handed to the generator's thread below
            outcome.append(error)

    started = time.monotonic()
    worker = threading.Thread(target=work, name="doppel-pairs", daemon=True)
    worker.start()
    yield Progress(Phase.PAIRING, 0, None)
    while worker.is_alive():
        worker.join(0.1)
        last = None
        while not reports.empty():
            last = reports.get_nowait()
        if last is not None:
            done, total = last
            elapsed = time.monotonic() - started
            rate = done / elapsed if elapsed > 0 else 0.0
            eta = (total - done) / rate if rate > 0 else None
            yield Progress(Phase.PAIRING, done, total, rate=rate, eta=eta)
    result = outcome[0]
    if isinstance(result, all_pairs.Cancelled):
        log.info("Pair search cancelled; the cache is unchanged")
        return
    if isinstance(result, BaseException):
        raise result
    try:
        # Crops: whole-image hashes against the windows of the others (window_pairs.py).
        windowed = window_pairs.window_pairs(ids, hashes, catalog.windows(ids), cancel=cancel)
    except window_pairs.Cancelled:
        log.info("Pair search cancelled; the cache is unchanged")
        return
    result, extra = window_pairs.fold(result, windowed)
    catalog.pairs.store(result, watermark=watermark, rotations=rotations, replace=True, extra=extra)
    log.info(
        "Found %d pairs within %d among %d photos in %.1f s",
        len(result) + len(extra),
        threshold,
        ids.size,
        time.monotonic() - started,
    )


def _incremental(
    catalog: Catalog,
    pending_ids: IdArray,
    pending_hashes: HashArray,
    state: PairState,
    cancel: threading.Event,
    index: MilvusIndex | None = None,
) -> Generator[Progress, None, None]:
    assert state.upto is not None
    threshold = state.upto
    catalog.index.sync()
    search = catalog.index.query
    if index is not None:
        index.sync()
        search = index.query_synced
    # The largest id actually paired, not the catalog's: a photo another process
    # committed after ``pending`` was read must stay pending. Neighbours above it are
    # left for then, so that no pair is stored twice.
    watermark = max(state.watermark, int(pending_ids.max()))
    variants = None
    all_ids: IdArray = np.empty(0, np.int64)
    if state.rotations:
        all_ids, _, variants = catalog.hashes(variants=True)
    records: list[tuple[Hits, int]] = []
    started = time.monotonic()
    total = int(pending_ids.size)
    for done, (image_id, value) in enumerate(
        zip(pending_ids.tolist(), pending_hashes.tolist(), strict=True)
    ):
        if cancel.is_set():
            return
        ids, distances = search(int(value), threshold)
        known = ids <= watermark
        _collect(records, image_id, ids[known], distances[known], Transform.IDENTITY)
        if variants is not None:
            _collect_rotations(records, image_id, all_ids, variants, threshold, watermark)
        if done % 64 == 0:
            elapsed = time.monotonic() - started
            rate = done / elapsed if elapsed > 0 else 0.0
            yield Progress(Phase.PAIRING, done, total, rate=rate)
    pairs = _assemble(records, threshold)
    windowed: dict[tuple[int, int], tuple[int, int]] = {}
    _collect_windows(windowed, catalog, pending_ids, pending_hashes, watermark)
    if windowed:
        keys = np.array(sorted(windowed), dtype=np.int64).reshape(-1, 2)
        values = np.array([windowed[(int(a), int(b))] for a, b in keys], dtype=np.uint8)
        pairs = window_pairs.merge(
            pairs, PairSet(keys[:, 0], keys[:, 1], values[:, 0], values[:, 1], threshold)
        )
    catalog.pairs.store(pairs, watermark=watermark, rotations=state.rotations, replace=False)
    log.info("Paired %d new photos: %d pairs", total, len(pairs))


def _collect(
    records: list[tuple[Hits, int]],
    image_id: int,
    ids: IdArray,
    distances: DistArray,
    transform: int,
) -> None:
    """Record that ``image_id`` turned by ``transform`` is ``distances`` from ``ids``."""
    others = ids != image_id
    found = ids[others]
    records.append(
        ((np.full(found.shape[0], image_id, np.int64), found, distances[others]), transform)
    )


def _assemble(records: list[tuple[Hits, int]], threshold: int) -> PairSet:
    """The records (by image id) as a PairSet, with the all-pairs search's tie-break."""
    if not records:
        return PairSet.empty(threshold)
    universe = np.unique(np.concatenate([part for (x, y, _), _ in records for part in (x, y)]))
    positional = [
        ((np.searchsorted(universe, x), np.searchsorted(universe, y), d), t)
        for (x, y, d), t in records
    ]
    return all_pairs.assemble(universe, positional, threshold)


def _collect_windows(
    found: dict[tuple[int, int], tuple[int, int]],
    catalog: Catalog,
    pending_ids: IdArray,
    pending_hashes: HashArray,
    watermark: int,
) -> None:
    """Window pairs of the new images, both ways: their hash against every window,
    and their windows against every hash (``window_pairs.py``), by brute force; only
    with images up to ``watermark`` (the others are paired when their turn comes)."""
    all_ids, all_hashes, _ = catalog.hashes()
    known = all_ids <= watermark
    all_ids, all_hashes = all_ids[known], all_hashes[known]
    all_windows = catalog.windows(all_ids)
    mine = catalog.windows(pending_ids)
    limit = window_pairs.WINDOW_THRESHOLD
    for image_id, value, windows in zip(
        pending_ids.tolist(), pending_hashes.tolist(), mine, strict=True
    ):
        # This photo is the crop: its hash near another photo's window w ...
        near = mih.hamming(all_windows.ravel(), np.uint64(value)).reshape(all_windows.shape)
        # (zero windows were never hashed: no hash is near them)
        for row, w in zip(*np.nonzero((near <= limit) & (all_windows != 0)), strict=True):
            _add_window(found, image_id, int(all_ids[row]), int(near[row, w]), int(w), False)
        # ... or another photo is: its hash near this photo's window w.
        for w, window in enumerate(windows.tolist()):
            if not window:
                continue
            distances = mih.hamming(all_hashes, np.uint64(window))
            for row in np.flatnonzero(distances <= limit).tolist():
                _add_window(found, image_id, int(all_ids[row]), int(distances[row]), w, True)


def _add_window(
    found: dict[tuple[int, int], tuple[int, int]],
    image_id: int,
    other: int,
    distance: int,
    window: int,
    mine: bool,
) -> None:
    """Record a window pair; ``mine``: the window is ``image_id``'s, else ``other``'s."""
    if other == image_id:
        return
    key = (min(image_id, other), max(image_id, other))
    owner = image_id if mine else other
    code = window_pairs.window_code(window, of_b=owner == key[1])
    best = found.get(key)
    # A whole-image (or rotation) match wins ties: it needs no window.
    if best is None or (distance, 1) < (best[0], int(best[1] >= window_pairs.WINDOW_BASE)):
        found[key] = (distance, code)


def _collect_rotations(
    records: list[tuple[Hits, int]],
    image_id: int,
    all_ids: IdArray,
    variants: np.ndarray,
    threshold: int,
    watermark: int,
) -> None:
    """Pairs of ``image_id`` through a rotation or mirror, in both directions.

    Only with images up to ``watermark`` (``all_ids`` is sorted).
    """
    row = int(np.searchsorted(all_ids, image_id))
    if row >= all_ids.size or all_ids[row] != image_id:
        return
    stop = int(np.searchsorted(all_ids, watermark, side="right"))
    all_ids, variants = all_ids[:stop], variants[:stop]
    mine = variants[row]
    identity = variants[:, 0]
    for t in range(1, len(Transform)):
        # This image turned by t looks like another image ...
        forward = mih.hamming(identity, mine[t])
        hits = np.flatnonzero(forward <= threshold)
        _collect(records, image_id, all_ids[hits], forward[hits], t)
        # ... or another image turned by t looks like this one.
        backward = mih.hamming(variants[:, t], mine[0])
        hits = np.flatnonzero(backward <= threshold)
        _collect(records, image_id, all_ids[hits], backward[hits], int(INVERSE_TRANSFORM[t]))
