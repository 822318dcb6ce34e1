"""Multi-index hashing: the arithmetic behind the segment inverted index.

DESIGN NOTES

The first-generation system this product descends from cut each 64-bit hash into 8
segments of 8 bits and asked the index for documents sharing at least 5 of the 8 segment
terms. That is a heuristic: two hashes 4 bits apart can differ in 4 different segments and
share only 4, so the pair is silently missed. We keep the segments but use them only as a
candidate filter whose recall is provably complete, then verify every candidate by its
true Hamming distance.

The guarantee (the pigeonhole principle, generalised). Cut the 64 bits into m disjoint
segments and give segment i a probe radius r_i. If two hashes differ in d bits, the
per-segment distances d_i add up to d. Were every d_i > r_i, we would have
d >= sum(r_i + 1). So whenever d <= D and sum(r_i + 1) >= D + 1, at least one segment
has d_i <= r_i, and probing every value within r_i of the query's segment i, in every
segment, reaches every hash within D. The plain form is the special case r_i = 0: with
m segments, any two hashes within distance d < m share at least one exact segment; with
equal radii r it is d < m(r + 1). A segment with no probes at all (contributing 0 to the
sum) is allowed, which is how a small threshold skips the most crowded segment.

The layout we store. m = 4 segments of 16 bits; segment 0 holds bits 63..48, the first
bits of imagehash's bit string. Each (segment, value) is one posting list in SQLite (see
``segment_index.py``), so a probe is one B-tree lookup. For a threshold D we spread the D + 1
units of radius as evenly as the four segments allow; because the number of probes
V(16, r) = sum_{k<=r} C(16, k) grows steeply with r, an even spread minimises them
(radii 1,1,1,1 at D = 7: 68 probes; 3,4,3,3 at D = 16: 4,608).

Real pHashes are not uniform: bit 63 of the integer (the DC term, the first bit of
imagehash's bit string, in segment 0) is always set, and real photos crowd their
buckets, so a query reads many candidates at high thresholds. Verification is what
makes that affordable: postings hold each image's id *and* its full hash, a probe
returns them as two packed arrays, and one numpy XOR + popcount over the concatenation
checks every candidate. The probes and candidate shares per threshold, and the query
latency they give, are in docs/benchmarks.md ("Query latency").

The bulk all-pairs pass (``search/all_pairs.py``) uses the same theorem with wider
segments held in numpy, where a probe is an array index rather than a B-tree lookup.
"""

from __future__ import annotations

import functools
import itertools

import numpy as np
import numpy.typing as npt

from desktop_app.engine.types import HashArray

#: Number of segments the stored index cuts a hash into.
SEGMENTS = 4
#: Bits per stored segment.
SEGMENT_BITS = 16
_SEGMENT_MASK = (1 << SEGMENT_BITS) - 1

#: Order in which segments receive radius when the threshold is too small to probe all
#: four: segment 0 carries the always-set DC bit and is the most crowded, so it comes last.
_PREFERENCE = (1, 2, 3, 0)


def segment_shift(position: int) -> int:
    """Right shift that brings segment ``position`` to the low bits."""
    return 64 - SEGMENT_BITS * (position + 1)


def segments_of(value: int) -> tuple[int, ...]:
    """The segment values of one hash, segment 0 first."""
    return tuple((value >> segment_shift(p)) & _SEGMENT_MASK for p in range(SEGMENTS))


def segment_columns(hashes: HashArray) -> npt.NDArray[np.uint16]:
    """Segment values of many hashes as an ``(n, SEGMENTS)`` array."""
    out = np.empty((hashes.shape[0], SEGMENTS), dtype=np.uint16)
    for p in range(SEGMENTS):
        out[:, p] = (hashes >> np.uint64(segment_shift(p))) & np.uint64(_SEGMENT_MASK)
    return out


def posting_key(position: int, value: int) -> int:
    """Key of the posting list for ``value`` in segment ``position``."""
    return (position << SEGMENT_BITS) | value


def radii(threshold: int, segments: int = SEGMENTS) -> tuple[int | None, ...]:
    """Probe radius for each segment so that a search at ``threshold`` is exact.

    Args:
        threshold: Largest Hamming distance that must be found (0 or more).
        segments: Number of segments (the stored index uses :data:`SEGMENTS`).

    Returns:
        One entry per segment: the radius to probe, or None to skip the segment. The
        entries satisfy ``sum(r + 1 for r in radii if r is not None) >= threshold + 1``.
    """
    if threshold < 0:
        raise ValueError("threshold must be 0 or more")
    units = threshold + 1
    preference = _PREFERENCE if segments == SEGMENTS else tuple(range(segments))
    share = [units // segments] * segments
    for k in range(units % segments):
        share[preference[k]] += 1
    return tuple(s - 1 if s > 0 else None for s in share)


@functools.cache
def flip_masks(bits: int, radius: int) -> npt.NDArray[np.int64]:
    """Every ``bits``-wide mask with at most ``radius`` bits set, 0 first.

    XOR-ing a segment value with each of them enumerates its Hamming ball.
    """
    masks = [0]
    for k in range(1, radius + 1):
        for combo in itertools.combinations(range(bits), k):
            masks.append(sum(1 << b for b in combo))
    out = np.array(masks, dtype=np.int64)
    out.setflags(write=False)
    return out


def probe_keys(value: int, threshold: int) -> npt.NDArray[np.int64]:
    """Posting keys to read so that every hash within ``threshold`` of ``value`` is found.

    The keys of different segments never collide (the segment position is in the high
    bits), and within a segment distinct masks give distinct values, so the result has no
    duplicates.
    """
    plan = radii(threshold)
    parts = []
    for position, (seg, radius) in enumerate(zip(segments_of(value), plan, strict=True)):
        if radius is None:
            continue
        parts.append((position << SEGMENT_BITS) | (seg ^ flip_masks(SEGMENT_BITS, radius)))
    return np.concatenate(parts)


def hamming(a: HashArray, b: HashArray | np.uint64) -> npt.NDArray[np.uint8]:
    """Element-wise Hamming distance between hash arrays (or an array and one hash)."""
    return np.bitwise_count(np.bitwise_xor(a, b)).astype(np.uint8, copy=False)
