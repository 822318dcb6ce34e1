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
from collections.abc import Callable
from dataclasses import dataclass

import numpy as np
import numpy.typing as npt

from desktop_app.engine.search import kernels
from desktop_app.engine.search.segment_join import MAX_DIRECT_BITS, Segment, segment_values
from desktop_app.engine.types import HashArray

__all__ = ["Costs", "Plan", "current_costs", "plan_cross", "plan_search"]

VariantArray = npt.NDArray[np.uint64]


@dataclass(frozen=True, slots=True)
class Costs:
    """Single-core seconds per probe (an item against one flipped bucket), per probe that
    finds a non-empty bucket (it becomes a row to verify), per verified candidate pair,
    per hash and segment of setup, and per brute-force pair."""

    probe: float
    row: float
    candidate: float
    setup: float
    brute: float

    def of(self, work: Work) -> float:
        """Modelled seconds of ``work`` (probes, rows, candidates, setup)."""
        return (
            self.probe * work[0]
            + self.row * work[1]
            + self.candidate * work[2]
            + self.setup * work[3]
        )


#: Probes, rows, candidates and setup items of a search, as the model counts them.
Work = tuple[float, float, float, float]

#: The numpy loop: a least-squares fit over ten layouts of the synthetic benchmark
#: (100k-1M hashes, thresholds 4-16), see the notes.
NUMPY_COSTS = Costs(probe=6.8e-9, row=34e-9, candidate=2.3e-9, setup=4e-7, brute=0.85e-9)
#: The compiled verification (``kernels.py``): fitted by ``benchmarks/plan_fit.py`` on
#: 100,000 and 300,000 hashes, thresholds 4-16, 3-6 segments (docs/benchmarks.md).
#: Brute force is the same numpy loop either way.
COMPILED_COSTS = Costs(probe=6.5e-9, row=18e-9, candidate=0.7e-9, setup=4.9e-7, brute=0.85e-9)


def current_costs() -> Costs:
    """The constants of the loop this process verifies candidates with."""
    return COMPILED_COSTS if kernels.compiled() else NUMPY_COSTS


#: Below this many hashes the planner does not sample: brute force takes milliseconds.
SMALL = 5_000
_SAMPLE = 2_000


@dataclass(frozen=True, slots=True)
class Plan:
    """How :func:`all_pairs` will search: brute force, or MIH over ``segments``.

    ``segments`` lists only the probed segments, in probing order. ``estimate`` is the
    modelled single-core time in seconds, ``candidates`` the modelled candidate pairs
    and ``work`` the modelled probes, rows, candidates and setup items (MIH only).
    """

    method: str
    segments: tuple[Segment, ...] = ()
    estimate: float = 0.0
    candidates: float = 0.0
    work: Work = (0.0, 0.0, 0.0, 0.0)

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


def plan_search(
    hashes: HashArray,
    threshold: int,
    *,
    variants: VariantArray | None = None,
    costs: Costs | None = None,
    segments: int | None = None,
) -> Plan:
    """Choose the cheaper exact method for these hashes at this threshold.

    Args:
        hashes: The hashes to search (as for :func:`all_pairs`).
        threshold: The largest distance to find.
        variants: Transform hashes, if rotations are matched.
        costs: The constants (default: :func:`current_costs`).
        segments: Only layouts of this many segments, and no brute force (the fit).

    Returns:
        The plan with the smallest modelled cost.
    """
    n = int(hashes.shape[0])
    if costs is None:  # small inputs go to brute force without loading the compiled loop
        costs = NUMPY_COSTS if n < SMALL else current_costs()
    pairs = n * (n - 1) / 2
    # Rotations: one self-join plus 7 cross joins over ordered pairs (n^2 each).
    cross = 0 if variants is None else 7
    joins = 1.0 + 2 * cross
    brute = Plan("brute", estimate=costs.brute * pairs * joins, candidates=pairs * joins)
    live = _live_bits(hashes, variants)
    if n < SMALL or len(live) < 3:
        return brute
    rng = np.random.default_rng(0)
    sample = hashes[rng.choice(n, size=min(n, _SAMPLE), replace=False)]
    upper = np.triu_indices(sample.shape[0], 1)
    xor = (sample[:, None] ^ sample[None, :])[upper]
    best = brute if segments is None else Plan("brute", estimate=math.inf)

    def segment_work(bits: tuple[int, ...], share: FloatArray, occupancy: float) -> list[Work]:
        out: list[Work] = []
        for radius in range(threshold + 1):
            flips = _ball(len(bits), radius) - 1
            # Self-join: each item probes half the flips, plus its own bucket; a
            # rotation's cross join probes every flip and its own bucket.
            probes = n * (flips / 2 + 1) + cross * n * (flips + 1)
            cand = pairs * joins * float(share[min(radius, 64)])
            out.append((probes, probes * occupancy, cand, float(n * (1 + cross))))
        return out

    plan = _best_layout(live, threshold, segments, xor, hashes, segment_work, costs)
    return plan if plan is not None and plan.estimate < best.estimate else best


def plan_cross(
    queries: HashArray, data: HashArray, threshold: int, *, costs: Costs | None = None
) -> Plan:
    """Choose the cheaper exact method to find every (query, data) pair within
    ``threshold``: brute force, or a table over ``data`` probed by each query.

    Args:
        queries: The hashes that probe.
        data: The hashes the tables are built on.
        threshold: The largest distance to find.
        costs: The constants (default: :func:`current_costs`).
    """
    nq, nd = int(queries.shape[0]), int(data.shape[0])
    if costs is None:
        costs = NUMPY_COSTS if nq * nd < SMALL * SMALL else current_costs()
    brute = Plan("brute", estimate=costs.brute * nq * nd, candidates=float(nq * nd))
    live = _live_bits(np.concatenate([queries, data]), None)
    if nq * nd < SMALL * SMALL or len(live) < 3:
        return brute
    rng = np.random.default_rng(0)
    side = _SAMPLE // 2
    a = queries[rng.choice(nq, size=min(nq, side), replace=False)]
    b = data[rng.choice(nd, size=min(nd, 2 * side), replace=False)]
    xor = (a[:, None] ^ b[None, :]).ravel()

    def segment_work(bits: tuple[int, ...], share: FloatArray, occupancy: float) -> list[Work]:
        out: list[Work] = []
        for radius in range(threshold + 1):
            probes = nq * float(_ball(len(bits), radius))
            cand = nq * nd * float(share[min(radius, 64)])
            out.append((probes, probes * occupancy, cand, float(nq + nd)))
        return out

    plan = _best_layout(live, threshold, None, xor, data, segment_work, costs)
    return plan if plan is not None and plan.estimate < brute.estimate else brute


FloatArray = npt.NDArray[np.float64]


def _best_layout(
    live: tuple[int, ...],
    threshold: int,
    segments: int | None,
    xor: HashArray,
    table: HashArray,
    segment_work: Callable[[tuple[int, ...], FloatArray, float], list[Work]],
    costs: Costs,
) -> Plan | None:
    """The cheapest MIH layout: the live bits cut into 3-6 consecutive segments (or
    ``segments``), the radii spread by :func:`_cheapest`.

    ``xor`` holds sampled pairs' differences (for the share of pairs within each radius
    of a segment), ``table`` the hashes the tables are built on (for how many of a
    segment's buckets are occupied), and ``segment_work(bits, share, occupancy)`` the
    work of probing that segment at each radius 0..threshold.
    """
    best: Plan | None = None
    for m in range(3, 7) if segments is None else (segments,):
        width = -(-len(live) // m)
        if width > MAX_DIRECT_BITS or m > len(live):
            continue
        cuts = [len(live) * k // m for k in range(m + 1)]
        segs = [live[cuts[k] : cuts[k + 1]] for k in range(m)]
        # rows[k][u]: segment k given u units of radius (u = 0: not probed).
        rows: list[list[tuple[float, Work]]] = []
        for bits in segs:
            mask = np.uint64(sum(1 << b for b in bits))
            hist = np.bincount(np.bitwise_count(xor & mask), minlength=65)
            share = np.cumsum(hist) / max(1, xor.shape[0])
            counts = np.bincount(segment_values(table, bits), minlength=1 << len(bits))
            occupancy = np.count_nonzero(counts) / counts.shape[0]
            row: list[tuple[float, Work]] = [(0.0, (0.0, 0.0, 0.0, 0.0))]
            row += [(costs.of(w), w) for w in segment_work(bits, share, occupancy)]
            rows.append(row)
        plan = _cheapest(segs, rows, threshold + 1)
        if plan is not None and (best is None or plan.estimate < best.estimate):
            best = plan
    return best


def _cheapest(
    segs: list[tuple[int, ...]], costs: list[list[tuple[float, Work]]], units: int
) -> Plan | None:
    """Spread ``units`` of radius over the segments at least cost (dynamic programme)."""
    nothing: Work = (0.0, 0.0, 0.0, 0.0)
    inf: tuple[float, Work, tuple[int, ...]] = (math.inf, nothing, ())
    table = [inf] * (units + 1)
    table[0] = (0.0, nothing, ())
    for row in costs:
        nxt = [inf] * (units + 1)
        for used, (cost, work, alloc) in enumerate(table):
            if math.isinf(cost):
                continue
            for give in range(units - used + 1):
                c, w = row[give]
                if cost + c < nxt[used + give][0]:
                    summed = (work[0] + w[0], work[1] + w[1], work[2] + w[2], work[3] + w[3])
                    nxt[used + give] = (cost + c, summed, (*alloc, give))
        table = nxt
    cost, work, alloc = table[units]
    if math.isinf(cost):
        return None
    segments = tuple(
        Segment(bits, give - 1) for bits, give in zip(segs, alloc, strict=True) if give
    )
    return Plan("mih", segments, estimate=cost, candidates=work[2], work=work)
