"""Compiled inner loops of the segment joins (numba), with their numpy equivalents.

The multi-index search (``segment_join.py``) spends most of its time verifying
candidates: each *row* (a hash) against a *run* of targets (a bucket of the table),
keeping those within the threshold. In numpy that takes a gather, an xor, a popcount, a
comparison and an index pass over every candidate, about 3 ns each on this project's
machine; compiled, the loop reads each target once and costs a fraction of that
(docs/benchmarks.md, "The compiled verification"). With rows that are runs of a few
dozen targets, that is most of the search.

:func:`verify_runs` is the compiled loop: numba is a dependency; the first call in a
process compiles it, or loads it from numba's cache (beside this file, or in the user's
cache folder where that is read-only), in about 0.4 s. Where numba cannot be imported
or compile, :func:`compiled` says so and ``segment_join`` keeps its numpy loop; the
tests hold both to brute force. ``DOPPEL_NO_JIT=1`` switches the compiled loop off.
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
            # The SWAR population count; LLVM compiles it to the popcnt instruction.
            x = target[j] ^ h
            x = x - ((x >> _ONE) & _M1)
            x = (x & _M2) + ((x >> _TWO) & _M2)
            x = (x + (x >> _FOUR)) & _M4
            d = (x * _H01) >> _TOP
            if d <= bound:
                rows[found] = r
                positions[found] = j
                distances[found] = d
                found += 1
    return found, row_hash.shape[0]


_compiled: Callable[..., tuple[int, int]] | None = None
_failed = False
_lock = threading.Lock()


def _kernel() -> Callable[..., tuple[int, int]] | None:
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

            try:
                verify = numba.njit(nogil=True, cache=True)(_verify_into)
            except RuntimeError:  # no writable cache folder: compile in each process
                verify = numba.njit(nogil=True)(_verify_into)
            empty = np.empty(0, np.uint64)
            none = np.empty(0, np.int64)
            d = np.empty(0, np.uint8)
            # Compile (or load from the cache) now, under the lock.
            verify(empty, none, none, empty, 0, 0, none, none, d)
        except Exception as error:  # any failure (no wheel, no compiler back end): numpy
            log.warning("The compiled search loop is unavailable (%s); using numpy", error)
            _failed = True
            return None
        _compiled = verify
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
    kernel = _loaded()
    row_hash = np.ascontiguousarray(row_hash, np.uint64)
    tstart = np.ascontiguousarray(tstart, np.int64)
    tlen = np.ascontiguousarray(tlen, np.int64)
    target = np.ascontiguousarray(target, np.uint64)
    total = int(tlen.sum())
    capacity = max(min(total, OUTPUT), int(tlen.max()) if tlen.size else 0)
    rows = np.empty(capacity, np.int64)
    positions = np.empty(capacity, np.int64)
    distances = np.empty(capacity, np.uint8)
    parts: list[Verified] = []
    first, n = 0, int(tlen.shape[0])
    while first < n:
        found, first = kernel(
            row_hash, tstart, tlen, target, int(threshold), first, rows, positions, distances
        )
        parts.append((rows[:found].copy(), positions[:found].copy(), distances[:found].copy()))
    return _joined(parts)


def _loaded() -> Callable[..., tuple[int, int]]:
    kernel = _kernel()
    if kernel is None:
        raise RuntimeError("the compiled search loop is unavailable: check compiled() first")
    return kernel


def _joined(parts: list[Verified]) -> Verified:
    if len(parts) == 1:
        return parts[0]
    if not parts:
        return np.empty(0, np.int64), np.empty(0, np.int64), np.empty(0, np.uint8)
    return (
        np.concatenate([p[0] for p in parts]),
        np.concatenate([p[1] for p in parts]),
        np.concatenate([p[2] for p in parts]),
    )
