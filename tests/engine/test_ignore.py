"""The "not duplicates" memory: keyed by digests, applied to pairs, undoable."""

from __future__ import annotations

import numpy as np
import pytest

from desktop_app.engine.catalog.store import Catalog
from desktop_app.engine.errors import UsageError
from desktop_app.engine.selection import not_copies
from desktop_app.engine.types import ImageFeatures, PairSet
from tests.engine.cleanup_support import group, ignore_group


@pytest.fixture(params=["memory", "file"])
def catalog(request, tmp_path):
    path = ":memory:" if request.param == "memory" else tmp_path / "catalog.sqlite"
    with Catalog(path) as opened:
        yield opened


def add(catalog: Catalog, path: str, digest: bytes, phash: int = 1):
    features = ImageFeatures(path, 100, 1, digest, phash, 10, 10, "JPEG")
    (image_id,) = catalog.add_results([features], 1)
    return catalog.records([image_id])[image_id]


def pairs(*ab: tuple[int, int], threshold: int = 10) -> PairSet:
    a = np.array([min(p) for p in ab], dtype=np.int64)
    b = np.array([max(p) for p in ab], dtype=np.int64)
    n = len(ab)
    return PairSet(a, b, np.ones(n, np.uint8), np.zeros(n, np.uint8), threshold)


def as_tuples(found: PairSet) -> list[tuple[int, int]]:
    return sorted(zip(found.a.tolist(), found.b.tolist(), strict=True))


def test_an_empty_list_changes_nothing(catalog):
    x, y = add(catalog, "/p/x.jpg", b"x" * 16), add(catalog, "/p/y.jpg", b"y" * 16)
    found = pairs((x.id, y.id))
    assert not_copies.filter_pairs(catalog, found) is found


def test_an_ignored_pair_is_dropped_and_others_kept(catalog):
    x = add(catalog, "/p/x.jpg", b"x" * 16)
    y = add(catalog, "/p/y.jpg", b"y" * 16)
    z = add(catalog, "/p/z.jpg", b"z" * 16)
    assert not_copies.ignore(catalog, [y, x]) == 1
    assert not_copies.ignore(catalog, [x, y]) == 0  # already remembered, in either order
    found = not_copies.filter_pairs(catalog, pairs((x.id, y.id), (x.id, z.id), (y.id, z.id)))
    assert as_tuples(found) == [(x.id, z.id), (y.id, z.id)]
    assert found.threshold == 10


def test_the_memory_survives_renames_and_rescans(catalog):
    x = add(catalog, "/p/x.jpg", b"x" * 16)
    y = add(catalog, "/p/y.jpg", b"y" * 16)
    not_copies.ignore(catalog, [x, y])
    catalog.remove([x.id, y.id])  # the files were moved; a scan finds them elsewhere
    x2 = add(catalog, "/elsewhere/renamed.jpg", b"x" * 16)
    y2 = add(catalog, "/elsewhere/y.jpg", b"y" * 16)
    assert len(not_copies.filter_pairs(catalog, pairs((x2.id, y2.id)))) == 0
    (entry,) = not_copies.ignored(catalog)
    assert (entry.a_path, entry.b_path) == ("/p/x.jpg", "/p/y.jpg")  # where they were then


def test_a_group_is_remembered_pair_by_pair(catalog):
    rs = [add(catalog, f"/p/{c}.jpg", c.encode() * 16) for c in "abc"]
    assert ignore_group(catalog, group(*rs)) == 3
    assert (
        len(not_copies.filter_pairs(catalog, pairs((rs[0].id, rs[1].id), (rs[1].id, rs[2].id))))
        == 0
    )
    assert len(not_copies.ignored(catalog)) == 3


def test_identical_files_kept_on_purpose(catalog):
    x = add(catalog, "/album1/x.jpg", b"same" * 4)
    y = add(catalog, "/album2/x.jpg", b"same" * 4)
    not_copies.ignore(catalog, [x, y])
    (entry,) = not_copies.ignored(catalog)
    assert entry.a == entry.b
    assert len(not_copies.filter_pairs(catalog, pairs((x.id, y.id)))) == 0


def test_unignore_brings_pairs_back(catalog):
    x = add(catalog, "/p/x.jpg", b"x" * 16)
    y = add(catalog, "/p/y.jpg", b"y" * 16)
    z = add(catalog, "/p/z.jpg", b"z" * 16)
    not_copies.ignore(catalog, [x, y, z])
    (first, *_) = not_copies.ignored(catalog)
    assert not_copies.unignore(catalog, [not_copies.parse_key(first.key)[::-1]]) == 1
    assert len(not_copies.ignored(catalog)) == 2
    assert not_copies.unignore_records(catalog, [x, y, z]) == 2
    found = pairs((x.id, y.id), (y.id, z.id))
    assert not_copies.filter_pairs(catalog, found) is found


def test_bad_input(catalog):
    x = add(catalog, "/p/x.jpg", b"x" * 16)
    with pytest.raises(UsageError):
        not_copies.ignore(catalog, [x, x])
    with pytest.raises(UsageError):
        not_copies.parse_key("nothex")
