"""The pair cache stores, appends, filters and compacts pairs without losing any."""

import numpy as np
import pytest

from desktop_app.engine.types import PairSet

from .factories import features


def _pairs(rows, threshold):
    rows = sorted(rows)
    a, b, d = (np.array([r[i] for r in rows], dtype=np.int64) for i in range(3))
    return PairSet(a, b, d.astype(np.uint8), np.zeros(len(rows), np.uint8), threshold)


def _ids(catalog, n):
    return catalog.add_results([features(f"/lib/{i}.jpg", 1 << 63) for i in range(n)], 1)


def test_a_fresh_cache_reaches_nothing(catalog):
    state = catalog.pairs.state()
    assert state.upto is None and state.watermark == 0
    with pytest.raises(ValueError, match="reach"):
        catalog.pairs.load(4)


def test_store_append_and_load(catalog):
    ids = _ids(catalog, 5)
    catalog.pairs.store(
        _pairs([(ids[0], ids[1], 3), (ids[1], ids[2], 12)], 16),
        watermark=ids[2],
        rotations=False,
        replace=True,
    )
    catalog.pairs.store(
        _pairs([(ids[0], ids[3], 16), (ids[3], ids[4], 17)], 17),
        watermark=ids[4],
        rotations=False,
        replace=False,
    )
    state = catalog.pairs.state()
    assert (state.upto, state.watermark, state.rotations) == (16, ids[4], False)
    loaded = catalog.pairs.load(16)
    got = sorted(zip(loaded.a.tolist(), loaded.b.tolist(), loaded.distance.tolist(), strict=True))
    # The appended pair beyond the cache's reach (17) is not kept.
    assert got == [(ids[0], ids[1], 3), (ids[0], ids[3], 16), (ids[1], ids[2], 12)]
    assert len(catalog.pairs.load(5)) == 1


def test_appends_must_reach_as_far_as_the_cache(catalog):
    ids = _ids(catalog, 2)
    catalog.pairs.store(_pairs([], 10), watermark=ids[1], rotations=False, replace=True)
    with pytest.raises(ValueError):
        catalog.pairs.store(_pairs([], 8), watermark=ids[1], rotations=False, replace=False)
    with pytest.raises(ValueError):
        catalog.pairs.store(_pairs([], 10), watermark=ids[1], rotations=True, replace=False)


def test_pairs_of_removed_images_disappear_and_are_compacted(catalog):
    ids = _ids(catalog, 6)
    rows = [(ids[i], ids[j], 1) for i in range(6) for j in range(i + 1, 6)]
    catalog.pairs.store(_pairs(rows, 8), watermark=ids[-1], rotations=False, replace=True)
    catalog.remove([ids[0], ids[1]])
    loaded = catalog.pairs.load(8)
    assert len(loaded) == 6  # pairs among the 4 left
    assert not set(loaded.a.tolist()) & {ids[0], ids[1]}
    assert catalog.pairs.compact()
    assert len(catalog.pairs.load(8)) == 6
    assert not catalog.pairs.compact()


def test_loading_can_be_limited_to_folders(catalog):
    a, b, c = catalog.add_results(
        [features("/x/1.jpg", 1), features("/x/2.jpg", 1), features("/y/3.jpg", 1)], 1
    )
    catalog.pairs.store(
        _pairs([(a, b, 0), (a, c, 0), (b, c, 0)], 4), watermark=c, rotations=False, replace=True
    )
    inside = catalog.pairs.load(4, roots=["/x"])
    assert list(zip(inside.a.tolist(), inside.b.tolist(), strict=True)) == [(a, b)]


def test_loading_can_be_limited_to_the_ids_a_caller_read(catalog, monkeypatch):
    a, b, c = catalog.add_results(
        [features("/x/1.jpg", 1), features("/x/2.jpg", 1), features("/y/3.jpg", 1)], 1
    )
    catalog.pairs.store(
        _pairs([(a, b, 0), (a, c, 0), (b, c, 0)], 4), watermark=c, rotations=False, replace=True
    )
    # The caller's ids are used as they are: the catalog is not asked which are hashed.
    monkeypatch.setattr(catalog, "hashed_ids", lambda roots=None: pytest.fail("asked"))
    chosen = catalog.pairs.load(4, live=np.array([a, c], dtype=np.int64))
    assert list(zip(chosen.a.tolist(), chosen.b.tolist(), strict=True)) == [(a, c)]
    assert len(catalog.pairs.load(4, live=np.array([], dtype=np.int64))) == 0


def test_forget_drops_everything(catalog):
    ids = _ids(catalog, 2)
    catalog.pairs.store(
        _pairs([(ids[0], ids[1], 0)], 4), watermark=ids[1], rotations=False, replace=True
    )
    catalog.pairs.forget()
    assert catalog.pairs.state().upto is None


def test_pending_lists_images_above_the_watermark(catalog):
    ids = _ids(catalog, 4)
    catalog.pairs.store(_pairs([], 4), watermark=ids[1], rotations=False, replace=True)
    pending_ids, pending_hashes = catalog.pairs.pending()
    assert pending_ids.tolist() == ids[2:]
    assert pending_hashes.dtype == np.uint64


def test_a_cache_of_an_earlier_search_reads_as_empty(catalog):
    ids = _ids(catalog, 3)
    catalog.pairs.store(
        _pairs([(ids[0], ids[1], 3)], 16), watermark=ids[2], rotations=False, replace=True
    )
    assert catalog.pairs.state().upto == 16
    catalog.set_meta("pairs_version", "0")  # written by another version of the search
    state = catalog.pairs.state()
    assert state.upto is None and state.watermark == 0  # the next pairing searches in full


def test_compacting_reads_nothing_while_no_paired_image_is_gone(catalog, monkeypatch):
    ids = _ids(catalog, 4)
    rows = [(ids[i], ids[j], 1) for i in range(4) for j in range(i + 1, 4)]
    catalog.pairs.store(_pairs(rows, 8), watermark=ids[-1], rotations=False, replace=True)
    new = [features(f"/lib/new{i}.jpg", 1 << 63) for i in range(2)]
    catalog.add_results(new, 1)  # new photos, not paired yet: above the watermark
    loads = []
    real = type(catalog.pairs).load
    monkeypatch.setattr(
        type(catalog.pairs), "load", lambda self, *a, **k: loads.append(1) or real(self, *a, **k)
    )
    assert not catalog.pairs.compact()
    assert loads == []
    catalog.remove([ids[0], ids[1]])  # now half the pairs name a removed photo
    assert catalog.pairs.compact()
    assert loads
