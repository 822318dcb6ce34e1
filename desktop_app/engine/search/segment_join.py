"""Exact segment joins: the multi-index half of the bulk all-pairs search.

``all_pairs.py`` explains the design (costs: docs/benchmarks.md); ``plan.py`` chooses the layout;
this module does the work. A *segment* is a set of bit positions with a probe radius. For
one segment we sort the hashes by their segment value and keep a direct-address table of
bucket starts and a bool occupancy table (so the segment may be at most
:data:`MAX_DIRECT_BITS` wide). A *probe* takes an item in bucket ``u`` and a flip mask
``M``; if bucket ``u ^ M`` has items, the probe becomes a *row*: the item against each
hash of that bucket (the *candidates*), each verified by its full Hamming distance.
Rows are verified in chunks (2**17 rows; :data:`CHUNK` candidates at a time in the
numpy loop) so memory stays bounded whatever the bucket sizes. The verification runs
in the compiled loops of ``kernels.py`` where numba is there; there, a cross join gives
the queries a table too and joins the two tables bucket by bucket.

Each job returns its verified hits already deduplicated across segments: a pair is kept
only by the first probed segment within whose radius it lies (see :func:`_first_finder`),
so every pair comes out of exactly one segment.
"""

from __future__ import annotations

import threading
from collections.abc import Callable, Iterator
from dataclasses import dataclass

import numpy as np
import numpy.typing as npt

from desktop_app.engine.catalog.mih import flip_masks
from desktop_app.engine.search import kernels
from desktop_app.engine.types import HashArray

Int64Array = npt.NDArray[np.int64]
DistArray = npt.NDArray[np.uint8]
#: One job's verified hits: positions on the query side, positions on the data side,
#: and their distances.
Hits = tuple[Int64Array, Int64Array, DistArray]

#: Widest segment we index with a direct-address table (2**22 int64 starts: 32 MiB).
MAX_DIRECT_BITS = 22
#: Candidates expanded at once; about 40 bytes each while a chunk is live.
CHUNK = 1 << 18
#: Probes (item x flip mask) per job: the unit of progress, cancellation and threads.
PROBES_PER_JOB = 1 << 21
#: Rows expanded at once.
_ROW_CHUNK = 1 << 17

_ARANGE = np.arange(CHUNK, dtype=np.int64)
_ARANGE.setflags(write=False)


class Cancelled(Exception):
    """The caller's cancel event was set; the search stopped between two chunks."""


@dataclass(frozen=True, slots=True)
class Segment:
    """Bit positions (0 = least significant) that one index table keys on, and its radius."""

    bits: tuple[int, ...]
    radius: int

    @property
    def width(self) -> int:
        return len(self.bits)

    @property
    def mask(self) -> np.uint64:
        return np.uint64(sum(1 << b for b in self.bits))


def segment_values(hashes: HashArray, bits: tuple[int, ...]) -> Int64Array:
    """The compacted values of ``bits`` in each hash (bit ``bits[0]`` lowest).

    Runs of consecutive positions are moved with one shift each, so the usual layouts
    (contiguous bits) cost one pass per segment.
    """
    out = np.zeros(hashes.shape[0], dtype=np.uint64)
    placed = 0
    start = 0
    while start < len(bits):
        stop = start + 1
        while stop < len(bits) and bits[stop] == bits[stop - 1] + 1:
            stop += 1
        width = stop - start
        run = (hashes >> np.uint64(bits[start])) & np.uint64((1 << width) - 1)
        out |= run << np.uint64(placed)
        placed += width
        start = stop
    return out.astype(np.int64)


@dataclass(frozen=True, slots=True)
class Table:
    """Hashes sorted by one segment's value, with a direct-address bucket table."""

    order: Int64Array  # original position of each sorted item
    hashes: HashArray  # hashes in sorted order
    values: Int64Array  # segment value of each sorted item
    counts: Int64Array  # items per bucket, 2**width entries
    occupied: npt.NDArray[np.bool_]  # counts > 0: a probe reads one byte, not eight
    starts: Int64Array  # first sorted position of each bucket, 2**width + 1 entries

    @staticmethod
    def build(hashes: HashArray, segment: Segment) -> Table:
        if segment.width > MAX_DIRECT_BITS:
            raise ValueError(f"a segment of {segment.width} bits is too wide to index")
        values = segment_values(hashes, segment.bits)
        order = _stable_order(values, segment.width)
        counts = np.bincount(values, minlength=1 << segment.width).astype(np.int64)
        starts = np.zeros(counts.shape[0] + 1, dtype=np.int64)
        np.cumsum(counts, out=starts[1:])
        return Table(
            order=order,
            hashes=hashes[order],
            values=values[order],
            counts=counts,
            occupied=counts > 0,
            starts=starts,
        )


def _stable_order(values: Int64Array, width: int) -> Int64Array:
    """``argsort(values, kind="stable")``; values of up to 16 bits are sorted as uint16,
    which numpy sorts by radix (5x faster than int64 at a million values)."""
    if width <= 16:
        return np.argsort(values.astype(np.uint16), kind="stable").astype(np.int64)
    return np.argsort(values, kind="stable")


#: Columns verified by diagonals before the remaining runs go through ``repeat``.
_DIAGONALS = 8


def _expand(
    row_hash: HashArray,
    tstart: Int64Array,
    tlen: Int64Array,
    target: HashArray,
    threshold: int,
    cancel: threading.Event | None,
) -> Iterator[tuple[Int64Array, Int64Array, DistArray]]:
    """Verify every row against its run of targets.

    Row ``k`` is compared with ``target[tstart[k]:tstart[k] + tlen[k]]``. Yields the row
    index, target position and distance of each candidate within ``threshold``.

    The compiled loop (``kernels.py``) does it where numba is there, in chunks of
    rows (cancel is checked between them); :func:`_expand_numpy` otherwise.
    """
    if not kernels.compiled():
        yield from _expand_numpy(row_hash, tstart, tlen, target, threshold, cancel)
        return
    rows = int(tlen.shape[0])
    for r0 in range(0, rows, _ROW_CHUNK):
        if cancel is not None and cancel.is_set():
            raise Cancelled
        r1 = min(rows, r0 + _ROW_CHUNK)
        row, tpos, d = kernels.verify_runs(
            row_hash[r0:r1], tstart[r0:r1], tlen[r0:r1], target, threshold
        )
        if row.size:
            yield row + r0, tpos, d


def _expand_numpy(
    row_hash: HashArray,
    tstart: Int64Array,
    tlen: Int64Array,
    target: HashArray,
    threshold: int,
    cancel: threading.Event | None,
) -> Iterator[tuple[Int64Array, Int64Array, DistArray]]:
    """:func:`_expand` in numpy, where the compiled loop is missing.

    Runs are short (a bucket of a 21-bit segment holds a few hashes), and expanding them
    with ``repeat`` costs more than the comparisons. So rows are sorted by run length,
    longest first (a radix sort on uint8), and column ``j`` of every row with more than
    ``j`` targets is one vector operation over a prefix of the rows. Runs longer than
    ``_DIAGONALS`` finish through :func:`_expand_repeat`.
    """
    rows = int(tlen.shape[0])
    limit = np.uint8(min(threshold, 255))
    for r0 in range(0, rows, _ROW_CHUNK):
        if cancel is not None and cancel.is_set():
            raise Cancelled
        r1 = min(rows, r0 + _ROW_CHUNK)
        lens = tlen[r0:r1]
        clipped = np.minimum(lens, _DIAGONALS)
        order = np.argsort((_DIAGONALS - clipped).astype(np.uint8), kind="stable")
        # prefix[j]: rows with more than j targets, which come first in ``order``.
        prefix = np.cumsum(np.bincount(clipped, minlength=_DIAGONALS + 1)[::-1])[::-1]
        hashes = np.take(row_hash[r0:r1], order)
        starts = np.take(tstart[r0:r1], order)
        for j in range(_DIAGONALS):
            p = int(prefix[j + 1])
            if p == 0:
                break
            pos = starts[:p] + j
            x = np.take(target, pos)
            np.bitwise_xor(x, hashes[:p], out=x)
            d = np.bitwise_count(x)
            hit = np.flatnonzero(d <= limit)
            if hit.size:
                yield np.take(order, hit) + r0, np.take(pos, hit), np.take(d, hit)
        wide = np.flatnonzero(lens > _DIAGONALS) + r0
        if wide.size:
            for row, tpos, d in _expand_repeat(
                np.take(row_hash, wide),
                np.take(tstart, wide) + _DIAGONALS,
                np.take(tlen, wide) - _DIAGONALS,
                target,
                threshold,
                cancel,
            ):
                yield np.take(wide, row), tpos, d


def _expand_repeat(
    row_hash: HashArray,
    tstart: Int64Array,
    tlen: Int64Array,
    target: HashArray,
    threshold: int,
    cancel: threading.Event | None,
) -> Iterator[tuple[Int64Array, Int64Array, DistArray]]:
    """Verify every row against its run of targets, ``CHUNK`` candidates at a time.

    Row ``k`` is compared with ``target[tstart[k]:tstart[k] + tlen[k]]``. Yields the row
    index, target position and distance of each candidate within ``threshold``.
    """
    limit = np.uint8(min(threshold, 255))
    cum = np.cumsum(tlen)
    rows = int(tlen.shape[0])
    r0 = 0
    while r0 < rows:
        if cancel is not None and cancel.is_set():
            raise Cancelled
        base = int(cum[r0 - 1]) if r0 else 0
        r1 = int(np.searchsorted(cum, base + CHUNK, side="right"))
        if r1 == r0:  # one row longer than a chunk: slice its targets
            h = row_hash[r0]
            first = int(tstart[r0])
            for c0 in range(first, first + int(tlen[r0]), CHUNK):
                c1 = min(c0 + CHUNK, first + int(tlen[r0]))
                d = np.bitwise_count(target[c0:c1] ^ h)
                hit = np.flatnonzero(d <= limit)
                if hit.size:
                    yield np.full(hit.size, r0, np.int64), hit + c0, d[hit]
            r0 += 1
            continue
        lens = tlen[r0:r1]
        ends = cum[r0:r1] - base
        total = int(ends[-1])
        if total:
            idx = np.repeat(tstart[r0:r1] - (ends - lens), lens)
            idx += _ARANGE[:total]
            x = np.take(target, idx)
            np.bitwise_xor(x, np.repeat(row_hash[r0:r1], lens), out=x)
            d = np.bitwise_count(x)
            hit = np.flatnonzero(d <= limit)
            if hit.size:
                row = np.searchsorted(ends, hit, side="right") + r0
                yield row, idx[hit], d[hit]
        r0 = r1


def _probe_rows(
    positions: Int64Array,
    values: Int64Array,
    masks: Int64Array,
    table: Table,
) -> tuple[Int64Array, Int64Array, Int64Array]:
    """Rows for :func:`_expand`: each item against each non-empty bucket ``value ^ mask``.

    Returns the items' positions (as given) and the start and length of the target
    bucket in ``table``, for every (item, mask) whose target bucket has items.
    """
    rows, buckets = [], []
    target = np.empty_like(values)
    for mask in masks.tolist():
        np.bitwise_xor(values, mask, out=target)
        hit = np.flatnonzero(np.take(table.occupied, target))
        if hit.size:
            rows.append(np.take(positions, hit))
            buckets.append(np.take(target, hit))
    if not rows:
        empty = np.empty(0, np.int64)
        return empty, empty, empty
    bucket = np.concatenate(buckets)
    starts = np.take(table.starts, bucket)
    # The next bucket's start sits beside this one's: a second gather that hits cache.
    return np.concatenate(rows), starts, np.take(table.starts, bucket + 1) - starts


def _first_finder(
    x_hash: HashArray, y_hash: HashArray, earlier: list[Segment]
) -> npt.NDArray[np.bool_]:
    """True where no earlier segment has the pair within its radius (so it is ours)."""
    keep = np.ones(x_hash.shape[0], dtype=np.bool_)
    if earlier:
        xor = x_hash ^ y_hash
        for seg in earlier:
            keep &= np.bitwise_count(xor & seg.mask) > seg.radius
    return keep


Job = Callable[[], Hits]


def _by_top_bit(segment: Segment) -> list[tuple[int, Int64Array]]:
    """The non-zero flip masks of ``segment`` grouped by their highest set bit."""
    masks = flip_masks(segment.width, segment.radius)[1:]
    top = np.zeros(masks.shape[0], dtype=np.int64)
    for bit in range(segment.width):
        top[(masks >> bit) & 1 == 1] = bit
    return [(bit, masks[top == bit]) for bit in range(segment.width) if (top == bit).any()]


def _low_items(table: Table, bit: int) -> int:
    """Items whose segment value has a 0 at ``bit`` (the probing side for that bit)."""
    high = table.counts.reshape(-1, 2 << bit)[:, 1 << bit :]
    return int(table.order.shape[0]) - int(high.sum())


def self_join_count(table: Table, segment: Segment) -> int:
    """How many jobs :func:`self_join_jobs` yields for this table and segment."""
    n = int(table.order.shape[0])
    count = -(-n // PROBES_PER_JOB)
    for bit, group in _by_top_bit(segment):
        low = _low_items(table, bit)
        if low:
            count += -(-int(group.shape[0]) // max(1, PROBES_PER_JOB // low))
    return count


def self_join_jobs(
    hashes: HashArray,
    table: Table,
    segment: Segment,
    earlier: list[Segment],
    threshold: int,
    cancel: threading.Event | None,
) -> Iterator[Job]:
    """Jobs finding every unordered pair whose ``segment`` values are within its radius.

    Each job returns original positions ``(x, y)`` with ``x != y`` and the distance, for
    pairs within ``threshold`` that no segment of ``earlier`` would also find.
    """

    def run(tstart: Int64Array, tlen: Int64Array, rowpos: Int64Array) -> Hits:
        parts = [
            (np.take(table.order, np.take(rowpos, row)), np.take(table.order, tpos), d)
            for row, tpos, d in _expand(
                np.take(table.hashes, rowpos), tstart, tlen, table.hashes, threshold, cancel
            )
        ]
        x, y, d = kernels.collect(parts)
        keep = _first_finder(hashes[x], hashes[y], earlier)
        return x[keep], y[keep], d[keep]

    n = int(table.order.shape[0])
    # Mask 0: pairs inside one bucket, each once (target positions after the row's).
    for p0 in range(0, n, PROBES_PER_JOB):

        def same_bucket(p0: int = p0) -> Hits:
            p1 = min(n, p0 + PROBES_PER_JOB)
            pos = np.arange(p0, p1, dtype=np.int64)
            tlen = table.starts[table.values[p0:p1] + 1] - pos - 1
            return run(pos + 1, tlen, pos)

        yield same_bucket

    # Masks != 0: an item in bucket u probes v = u ^ M only when v > u, i.e. when u has a
    # 0 at the mask's highest bit; each unordered pair of buckets is met exactly once.
    for bit, group in _by_top_bit(segment):
        low = _low_items(table, bit)
        if low == 0:
            continue
        step = max(1, PROBES_PER_JOB // low)
        for m0 in range(0, int(group.shape[0]), step):

            def probe(batch: Int64Array = group[m0 : m0 + step], bit: int = bit) -> Hits:
                positions = np.flatnonzero((table.values >> bit) & 1 == 0)
                rowpos, tstart, tlen = _probe_rows(
                    positions, np.take(table.values, positions), batch, table
                )
                return run(tstart, tlen, rowpos)

            yield probe


def _cross_step(htable: Table, segment: Segment) -> tuple[int, int]:
    masks = int(flip_masks(segment.width, segment.radius).shape[0])
    return masks, max(1, PROBES_PER_JOB // max(1, int(htable.order.shape[0])))


def cross_join_count(htable: Table, segment: Segment) -> int:
    """How many jobs :func:`cross_join_jobs` yields for this data table and segment."""
    masks, step = _cross_step(htable, segment)
    return -(-masks // step)


def cross_join_jobs(
    queries: HashArray,
    hashes: HashArray,
    htable: Table,
    segment: Segment,
    earlier: list[Segment],
    threshold: int,
    cancel: threading.Event | None,
) -> Iterator[Job]:
    """Jobs finding every ``(x, y)`` with ``queries[x]`` near ``hashes[y]`` in ``segment``.

    ``htable`` indexes ``hashes`` on ``segment``. Each job returns original positions
    ``x`` (into ``queries``) and ``y`` (into ``hashes``), including ``x == y``, with
    the distance, for pairs within ``threshold`` that no segment of ``earlier`` would
    also find.

    With the compiled loop the queries get a table too, and the two tables are joined
    bucket by bucket (``kernels.join_buckets``), walking the side with fewer occupied
    buckets. Otherwise queries are probed one by one in the order of their segment
    value, so that the buckets they read come in order too.
    """
    masks = flip_masks(segment.width, segment.radius)
    _, step = _cross_step(htable, segment)
    if kernels.compiled():
        yield from _bucket_join_jobs(
            queries, hashes, htable, segment, masks, earlier, threshold, step
        )
        return
    values = segment_values(queries, segment.bits)
    order = _stable_order(values, segment.width)
    values = values[order]
    for m0 in range(0, int(masks.shape[0]), step):

        def probe(batch: Int64Array = masks[m0 : m0 + step]) -> Hits:
            rows, tstart, tlen = _probe_rows(order, values, batch, htable)
            parts: list[Hits] = []
            for row, tpos, d in _expand(
                np.take(queries, rows), tstart, tlen, htable.hashes, threshold, cancel
            ):
                parts.append((np.take(rows, row), np.take(htable.order, tpos), d))
            x, y, d = kernels.collect(parts)
            keep = _first_finder(queries[x], hashes[y], earlier)
            return x[keep], y[keep], d[keep]

        yield probe


def _bucket_join_jobs(
    queries: HashArray,
    hashes: HashArray,
    htable: Table,
    segment: Segment,
    masks: Int64Array,
    earlier: list[Segment],
    threshold: int,
    step: int,
) -> Iterator[Job]:
    """:func:`cross_join_jobs` by the compiled bucket join, ``step`` of ``masks`` a job."""
    qtable = Table.build(queries, segment)
    # Walk the side with fewer occupied buckets; a mask pairs u with u ^ mask both ways.
    walk_queries = int(np.count_nonzero(qtable.counts)) <= int(np.count_nonzero(htable.counts))
    a, b = (qtable, htable) if walk_queries else (htable, qtable)
    buckets = np.flatnonzero(a.counts).astype(np.int64)
    widest = int(b.counts.max(initial=0))
    for m0 in range(0, int(masks.shape[0]), step):

        def probe(batch: Int64Array = masks[m0 : m0 + step]) -> Hits:
            i, j, d = kernels.join_buckets(
                buckets,
                a.starts,
                a.hashes,
                b.occupied,
                b.starts,
                b.hashes,
                batch,
                threshold,
                widest,
            )
            if not walk_queries:
                i, j = j, i
            x, y = np.take(qtable.order, i), np.take(htable.order, j)
            keep = _first_finder(queries[x], hashes[y], earlier)
            return x[keep], y[keep], d[keep]

        yield probe
