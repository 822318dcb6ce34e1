"""Grouping: no chaining, deterministic ties, largest first, and its invariants."""

from __future__ import annotations

import time

import numpy as np
import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from desktop_app.demo.hashes import synthetic_hashes
from desktop_app.engine.search.all_pairs import all_pairs, brute_force_pairs
from desktop_app.engine.search.grouping import group_pairs
from desktop_app.engine.types import Grouping, PairSet, Transform


def pair_set(rows: list[tuple[int, int, int]], threshold: int, transforms=None) -> PairSet:
    rows = sorted(rows)
    return PairSet(
        np.array([r[0] for r in rows], np.int64),
        np.array([r[1] for r in rows], np.int64),
        np.array([r[2] for r in rows], np.uint8),
        np.array(transforms or [0] * len(rows), np.uint8),
        threshold,
    )


def groups(g: Grouping) -> list[list[int]]:
    return [g.group(i)[0].tolist() for i in range(len(g))]


def test_line_does_not_chain() -> None:
    # A-B and B-C are close, A-C is not a pair: B is the reference of both.
    result = group_pairs(pair_set([(1, 2, 3), (2, 3, 3)], 10), 10)
    assert groups(result) == [[2, 1, 3]]
    # A longer line 1-2-3-4-5: 2 and 4 have two neighbours each; 2 wins the tie by
    # rank and takes 1 and 3; 4 takes 5. 1 and 3 are never grouped with 5.
    line = pair_set([(1, 2, 1), (2, 3, 1), (3, 4, 1), (4, 5, 1)], 10)
    assert groups(group_pairs(line, 10)) == [[2, 1, 3], [4, 5]]


def test_ties_follow_rank_then_id() -> None:
    pairs = pair_set([(1, 2, 4)], 10)
    assert groups(group_pairs(pairs, 10)) == [[1, 2]]
    assert groups(group_pairs(pairs, 10, rank=np.array([2, 1]))) == [[2, 1]]
    # Ids missing from rank come after the listed ones.
    assert groups(group_pairs(pairs, 10, rank=np.array([2]))) == [[2, 1]]


def test_members_ordered_by_distance_then_rank() -> None:
    pairs = pair_set([(1, 5, 3), (1, 4, 2), (1, 3, 3), (1, 2, 0)], 10)
    result = group_pairs(pairs, 10)
    assert groups(result) == [[1, 2, 4, 3, 5]]
    assert result.distance.tolist() == [0, 0, 2, 3, 3]
    result = group_pairs(pairs, 10, rank=np.array([1, 5, 4, 3, 2]))
    assert groups(result) == [[1, 2, 4, 5, 3]]


def test_largest_group_first_then_reference_rank() -> None:
    pairs = pair_set([(10, 11, 1), (20, 21, 1), (20, 22, 1), (30, 31, 1)], 10)
    assert groups(group_pairs(pairs, 10)) == [[20, 21, 22], [10, 11], [30, 31]]
    ranked = group_pairs(pairs, 10, rank=np.array([30, 31, 20, 21, 22, 10, 11]))
    assert groups(ranked) == [[20, 21, 22], [30, 31], [10, 11]]


def test_threshold_filters_and_regroups() -> None:
    pairs = pair_set([(1, 2, 2), (2, 3, 8)], 10)
    assert groups(group_pairs(pairs, 10)) == [[2, 1, 3]]
    assert groups(group_pairs(pairs, 5)) == [[1, 2]]
    assert len(group_pairs(pairs, 1)) == 0
    with pytest.raises(ValueError):
        group_pairs(pairs, 11)
    with pytest.raises(ValueError):
        group_pairs(pairs, -1)


def test_transform_is_from_reference_to_member() -> None:
    # Pair (1, 2): 1 turned by ROTATE_90 gives 2. With 2 as reference, 2 -> 1 is ROTATE_270.
    pairs = pair_set([(1, 2, 1), (2, 3, 1)], 10, [Transform.ROTATE_90, Transform.FLIP_LEFT_RIGHT])
    result = group_pairs(pairs, 10)
    assert groups(result) == [[2, 1, 3]]
    assert result.transform.tolist() == [0, Transform.ROTATE_270, Transform.FLIP_LEFT_RIGHT]


def test_empty() -> None:
    result = group_pairs(PairSet.empty(10), 10)
    assert len(result) == 0 and result.extra_copies == 0


@st.composite
def random_pairs(draw: st.DrawFn) -> tuple[PairSet, np.ndarray]:
    n = draw(st.integers(2, 80))
    rng = np.random.default_rng(draw(st.integers(0, 2**32 - 1)))
    seeds = rng.integers(0, 2**64, draw(st.integers(1, 5)), dtype=np.uint64, endpoint=False)
    hashes = seeds[rng.integers(0, seeds.shape[0], n)]
    for _ in range(draw(st.integers(0, 10))):
        hashes ^= np.uint64(1) << rng.integers(0, 64, n).astype(np.uint64)
    ids = rng.permutation(10 * n)[:n].astype(np.int64)
    return brute_force_pairs(ids, hashes, 16), ids


@settings(max_examples=150, deadline=None)
@given(data=random_pairs(), threshold=st.integers(0, 16), shuffle=st.booleans())
def test_invariants(data: tuple[PairSet, np.ndarray], threshold: int, shuffle: bool) -> None:
    pairs, ids = data
    rank = np.random.default_rng(threshold).permutation(ids) if shuffle else None
    result = group_pairs(pairs, threshold, rank=rank)
    near = {
        (int(a), int(b)): (int(d), int(t))
        for a, b, d, t in zip(pairs.a, pairs.b, pairs.distance, pairs.transform, strict=True)
        if d <= threshold
    }
    seen: set[int] = set()
    sizes = []
    for g in range(len(result)):
        members, dist = result.group(g)
        start = int(result.offsets[g])
        trans = result.transform[start : start + members.shape[0]]
        ref = int(members[0])
        assert members.shape[0] >= 2 and dist[0] == 0 and trans[0] == 0
        sizes.append(members.shape[0])
        rest = zip(members[1:].tolist(), dist[1:].tolist(), trans[1:].tolist(), strict=True)
        for m, d, t in rest:
            pd, pt = near[(min(ref, m), max(ref, m))]  # every member is near the reference
            assert d == pd
            assert t == (pt if ref < m else {1: 3, 3: 1}.get(pt, pt))
        assert dist[1:].tolist() == sorted(dist[1:].tolist())
        assert not seen & set(members.tolist())  # a partition
        seen |= set(members.tolist())
    assert sizes == sorted(sizes, reverse=True)
    # Maximality: every image with a neighbour is grouped or is a lone reference whose
    # neighbours all joined other references; no two references are neighbours.
    refs = {int(result.group(g)[0][0]) for g in range(len(result))}
    assert not any((a in refs and b in refs) for a, b in near)
    again = group_pairs(pairs, threshold, rank=rank)
    assert np.array_equal(again.members, result.members)


def _big_pairs(n: int, threshold: int) -> PairSet:
    return all_pairs(np.arange(n), synthetic_hashes(n), threshold)


@pytest.mark.slow
def test_regrouping_100k_is_fast() -> None:
    pairs = _big_pairs(100_000, 10)
    started = time.perf_counter()
    group_pairs(pairs, 10)
    assert time.perf_counter() - started < 2.0  # loose: the benchmark measures it
