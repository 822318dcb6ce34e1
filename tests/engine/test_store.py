"""The catalog: rows, scopes, failures, schema checks and error translation."""

import os
import sqlite3
from typing import Any

import numpy as np
import pytest

from desktop_app.engine.catalog.rebuild import rebuild_catalog
from desktop_app.engine.catalog.schema import SCHEMA_VERSION
from desktop_app.engine.catalog.store import Catalog, default_catalog_path
from desktop_app.engine.errors import CatalogCorrupt, CatalogLocked, CatalogTooNew
from desktop_app.engine.types import Capture, FileFailure, ImageFeatures, ImageRecord

from .factories import features


def test_results_are_stored_and_read_back(catalog):
    ids = catalog.add_results(
        [
            features("/lib/a.jpg", 0x8000_0000_0000_0001),
            FileFailure("/lib/bad.jpg", 12, 5, "truncated JPEG"),
            FileFailure("/lib/gone.jpg", 1, 1, "vanished", gone=True),
        ],
        hash_version=3,
    )
    assert len(ids) == 2
    records = catalog.records(ids)
    good, bad = records[ids[0]], records[ids[1]]
    assert good.path == "/lib/a.jpg" and good.phash == 0x8000_0000_0000_0001
    assert good.error is None and good.width == 64
    assert bad.phash is None and bad.error == "truncated JPEG"
    assert catalog.count() == (1, 1)
    assert catalog.failures() == [FileFailure("/lib/bad.jpg", 12, 5, "truncated JPEG")]
    known = catalog.known_files("/lib")
    assert set(known) == {"/lib/a.jpg", "/lib/bad.jpg"}
    assert known["/lib/a.jpg"].hash_version == 3


def test_every_field_of_a_record_comes_back(catalog):
    # Records are made positionally from the row (the opening of a library makes one per
    # photo): each field must land where it belongs.
    capture = Capture(taken="2024-05-01T13:45:10", subsec="120", make="Canon", iso=200)
    name = os.fsdecode(b"/lib/caf\xe9.jpg")
    fields: dict[str, Any] = {
        "path": name,
        "size": 123,
        "mtime_ns": 456,
        "digest": b"d" * 16,
        "phash": (1 << 64) - 2,
        "width": 6000,
        "height": 4000,
        "format": "JPEG",
        "taken": "2024-05-01T13:45:10",
        "camera": "Canon EOS R5",
        "content_width": 5900,
        "content_height": 3900,
        "capture": capture,
        "pixel_digest": b"p" * 16,
        "sharpness": 12.5,
        "greyscale": True,
        "brightness": 99.5,
    }
    photo = ImageFeatures(**fields)
    ids = catalog.add_results([photo, FileFailure("/lib/bad.jpg", 7, 8, "truncated JPEG")], 1)
    expected = ImageRecord(id=ids[0], **fields)
    failed = ImageRecord(
        id=ids[1],
        path="/lib/bad.jpg",
        size=7,
        mtime_ns=8,
        digest=None,
        phash=None,
        width=0,
        height=0,
        format=None,
        taken=None,
        camera=None,
        error="truncated JPEG",
    )
    assert catalog.records(ids) == {ids[0]: expected, ids[1]: failed}
    assert catalog.all_records(["/lib"]) == [failed, expected]  # path order: b < c
    assert catalog.record_at(name) == expected


def test_a_changed_file_gets_a_new_id(catalog):
    (old,) = catalog.add_results([features("/lib/a.jpg", 1 << 63)], 1)
    (new,) = catalog.add_results([features("/lib/a.jpg", (1 << 63) | 7)], 1, replace=[old])
    assert new > old
    assert catalog.records([old, new]).keys() == {new}


def test_ids_are_never_reused(catalog):
    (first,) = catalog.add_results([features("/lib/a.jpg", 1 << 63)], 1)
    catalog.remove([first])
    (second,) = catalog.add_results([features("/lib/a.jpg", 1 << 63)], 1)
    assert second > first
    assert catalog.max_id() == second


def test_scopes_select_folders_not_name_prefixes(catalog):
    catalog.add_results(
        [
            features("/photos/a.jpg", 1 << 63),
            features("/photos/sub/b.jpg", 1 << 63),
            features("/photos2/c.jpg", 1 << 63),
            features("/photos-old/d.jpg", 1 << 63),
        ],
        1,
    )
    inside = [r.path for r in catalog.all_records(["/photos"])]
    assert inside == ["/photos/a.jpg", "/photos/sub/b.jpg"]
    assert catalog.count(["/photos2", "/photos-old"]) == (2, 0)
    assert catalog.count([]) == (0, 0)
    assert catalog.count(["/"]) == (4, 0)


def test_undecodable_file_names_survive(catalog):
    name = os.fsdecode(b"/lib/caf\xe9.jpg")  # Latin-1 bytes, not valid UTF-8
    (image_id,) = catalog.add_results([features(name, 1 << 63)], 1)
    assert catalog.records([image_id])[image_id].path == name
    assert os.fsencode(catalog.all_records(["/lib"])[0].path) == b"/lib/caf\xe9.jpg"


def test_hashes_come_back_as_unsigned_arrays(catalog):
    values = [0, 1, (1 << 63) - 1, 1 << 63, (1 << 64) - 1]
    catalog.add_results([features(f"/l/{i}.jpg", v) for i, v in enumerate(values)], 1)
    ids, hashes, variants = catalog.hashes()
    assert hashes.dtype == np.uint64
    assert hashes.tolist() == values
    assert ids.tolist() == sorted(ids.tolist())
    assert variants is None


def test_variants_are_stored_when_present(catalog):
    variants = tuple(range(100, 108))
    catalog.add_results([features("/l/a.jpg", 100, variants=variants)], 1)
    _, _, table = catalog.hashes(variants=True)
    assert table is not None and table.tolist() == [list(variants)]


def test_roots_and_reference_flags(catalog):
    root = catalog.add_root("/photos")
    assert catalog.add_root("/photos") == root  # idempotent
    assert root.scanned_ns is None and not root.reference
    catalog.mark_scanned("/photos", 42)
    catalog.set_reference("/archive", True)
    roots = {r.path: r for r in catalog.roots()}
    assert roots["/photos"].scanned_ns == 42
    assert roots["/archive"].reference


def test_meta_values(catalog):
    assert catalog.get_meta("nothing", "x") == "x"
    catalog.set_meta("k", "1")
    catalog.set_meta("k", "2")
    assert catalog.get_meta("k") == "2"
    assert catalog.meta_int("k", 0) == 2


def test_a_failed_transaction_leaves_nothing_behind(catalog):
    with pytest.raises(RuntimeError), catalog.transaction() as db:
        db.execute(
            "INSERT INTO images(path, size, mtime_ns, hash_version) VALUES(x'2f61', 1, 1, 1)"
        )
        raise RuntimeError("crash in the middle of a batch")
    assert catalog.count() == (0, 0)


def test_default_location_honours_the_environment(monkeypatch, tmp_path):
    monkeypatch.setenv("DOPPEL_CATALOG", str(tmp_path / "x.sqlite"))
    assert default_catalog_path() == tmp_path / "x.sqlite"
    monkeypatch.delenv("DOPPEL_CATALOG")
    assert default_catalog_path().name == "catalog.sqlite"


def test_a_file_catalog_uses_wal(tmp_path):
    with Catalog(tmp_path / "c.sqlite") as catalog:
        assert catalog.execute("PRAGMA journal_mode").fetchone()[0] == "wal"
        assert catalog.check() == []


def test_garbage_is_reported_as_a_damaged_catalog(tmp_path):
    path = tmp_path / "catalog.sqlite"
    path.write_bytes(b"this is not a database" * 200)
    with pytest.raises(CatalogCorrupt, match="damaged"):
        Catalog(path)


def test_another_programs_database_is_not_taken_over(tmp_path):
    path = tmp_path / "other.sqlite"
    with sqlite3.connect(path) as db:
        db.execute("CREATE TABLE t(x)")
    with pytest.raises(CatalogCorrupt, match="not a Doppel catalog"):
        Catalog(path)
    with sqlite3.connect(path) as db:
        assert db.execute("SELECT count(*) FROM t").fetchone() == (0,)


def test_a_newer_schema_is_refused_not_downgraded(tmp_path):
    path = tmp_path / "catalog.sqlite"
    Catalog(path).close()
    with sqlite3.connect(path) as db:
        db.execute(f"PRAGMA user_version={SCHEMA_VERSION + 1}")
    with pytest.raises(CatalogTooNew, match="newer version"):
        Catalog(path)


def test_a_lock_held_elsewhere_is_reported_after_the_timeout(tmp_path):
    path = tmp_path / "catalog.sqlite"
    Catalog(path).close()
    holder = sqlite3.connect(path, isolation_level=None)
    holder.execute("BEGIN EXCLUSIVE")
    try:
        with Catalog(path, timeout=0.2) as catalog, pytest.raises(CatalogLocked, match="in use"):
            catalog.add_root("/photos")
    finally:
        holder.execute("ROLLBACK")
        holder.close()


def test_rebuild_keeps_user_data_and_sets_the_old_file_aside(tmp_path):
    path = tmp_path / "catalog.sqlite"
    with Catalog(path) as catalog:
        catalog.set_reference("/archive", True)
        catalog.mark_scanned("/archive", 99)
        catalog.set_meta("preset", "mine")
        catalog.add_results([features("/archive/a.jpg", 1 << 63)], 1)
        catalog.index.sync()
    aside = rebuild_catalog(path)
    assert aside is not None and aside.exists() and aside.name.startswith("catalog.sqlite.damaged-")
    with Catalog(path) as fresh:
        roots = fresh.roots()
        assert [(r.path, r.reference, r.scanned_ns) for r in roots] == [("/archive", True, None)]
        assert fresh.get_meta("preset") == "mine"
        assert fresh.get_meta("index_watermark") is None
        assert fresh.count() == (0, 0)


def test_rebuild_of_a_garbage_file_gives_a_working_catalog(tmp_path):
    path = tmp_path / "catalog.sqlite"
    path.write_bytes(b"\0garbage" * 1000)
    aside = rebuild_catalog(path)
    assert aside is not None and aside.read_bytes().startswith(b"\0garbage")
    with Catalog(path) as fresh:
        assert fresh.check() == []


def test_ids_in_path_order_match_the_records(catalog):
    catalog.add_results([features(f"/lib/{n}.jpg", 1 << 63) for n in "dbca"], 1)
    catalog.add_results([FileFailure("/lib/e.jpg", 1, 1, "truncated JPEG")], 1)
    assert catalog.ids_in_path_order(["/lib"]).tolist() == [
        r.id for r in catalog.all_records(["/lib"])
    ]
