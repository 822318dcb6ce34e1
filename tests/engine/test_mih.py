"""The pigeonhole arithmetic of the segment index: plans are exact, probes complete."""

import numpy as np
from hypothesis import given
from hypothesis import strategies as st

from desktop_app.engine.catalog import mih
from desktop_app.engine.catalog.rows import as_signed, as_unsigned
from desktop_app.engine.config import MAX_THRESHOLD


def is_exact(plan: tuple[int | None, ...], threshold: int) -> bool:
    """Whether probing with ``plan`` finds every pair within ``threshold`` (pigeonhole)."""
    return sum(r + 1 for r in plan if r is not None) >= threshold + 1


def test_every_plan_up_to_far_beyond_the_slider_is_exact():
    for threshold in range(64):
        plan = mih.radii(threshold)
        assert len(plan) == mih.SEGMENTS
        assert is_exact(plan, threshold)
        # ...and not wasteful: one unit less would break the guarantee.
        assert not is_exact(plan, threshold + 1)


def test_small_thresholds_skip_the_crowded_first_segment():
    assert mih.radii(0) == (None, 0, None, None)
    assert mih.radii(2) == (None, 0, 0, 0)
    assert mih.radii(3) == (0, 0, 0, 0)
    assert mih.radii(16) == (3, 4, 3, 3)


def test_flip_masks_enumerate_the_hamming_ball():
    masks = mih.flip_masks(16, 2)
    assert masks[0] == 0
    assert len(masks) == 1 + 16 + 120
    assert len(set(masks.tolist())) == len(masks)
    assert max(int(m).bit_count() for m in masks) == 2


def test_segments_round_trip_and_match_the_array_form():
    value = 0x8123_4567_89AB_CDEF
    segments = mih.segments_of(value)
    assert segments == (0x8123, 0x4567, 0x89AB, 0xCDEF)
    columns = mih.segment_columns(np.array([value], dtype=np.uint64))
    assert tuple(columns[0].tolist()) == segments


def test_signed_storage_round_trips_the_64_bit_range():
    for value in (0, 1, (1 << 63) - 1, 1 << 63, (1 << 64) - 1):
        signed = as_signed(value)
        assert -(1 << 63) <= signed < 1 << 63
        assert as_unsigned(signed) == value


hashes = st.integers(min_value=0, max_value=(1 << 64) - 1)


@given(hashes, st.lists(st.integers(0, 63), max_size=MAX_THRESHOLD, unique=True))
def test_probes_of_a_hash_reach_every_hash_within_the_threshold(value, flips):
    other = value
    for bit in flips:
        other ^= 1 << bit
    distance = len(flips)
    for threshold in range(distance, MAX_THRESHOLD + 1):
        probes = set(mih.probe_keys(value, threshold).tolist())
        keys = {mih.posting_key(p, s) for p, s in enumerate(mih.segments_of(other))}
        assert probes & keys, (threshold, distance)


def test_probe_keys_have_no_duplicates():
    keys = mih.probe_keys(0xFFFF_0000_FFFF_0000, MAX_THRESHOLD)
    assert len(keys) == len(np.unique(keys)) == 4608
