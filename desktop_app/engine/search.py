"""Exact bulk all-pairs search over 64-bit perceptual hashes.

:func:`all_pairs` returns every pair of images within a Hamming threshold, exactly the set
:func:`brute_force_pairs` finds, by the cheaper of two exact methods that a cost model
picks per call.

OPTIMIZATION NOTES

Why it is exact. Multi-index hashing (MIH, see ``mih.py``): cut the *live* bits (those
not constant across the whole input; bit 63, the DC term, is always set in real pHashes
and counts for nothing) into m disjoint segments with radii r_i, some possibly unprobed.
If d(x, y) <= D and sum(r_i + 1) >= D + 1, some segment has d_i <= r_i (pigeonhole), so
probing every bucket within r_i of a bucket, in every probed segment, meets every pair
within D; each candidate is then verified by its full 64-bit distance. A pair can lie
within the radius of several segments; it is kept only by the first one (a test on the
verified hits, which are few), so nothing is counted twice and nothing is lost.

The layouts. Segments are consecutive runs of the live bits, m = 3..6 of near-equal
width (21 bits each for m = 3 over 63 live bits, 16/16/16/15 for m = 4, ...), each held
as the hashes sorted by segment value plus a direct-address table of bucket starts
(2**w entries, so w <= 22). The stored SQLite index uses 4 x 16 bits; we may use wider
segments because a probe here is an array index, not a B-tree lookup.

What each step costs (2-core AMD EPYC, numpy 2.4; ``benchmarks/pairs.py`` measures the
constants below in the same run):
- setup: one sort per probed segment, about 0.1 s per million hashes;
- probe: for each flip mask M of weight <= r_i and each non-empty bucket u, look up
  bucket u ^ M; only u < u ^ M is probed (a pair of buckets once), so V(w, r)/2 lookups
  per non-empty bucket, about 1.5 ns each;
- candidates: every item of one bucket against every item of the other, expanded in
  chunks of 2**18 (numpy ``repeat``/``take``, then XOR + ``bitwise_count``), about 10 ns
  each. This dominates: it is sum over bucket pairs of c_u * c_v, which on biased
  real-like bits is about 10x what uniform bits would give at 21-bit segments;
- dedupe and output: only on verified hits.
Blocked brute force compares a block of 256 rows with 4096 columns at a time (one
XOR + popcount + compare per pair, all in L2), about 1.3 ns per pair.

What the model chooses. It samples 2,000 hashes, measures for each layout and radius how
often a sampled pair falls within the radius of each segment, and prices candidates,
probes and setup with the constants above, against n(n-1)/2 brute-force pairs; the radii
per layout are found by a small dynamic programme (cost is additive over segments). On
the synthetic benchmark data (docs/benchmarks.md) that gives MIH with three 21-bit
segments at thresholds up to about 12 for a million hashes, four 16-bit segments around
12-14, and brute force at 16 for 100,000 hashes (MIH would read a fifth of all pairs as
candidates at 8x the cost per pair). Under 5,000 hashes brute force is used outright.

Rotations (``variants``). The distance of a pair is the minimum over the 8 transforms and
both directions (variant hashes are not bit permutations of each other). MIH runs the
identity self-join and then, for each of the 7 other transforms t, a cross join of
variants[:, t] against the hashes over all ordered pairs: 0.5 + 7 = 7.5 times the
candidate pairs of the plain search, so about 15x its time (brute force does 15 XORs per
pair instead of 1, the same factor). A stored index would pay it in space or in probes:
either index all 8 variants (8x the postings) and query with the plain hash, or index
the plain hash and probe with all 8 variants of the query (8x the lookups per query).

Threads. Work is cut into jobs of about 2**21 probe lookups (or row blocks for brute
force) run on a thread pool; numpy releases the GIL inside the large ufunc, take and
repeat calls, so two cores give most of a 2x. ``cancel`` is checked between chunks and
``progress`` is called from the calling thread as jobs finish.
"""

from __future__ import annotations

import concurrent.futures
import functools
import logging
import math
import threading
import time
from collections.abc import Callable, Iterable, Iterator
from dataclasses import dataclass

import numpy as np
import numpy.typing as npt

from desktop_app.engine.config import default_workers
from desktop_app.engine.segment_join import (
    MAX_DIRECT_BITS,
    Cancelled,
    Hits,
    Job,
    Segment,
    Table,
    cross_join_count,
    cross_join_jobs,
    segment_values,
    self_join_count,
    self_join_jobs,
)
from desktop_app.engine.types import HashArray, IdArray, PairSet, Transform

__all__ = ["Cancelled", "Plan", "all_pairs", "brute_force_pairs", "plan_search"]

log = logging.getLogger(__name__)

Progress = Callable[[int, int], None]
VariantArray = npt.NDArray[np.uint64]

#: Seconds per verified candidate pair, per probe lookup, per brute-force pair and per
#: hash sorted into one segment table (measured, see the notes above).
COST_CANDIDATE = 10e-9
COST_PROBE = 1.5e-9
COST_BRUTE = 1.3e-9
COST_SETUP = 1.2e-7
#: Pairs are sorted by one int64 key holding both ranks and 16 bits of distance and
#: transform, which caps the input at sqrt(2**47) hashes.
MAX_HASHES = 11_000_000
#: Below this many hashes the planner does not sample: brute force takes milliseconds.
SMALL = 5_000
_SAMPLE = 2_000
_BRUTE_ROWS = 256
_BRUTE_COLS = 4096

#: The transform that undoes each transform.
INVERSE = np.array([Transform(t).value for t in (0, 3, 2, 1, 4, 5, 6, 7)], dtype=np.uint8)


@dataclass(frozen=True, slots=True)
class Plan:
    """How :func:`all_pairs` will search: brute force, or MIH over ``segments``.

    ``segments`` lists only the probed segments, in probing order. ``estimate`` is the
    modelled single-core time in seconds and ``candidates`` the modelled candidate pairs.
    """

    method: str
    segments: tuple[Segment, ...] = ()
    estimate: float = 0.0
    candidates: float = 0.0

    def describe(self) -> str:
        if self.method == "brute":
            return "brute force"
        parts = ", ".join(f"{s.width}b r{s.radius}" for s in self.segments)
        return f"MIH [{parts}]"


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


def _live_bits(hashes: HashArray, variants: VariantArray | None) -> tuple[int, ...]:
    """Bit positions that are not the same in every hash and every variant."""
    values = hashes if variants is None else variants.ravel()
    if values.size == 0:
        return ()
    ones = int(np.bitwise_or.reduce(values))
    zeros = int(np.bitwise_or.reduce(~values))
    return tuple(b for b in range(64) if (ones >> b) & 1 and (zeros >> b) & 1)


def _ball(width: int, radius: int) -> int:
    return sum(math.comb(width, k) for k in range(min(radius, width) + 1))


def plan_search(hashes: HashArray, threshold: int, *, variants: VariantArray | None = None) -> Plan:
    """Choose the cheaper exact method for these hashes at this threshold.

    Args:
        hashes: The hashes to search (as for :func:`all_pairs`).
        threshold: The largest distance to find.
        variants: Transform hashes, if rotations are matched.

    Returns:
        The plan with the smallest modelled cost.
    """
    n = int(hashes.shape[0])
    pairs = n * (n - 1) / 2
    # Rotations: one self-join plus 7 cross joins over ordered pairs.
    joins = 1.0 if variants is None else 15.0
    brute = Plan("brute", estimate=COST_BRUTE * pairs * joins, candidates=pairs * joins)
    live = _live_bits(hashes, variants)
    if n < SMALL or len(live) < 3:
        return brute
    rng = np.random.default_rng(0)
    sample = hashes[rng.choice(n, size=min(n, _SAMPLE), replace=False)]
    upper = np.triu_indices(sample.shape[0], 1)
    xor = (sample[:, None] ^ sample[None, :])[upper]
    best = brute
    for m in range(3, 7):
        width = -(-len(live) // m)
        if width > MAX_DIRECT_BITS or m > len(live):
            continue
        cuts = [len(live) * k // m for k in range(m + 1)]
        segs = [live[cuts[k] : cuts[k + 1]] for k in range(m)]
        # cost[k][u]: segment k given u units of radius (u = 0: not probed).
        costs: list[list[tuple[float, float]]] = []
        for bits in segs:
            mask = np.uint64(sum(1 << b for b in bits))
            hist = np.bincount(np.bitwise_count(xor & mask), minlength=65)
            share = np.cumsum(hist) / max(1, xor.shape[0])
            distinct = float(np.count_nonzero(np.bincount(segment_values(hashes, bits))))
            row = [(0.0, 0.0)]
            for units in range(1, threshold + 2):
                radius = units - 1
                cand = pairs * joins * float(share[min(radius, 64)])
                probes = distinct * _ball(len(bits), radius) * (joins - 0.5)
                row.append(
                    (
                        COST_CANDIDATE * cand + COST_PROBE * probes + COST_SETUP * n * joins,
                        cand,
                    )
                )
            costs.append(row)
        plan = _cheapest(segs, costs, threshold + 1)
        if plan is not None and plan.estimate < best.estimate:
            best = plan
    return best


def _cheapest(
    segs: list[tuple[int, ...]], costs: list[list[tuple[float, float]]], units: int
) -> Plan | None:
    """Spread ``units`` of radius over the segments at least cost (dynamic programme)."""
    inf: tuple[float, float, tuple[int, ...]] = (math.inf, 0.0, ())
    table = [inf] * (units + 1)
    table[0] = (0.0, 0.0, ())
    for row in costs:
        nxt = [inf] * (units + 1)
        for used, (cost, cand, alloc) in enumerate(table):
            if math.isinf(cost):
                continue
            for give in range(units - used + 1):
                c, k = row[give]
                if cost + c < nxt[used + give][0]:
                    nxt[used + give] = (cost + c, cand + k, (*alloc, give))
        table = nxt
    cost, cand, alloc = table[units]
    if math.isinf(cost):
        return None
    segments = tuple(
        Segment(bits, give - 1) for bits, give in zip(segs, alloc, strict=True) if give
    )
    return Plan("mih", segments, estimate=cost, candidates=cand)


def _assemble(
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
            t[swap] = INVERSE[tr]
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
        for b0 in range(r0, r1, _BRUTE_ROWS):
            if cancel is not None and cancel.is_set():
                raise Cancelled
            b1 = min(r1, b0 + _BRUTE_ROWS)
            for c0 in range(b0, n, _BRUTE_COLS):
                c1 = min(n, c0 + _BRUTE_COLS)
                # Only pairs with column > row; the first column block holds the diagonal.
                upper = np.arange(c0, c1)[None, :] > np.arange(b0, b1)[:, None] if c0 < b1 else None
                rows, cols = hashes[b0:b1, None], hashes[None, c0:c1]
                # (left, right, t, swapped): left turned by t against right.
                tests: list[tuple[HashArray, HashArray, int, bool]] = [(rows, cols, 0, False)]
                if variants is not None:
                    for t in range(1, 8):
                        tests.append((variants[b0:b1, t, None], cols, t, False))
                        tests.append((variants[None, c0:c1, t], rows, t, True))
                for left, right, t, swapped in tests:
                    d = np.bitwise_count(left ^ right)
                    near = d <= limit
                    if upper is not None:
                        near &= upper
                    r, c = np.nonzero(near)
                    if r.size:
                        x, y = r + b0, c + c0
                        hits = (y, x, d[r, c]) if swapped else (x, y, d[r, c])
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
    return _assemble(ids, _run(jobs, total, workers, None, None), threshold)


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
    workers = workers or min(2, default_workers()) or 1
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
    result = _assemble(ids, _run(jobs, total, workers, cancel, progress), threshold)
    log.info("all pairs: %d pairs in %.2f s", len(result), time.perf_counter() - started)
    return result
