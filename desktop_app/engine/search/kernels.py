"""Compiled inner loops of the segment joins (numba); their numpy loop is in ``segment_join``.

The multi-index search (``segment_join.py``) spends most of its time verifying
candidates: each *row* (a hash) against a *run* of targets (a bucket of the table),
keeping those within the threshold. In numpy that takes a gather, an xor, a popcount, a
comparison and an index pass over every candidate, about 3 ns each on this project's
machine; compiled, the loop reads each target once and costs a fraction of that
(docs/benchmarks.md, "The compiled verification"). With rows that are runs of a few
dozen targets, that is most of the search.

:func:`verify_runs` and :func:`join_buckets` are the compiled loops. numba is a
dependency; the first call in a process compiles them, or loads them from numba's cache
(beside this file, or in the user's cache folder where that is read-only), in about
0.5 s. Where numba cannot be imported or compile, :func:`compiled` says so and
``segment_join`` keeps its numpy loop; the tests hold both to brute force.
``DOPPEL_NO_JIT=1`` switches the compiled loops off.
"""

from __future__ import annotations

import logging
import os
import threading
from collections.abc import Callable

import numpy as np
import numpy.typing as npt

from desktop_app.engine.types import HashArray

log = logging.getLogger(__name__)

Int64Array = npt.NDArray[np.int64]
DistArray = npt.NDArray[np.uint8]
#: Row index, target position and distance of each verified candidate.
Verified = tuple[Int64Array, Int64Array, DistArray]

#: Candidates verified per call of the compiled loop: its output holds as many hits.
OUTPUT = 1 << 20

_M1 = np.uint64(0x5555555555555555)
_M2 = np.uint64(0x3333333333333333)
_M4 = np.uint64(0x0F0F0F0F0F0F0F0F)
_H01 = np.uint64(0x0101010101010101)
_ONE = np.uint64(1)
_TWO = np.uint64(2)
_FOUR = np.uint64(4)
_TOP = np.uint64(56)


def _popcount(x: np.uint64) -> np.uint64:
    # The SWAR population count; LLVM compiles it to the popcnt instruction.
    x = x - ((x >> _ONE) & _M1)
    x = (x & _M2) + ((x >> _TWO) & _M2)
    x = (x + (x >> _FOUR)) & _M4
    return np.uint64((x * _H01) >> _TOP)


def _verify_into(
    row_hash: HashArray,
    tstart: Int64Array,
    tlen: Int64Array,
    target: HashArray,
    limit: int,
    first: int,
    rows: Int64Array,
    positions: Int64Array,
    distances: DistArray,
) -> tuple[int, int]:
    # Rows from ``first`` on, while their candidates fit in the output (every candidate
    # may be a hit). Returns the hits written and the next row to verify. The outputs
    # are never reallocated inside the loop: that would keep LLVM from optimising it.
    capacity = rows.shape[0]
    bound = np.uint64(limit)  # uint64 against int64 would compare as floats
    found = 0
    for r in range(first, row_hash.shape[0]):
        count = tlen[r]
        if found + count > capacity:
            return found, r
        h = row_hash[r]
        start = tstart[r]
        for j in range(start, start + count):
            d = _popcount(target[j] ^ h)
            if d <= bound:
                rows[found] = r
                positions[found] = j
                distances[found] = d
                found += 1
    return found, row_hash.shape[0]


def _join_into(
    buckets: Int64Array,
    astarts: Int64Array,
    ahash: HashArray,
    boccupied: npt.NDArray[np.bool_],
    bstarts: Int64Array,
    bhash: HashArray,
    masks: Int64Array,
    limit: int,
    first_mask: int,
    first_bucket: int,
    first_item: int,
    rows: Int64Array,
    positions: Int64Array,
    distances: DistArray,
) -> tuple[int, int, int, int]:
    # For each mask, each occupied bucket u of side a (``buckets``, in order) against
    # bucket u ^ mask of side b: every item of the one against every item of the other.
    # From (first_mask, first_bucket, first_item) on, while the candidates fit in the
    # output. Returns the hits written and where to go on.
    capacity = rows.shape[0]
    bound = np.uint64(limit)
    found = 0
    k = first_bucket
    start = first_item
    for m in range(first_mask, masks.shape[0]):
        mask = masks[m]
        while k < buckets.shape[0]:
            u = buckets[k]
            v = u ^ mask
            if boccupied[v]:
                b0, b1 = bstarts[v], bstarts[v + 1]
                for i in range(max(start, astarts[u]), astarts[u + 1]):
                    if found + b1 - b0 > capacity:
                        return found, m, k, i
                    h = ahash[i]
                    for j in range(b0, b1):
                        d = _popcount(bhash[j] ^ h)
                        if d <= bound:
                            rows[found] = i
                            positions[found] = j
                            distances[found] = d
                            found += 1
            start = 0
            k += 1
        k = 0
    return found, masks.shape[0], 0, 0


_Kernels = tuple[Callable[..., tuple[int, int]], Callable[..., tuple[int, int, int, int]]]
_compiled: _Kernels | None = None
_failed = False
_lock = threading.Lock()


def _kernel() -> _Kernels | None:
    """The compiled loop, or None where numba is missing, broken or switched off."""
    global _compiled, _failed
    if _compiled is not None or _failed:
        return _compiled
    with _lock:
        if _compiled is not None or _failed:
            return _compiled
        if os.environ.get("DOPPEL_NO_JIT"):
            _failed = True
            return None
        try:
            import numba
            from numba.extending import register_jitable

            register_jitable(_popcount)  # compiled into the loops that call it
            try:
                jit = numba.njit(nogil=True, cache=True)
                verify, join = jit(_verify_into), jit(_join_into)
            except RuntimeError:  # no writable cache folder: compile in each process
                jit = numba.njit(nogil=True)
                verify, join = jit(_verify_into), jit(_join_into)
            empty = np.empty(0, np.uint64)
            none = np.empty(0, np.int64)
            d = np.empty(0, np.uint8)
            # Compile (or load from the cache) now, under the lock.
            verify(empty, none, none, empty, 0, 0, none, none, d)
            join(
                none,
                none,
                empty,
                np.zeros(1, np.bool_),
                none,
                empty,
                none,
                0,
                0,
                0,
                0,
                none,
                none,
                d,
            )
        except Exception as error:  # any failure (no wheel, no compiler back end): numpy
            log.warning("The compiled search loop is unavailable (%s); using numpy", error)
            _failed = True
            return None
        _compiled = (verify, join)
        return _compiled


def compiled() -> bool:
    """Whether :func:`verify_runs` runs the compiled loop."""
    return _kernel() is not None


def verify_runs(
    row_hash: HashArray,
    tstart: Int64Array,
    tlen: Int64Array,
    target: HashArray,
    threshold: int,
) -> Verified:
    """Every candidate of every row within ``threshold``, by the compiled loop.

    Row ``k`` is compared with ``target[tstart[k]:tstart[k] + tlen[k]]``.

    Args:
        row_hash: The rows' hashes.
        tstart: Where each row's run of targets starts.
        tlen: How many targets it has.
        target: The targets.
        threshold: Largest distance kept.

    Returns:
        Row index, target position and distance of each hit, rows in order and each
        row's hits in target order.
    """
    kernel = _loaded()[0]
    row_hash = np.ascontiguousarray(row_hash, np.uint64)
    tstart = np.ascontiguousarray(tstart, np.int64)
    tlen = np.ascontiguousarray(tlen, np.int64)
    target = np.ascontiguousarray(target, np.uint64)
    total = int(tlen.sum())
    capacity = max(min(total, OUTPUT), int(tlen.max()) if tlen.size else 0)
    first, n = 0, int(tlen.shape[0])

    def step(rows: Int64Array, positions: Int64Array, distances: DistArray) -> tuple[int, bool]:
        nonlocal first
        found, first = kernel(
            row_hash, tstart, tlen, target, int(threshold), first, rows, positions, distances
        )
        return found, first >= n

    return _drain(step, capacity) if n else collect([])


def join_buckets(
    buckets: Int64Array,
    astarts: Int64Array,
    ahash: HashArray,
    boccupied: npt.NDArray[np.bool_],
    bstarts: Int64Array,
    bhash: HashArray,
    masks: Int64Array,
    threshold: int,
    widest: int,
) -> Verified:
    """Every pair within ``threshold`` of an item of side *a* in bucket ``u`` and an item
    of side *b* in bucket ``u ^ mask``, for each occupied bucket ``u`` of *a* and each
    mask, by the compiled loop: a cross join of two tables, bucket by bucket.

    Walking the buckets of one side in order reads the other side's table almost in
    order too (a mask only permutes buckets within aligned blocks), and each run of *b*
    is verified against every item of the *a* bucket while it is in the cache, rather than
    a bucket of *b* read at random for each item.

    Args:
        buckets: The occupied buckets of side *a*, ascending.
        astarts: First item of each bucket of *a* (one more entry than buckets).
        ahash: The hashes of *a*, sorted by bucket.
        boccupied: Whether each bucket of *b* has items.
        bstarts: First item of each bucket of *b*.
        bhash: The hashes of *b*, sorted by bucket.
        masks: Flip masks of the segment.
        threshold: Largest distance kept.
        widest: The size of the largest bucket of *b*.

    Returns:
        Position in ``ahash``, position in ``bhash`` and distance of each hit.
    """
    kernel = _loaded()[1]
    mask, bucket, item = 0, 0, 0

    def step(rows: Int64Array, positions: Int64Array, distances: DistArray) -> tuple[int, bool]:
        nonlocal mask, bucket, item
        found, mask, bucket, item = kernel(
            buckets,
            astarts,
            ahash,
            boccupied,
            bstarts,
            bhash,
            masks,
            int(threshold),
            mask,
            bucket,
            item,
            rows,
            positions,
            distances,
        )
        return found, mask >= masks.shape[0]

    return _drain(step, max(OUTPUT, widest))


def _drain(
    step: Callable[[Int64Array, Int64Array, DistArray], tuple[int, bool]], capacity: int
) -> Verified:
    """Call a compiled loop until it is done: ``step`` fills the output arrays from where
    it stopped and says how many hits it wrote and whether it has finished."""
    rows = np.empty(capacity, np.int64)
    positions = np.empty(capacity, np.int64)
    distances = np.empty(capacity, np.uint8)
    parts: list[Verified] = []
    done = False
    while not done:
        found, done = step(rows, positions, distances)
        parts.append((rows[:found].copy(), positions[:found].copy(), distances[:found].copy()))
    return collect(parts)


def _loaded() -> _Kernels:
    kernel = _kernel()
    if kernel is None:
        raise RuntimeError("the compiled search loop is unavailable: check compiled() first")
    return kernel


def collect(parts: list[Verified]) -> Verified:
    """Hits found in parts, as one triple of arrays."""
    if len(parts) == 1:
        return parts[0]
    if not parts:
        return np.empty(0, np.int64), np.empty(0, np.int64), np.empty(0, np.uint8)
    return (
        np.concatenate([p[0] for p in parts]),
        np.concatenate([p[1] for p in parts]),
        np.concatenate([p[2] for p in parts]),
    )
