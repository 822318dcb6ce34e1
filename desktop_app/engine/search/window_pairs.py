"""Window pairs: a photo's whole-image hash near another photo's window hash.

A crop's whole-image pHash is close to the hash of the matching window of its original
(``imaging/windows.py``). This module finds, exactly, every ordered pair (x, y) of
photos with ``distance(windows[x, w], hashes[y]) <= threshold`` for some window w, with
the cross joins of the multi-index search that the rotation matching uses
(``segment_join.cross_join_jobs``, the pigeonhole argument of ``all_pairs.py``), or by
blocked brute force when the planner says that is cheaper.

Such a pair is a *candidate*: it is shown only once the geometric check
(``geometry.py``, run by ``confirm.py``) has confirmed it. In a :class:`PairSet` it is
marked by its transform code (:func:`window_code`): :data:`WINDOW_BASE` and above, never
a :class:`~desktop_app.engine.types.Transform`; :func:`merge` joins window pairs with
whole-image pairs, keeping each pair's smaller distance (the whole-image match on ties).

Cost: one table over every window of every photo, joined with a table of the
whole-image hashes at the window threshold (:data:`WINDOW_THRESHOLD`; the layout from
``plan.plan_cross``). At 100,000 photos the search with window pairs takes 1.7-1.8x
the whole-image search alone, and 1-2 % more memory (docs/benchmarks.md, "Crops").
"""

from __future__ import annotations

import functools
import threading
from collections.abc import Callable, Iterator

import numpy as np
import numpy.typing as npt

from desktop_app.engine.config import default_workers
from desktop_app.engine.search import all_pairs as bulk
from desktop_app.engine.search.plan import Plan, plan_cross
from desktop_app.engine.search.segment_join import (
    Cancelled,
    Hits,
    Job,
    Segment,
    Table,
    cross_join_count,
    cross_join_jobs,
)
from desktop_app.engine.types import HashArray, IdArray, PairSet

__all__ = ["WINDOW_BASE", "WINDOW_THRESHOLD", "Cancelled", "merge", "window_pairs"]

#: Transform codes from here up mark window pairs (the eight Transforms are 0-7).
WINDOW_BASE = 8
#: Largest distance between a whole-image hash and a window hash that makes a
#: candidate. Chosen with benchmarks/quality.py on the tuning half of its corpus.
WINDOW_THRESHOLD = 10
_BLOCK = 2048


def window_code(window: int, of_b: bool) -> int:
    """The transform code of a window pair: window ``window`` of *a* (or of *b* when
    ``of_b``) matched the other photo's whole picture, which is then the crop."""
    return WINDOW_BASE + 2 * window + int(of_b)


def decode(code: int) -> tuple[int, bool] | None:
    """``(window, of_b)`` of a window pair's code, None for a Transform."""
    if code < WINDOW_BASE:
        return None
    return (code - WINDOW_BASE) // 2, bool((code - WINDOW_BASE) % 2)


def window_pairs(
    ids: IdArray,
    hashes: HashArray,
    windows: npt.NDArray[np.uint64],
    threshold: int = WINDOW_THRESHOLD,
    *,
    cancel: threading.Event | None = None,
    workers: int | None = None,
    plan: Plan | None = None,
) -> PairSet:
    """Every pair whose one photo's window is within ``threshold`` of the other's hash.

    Args:
        ids: Unique image ids.
        hashes: Their whole-image hashes.
        windows: ``(n, k)`` window hashes, row per image (zeros where unknown).
        threshold: Largest distance reported.
        cancel: Stops the search (:class:`Cancelled` is raised).
        workers: Threads (default: one per core).
        plan: Force a method (tests); default: what :func:`plan_search` picks.

    Returns:
        Pairs ``a < b`` with the smallest window distance each and its :func:`window_code`.
    """
    n = int(ids.shape[0])
    if n < 2 or windows.shape[1] == 0:
        return PairSet.empty(threshold)
    workers = workers or default_workers()
    records: list[tuple[Hits, int]] = []
    # Windows of photos hashed before windows existed are zeros: they match nothing,
    # and in the table they would make one bucket of every such photo.
    flat = windows.reshape(-1)
    positions = np.flatnonzero(flat != 0)
    known = np.ascontiguousarray(flat[positions])
    if not known.size:
        return PairSet.empty(threshold)
    if plan is None:
        plan = plan_cross(hashes, known, threshold)
    jobs = (
        _brute_jobs(hashes, known, threshold, cancel)
        if plan.method == "brute"
        else _mih_jobs(hashes, known, threshold, list(plan.segments), cancel)
    )
    count = int(windows.shape[1])
    for hits, code in bulk._run(
        ((functools.partial(_tagged, job, count, positions), 1) for job in jobs),
        0,
        workers,
        cancel,
        None,
    ):
        records.append((hits, code))
    return _assemble(ids, records, threshold)


def _tagged(job: Job, count: int, positions: IdArray) -> list[tuple[Hits, int]]:
    """A job's hits as ``((owner, crop, distance), window)`` records, without a photo's
    own windows. The job searched the table of the known windows, whose entry ``y`` is
    position ``positions[y] = owner * count + w`` of the full one."""
    x, y, d = job()
    y = positions[y]
    crop, owner, which = x, y // count, y % count
    keep = crop != owner
    crop, owner, which, d = crop[keep], owner[keep], which[keep], d[keep]
    return [
        ((owner[which == w], crop[which == w], d[which == w]), int(w))
        for w in np.unique(which).tolist()
    ]


def _mih_jobs(
    hashes: HashArray,
    flat: HashArray,
    threshold: int,
    segments: list[Segment],
    cancel: threading.Event | None,
) -> Iterator[Callable[[], Hits]]:
    # One table over every (known) window of every photo, joined with the whole-image
    # hashes: the probes are paid once rather than once per window (measured 2.4x
    # faster at 100,000 photos and 11 windows than a cross join per window).
    for k, seg in enumerate(segments):
        table = Table.build(flat, seg)
        if not cross_join_count(table, seg):
            continue
        yield from cross_join_jobs(hashes, flat, table, seg, segments[:k], threshold, cancel)


def _brute_jobs(
    hashes: HashArray,
    flat: HashArray,
    threshold: int,
    cancel: threading.Event | None,
) -> Iterator[Callable[[], Hits]]:
    for r0 in range(0, int(flat.shape[0]), _BLOCK):
        yield functools.partial(_brute_block, hashes, flat, r0, threshold, cancel)


def _brute_block(
    hashes: HashArray,
    flat: HashArray,
    r0: int,
    threshold: int,
    cancel: threading.Event | None,
) -> Hits:
    """Known windows ``r0`` on against every hash: (hash position, window entry, d)."""
    if cancel is not None and cancel.is_set():
        raise Cancelled
    rows = flat[r0 : r0 + _BLOCK]
    distance = np.bitwise_count(rows[:, None] ^ hashes[None, :])
    w, x = np.nonzero(distance <= threshold)
    return x.astype(np.int64), (w + r0).astype(np.int64), distance[w, x].astype(np.uint8)


def _assemble(ids: IdArray, records: list[tuple[Hits, int]], threshold: int) -> PairSet:
    """Records ``((x, y, d), w)``: window w of x is d from y, as a PairSet."""
    if not records:
        return PairSet.empty(threshold)
    x = np.concatenate([r[0][0] for r in records])
    y = np.concatenate([r[0][1] for r in records])
    d = np.concatenate([r[0][2] for r in records]).astype(np.int64)
    w = np.concatenate([np.full(r[0][0].shape[0], r[1], np.int64) for r in records])
    ix, iy = ids[x], ids[y]
    of_b = ix > iy  # the window belongs to the larger id: b
    a = np.minimum(ix, iy)
    b = np.maximum(ix, iy)
    code = WINDOW_BASE + 2 * w + of_b.astype(np.int64)
    order = np.lexsort((code, d, b, a))
    a, b, d, code = a[order], b[order], d[order], code[order]
    first = np.ones(a.shape[0], np.bool_)
    first[1:] = (a[1:] != a[:-1]) | (b[1:] != b[:-1])
    return PairSet(
        a[first].astype(np.int64),
        b[first].astype(np.int64),
        d[first].astype(np.uint8),
        code[first].astype(np.uint8),
        threshold,
    )


def merge(whole: PairSet, windowed: PairSet) -> PairSet:
    """Whole-image pairs and window pairs as one set, complete to ``whole.threshold``
    for whole-image matches; a pair found both ways keeps the smaller distance, and the
    whole-image match on ties. (A window nearer than the whole picture is evidence of a
    crop or a shift, even below ``confirm.CERTAIN_DISTANCE``: such a pair is checked. A
    rule keeping certain whole-image matches instead found one more brightened copy in
    benchmarks/quality_shots.py and paired a dozen more burst frames with crops of
    their original: docs/benchmarks.md.)

    When the whole-image pairs come sorted by ``(a, b)`` (as ``all_pairs`` returns
    them), the result is sorted too: :func:`fold`, then the new pairs inserted in place.
    """
    folded, extra = fold(whole, windowed)
    if not len(extra):
        return folded
    known = _keys(folded.a, folded.b, _top(folded, extra))
    where = np.searchsorted(known, _keys(extra.a, extra.b, _top(folded, extra)))
    return PairSet(
        np.insert(folded.a, where, extra.a.astype(folded.a.dtype)),
        np.insert(folded.b, where, extra.b.astype(folded.b.dtype)),
        np.insert(folded.distance, where, extra.distance).astype(np.uint8),
        np.insert(folded.transform, where, extra.transform).astype(np.uint8),
        whole.threshold,
    )


def fold(whole: PairSet, windowed: PairSet) -> tuple[PairSet, PairSet]:
    """:func:`merge` in two parts, ``(whole', extra)``: the whole-image pairs with the
    window matches that beat them folded in, and the window pairs no whole-image match
    found, which together are the merged set (in no common order).

    The whole-image set is millions of pairs on a large library and the window set a
    small fraction of that: the window pairs are looked up in the (sorted) whole-image
    pairs rather than everything concatenated and sorted again, which doubled the
    search's peak memory at 100,000 photos, and the pair cache stores ``extra`` beside
    ``whole'`` (``pairing.py``), so that no merged copy of the arrays is ever made.
    Whole-image pairs not sorted by ``(a, b)``, or ids too large for one int64 key,
    are merged by sorting instead (``extra`` is then empty).
    """
    empty = PairSet.empty(whole.threshold)
    if not len(windowed):
        return whole, empty
    keep = windowed.distance <= whole.threshold
    wa, wb = windowed.a[keep].astype(np.int64), windowed.b[keep].astype(np.int64)
    wd, wt = windowed.distance[keep], windowed.transform[keep]
    if not wa.size:
        return whole, empty
    candidates = PairSet(wa, wb, wd, wt, whole.threshold)
    top = _top(whole, candidates)
    if top > _LARGEST_KEYED_ID:
        return _merge_sorting(whole, windowed), empty
    known = _keys(whole.a, whole.b, top)
    if known.size > 1 and not bool(np.all(known[1:] > known[:-1])):
        return _merge_sorting(whole, windowed), empty
    keys = _keys(wa, wb, top)
    order = np.argsort(keys, kind="stable")
    keys, wa, wb, wd, wt = keys[order], wa[order], wb[order], wd[order], wt[order]
    at = np.searchsorted(known, keys)
    found = at < known.shape[0]
    found[found] = known[at[found]] == keys[found]
    distance, transform = whole.distance, whole.transform
    better = found.copy()
    better[found] = wd[found] < whole.distance[at[found]]
    if better.any():
        distance, transform = distance.copy(), transform.copy()
        distance[at[better]] = wd[better]
        transform[at[better]] = wt[better]
    new = ~found
    folded = PairSet(whole.a, whole.b, distance, transform, whole.threshold)
    extra = PairSet(
        wa[new], wb[new], wd[new].astype(np.uint8), wt[new].astype(np.uint8), whole.threshold
    )
    return folded, extra


def _top(*sets: PairSet) -> int:
    """One more than the largest id in ``sets`` (``b`` is the larger of each pair)."""
    return 1 + max((int(s.b.max()) for s in sets if len(s)), default=0)


def _keys(a: IdArray, b: IdArray, top: int) -> npt.NDArray[np.int64]:
    keys: npt.NDArray[np.int64] = a.astype(np.int64, copy=False) * top
    keys += b
    return keys


#: Ids up to this keep ``a * top + b`` within an int64.
_LARGEST_KEYED_ID = 3_037_000_499


def _merge_sorting(whole: PairSet, windowed: PairSet) -> PairSet:
    """:func:`merge` for any input: concatenate, sort by pair, keep the first of each."""
    a = np.concatenate([whole.a, windowed.a])
    b = np.concatenate([whole.b, windowed.b])
    d = np.concatenate([whole.distance, windowed.distance]).astype(np.int64)
    t = np.concatenate([whole.transform, windowed.transform]).astype(np.int64)
    keep_window = d[len(whole) :] <= whole.threshold
    mask = np.concatenate([np.ones(len(whole), np.bool_), keep_window])
    a, b, d, t = a[mask], b[mask], d[mask], t[mask]
    order = np.lexsort((t >= WINDOW_BASE, d, b, a))
    a, b, d, t = a[order], b[order], d[order], t[order]
    first = np.ones(a.shape[0], np.bool_)
    first[1:] = (a[1:] != a[:-1]) | (b[1:] != b[:-1])
    return PairSet(
        a[first], b[first], d[first].astype(np.uint8), t[first].astype(np.uint8), whole.threshold
    )
