"""The cost model of the bulk all-pairs search: which exact method, which layout.

``all_pairs.py`` explains the methods (their measured costs are in docs/benchmarks.md);
this module prices them for one input and picks the cheapest. It samples the hashes,
measures for each MIH layout and radius how often a sampled pair falls within the radius
of each segment, and prices the probes, the probes that find a non-empty bucket, the
candidate pairs and the setup with constants fitted on this project's benchmark machine,
against n(n-1)/2 brute-force pairs. For each layout, spreading the threshold + 1 units
of radius over the segments is a small dynamic programme, since the cost is additive
over segments.
"""

from __future__ import annotations

import math
from dataclasses import dataclass

import numpy as np
import numpy.typing as npt

from desktop_app.engine.search.segment_join import MAX_DIRECT_BITS, Segment, segment_values
from desktop_app.engine.types import HashArray

__all__ = ["Plan", "plan_search"]

VariantArray = npt.NDArray[np.uint64]

#: Single-core seconds per probe (an item against one flipped bucket), per probe that
#: finds a non-empty bucket (it becomes a row to expand), per verified candidate pair,
#: per hash and segment of setup, and per brute-force pair: a least-squares fit over ten
#: layouts of the synthetic benchmark (100k-1M hashes, thresholds 4-16), see the notes.
COST_PROBE = 6.8e-9
COST_ROW = 34e-9
COST_CANDIDATE = 2.3e-9
COST_SETUP = 4e-7
COST_BRUTE = 0.85e-9
#: Below this many hashes the planner does not sample: brute force takes milliseconds.
SMALL = 5_000
_SAMPLE = 2_000


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
    # Rotations: one self-join plus 7 cross joins over ordered pairs (n^2 each).
    cross = 0 if variants is None else 7
    joins = 1.0 + 2 * cross
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
            counts = np.bincount(segment_values(hashes, bits), minlength=1 << len(bits))
            occupancy = np.count_nonzero(counts) / counts.shape[0]
            row = [(0.0, 0.0)]
            for units in range(1, threshold + 2):
                radius = units - 1
                flips = _ball(len(bits), radius) - 1
                # Self-join: each item probes half the flips, plus its own bucket; a
                # rotation's cross join probes every flip and its own bucket.
                probes = n * (flips / 2 + 1) + cross * n * (flips + 1)
                cand = pairs * joins * float(share[min(radius, 64)])
                cost = (
                    COST_PROBE * probes
                    + COST_ROW * probes * occupancy
                    + COST_CANDIDATE * cand
                    + COST_SETUP * n * (1 + cross)
                )
                row.append((cost, cand))
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
