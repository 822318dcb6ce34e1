"""The compiled verification loop of the segment joins, against the numpy loop."""

from __future__ import annotations

import os
import subprocess
import sys

import numpy as np
import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from desktop_app.engine.catalog.mih import flip_masks
from desktop_app.engine.search import kernels, segment_join


def _runs(seed: int, rows: int, targets: int, longest: int):
    rng = np.random.default_rng(seed)
    target = rng.integers(0, 2**64, targets, dtype=np.uint64, endpoint=False)
    # Rows near some targets (a few bits off), so that every distance occurs.
    near = target[rng.integers(0, targets, rows)]
    flips = rng.integers(0, 64, (rows, 12)).astype(np.uint64)
    mask = np.zeros(rows, np.uint64)
    for k in range(int(rng.integers(0, 12))):
        mask ^= np.uint64(1) << flips[:, k]
    row_hash = near ^ mask
    tlen = rng.integers(0, longest + 1, rows).astype(np.int64)
    tstart = rng.integers(0, np.maximum(1, targets - tlen)).astype(np.int64)
    return row_hash, tstart, np.minimum(tlen, targets - tstart), target


def _by_numpy(row_hash, tstart, tlen, target, threshold):
    """The numpy loop of segment_join, collected and sorted as the compiled one is."""
    parts = list(segment_join._expand_numpy(row_hash, tstart, tlen, target, threshold, None))
    if not parts:
        return np.empty(0, np.int64), np.empty(0, np.int64), np.empty(0, np.uint8)
    row = np.concatenate([p[0] for p in parts])
    pos = np.concatenate([p[1] for p in parts])
    d = np.concatenate([p[2] for p in parts])
    order = np.lexsort((pos, row))
    return row[order], pos[order], d[order]


@settings(max_examples=40, deadline=None)
@given(
    seed=st.integers(0, 2**32 - 1),
    rows=st.integers(0, 400),
    longest=st.sampled_from([0, 1, 5, 40, 300]),
    threshold=st.integers(0, 64),
)
def test_compiled_loop_finds_what_numpy_finds(seed, rows, longest, threshold) -> None:
    assert kernels.compiled()
    row_hash, tstart, tlen, target = _runs(seed, rows, 2000, longest)
    got = kernels.verify_runs(row_hash, tstart, tlen, target, threshold)
    want = _by_numpy(row_hash, tstart, tlen, target, threshold)
    for g, w in zip(got, want, strict=True):
        assert np.array_equal(g, w)
    assert got[2].dtype == np.uint8 and got[0].dtype == np.int64


def test_more_hits_than_one_output_holds(monkeypatch) -> None:
    # Every candidate is a hit (threshold 64): the loop must stop, hand over its output
    # and go on where it stopped, rows cut at their boundaries.
    monkeypatch.setattr(kernels, "OUTPUT", 64)
    row_hash, tstart, tlen, target = _runs(5, 300, 500, 40)
    got = kernels.verify_runs(row_hash, tstart, tlen, target, 64)
    want = _by_numpy(row_hash, tstart, tlen, target, 64)
    assert got[0].shape[0] == int(tlen.sum()) > 64
    for g, w in zip(got, want, strict=True):
        assert np.array_equal(g, w)


def test_the_switch_turns_the_compiled_loop_off() -> None:
    code = "from desktop_app.engine.search import kernels; print(kernels.compiled())"
    env = {**os.environ, "DOPPEL_NO_JIT": "1"}
    done = subprocess.run(
        [sys.executable, "-c", code], env=env, capture_output=True, text=True, check=True
    )
    assert done.stdout.strip() == "False"


def _table(hashes: np.ndarray, width: int):
    values = (hashes & np.uint64((1 << width) - 1)).astype(np.int64)
    order = np.argsort(values, kind="stable")
    counts = np.bincount(values, minlength=1 << width)
    starts = np.zeros(counts.shape[0] + 1, np.int64)
    np.cumsum(counts, out=starts[1:])
    return order, hashes[order], counts, starts


@pytest.mark.parametrize("output", [64, 1 << 20])
@pytest.mark.parametrize("seed", [0, 1, 2])
def test_bucket_join_finds_every_pair_of_near_buckets(monkeypatch, seed: int, output: int) -> None:
    # A small OUTPUT makes the loop stop in the middle of buckets and go on from there;
    # one crowded bucket (a value shared by a tenth of each side) is larger than it.
    monkeypatch.setattr(kernels, "OUTPUT", output)
    rng = np.random.default_rng(seed)
    width, radius, threshold = 6, 1, 40
    a_hash = rng.integers(0, 2**64, 300, dtype=np.uint64, endpoint=False)
    b_hash = rng.integers(0, 2**64, 500, dtype=np.uint64, endpoint=False)
    a_hash[::10] &= ~np.uint64((1 << width) - 1)
    b_hash[::10] &= ~np.uint64((1 << width) - 1)
    a_order, a_sorted, a_counts, a_starts = _table(a_hash, width)
    b_order, b_sorted, b_counts, b_starts = _table(b_hash, width)
    masks = flip_masks(width, radius)
    i, j, d = kernels.join_buckets(
        np.flatnonzero(a_counts).astype(np.int64),
        a_starts,
        a_sorted,
        b_counts > 0,
        b_starts,
        b_sorted,
        masks,
        threshold,
        int(b_counts.max()),
    )
    got = set(zip(a_order[i].tolist(), b_order[j].tolist(), d.tolist(), strict=True))
    low = np.uint64((1 << width) - 1)
    want = set()
    for x in range(a_hash.shape[0]):
        segment = np.bitwise_count((a_hash[x] ^ b_hash) & low)
        distance = np.bitwise_count(a_hash[x] ^ b_hash)
        for y in np.flatnonzero((segment <= radius) & (distance <= threshold)).tolist():
            want.add((x, y, int(distance[y])))
    assert got == want
    assert len(got) > 100
    assert len(i) == len(got)  # each pair once
