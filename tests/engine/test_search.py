"""Exactness of the bulk all-pairs search against brute force, and its edge cases."""

from __future__ import annotations

import itertools
import threading

import numpy as np
import pytest
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from desktop_app.demo.hashes import synthetic_hashes
from desktop_app.engine.config import MAX_THRESHOLD
from desktop_app.engine.search.all_pairs import (
    Cancelled,
    Plan,
    all_pairs,
    brute_force_pairs,
    plan_search,
)
from desktop_app.engine.search.segment_join import Segment
from desktop_app.engine.types import INVERSE_TRANSFORM, PairSet, Transform

THRESHOLDS = range(MAX_THRESHOLD + 1)


def same(x: PairSet, y: PairSet) -> bool:
    return (
        x.threshold == y.threshold
        and np.array_equal(x.a, y.a)
        and np.array_equal(x.b, y.b)
        and np.array_equal(x.distance, y.distance)
        and np.array_equal(x.transform, y.transform)
    )


def reference(ids: list[int], hashes: list[int], threshold: int, variants=None) -> PairSet:
    """Pure-Python definition of the result, for tiny inputs."""
    rows = []
    for i, j in itertools.combinations(range(len(ids)), 2):
        options = [(bin(hashes[i] ^ hashes[j]).count("1"), 0, i, j)]
        if variants is not None:
            for t in range(1, 8):
                options.append((bin(variants[i][t] ^ hashes[j]).count("1"), t, i, j))
                options.append((bin(variants[j][t] ^ hashes[i]).count("1"), t, j, i))
        best = None
        for d, t, x, _ in options:
            if ids[x] > ids[i if x == j else j]:  # x is the larger id: report the inverse
                t = int(INVERSE_TRANSFORM[t])
            if best is None or (d, t) < best:
                best = (d, t)
        assert best is not None
        if best[0] <= threshold:
            a, b = sorted((ids[i], ids[j]))
            rows.append((a, b, *best))
    rows.sort()
    return PairSet(
        np.array([r[0] for r in rows], np.int64),
        np.array([r[1] for r in rows], np.int64),
        np.array([r[2] for r in rows], np.uint8),
        np.array([r[3] for r in rows], np.uint8),
        threshold,
    )


@st.composite
def clustered(draw: st.DrawFn, max_n: int = 300) -> np.ndarray:
    """Hashes in a few tight clusters: many pairs at every distance up to 16."""
    seeds = draw(st.lists(st.integers(0, 2**64 - 1), min_size=1, max_size=6))
    n = draw(st.integers(0, max_n))
    rng = np.random.default_rng(draw(st.integers(0, 2**32 - 1)))
    base = np.array(seeds, dtype=np.uint64)[rng.integers(0, len(seeds), n)]
    flips = rng.integers(0, 9, n)
    for k in range(1, 9):
        rows = flips >= k
        base[rows] ^= np.uint64(1) << rng.integers(0, 64, int(rows.sum())).astype(np.uint64)
    return base


@st.composite
def exact_plan(draw: st.DrawFn, threshold: int) -> Plan:
    """A random MIH layout over all 64 bits that is exact at ``threshold``."""
    m = draw(st.integers(4, 8))
    order = list(range(64)) if draw(st.booleans()) else draw(st.permutations(range(64)))
    cuts = [64 * k // m for k in range(m + 1)]
    # Random shares of the threshold + 1 units of radius, capped so that no segment
    # enumerates a huge Hamming ball (the search would be exact but slow).
    cap = -(-(threshold + 1) // m) + 1
    units = [0] * m
    for _ in range(threshold + 1):
        k = draw(st.integers(0, m - 1))
        while units[k] >= cap:
            k = (k + 1) % m
        units[k] += 1
    segments = tuple(
        Segment(tuple(sorted(order[cuts[k] : cuts[k + 1]])), units[k] - 1)
        for k in range(m)
        if units[k]
    )
    return Plan("mih", segments)


def variants_for(hashes: np.ndarray, seed: int) -> np.ndarray:
    """Variant hashes: many of them near another item's hash, as rotated copies are."""
    rng = np.random.default_rng(seed)
    n = hashes.shape[0]
    out = np.empty((n, 8), np.uint64)
    out[:, 0] = hashes
    for t in range(1, 8):
        near = hashes[rng.integers(0, max(n, 1), n)] if n else hashes
        near = near ^ (np.uint64(1) << rng.integers(0, 64, n).astype(np.uint64))
        far = rng.integers(0, 2**64, n, dtype=np.uint64, endpoint=False)
        out[:, t] = np.where(rng.random(n) < 0.6, near, far)
    return out


SETTINGS = settings(
    max_examples=12,
    deadline=None,
    suppress_health_check=[HealthCheck.too_slow, HealthCheck.function_scoped_fixture],
)


@pytest.mark.parametrize("threshold", THRESHOLDS)
@SETTINGS
@given(data=st.data())
def test_mih_equals_brute_force(threshold: int, data: st.DataObject, search_loop: str) -> None:
    hashes = data.draw(clustered())
    ids = np.random.default_rng(len(hashes)).permutation(hashes.shape[0]).astype(np.int64) * 3
    plan = data.draw(exact_plan(threshold))
    expected = brute_force_pairs(ids, hashes, threshold)
    assert same(all_pairs(ids, hashes, threshold, plan=plan), expected)


@pytest.mark.parametrize("threshold", THRESHOLDS)
@settings(
    max_examples=4,
    deadline=None,
    suppress_health_check=[HealthCheck.too_slow, HealthCheck.function_scoped_fixture],
)
@given(data=st.data())
def test_mih_equals_brute_force_with_variants(
    threshold: int, data: st.DataObject, search_loop: str
) -> None:
    hashes = data.draw(clustered(max_n=120))
    variants = variants_for(hashes, data.draw(st.integers(0, 1000)))
    ids = np.arange(hashes.shape[0], dtype=np.int64)[::-1].copy()
    plan = data.draw(exact_plan(threshold))
    expected = brute_force_pairs(ids, hashes, threshold, variants=variants)
    got = all_pairs(ids, hashes, threshold, variants=variants, plan=plan)
    assert same(got, expected)


@settings(max_examples=40, deadline=None)
@given(data=st.data())
def test_brute_force_matches_the_definition(data: st.DataObject) -> None:
    hashes = data.draw(clustered(max_n=10))
    threshold = data.draw(st.integers(0, 20))
    ids = [int(i) for i in data.draw(st.permutations(range(hashes.shape[0])))]
    variants = variants_for(hashes, 7) if data.draw(st.booleans()) else None
    expected = reference(
        ids,
        [int(h) for h in hashes],
        threshold,
        None if variants is None else [[int(v) for v in row] for row in variants],
    )
    got = brute_force_pairs(np.array(ids, np.int64), hashes, threshold, variants=variants)
    assert same(got, expected)


@pytest.mark.parametrize("threshold", [0, 4, 10, 16])
def test_planned_search_on_realistic_hashes(threshold: int, search_loop: str) -> None:
    hashes = synthetic_hashes(6000, seed=threshold)
    ids = np.arange(hashes.shape[0], dtype=np.int64)
    plan = plan_search(hashes, threshold)
    mih = Plan("mih", plan.segments) if plan.method == "mih" else None
    for forced in (plan, mih, _layout_21(threshold) if threshold <= 10 else None):
        if forced is not None:
            got = all_pairs(ids, hashes, threshold, plan=forced)
            assert same(got, brute_force_pairs(ids, hashes, threshold, workers=2))


def _layout_21(threshold: int) -> Plan:
    live = tuple(range(63))  # bit 63 is always set in synthetic hashes
    radii = [threshold // 3 + (1 if k < threshold % 3 else 0) for k in range(3)]
    # radii add up to threshold, so sum(r + 1) = threshold + 3 >= threshold + 1.
    return Plan("mih", tuple(Segment(live[21 * k : 21 * k + 21], r) for k, r in enumerate(radii)))


def test_planner_picks_brute_force_when_small_or_dense() -> None:
    assert plan_search(synthetic_hashes(100), 10).method == "brute"
    assert plan_search(np.zeros(10_000, np.uint64), 3).method == "brute"  # no live bits
    assert plan_search(synthetic_hashes(20_000), 6).method == "mih"


def test_empty_and_single() -> None:
    empty = np.empty(0, np.uint64)
    for fn in (all_pairs, brute_force_pairs):
        result = fn(np.empty(0, np.int64), empty, 5)
        assert len(result) == 0 and result.threshold == 5
        assert len(fn(np.array([7]), np.array([3], np.uint64), 64)) == 0


@pytest.mark.parametrize("use_mih", [False, True])
def test_all_equal(use_mih: bool) -> None:
    n = 40
    hashes = np.full(n, 0xDEADBEEF, np.uint64)
    plan = _layout_21(0) if use_mih else None
    result = all_pairs(np.arange(n), hashes, 0, plan=plan)
    assert len(result) == n * (n - 1) // 2
    assert not result.distance.any() and not result.transform.any()
    assert (result.a < result.b).all()


@pytest.mark.parametrize("threshold", [63, 64, 100])
def test_extreme_values(threshold: int) -> None:
    hashes = np.array([0, 2**64 - 1, 2**63, 1], dtype=np.uint64)
    ids = np.array([10, 20, 30, 40])
    # Eight bytes with radius 8 each: exact up to 71, every bucket pair probed.
    plan = Plan("mih", tuple(Segment(tuple(range(8 * k, 8 * k + 8)), 8) for k in range(8)))
    result = all_pairs(ids, hashes, threshold, plan=plan)
    assert same(result, brute_force_pairs(ids, hashes, threshold))
    rows = zip(result.a.tolist(), result.b.tolist(), result.distance.tolist(), strict=True)
    pairs = {(a, b): d for a, b, d in rows}
    assert ((10, 20) in pairs) == (threshold >= 64)
    assert pairs[(10, 40)] == 1 and pairs[(30, 40)] == 2


def test_threshold_zero_finds_only_identical() -> None:
    hashes = np.array([5, 5, 4, 5, 2**64 - 1, 2**64 - 1], dtype=np.uint64)
    result = all_pairs(np.arange(6), hashes, 0)
    assert result.a.tolist() == [0, 0, 1, 4]
    assert result.b.tolist() == [1, 3, 3, 5]


def test_ids_orient_pairs_and_sort() -> None:
    hashes = np.array([1, 3, 7], dtype=np.uint64)
    result = all_pairs(np.array([50, -2, 9]), hashes, 2)
    assert result.a.tolist() == [-2, -2, 9]
    assert result.b.tolist() == [9, 50, 50]
    assert result.distance.tolist() == [1, 1, 2]


def test_within_is_the_smaller_search() -> None:
    hashes = synthetic_hashes(2000, seed=3)
    ids = np.arange(2000)
    wide = all_pairs(ids, hashes, 16)
    for threshold in (0, 5, 10):
        assert same(wide.within(threshold), all_pairs(ids, hashes, threshold))


def test_rotation_transform_is_from_a_to_b() -> None:
    # Photo 1 turned by ROTATE_90 is photo 0: so photo 0 turned by ROTATE_270 is photo 1.
    hashes = np.array([0xF0F0, 0x0F0F_0000_0000], dtype=np.uint64)
    variants = np.tile(np.array([0xFFFF_FFFF_FFFF_FFFF], np.uint64), (2, 8))
    variants[:, 0] = hashes
    variants[1, Transform.ROTATE_90] = hashes[0]
    for plan in (None, _layout_21(3)):
        result = all_pairs(np.array([0, 1]), hashes, 3, variants=variants, plan=plan)
        assert result.distance.tolist() == [0]
        assert result.transform.tolist() == [Transform.ROTATE_270]


def test_identity_wins_ties() -> None:
    hashes = np.array([0, 1], dtype=np.uint64)
    variants = np.repeat(hashes[:, None], 8, axis=1)
    result = all_pairs(np.array([0, 1]), hashes, 1, variants=variants)
    assert result.transform.tolist() == [Transform.IDENTITY]


def test_bad_input() -> None:
    hashes = np.array([1, 2], dtype=np.uint64)
    with pytest.raises(ValueError, match="unique"):
        all_pairs(np.array([4, 4]), hashes, 3)
    with pytest.raises(ValueError, match="0 or more"):
        all_pairs(np.array([1, 2]), hashes, -1)
    with pytest.raises(ValueError, match="same length"):
        all_pairs(np.array([1, 2, 3]), hashes, 3)
    with pytest.raises(TypeError):
        all_pairs(np.array([1, 2]), hashes.astype(np.int64), 3)
    with pytest.raises(ValueError, match="identity"):
        all_pairs(np.array([1, 2]), hashes, 3, variants=np.zeros((2, 8), np.uint64))


@pytest.mark.parametrize("forced", ["brute", "mih"])
def test_cancel_and_progress(forced: str) -> None:
    hashes = synthetic_hashes(6000)
    ids = np.arange(6000)
    plan = _layout_21(8) if forced == "mih" else Plan("brute")
    seen: list[tuple[int, int]] = []
    all_pairs(ids, hashes, 8, plan=plan, progress=lambda d, t: seen.append((d, t)))
    assert seen[0][0] == 0 and seen[-1][0] == seen[-1][1] > 0
    assert all(x[0] <= y[0] for x, y in itertools.pairwise(seen))

    cancel = threading.Event()

    def stop(done: int, total: int) -> None:
        if done > 0:
            cancel.set()

    with pytest.raises(Cancelled):
        all_pairs(ids, hashes, 8, plan=plan, cancel=cancel, progress=stop)
    with pytest.raises(Cancelled):
        all_pairs(ids, hashes, 8, plan=plan, cancel=cancel)
