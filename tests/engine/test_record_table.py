"""A library's records are made from the catalog's rows as they are looked up."""

from __future__ import annotations

import threading
import time

import numpy as np
import pytest

from desktop_app.engine.catalog import records as catalog_records
from desktop_app.engine.catalog import store
from desktop_app.engine.catalog.records import RecordTable
from desktop_app.engine.config import EngineConfig
from desktop_app.engine.library import Library
from desktop_app.engine.types import Capture, FileFailure, ImageFeatures

from .factories import features


def _captured(path: str, phash: int, subsec: str) -> ImageFeatures:
    plain = features(path, phash)
    shot = Capture(taken="2024-05-01T13:45:10", subsec=subsec, make="Canon", model="R5")
    return ImageFeatures(**{**{f: getattr(plain, f) for f in plain.__slots__}, "capture": shot})


def test_a_record_is_made_when_first_looked_up_and_kept(catalog):
    ids = catalog.add_results(
        [
            features("/lib/b.jpg", 1 << 63, size=20, digest=b"b" * 16),
            features("/lib/a.jpg", (1 << 64) - 1, size=10, digest=b"a" * 16),
            FileFailure("/lib/c.jpg", 30, 1, "truncated JPEG"),
        ],
        1,
    )
    table = catalog.record_table(["/lib"])
    assert isinstance(table, RecordTable) and table.made() == 0
    assert list(table) == [ids[1], ids[0], ids[2]]  # path order
    assert len(table) == 3 and ids[0] in table and 12345 not in table
    # What the opening needs of every photo comes from the rows.
    assert table.ids().tolist() == [ids[1], ids[0], ids[2]]
    assert table.sizes().tolist() == [10, 20, 30]
    assert table.hashed_ids().tolist() == [ids[1], ids[0]]
    assert table.digests() == [b"a" * 16, b"b" * 16, None]
    assert table.captured_ids() == []
    assert table.made() == 0
    first = table[ids[0]]
    assert table.made() == 1 and table[ids[0]] is first
    assert first.path == "/lib/b.jpg" and first.phash == 1 << 63
    assert table.get(12345) is None and table.made() == 1
    # As a mapping it is the records by id, in path order.
    assert table == {r.id: r for r in catalog.all_records(["/lib"])}
    assert [r.path for r in table.values()] == ["/lib/a.jpg", "/lib/b.jpg", "/lib/c.jpg"]
    assert table.made() == 3


def test_the_files_that_could_not_be_read_come_from_the_rows(catalog, tmp_path, monkeypatch):
    root = str(tmp_path)
    catalog.add_results(
        [
            FileFailure(f"{root}/b.jpg", 30, 3, "truncated JPEG"),
            features(f"{root}/a.jpg", 1 << 63),
            FileFailure(f"{root}/a.cr2", 20, 2, "no preview"),
            FileFailure("/elsewhere/c.jpg", 1, 1, "not an image"),
        ],
        1,
    )
    table = catalog.record_table([root])
    assert table.failures() == catalog.failures([root]) and len(table.failures()) == 2
    assert table.made() == 0
    with Library([root], catalog=catalog) as library:
        library.records()
        monkeypatch.setattr(catalog, "failures", lambda roots=None: pytest.fail("asked"))
        assert library.failures() == table.failures()


def test_the_helpers_read_tables_and_plain_mappings_alike(catalog):
    catalog.add_results(
        [
            features("/lib/a.jpg", 1 << 63, size=10),
            _captured("/lib/b.jpg", 1 << 63, "10"),
            FileFailure("/lib/c.jpg", 30, 1, "truncated JPEG"),
        ],
        1,
    )
    table = catalog.record_table(["/lib"])
    plain = {r.id: r for r in catalog.all_records(["/lib"])}
    (captured,) = catalog_records.with_capture(table)
    assert table.made() == 0
    assert plain[captured].capture is not None
    assert set(catalog_records.with_capture(plain)) == set(plain)  # every one, to look at
    for helper in (catalog_records.hashed_ids, catalog_records.digests):
        assert np.array_equal(helper(table), helper(plain))
    ids, sizes = catalog_records.file_sizes(table)
    assert (ids.tolist(), sizes.tolist()) == tuple(
        x.tolist() for x in catalog_records.file_sizes(plain)
    )
    assert table.made() == 0


def test_threads_looking_up_the_same_record_get_the_same_object(catalog):
    catalog.add_results([features(f"/lib/{k:03d}.jpg", 1 << 63) for k in range(300)], 1)
    table = catalog.record_table(["/lib"])
    seen: list[dict[int, int]] = []

    def look() -> None:
        seen.append({i: id(table[i]) for i in table})

    threads = [threading.Thread(target=look) for _ in range(4)]
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join()
    assert all(found == seen[0] for found in seen) and table.made() == 300


def test_pairs_are_found_without_making_a_record_per_photo(tmp_path):
    """Only the photos with a capture (and those paired with one) are made records, to
    judge their pairs: bursts are similar shots, not copies."""
    from desktop_app.engine.catalog.store import Catalog

    root = tmp_path / "lib"
    root.mkdir()
    near, far = 0xF0F0_F0F0_F0F0_F0F0, 0xAAAA_AAAA_AAAA_AAAA  # 32 bits apart
    with Catalog(tmp_path / "c.sqlite") as catalog:
        plain = catalog.add_results([features(str(root / f"p{k}.jpg"), near) for k in range(4)], 1)
        shots = catalog.add_results(
            [_captured(str(root / f"s{k}.jpg"), far, str(k)) for k in range(2)], 1
        )
        with Library([root], catalog=catalog, config=EngineConfig(workers=0)) as library:
            pairs = library.pairs(4)
            found = library.records()
            assert isinstance(found, RecordTable)
            assert found.made() == 2  # the two with a capture
            ids, sizes = library.file_sizes()
            assert sorted(ids.tolist()) == sorted(plain + shots) and len(sizes) == 6
            assert found.made() == 2
    kept = set(zip(pairs.a.tolist(), pairs.b.tolist(), strict=True))
    assert tuple(plain[:2]) in kept
    assert tuple(shots) not in kept  # two exposures: similar shots, not copies


# ----------------------------------------------------------------- the kept copy of the rows


def _spy(catalog, monkeypatch) -> list[str]:
    """The statements ``catalog`` runs from now on."""
    statements: list[str] = []
    real = catalog._db

    class Spy:
        def __getattr__(self, name):
            return getattr(real, name)

        def execute(self, sql, *args):
            statements.append(sql)
            return real.execute(sql, *args)

    monkeypatch.setattr(catalog, "_db", Spy())
    return statements


def _read_images(statements: list[str]) -> bool:
    return any("FROM images" in s for s in statements)


def test_a_second_reading_takes_the_kept_copy_of_the_rows(catalog, monkeypatch):
    monkeypatch.setattr(store, "KEEP_ROWS_FROM", 3)
    photos = [features(f"/lib/{k}.jpg", (1 << 63) | k, size=k) for k in range(4)]
    catalog.add_results([*photos, FileFailure("/lib/bad.jpg", 1, 2, "truncated JPEG")], 1)
    catalog.add_results([_captured("/lib/shot.jpg", 1 << 63, "5")], 1)
    catalog.add_results([features("/elsewhere/x.jpg", 1 << 63)], 1)
    first = catalog.record_table(["/lib"])  # read, and kept
    statements = _spy(catalog, monkeypatch)
    again = catalog.record_table(["/lib"])
    assert not _read_images(statements)
    assert again == first and list(again) == list(first) and len(again) == 6
    assert again.captured_ids() == first.captured_ids() != []
    # Other folders are read from the table (and become the copy kept).
    assert len(catalog.record_table(["/elsewhere"])) == 1 and _read_images(statements)


def test_any_change_to_an_image_row_outdates_the_kept_copy(catalog, monkeypatch):
    monkeypatch.setattr(store, "KEEP_ROWS_FROM", 1)
    ids = catalog.add_results([features(f"/lib/{k}.jpg", 1 << 63) for k in range(3)], 1)
    changes = [
        lambda: catalog.add_results([features("/lib/new.jpg", 1 << 63)], 1),
        lambda: catalog.set_digests([(ids[0], 1, b"n" * 16)]),
        lambda: catalog.remove([ids[1]]),
        lambda: catalog.execute("UPDATE images SET width = 7 WHERE id = ?", (ids[2],)),
    ]
    before = catalog.record_table(["/lib"])
    for change in changes:
        change()
        after = catalog.record_table(["/lib"])
        assert after != before
        assert after == {r.id: r for r in catalog.all_records(["/lib"])}
        before = after
    assert before[ids[0]].digest == b"n" * 16 and ids[1] not in before
    assert before[ids[2]].width == 7


def test_a_damaged_copy_is_not_decoded(catalog, monkeypatch, caplog):
    monkeypatch.setattr(store, "KEEP_ROWS_FROM", 1)
    catalog.add_results([features(f"/lib/{k}.jpg", 1 << 63) for k in range(3)], 1)
    first = catalog.record_table(["/lib"])
    (blob,) = catalog.execute("SELECT rows FROM record_rows").fetchone()
    damaged = blob[:-40] + bytes(40)
    catalog.execute("UPDATE record_rows SET rows = ?", (damaged,))
    assert catalog_records.unpack_rows(damaged, xxhash_of(blob)) is None
    assert catalog.record_table(["/lib"]) == first
    assert "damaged" in caplog.text
    # A copy in another format (another Python, other columns) is read again, quietly.
    catalog.execute("UPDATE record_rows SET format = 'another'")
    assert catalog.record_table(["/lib"]) == first


def test_small_libraries_keep_no_copy(catalog):
    catalog.add_results([features(f"/lib/{k}.jpg", 1 << 63) for k in range(3)], 1)
    catalog.record_table(["/lib"])
    assert catalog.execute("SELECT count(*) FROM record_rows").fetchone() == (0,)


def test_a_busy_catalog_is_read_without_waiting_to_keep_a_copy(tmp_path, monkeypatch):
    from desktop_app.engine.catalog.store import Catalog

    monkeypatch.setattr(store, "KEEP_ROWS_FROM", 1)
    path = tmp_path / "c.sqlite"
    with Catalog(path, timeout=30) as catalog, Catalog(path) as writer:
        catalog.add_results([features(f"/lib/{k}.jpg", 1 << 63) for k in range(3)], 1)
        with writer.transaction():  # another connection holds the write lock
            started = time.perf_counter()
            assert len(catalog.record_table(["/lib"])) == 3
            assert time.perf_counter() - started < 5  # not the 30 s timeout
        assert catalog.execute("SELECT count(*) FROM record_rows").fetchone() == (0,)
        assert catalog.execute("PRAGMA busy_timeout").fetchone() == (30_000,)
        catalog.record_table(["/lib"])  # free now: kept
        assert catalog.execute("SELECT count(*) FROM record_rows").fetchone() == (1,)


def xxhash_of(blob: bytes) -> bytes:
    import xxhash

    return xxhash.xxh3_128_digest(blob)
