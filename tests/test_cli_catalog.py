"""A catalog that is locked, damaged or from a newer version: one clear line, and
``doppel rebuild-catalog``, which keeps the user's data and never touches a photo."""

from __future__ import annotations

import hashlib
import os
import sqlite3
from pathlib import Path

import pytest

from desktop_app.cli import main
from desktop_app.demo import synthetic_photo, write_variant
from desktop_app.engine.catalog.schema import SCHEMA_VERSION
from desktop_app.engine.catalog.store import Catalog


@pytest.fixture
def photos(tmp_path: Path) -> Path:
    root = tmp_path / "photos"
    archive = root / "archive"
    archive.mkdir(parents=True)
    picture = synthetic_photo(70, (320, 213))
    picture.save(archive / "a.jpg", quality=92)
    write_variant(picture, "png", root / "a copy")
    synthetic_photo(71, (320, 213)).save(root / "b.jpg", quality=92)
    return root


def snapshot(root: Path) -> dict[str, tuple[str, int, int]]:
    """Every file below ``root``: digest, size and modification time."""
    out = {}
    for path in sorted(root.rglob("*")):
        if path.is_file():
            info = path.stat()
            out[str(path)] = (
                hashlib.sha256(path.read_bytes()).hexdigest(),
                info.st_size,
                info.st_mtime_ns,
            )
    return out


def run(capsys: pytest.CaptureFixture[str], *argv: str) -> tuple[int, str, str]:
    code = main([*argv, "--workers", "0"])
    out, err = capsys.readouterr()
    return code, out, err


def scanned_catalog(photos: Path, path: Path, capsys: pytest.CaptureFixture[str]) -> None:
    assert run(capsys, "scan", str(photos), "--catalog", str(path))[0] == 0
    with Catalog(path) as catalog:
        catalog.set_reference(str(photos.resolve() / "archive"), True)


def damage(path: Path) -> None:
    """Overwrite the pages of the images table with garbage; the rest stays readable."""
    with sqlite3.connect(path) as db:
        db.execute("PRAGMA wal_checkpoint(TRUNCATE)")
        page_size = db.execute("PRAGMA page_size").fetchone()[0]
        root_page = db.execute("SELECT rootpage FROM sqlite_master WHERE name='images'").fetchone()[
            0
        ]
    with open(path, "r+b") as file:
        file.seek((root_page - 1) * page_size)
        file.write(b"\xde\xad\xbe\xef" * (page_size // 4))


def test_a_damaged_catalog_gives_one_line_and_can_be_rebuilt(
    photos: Path, tmp_path: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    path = tmp_path / "catalog.sqlite"
    scanned_catalog(photos, path, capsys)
    before = snapshot(photos)
    damage(path)
    code, out, err = run(capsys, "groups", str(photos), "--catalog", str(path))
    assert code == 1 and out == ""
    lines = err.strip().splitlines()
    assert len(lines) == 1 and "Traceback" not in err
    assert "damaged" in lines[0] and f"doppel rebuild-catalog --catalog {path}" in lines[0]

    code, out, _ = run(capsys, "rebuild-catalog", "--catalog", str(path))
    assert code == 0
    assert "No photo was touched" in out
    aside = [p for p in tmp_path.iterdir() if p.name.startswith("catalog.sqlite.damaged-")]
    assert any(p.name.endswith(tuple("0123456789")) for p in aside)  # set aside, not deleted
    with Catalog(path) as fresh:
        roots = {r.path: r.reference for r in fresh.roots()}
    assert roots == {
        str(photos.resolve()): False,
        str(photos.resolve() / "archive"): True,
    }
    code, out, _ = run(capsys, "groups", str(photos), "--catalog", str(path), "--json")
    assert code == 0 and '"extra_copies": 1' in out  # scanned again, works again
    assert snapshot(photos) == before


def test_a_catalog_from_a_newer_version(
    photos: Path, tmp_path: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    path = tmp_path / "catalog.sqlite"
    scanned_catalog(photos, path, capsys)
    before = snapshot(photos)
    with sqlite3.connect(path) as db:
        db.execute(f"PRAGMA user_version={SCHEMA_VERSION + 1}")
    code, _, err = run(capsys, "pairs", str(photos), "--catalog", str(path))
    assert code == 1 and len(err.strip().splitlines()) == 1
    assert "newer version of Doppel" in err and "doppel rebuild-catalog" in err
    assert run(capsys, "rebuild-catalog", "--catalog", str(path))[0] == 0
    with Catalog(path) as fresh:
        assert {r.path: r.reference for r in fresh.roots()}[
            str(photos.resolve() / "archive")
        ] is True
    assert run(capsys, "pairs", str(photos), "--catalog", str(path))[0] == 0
    assert snapshot(photos) == before


def test_a_catalog_locked_by_another_program(
    photos: Path,
    tmp_path: Path,
    capsys: pytest.CaptureFixture[str],
    monkeypatch: pytest.MonkeyPatch,
) -> None:
    path = tmp_path / "catalog.sqlite"
    scanned_catalog(photos, path, capsys)
    before = snapshot(photos)
    monkeypatch.setattr(
        Catalog.__init__, "__kwdefaults__", {"timeout": 0.2, "hold_open_lock": True}
    )
    holder = sqlite3.connect(path, isolation_level=None)
    holder.execute("BEGIN EXCLUSIVE")
    try:
        code, _, err = run(capsys, "scan", str(photos), "--catalog", str(path))
        assert code == 1 and len(err.strip().splitlines()) == 1
        assert "in use by another program" in err
        # Rebuilding under another program's feet is refused: it would go on writing to
        # the file set aside.
        code, _, err = run(capsys, "rebuild-catalog", "--catalog", str(path))
        assert code == 1 and "in use by another program" in err
        assert not [p for p in tmp_path.iterdir() if ".damaged-" in p.name]
    finally:
        holder.execute("ROLLBACK")
        holder.close()
    assert run(capsys, "scan", str(photos), "--catalog", str(path))[0] == 0
    assert snapshot(photos) == before


def test_rebuild_without_a_catalog_creates_one(
    tmp_path: Path, capsys: pytest.CaptureFixture[str], monkeypatch: pytest.MonkeyPatch
) -> None:
    path = tmp_path / "new" / "catalog.sqlite"
    monkeypatch.setenv("DOPPEL_CATALOG", str(path))
    code, out, _ = run(capsys, "rebuild-catalog")
    assert code == 0 and "no catalog" in out
    listed = [n for n in os.listdir(path.parent) if not n.endswith("-lock")]  # lockfile.py
    assert path.exists() and listed == ["catalog.sqlite"]
