"""The SQLite segment index answers exactly what brute force answers, at every threshold."""

import numpy as np
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from desktop_app.engine.catalog import mih
from desktop_app.engine.catalog.store import Catalog
from desktop_app.engine.config import MAX_THRESHOLD

from .factories import clustered_hashes, features


def _fill(catalog, hashes, start=0):
    return catalog.add_results(
        [features(f"/lib/{start + i}.jpg", int(h)) for i, h in enumerate(hashes)], 1
    )


def _brute(ids, hashes, value, threshold):
    distances = mih.hamming(np.asarray(hashes, dtype=np.uint64), np.uint64(value))
    keep = distances <= threshold
    order = np.lexsort((np.asarray(ids)[keep], distances[keep]))
    return np.asarray(ids)[keep][order].tolist(), distances[keep][order].tolist()


def test_queries_match_brute_force_at_every_threshold(catalog):
    hashes = clustered_hashes(600, seed=3)
    ids = _fill(catalog, hashes)
    catalog.index.sync()
    rng = np.random.default_rng(1)
    queries = [int(hashes[i]) ^ int(rng.integers(0, 1 << 10)) for i in range(0, 600, 37)]
    for value in queries:
        for threshold in range(MAX_THRESHOLD + 1):
            found_ids, found_d = catalog.query(value, threshold)
            assert (found_ids.tolist(), found_d.tolist()) == _brute(ids, hashes, value, threshold)


@settings(max_examples=40, deadline=None, suppress_health_check=[HealthCheck.too_slow])
@given(
    seed=st.integers(0, 10_000),
    threshold=st.integers(0, MAX_THRESHOLD),
    removed=st.integers(0, 30),
)
def test_index_upkeep_keeps_queries_exact(seed, threshold, removed):
    """Appends, rebuilds, removals and the unindexed tail never change an answer."""
    hashes = clustered_hashes(240, seed=seed)
    with Catalog(":memory:") as catalog:
        ids = _fill(catalog, hashes[:100])
        catalog.index.sync()  # a rebuild: everything is new
        ids += _fill(catalog, hashes[100:120], start=100)
        catalog.index.sync()  # an append: a small share is new
        ids += _fill(catalog, hashes[120:], start=120)  # left above the watermark
        gone = ids[:removed]
        catalog.remove(gone)
        live_ids = ids[removed:]
        live_hashes = hashes[removed:]
        for value in (int(hashes[0]), int(hashes[150]), int(hashes[-1]) ^ 0b1011):
            found_ids, found_d = catalog.query(value, threshold)
            expected = _brute(live_ids, live_hashes, value, threshold)
            assert (found_ids.tolist(), found_d.tolist()) == expected


def test_queries_can_be_limited_to_folders(catalog):
    catalog.add_results(
        [features("/a/1.jpg", 1 << 63), features("/b/1.jpg", 1 << 63), features("/c/1.jpg", 1)],
        1,
    )
    catalog.index.sync()
    ids, _ = catalog.query(1 << 63, 0, roots=["/b"])
    assert [catalog.records(ids.tolist())[i].path for i in ids.tolist()] == ["/b/1.jpg"]


def test_removing_an_image_takes_it_out_of_every_posting_list(catalog):
    (image_id,) = _fill(catalog, [0x8000_0000_0000_0000])
    catalog.index.sync()
    assert catalog.execute("SELECT count(*) FROM postings").fetchone()[0] == 4
    catalog.remove([image_id])
    assert catalog.execute("SELECT count(*) FROM postings").fetchone()[0] == 0
    assert catalog.query(0x8000_0000_0000_0000, MAX_THRESHOLD)[0].size == 0
