"""Groupings at every slider position are kept in the catalog, for exactly their pairs."""

import numpy as np
import pytest

from desktop_app.engine.catalog import groupcache
from desktop_app.engine.config import EngineConfig
from desktop_app.engine.library import Library
from desktop_app.engine.search import grouping
from desktop_app.engine.types import PairSet, Phase, drain
from tests.engine.cleanup_support import ignore_group

from .factories import clustered_hashes, features


def _pairs(rows, threshold=8):
    a, b, d = (np.array([r[i] for r in rows], dtype=np.int64) for i in range(3))
    return PairSet(a, b, d.astype(np.uint8), np.zeros(len(rows), np.uint8), threshold)


def test_the_key_changes_with_the_pairs_and_the_order():
    pairs = _pairs([(1, 2, 3), (2, 3, 1)])
    rank = np.array([1, 2, 3], dtype=np.int64)
    key = groupcache.signature(pairs, rank)
    assert key == groupcache.signature(_pairs([(1, 2, 3), (2, 3, 1)]), rank.copy())
    assert key != groupcache.signature(_pairs([(1, 2, 3), (2, 3, 2)]), rank)
    assert key != groupcache.signature(_pairs([(1, 2, 3)]), rank)
    assert key != groupcache.signature(pairs, np.array([3, 2, 1], dtype=np.int64))
    assert key != groupcache.signature(_pairs([(1, 2, 3), (2, 3, 1)], threshold=9), rank)


def test_store_and_load_round_trip(catalog):
    pairs = _pairs([(1, 2, 3), (2, 3, 1), (4, 5, 0)])
    found = {t: grouping.group_pairs(pairs, t) for t in range(pairs.threshold + 1)}
    key = groupcache.signature(pairs, np.arange(1, 6))
    catalog.groupings.store(key, found)
    loaded = catalog.groupings.load(key)
    assert loaded.keys() == found.keys()
    for t, expected in found.items():
        got = loaded[t]
        assert got.threshold == t
        for name in ("offsets", "members", "distance", "transform"):
            assert np.array_equal(getattr(got, name), getattr(expected, name)), (t, name)
    assert catalog.groupings.load(b"another key") == {}
    catalog.groupings.forget()
    assert catalog.groupings.load(key) == {}


@pytest.fixture
def library(tmp_path):
    """A catalog of clustered hashes whose files are never read (no scan here)."""
    root = tmp_path / "lib"
    root.mkdir()
    with Library([root], catalog=tmp_path / "c.sqlite", config=EngineConfig(workers=0)) as lib:
        hashes = clustered_hashes(120, seed=5)
        lib.catalog.add_results(
            [features(str(root / f"{i:03d}.jpg"), int(h)) for i, h in enumerate(hashes)], 1
        )
        yield lib


def test_group_all_keeps_every_position(library):
    pairs = library.pairs()
    assert library.cached_groupings(pairs) == {}
    reports = []
    steps = library.group_all(pairs)
    try:
        while True:
            reports.append(next(steps))
    except StopIteration as stop:
        computed = stop.value
    assert {r.phase for r in reports} == {Phase.GROUPING}
    assert (reports[-1].done, reports[-1].total) == (pairs.threshold + 1,) * 2
    stored = library.cached_groupings(pairs)
    assert sorted(stored) == sorted(computed) == list(range(pairs.threshold + 1))
    assert len(stored[12]) > 0
    for t in (0, 6, pairs.threshold):
        assert np.array_equal(stored[t].members, library.group(pairs, t).members)
        assert np.array_equal(stored[t].offsets, library.group(pairs, t).offsets)


def test_a_not_copies_decision_makes_the_stored_groupings_miss(library):

    pairs = library.pairs()
    drain(library.group_all(pairs))
    assert library.cached_groupings(pairs)
    first = library.resolve(library.group(pairs, 12), 0)
    ignore_group(library.catalog, first)
    assert library.cached_groupings(library.pairs()) == {}


def test_a_scan_stores_the_groupings_of_what_it_found(tmp_path):
    from desktop_app.demo import synthetic_photo, write_variant

    root = tmp_path / "photos"
    picture = synthetic_photo(3, (400, 267))
    root.mkdir()
    picture.save(root / "a.jpg", quality=92)
    write_variant(picture, "jpeg30", root / "a_small")
    synthetic_photo(4, (400, 267)).save(root / "b.jpg", quality=92)
    with Library([root], catalog=tmp_path / "c.sqlite", config=EngineConfig(workers=0)) as lib:
        drain(lib.scan())
        stored = lib.cached_groupings(lib.pairs())
        assert len(stored) == lib.pairs().threshold + 1
        assert len(stored[12]) == 1 and stored[12].members.size == 2
