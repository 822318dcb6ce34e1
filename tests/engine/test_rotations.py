"""Rotation matching: exact against brute force on every path, and switching it on and off.

The bulk search (``search.py``) has its own property tests; here the incremental pairing
of new photos (``pairing._incremental`` and ``_collect_rotations``) and the query by image
are checked against :func:`search.brute_force_pairs` over the min-over-transforms
distance, and a real scan shows what turning the setting on and off does to the catalog.
"""

from __future__ import annotations

import os
from pathlib import Path

import numpy as np
import pytest
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st
from PIL import Image

from desktop_app.demo import synthetic_photo, write_variant
from desktop_app.engine.catalog.store import Catalog
from desktop_app.engine.config import MAX_THRESHOLD, EngineConfig
from desktop_app.engine.library import Library
from desktop_app.engine.search import pairing
from desktop_app.engine.search.all_pairs import brute_force_pairs
from desktop_app.engine.types import Transform, drain
from tests.engine.factories import features

SETTINGS = settings(max_examples=15, deadline=None, suppress_health_check=[HealthCheck.too_slow])


def clustered_with_variants(seed: int, n: int) -> tuple[np.ndarray, np.ndarray]:
    """Hashes in tight clusters, and variants of which many lie near another item's hash
    (as the variants of a rotated copy lie near its original)."""
    rng = np.random.default_rng(seed)
    centres = rng.integers(0, 2**63, size=max(1, n // 4), dtype=np.uint64) | np.uint64(1 << 63)
    hashes = centres[rng.integers(0, centres.shape[0], n)]
    for _ in range(6):
        flip = rng.random(n) < 0.6
        hashes = hashes ^ np.where(
            flip, np.uint64(1) << rng.integers(0, 63, n).astype(np.uint64), 0
        )
    variants = np.empty((n, 8), np.uint64)
    variants[:, 0] = hashes
    for t in range(1, 8):
        near = hashes[rng.integers(0, n, n)]
        for _ in range(int(rng.integers(0, 7))):
            near = near ^ (np.uint64(1) << rng.integers(0, 63, n).astype(np.uint64))
        far = rng.integers(0, 2**64, n, dtype=np.uint64, endpoint=False)
        variants[:, t] = np.where(rng.random(n) < 0.5, near, far)
    return hashes, variants


def add(catalog: Catalog, start: int, hashes: np.ndarray, variants: np.ndarray | None) -> None:
    catalog.add_results(
        [
            features(
                f"/lib/{start + k:05d}.jpg",
                int(h),
                variants=() if variants is None else tuple(int(v) for v in variants[k]),
            )
            for k, h in enumerate(hashes)
        ],
        1,
    )


@SETTINGS
@given(seed=st.integers(0, 2**32 - 1), n=st.integers(20, 120), rotations=st.booleans())
def test_incremental_pairing_equals_brute_force(seed: int, n: int, rotations: bool) -> None:
    hashes, variants = clustered_with_variants(seed, n)
    new = max(1, n // 10)  # a small share: the incremental path, not a full search
    with Catalog(":memory:") as catalog:
        add(catalog, 0, hashes[:-new], variants[:-new] if rotations else None)
        drain(pairing.update_pairs(catalog, 10, rotations=rotations))
        with pytest.MonkeyPatch.context() as patch:

            def no_full_search(*args: object) -> None:
                raise AssertionError("the new photos must be paired incrementally")

            patch.setattr(pairing, "_full", no_full_search)
            add(catalog, n - new, hashes[-new:], variants[-new:] if rotations else None)
            drain(pairing.update_pairs(catalog, 10, rotations=rotations))
        ids, stored, table = catalog.hashes(variants=rotations)
        assert (table is not None) == rotations
        for threshold in (0, 4, 10, MAX_THRESHOLD):
            got = catalog.pairs.load(threshold)
            want = brute_force_pairs(ids, stored, threshold, variants=table)
            order = np.lexsort((got.b, got.a))
            assert np.array_equal(got.a[order], want.a)
            assert np.array_equal(got.b[order], want.b)
            assert np.array_equal(got.distance[order], want.distance)
            assert np.array_equal(got.transform[order], want.transform)


@SETTINGS
@given(seed=st.integers(0, 2**32 - 1), n=st.integers(1, 150), threshold=st.integers(0, 16))
def test_query_with_rotations_equals_brute_force(
    tmp_path_factory: pytest.TempPathFactory, seed: int, n: int, threshold: int
) -> None:
    hashes, variants = clustered_with_variants(seed, n + 1)
    folder = tmp_path_factory.mktemp("lib")
    with Catalog(":memory:") as catalog:
        catalog.add_results(
            [
                features(os.path.join(folder, f"{k:05d}.jpg"), int(h), variants=tuple(map(int, v)))
                for k, (h, v) in enumerate(zip(hashes[:n], variants[:n], strict=True))
            ],
            1,
        )
        catalog.index.sync()
        library = Library([folder], catalog=catalog, config=EngineConfig(rotations=True))
        probe = features("query.jpg", int(hashes[n]), variants=tuple(map(int, variants[n])))
        library._features = lambda source: probe  # type: ignore[method-assign]
        result = library.query(b"not read", threshold)
        # The query turned by t looks like a library photo: the least distance over t,
        # ties to the smaller transform (identity first).
        distances = np.bitwise_count(variants[n][:, None] ^ hashes[None, :n]).astype(int)
        best = distances.min(axis=0)
        expected = {
            f"{k:05d}.jpg": (int(best[k]), int(np.argmin(distances[:, k])))
            for k in range(n)
            if best[k] <= threshold
        }
        got = {Path(m.image.path).name: (m.distance, int(m.transform)) for m in result.matches}
        assert got == expected
        assert [m.distance for m in result.matches] == sorted(m.distance for m in result.matches)


@pytest.fixture
def turned(tmp_path: Path) -> Path:
    """A folder with three photos, a mirrored and a quarter-turned copy of the first."""
    folder = tmp_path / "photos"
    folder.mkdir()
    first = synthetic_photo(11, (480, 320))
    first.save(folder / "first.jpg", quality=92)
    for seed in (12, 13):
        synthetic_photo(seed, (480, 320)).save(folder / f"other{seed}.jpg", quality=92)
    write_variant(first, "mirror", folder / "first_mirror")
    write_variant(first, "rotate90", folder / "first_turned")
    return folder


def names(library: Library, threshold: int = 10) -> dict[tuple[str, str], Transform]:
    records = library.records()
    pairs = library.pairs(threshold).within(threshold)
    return {
        tuple(
            sorted((Path(records[int(a)].path).stem, Path(records[int(b)].path).stem))
        ): Transform(int(t))
        for a, b, t in zip(pairs.a, pairs.b, pairs.transform, strict=True)
    }


def test_turning_rotations_on_rehashes_and_repairs_and_off_repairs(
    turned: Path, tmp_path: Path
) -> None:
    catalog = tmp_path / "catalog.sqlite"
    off = EngineConfig(workers=0, rotations=False)
    on = EngineConfig(workers=0, rotations=True)
    with Library([turned], catalog=catalog, config=off) as library:
        summary = drain(library.scan())
        assert summary.added == 5
        assert library.catalog.hashes(variants=True)[2] is None  # hashed without variants
        assert ("first", "first_mirror") not in names(library)
        assert library.catalog.pairs.state().rotations is False

    with Library([turned], catalog=catalog, config=on) as library:
        assert library.needs_scan()  # photos without variants
        summary = drain(library.scan())
        assert (summary.added, summary.updated, summary.unchanged) == (0, 5, 0)
        assert library.catalog.hashes(variants=True)[2] is not None
        assert not library.needs_scan()
        found = names(library)
        assert found[("first", "first_mirror")] == Transform.FLIP_LEFT_RIGHT
        assert ("first", "first_turned") in found
        assert ("first_mirror", "first_turned") in found
        assert library.catalog.pairs.state().rotations is True
        again = drain(library.scan())
        assert (again.updated, again.unchanged) == (0, 5)

    with Library([turned], catalog=catalog, config=off) as library:
        assert not library.needs_scan()  # variants are kept; they do no harm
        summary = drain(library.scan())
        assert (summary.updated, summary.unchanged) == (0, 5)
        assert library.catalog.pairs.state().rotations is False
        assert not any("mirror" in a + b or "turned" in a + b for a, b in names(library))


def test_pairs_follow_the_setting_without_a_scan(turned: Path, tmp_path: Path) -> None:
    catalog = tmp_path / "catalog.sqlite"
    with Library([turned], catalog=catalog, config=EngineConfig(workers=0, rotations=True)) as lib:
        drain(lib.scan())
        assert ("first", "first_mirror") in names(lib)
    with Library([turned], catalog=catalog, config=EngineConfig(workers=0)) as lib:
        assert ("first", "first_mirror") not in names(lib)  # re-paired on demand
        assert lib.catalog.pairs.state().rotations is False
    with Library([turned], catalog=catalog, config=EngineConfig(workers=0, rotations=True)) as lib:
        assert ("first", "first_mirror") in names(lib)
        assert lib.catalog.pairs.state().rotations is True


def test_a_query_finds_a_turned_copy_only_with_rotations(turned: Path, tmp_path: Path) -> None:
    query = tmp_path / "turned_query.jpg"
    turned_left = synthetic_photo(11, (480, 320)).transpose(Image.Transpose.ROTATE_90)
    turned_left.save(query, quality=90)
    catalog = tmp_path / "catalog.sqlite"
    with Library([turned], catalog=catalog, config=EngineConfig(workers=0)) as lib:
        drain(lib.scan())
        assert "first.jpg" not in {Path(m.image.path).name for m in lib.query(query).matches}
    with Library([turned], catalog=catalog, config=EngineConfig(workers=0, rotations=True)) as lib:
        drain(lib.scan())
        matches = {Path(m.image.path).name: m for m in lib.query(query).matches}
        # The query turned a further 270 degrees counter-clockwise is the original.
        assert matches["first.jpg"].transform == Transform.ROTATE_270
        assert matches["first.jpg"].distance <= 2


def test_without_variants_rotations_wait_for_a_scan_instead_of_searching_again() -> None:
    hashes, _ = clustered_with_variants(5, 40)
    with Catalog(":memory:") as catalog:
        add(catalog, 0, hashes, None)  # hashed while rotations were off
        drain(pairing.update_pairs(catalog, 10, rotations=False))
        with pytest.MonkeyPatch.context() as patch:

            def no_full_search(*args: object) -> None:
                raise AssertionError("nothing to search again without variants")

            patch.setattr(pairing, "_full", no_full_search)
            for _ in range(2):
                state = drain(pairing.update_pairs(catalog, 10, rotations=True))
                assert state.rotations is False
