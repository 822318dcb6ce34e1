"""The Milvus index (on the embedded Milvus Lite) answers exactly what brute force answers.

The same exactness properties as the SQLite segment index (``test_index.py``): every
query and every pair within 0-16, across appends and removals, with and without rotation
variants. One Milvus Lite file per module (its start-up is the slow part); each test
has its own catalog, hence its own collection.
"""

import numpy as np
import pytest

from desktop_app.engine.catalog import mih
from desktop_app.engine.catalog.store import Catalog
from desktop_app.engine.config import MAX_THRESHOLD
from desktop_app.engine.errors import UsageError
from desktop_app.engine.search import all_pairs, milvus_index
from desktop_app.engine.search.milvus_index import MilvusIndex, parse_uri

from .factories import clustered_hashes, features

pytestmark = [
    # pymilvus and its protobuf/grpc stack still use APIs their successors deprecate.
    pytest.mark.filterwarnings("ignore::DeprecationWarning"),
    pytest.mark.filterwarnings("ignore::UserWarning"),
]


@pytest.fixture(scope="module")
def uri(tmp_path_factory):
    return str(tmp_path_factory.mktemp("milvus") / "index.db")


def _variants(hashes, seed):
    """Variant t of photo i: a near copy of photo i + 3t's hash, so rotations make pairs."""
    rng = np.random.default_rng(seed)
    n = len(hashes)
    table = np.empty((n, 8), dtype=np.uint64)
    table[:, 0] = hashes
    for t in range(1, 8):
        noise = rng.integers(0, 1 << 12, size=n, dtype=np.uint64) << np.uint64(20)
        table[:, t] = np.roll(hashes, -3 * t) ^ noise
    return table


def _fill(catalog, hashes, start=0, variants=None):
    return catalog.add_results(
        [
            features(
                f"/lib/{start + i}.jpg",
                int(h),
                variants=() if variants is None else tuple(int(v) for v in variants[i]),
            )
            for i, h in enumerate(hashes)
        ],
        1,
    )


def _brute(ids, hashes, value, threshold):
    distances = mih.hamming(np.asarray(hashes, dtype=np.uint64), np.uint64(value))
    keep = distances <= threshold
    order = np.lexsort((np.asarray(ids)[keep], distances[keep]))
    return np.asarray(ids)[keep][order].tolist(), distances[keep][order].tolist()


def _pairs(index, catalog, threshold, rotations=False):
    index.sync()
    ids, hashes, variants = catalog.hashes(variants=rotations)
    return index.all_pairs(ids, hashes, threshold, variants=variants)


def _same_pairs(found, expected):
    assert found.a.tolist() == expected.a.tolist()
    assert found.b.tolist() == expected.b.tolist()
    assert found.distance.tolist() == expected.distance.tolist()
    assert found.transform.tolist() == expected.transform.tolist()


def test_queries_match_brute_force_at_every_threshold(uri):
    hashes = clustered_hashes(400, seed=3)
    with Catalog(":memory:") as catalog:
        ids = _fill(catalog, hashes)
        index = MilvusIndex(catalog, uri)
        assert index.sync() == 400
        rng = np.random.default_rng(1)
        for i in range(0, 400, 57):
            value = int(hashes[i]) ^ int(rng.integers(0, 1 << 10))
            for threshold in range(MAX_THRESHOLD + 1):
                found_ids, found_d = index.query(value, threshold)
                expected = _brute(ids, hashes, value, threshold)
                assert (found_ids.tolist(), found_d.tolist()) == expected
        index.close()


@pytest.mark.parametrize(("seed", "removed"), [(5, 0), (11, 17), (29, 40)])
def test_upkeep_keeps_queries_and_pairs_exact(uri, seed, removed):
    """Appends and removals between syncs never change an answer, up to 16."""
    hashes = clustered_hashes(300, seed=seed)
    with Catalog(":memory:") as catalog:
        index = MilvusIndex(catalog, uri)
        ids = _fill(catalog, hashes[:200])
        index.sync()
        catalog.remove(ids[:removed])  # removed after the sync ...
        ids += _fill(catalog, hashes[200:], start=200)  # ... and appended after it
        live_ids, live_hashes = np.array(ids[removed:]), hashes[removed:]
        for value in (int(hashes[-1]), int(hashes[250]) ^ 0b1011, int(hashes[removed])):
            for threshold in (0, 4, 10, 16):
                found_ids, found_d = index.query(value, threshold)
                expected = _brute(live_ids, live_hashes, value, threshold)
                assert (found_ids.tolist(), found_d.tolist()) == expected
        expected = all_pairs.brute_force_pairs(live_ids, live_hashes, MAX_THRESHOLD)
        _same_pairs(_pairs(index, catalog, MAX_THRESHOLD), expected)
        index.close()


def test_rotation_pairs_match_brute_force(uri):
    hashes = clustered_hashes(200, seed=8)
    table = _variants(hashes, seed=8)
    with Catalog(":memory:") as catalog:
        ids = np.array(_fill(catalog, hashes, variants=table))
        index = MilvusIndex(catalog, uri, rotations=True)
        for threshold in (6, 12):
            found = _pairs(index, catalog, threshold, rotations=True)
            expected = all_pairs.brute_force_pairs(ids, hashes, threshold, variants=table)
            assert (found.transform > 0).any()  # the rotations were searched
            _same_pairs(found, expected)
        index.close()


def test_a_crowded_query_is_searched_in_bands(uri, monkeypatch):
    """More hits than the first limit, then Milvus's top-k: a larger limit, narrower
    bands, then the catalog, lose nothing."""
    monkeypatch.setattr(milvus_index, "FIRST_LIMIT", 4)
    monkeypatch.setattr(milvus_index, "TOP_K", 7)
    hashes = np.array([(1 << 63) | (k % 3) for k in range(40)], dtype=np.uint64)
    hashes = np.unique(np.concatenate([hashes, clustered_hashes(30, seed=2)]))
    with Catalog(":memory:") as catalog:
        ids = _fill(catalog, hashes)
        index = MilvusIndex(catalog, uri)
        found_ids, found_d = index.query(1 << 63, 3)
        assert (found_ids.tolist(), found_d.tolist()) == _brute(ids, hashes, 1 << 63, 3)
        expected = all_pairs.brute_force_pairs(np.array(ids), hashes, 8)
        _same_pairs(_pairs(index, catalog, 8), expected)
        index.close()


def test_a_lost_collection_is_filled_again(uri):
    hashes = clustered_hashes(50, seed=4)
    with Catalog(":memory:") as catalog:
        ids = _fill(catalog, hashes)
        index = MilvusIndex(catalog, uri)
        index.sync()
        index._client.drop_collection(index.collection)  # a server reset, an admin
        found_ids, _ = index.query(int(hashes[7]), 0)
        assert ids[7] in found_ids.tolist()
        index.close()


@pytest.mark.parametrize("spec", ["sqlite", "milvus:", "milvus:/no/such/folder/x.db"])
def test_bad_index_settings_are_refused_clearly(tmp_path, spec):
    with pytest.raises(UsageError, match=r"milvus|Milvus|folder"):
        parse_uri(spec)
    with pytest.raises(UsageError, match=r"\.db"):
        parse_uri(f"milvus:{tmp_path / 'index.sqlite'}")


def test_a_removal_alone_is_seen_by_the_next_sync(uri):
    hashes = clustered_hashes(60, seed=6)
    with Catalog(":memory:") as catalog:
        ids = _fill(catalog, hashes)
        index = MilvusIndex(catalog, uri)
        assert index.sync() == 60
        assert index.sync() == 0  # nothing new: two counts, no rows read
        catalog.remove(ids[:5])  # the watermark stays where it was
        index.sync()
        assert index._count() == 55
        found_ids, _ = index.query(int(hashes[0]), 0)
        assert ids[0] not in found_ids.tolist()
        index.close()
