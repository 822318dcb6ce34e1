"""Schema migrations keep the cache usable and the user's data whole."""

import sqlite3
from dataclasses import replace

from desktop_app.engine.catalog import schema
from desktop_app.engine.catalog.store import Catalog

from .factories import features


def _catalog_at(path, version):
    """A catalog file as the given schema version wrote it, with one photo and one root."""
    db = sqlite3.connect(path, isolation_level=None)
    db.execute("BEGIN")
    for step in range(version):
        schema.STEPS[step](db)
    db.execute(
        "INSERT INTO images(path, size, mtime_ns, hash_version, digest, phash, width, height)"
        " VALUES(x'2f6c69622f612e6a7067', 10, 20, 1, x'00', -5, 640, 480)"
    )
    db.execute("INSERT INTO roots(path, added_ns, reference) VALUES(x'2f6c6962', 1, 1)")
    db.execute(f"PRAGMA user_version={version}")
    db.execute("COMMIT")
    db.close()


def test_every_older_version_migrates_to_the_current_one(tmp_path):
    for version in range(1, schema.SCHEMA_VERSION):
        path = tmp_path / f"v{version}.sqlite"
        _catalog_at(path, version)
        with Catalog(path) as catalog:
            assert catalog.execute("PRAGMA user_version").fetchone()[0] == schema.SCHEMA_VERSION
            (record,) = catalog.all_records()
            assert (record.path, record.width, record.height) == ("/lib/a.jpg", 640, 480)
            # Rows from before version 3 do not know their picture size: the whole frame.
            assert record.content_width is None and record.picture_pixels == 640 * 480
            (root,) = catalog.roots()
            assert root.reference


def test_the_picture_size_is_stored_with_the_photo(catalog):
    framed = replace(
        features("/lib/framed.jpg", 1 << 63, width=1600, height=1323),
        content_width=1600,
        content_height=1067,
    )
    (image_id,) = catalog.add_results([framed], 1)
    record = catalog.records([image_id])[image_id]
    assert record.picture_size == (1600, 1067)
    assert record.picture_pixels == 1600 * 1067 < record.pixels


def test_version_9_packs_the_verdicts_a_version_8_catalog_kept(tmp_path):
    path = tmp_path / "v8.sqlite"
    _catalog_at(path, 8)
    db = sqlite3.connect(path, isolation_level=None)
    db.execute(
        "INSERT INTO geometry_checks(first, second, transform, confirmed, evidence, cropped,"
        " frame) VALUES(?, ?, 3, 1, '[]', '', NULL)",
        (b"f" * 16, b"s" * 16),
    )
    db.close()
    with Catalog(path) as catalog:
        ((keys, flags),) = catalog.execute("SELECT keys, flags FROM geometry_packed").fetchall()
        assert bytes(keys) == b"f" * 16 + b"s" * 16 + (3).to_bytes(8, "little")
        assert bytes(flags) == b"\x01"


def test_version_10_counts_the_changes_to_images_of_a_version_9_catalog(tmp_path):
    path = tmp_path / "v9.sqlite"
    _catalog_at(path, 9)
    with Catalog(path) as catalog:
        counted = lambda: catalog.execute("SELECT count FROM image_changes").fetchone()[0]  # noqa: E731
        assert counted() == 0
        (image_id,) = catalog.add_results([features("/lib/b.jpg", 1 << 63)], 1)
        catalog.set_digests([(image_id, 1, b"d" * 16)])
        catalog.remove([image_id])
        assert counted() == 3
        assert catalog.execute("SELECT count(*) FROM record_rows").fetchone() == (0,)
