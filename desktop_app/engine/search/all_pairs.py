"""Exact bulk all-pairs search over 64-bit perceptual hashes.

:func:`all_pairs` returns every pair of images within a Hamming threshold, exactly the set
:func:`brute_force_pairs` finds, by the cheaper of two exact methods that a cost model
(``plan.py``) picks per call: blocked brute force, or multi-index hashing (MIH).

Why MIH is exact: cut the *live* bits (those not constant across the input; bit 63 of
the integer, the DC term, is always set in real pHashes) into m disjoint segments with
radii r_i. If d(x, y) <= D and sum(r_i + 1) >= D + 1, some segment has d_i <= r_i
(pigeonhole), so probing every bucket within r_i of each item's bucket meets every pair
within D; each candidate is verified by its full 64-bit distance. A pair met in several
segments is kept by the first only; within a segment, bucket u probes u ^ M only when
u ^ M > u, and pairs inside one bucket are taken in a separate pass, so each pair meets
once per segment. Segments are consecutive runs of live bits (m = 3..6), each held as
the hashes sorted by segment value, a direct-address table of bucket starts and a
bool occupancy table (``segment_join.py``).

Rotations (``variants``): the identity self-join, then for each of the 7 other transforms
a cross join of that variant against the hashes. Work is cut into jobs run on a thread
pool (numpy and the compiled loops release the GIL); ``cancel`` is checked between chunks.

The cost of each step, what the model chooses at 100,000 and 1,000,000 hashes, and the
memory bounds are measured in docs/benchmarks.md ("How the all-pairs search spends its
time").
"""

from __future__ import annotations

import concurrent.futures
import functools
import logging
import threading
import time
from collections.abc import Callable, Iterable, Iterator

import numpy as np
import numpy.typing as npt

from desktop_app.engine.config import default_workers
from desktop_app.engine.search.plan import Plan, VariantArray, plan_search
from desktop_app.engine.search.segment_join import (
    Cancelled,
    Hits,
    Job,
    Table,
    cross_join_count,
    cross_join_jobs,
    self_join_count,
    self_join_jobs,
)
from desktop_app.engine.types import INVERSE_TRANSFORM, HashArray, IdArray, PairSet

__all__ = ["Cancelled", "Plan", "all_pairs", "assemble", "brute_force_pairs", "plan_search"]

log = logging.getLogger(__name__)

Progress = Callable[[int, int], None]

#: Pairs are sorted by one int64 key holding both ranks and 16 bits of distance and
#: transform, which caps the input at sqrt(2**47) hashes.
MAX_HASHES = 11_000_000
_BRUTE_ROWS = 64
_BRUTE_COLS = 4096


def _check(
    ids: IdArray, hashes: HashArray, threshold: int, variants: VariantArray | None
) -> tuple[IdArray, HashArray, VariantArray | None]:
    ids = np.asarray(ids)
    hashes = np.asarray(hashes)
    if ids.ndim != 1 or hashes.ndim != 1 or ids.shape != hashes.shape:
        raise ValueError("ids and hashes must be 1-D arrays of the same length")
    if hashes.dtype != np.uint64:
        raise TypeError(f"hashes must be uint64, not {hashes.dtype}")
    if not np.issubdtype(ids.dtype, np.integer):
        raise TypeError(f"ids must be integers, not {ids.dtype}")
    ids = ids.astype(np.int64, copy=False)
    if threshold < 0:
        raise ValueError("threshold must be 0 or more")
    if ids.shape[0] > MAX_HASHES:
        raise ValueError(f"at most {MAX_HASHES:,} hashes can be searched at once")
    if ids.shape[0] > 1 and np.unique(ids).shape[0] != ids.shape[0]:
        raise ValueError("ids must be unique")
    if variants is not None:
        variants = np.asarray(variants)
        if variants.dtype != np.uint64 or variants.shape != (hashes.shape[0], 8):
            raise ValueError("variants must be a uint64 array of shape (n, 8)")
        if not np.array_equal(variants[:, 0], hashes):
            raise ValueError("variants[:, 0] must equal hashes (the identity transform)")
    return ids, hashes, variants


def assemble(
    ids: IdArray,
    records: Iterable[tuple[Hits, int]],
    threshold: int,
) -> PairSet:
    """Pair records ``((x, y, d), t)``, meaning x turned by t is d from y, as a PairSet.

    Positions become ids, oriented ``a < b``; when that swaps a record, its transform is
    inverted (it must turn *a* into *b*). Several records of one pair (rotations) keep the
    smallest distance, then the smallest transform value, so IDENTITY wins ties.
    """
    n = int(ids.shape[0])
    # Work on ranks of the ids, so that one int64 key sorts by (a, b, distance, transform).
    by_id = np.argsort(ids, kind="stable")
    rank = np.empty(n, dtype=np.int64)
    rank[by_id] = np.arange(n)
    keys: list[npt.NDArray[np.int64]] = []
    for (x, y, d), tr in records:
        rx, ry = rank[x], rank[y]
        swap = rx > ry
        t = np.full(x.shape[0], tr, dtype=np.int64)
        if tr:
            t[swap] = INVERSE_TRANSFORM[tr]
        lo, hi = np.minimum(rx, ry), np.maximum(rx, ry)
        keys.append(((lo * n + hi) << 16) | (d.astype(np.int64) << 8) | t)
    if not keys:
        return PairSet.empty(threshold)
    key = np.sort(np.concatenate(keys))
    pair = key >> 16
    if key.shape[0] > 1:
        first = np.ones(key.shape[0], dtype=np.bool_)
        first[1:] = pair[1:] != pair[:-1]
        if not first.all():
            key, pair = key[first], pair[first]
    sorted_ids = ids[by_id]
    return PairSet(
        sorted_ids[pair // n],
        sorted_ids[pair % n],
        ((key >> 8) & 255).astype(np.uint8),
        (key & 255).astype(np.uint8),
        threshold,
    )


#: One job's output: verified hits with the transform that produced them.
Records = list[tuple[Hits, int]]
RecordJob = Callable[[], Records]


def _brute_jobs(
    hashes: HashArray,
    variants: VariantArray | None,
    threshold: int,
    cancel: threading.Event | None,
) -> list[tuple[RecordJob, int]]:
    """Row-block jobs of the blocked brute force, weighted by their pair counts."""
    n = int(hashes.shape[0])
    limit = np.uint8(min(threshold, 255))
    rows_per_job = max(_BRUTE_ROWS, (1 << 25) // max(1, n) // _BRUTE_ROWS * _BRUTE_ROWS)

    def job(r0: int) -> Records:
        r1 = min(n, r0 + rows_per_job)
        out: Records = []
        # Buffers reused for every block: fresh 2 MB temporaries cost more in page faults
        # than the XOR and popcount themselves (0.8 against 2.9 ns per pair measured).
        xor_buf = np.empty(_BRUTE_ROWS * _BRUTE_COLS, np.uint64)
        dist_buf = np.empty(_BRUTE_ROWS * _BRUTE_COLS, np.uint8)
        near_buf = np.empty(_BRUTE_ROWS * _BRUTE_COLS, np.bool_)
        for b0 in range(r0, r1, _BRUTE_ROWS):
            if cancel is not None and cancel.is_set():
                raise Cancelled
            b1 = min(r1, b0 + _BRUTE_ROWS)
            for c0 in range(b0, n, _BRUTE_COLS):
                c1 = min(n, c0 + _BRUTE_COLS)
                shape = (b1 - b0, c1 - c0)
                size = shape[0] * shape[1]
                x = xor_buf[:size].reshape(shape)
                d = dist_buf[:size].reshape(shape)
                near = near_buf[:size].reshape(shape)
                rows, cols = hashes[b0:b1, None], hashes[None, c0:c1]
                # (left, right, t, swapped): left turned by t against right.
                tests: list[tuple[HashArray, HashArray, int, bool]] = [(rows, cols, 0, False)]
                if variants is not None:
                    for t in range(1, 8):
                        tests.append((variants[b0:b1, t, None], cols, t, False))
                        tests.append((variants[None, c0:c1, t], rows, t, True))
                for left, right, t, swapped in tests:
                    np.bitwise_xor(left, right, out=x)
                    np.bitwise_count(x, out=d)
                    np.less_equal(d, limit, out=near)
                    if c0 < b1:  # the block holding the diagonal: only column > row
                        near &= np.arange(c0, c1)[None, :] > np.arange(b0, b1)[:, None]
                    hit = np.flatnonzero(near_buf[:size])
                    if hit.size:
                        r, c = np.divmod(hit, shape[1])
                        x_pos, y_pos = r + b0, c + c0
                        hits = (y_pos, x_pos, d[r, c]) if swapped else (x_pos, y_pos, d[r, c])
                        out.append((hits, t))
        return out

    jobs: list[tuple[RecordJob, int]] = []
    for r0 in range(0, n, rows_per_job):
        r1 = min(n, r0 + rows_per_job)
        weight = (r1 - r0) * (n - r0) - (r1 - r0) * (r1 - r0 - 1) // 2
        jobs.append((functools.partial(job, r0), weight))
    return jobs


def _run(
    jobs: Iterable[tuple[RecordJob, int]],
    total: int,
    workers: int,
    cancel: threading.Event | None,
    progress: Progress | None,
) -> Iterator[tuple[Hits, int]]:
    """Run jobs on ``workers`` threads, at most ``2 * workers`` in flight, in order."""
    if cancel is not None and cancel.is_set():
        raise Cancelled
    done = 0
    if progress is not None:
        progress(0, total)
    with concurrent.futures.ThreadPoolExecutor(max_workers=workers) as pool:
        pending: list[tuple[concurrent.futures.Future[Records], int]] = []
        it = iter(jobs)
        try:
            while True:
                while len(pending) < 2 * workers:
                    nxt = next(it, None)
                    if nxt is None:
                        break
                    pending.append((pool.submit(nxt[0]), nxt[1]))
                if not pending:
                    break
                future, weight = pending.pop(0)
                records = future.result()
                done += weight
                if progress is not None:
                    progress(done, total)
                if cancel is not None and cancel.is_set():
                    raise Cancelled
                yield from records
        finally:
            for future, _ in pending:
                future.cancel()


def brute_force_pairs(
    ids: IdArray,
    hashes: HashArray,
    threshold: int,
    *,
    variants: VariantArray | None = None,
    workers: int = 1,
) -> PairSet:
    """Every pair within ``threshold``, by comparing all of them in blocks.

    The reference the indexed search is tested against; also what :func:`all_pairs` runs
    when it is the cheaper method. Memory is bounded by the block size.

    Args:
        ids: Unique image ids, one per hash.
        hashes: The 64-bit hashes.
        threshold: Largest Hamming distance to report (0 or more).
        variants: Optional ``(n, 8)`` hashes of each photo under each :class:`Transform`
            (column 0 equal to ``hashes``); the distance is then the smallest over
            transforms and both directions.
        workers: Threads to use.

    Returns:
        The pairs, ``a < b``, sorted by ``(a, b)``.
    """
    ids, hashes, variants = _check(ids, hashes, threshold, variants)
    jobs = _brute_jobs(hashes, variants, threshold, None)
    total = sum(w for _, w in jobs)
    return assemble(ids, _run(jobs, total, workers, None, None), threshold)


def _mih_jobs(
    hashes: HashArray,
    variants: VariantArray | None,
    threshold: int,
    plan: Plan,
    cancel: threading.Event | None,
) -> tuple[Iterator[tuple[RecordJob, int]], int]:
    """The jobs of an MIH search (generated lazily) and how many there will be."""
    segments = list(plan.segments)
    tables = [Table.build(hashes, s) for s in segments]
    total = sum(self_join_count(t, s) for t, s in zip(tables, segments, strict=True))
    if variants is not None:
        total += 7 * sum(cross_join_count(t, s) for t, s in zip(tables, segments, strict=True))

    def identity(job: Job) -> Records:
        return [(job(), 0)]

    def rotated(job: Job, t: int) -> Records:
        x, y, d = job()
        keep = x != y  # a photo's own variant is not a pair
        return [((x[keep], y[keep], d[keep]), t)]

    def generate() -> Iterator[tuple[RecordJob, int]]:
        for k, (seg, table) in enumerate(zip(segments, tables, strict=True)):
            for job in self_join_jobs(hashes, table, seg, segments[:k], threshold, cancel):
                yield functools.partial(identity, job), 1
        if variants is None:
            return
        for t in range(1, 8):
            queries = np.ascontiguousarray(variants[:, t])
            for k, (seg, table) in enumerate(zip(segments, tables, strict=True)):
                for job in cross_join_jobs(
                    queries, hashes, table, seg, segments[:k], threshold, cancel
                ):
                    yield functools.partial(rotated, job, t), 1

    return generate(), total


def all_pairs(
    ids: IdArray,
    hashes: HashArray,
    threshold: int,
    *,
    variants: VariantArray | None = None,
    cancel: threading.Event | None = None,
    progress: Progress | None = None,
    workers: int | None = None,
    plan: Plan | None = None,
) -> PairSet:
    """Every pair of images within ``threshold``, exactly as brute force finds them.

    Args:
        ids: Unique image ids, one per hash.
        hashes: The 64-bit hashes (``uint64``).
        threshold: Largest Hamming distance to report (0 or more; 64 reports all pairs).
        variants: Optional ``(n, 8)`` hashes of each photo under each :class:`Transform`,
            column 0 equal to ``hashes``. A pair's distance is then the smallest over
            transforms and both directions, and its transform turns *a* into *b*
            (IDENTITY on ties).
        cancel: Set it to stop; checked between chunks, then :class:`Cancelled` is raised.
        progress: Called as ``progress(done, total)`` from the calling thread, in jobs.
        workers: Threads (default: one per core available).
        plan: Force a method (tests, benchmarks); default :func:`plan_search`.

    Returns:
        The pairs with ``a < b``, sorted by ``(a, b)``, ``threshold`` set.

    Raises:
        Cancelled: ``cancel`` was set.
        ValueError: Mismatched or duplicate ids, a negative threshold, bad variants.
    """
    ids, hashes, variants = _check(ids, hashes, threshold, variants)
    workers = workers or default_workers()
    started = time.perf_counter()
    if plan is None:
        plan = plan_search(hashes, threshold, variants=variants)
    log.info(
        "all pairs: %d hashes, threshold %d, rotations %s: %s (modelled %.1f s)",
        hashes.shape[0],
        threshold,
        variants is not None,
        plan.describe(),
        plan.estimate,
    )
    if plan.method == "brute":
        brute = _brute_jobs(hashes, variants, threshold, cancel)
        jobs: Iterable[tuple[RecordJob, int]] = brute
        total = sum(w for _, w in brute)
    else:
        jobs, total = _mih_jobs(hashes, variants, threshold, plan, cancel)
    result = assemble(ids, _run(jobs, total, workers, cancel, progress), threshold)
    log.info("all pairs: %d pairs in %.2f s", len(result), time.perf_counter() - started)
    return result
