"""Real libraries: other applications' files are left alone, an unplugged drive loses
nothing, and both are said on the command line."""

from __future__ import annotations

import shutil
from pathlib import Path

import pytest

from desktop_app.cli import main
from desktop_app.demo import synthetic_photo
from desktop_app.engine.catalog.store import Catalog
from desktop_app.engine.config import EngineConfig
from desktop_app.engine.library import Library
from desktop_app.engine.scan import scanner

#: Photos inside other applications' libraries and caches, and system folders.
OTHER_APPS = (
    "Lightroom Catalog Smart Previews.lrdata/3/3A1F/p.jpg",
    "Lightroom Catalog Previews.lrdata/0/000/q.jpg",
    "Old.lrcat-data/r.jpg",
    "Photos Library.photoslibrary/originals/0/s.jpg",
    "Aperture Library.aplibrary/Masters/t.jpg",
    "Session/CaptureOne/Cache/Proxies/u.jpg",
    "Capture One Catalog.cocatalog/Cache/Thumbnails/v.jpg",
    "darktable/mipmaps-1a2b.d/0/w.jpg",
    "album/.dtrash/files/x.jpg",
    "album/.thumbnails/large/y.jpg",
    "album/._a.jpg",
    "#recycle/z.jpg",
    ".Trash-1000/files/b.jpg",
)


def _photo(path: Path, seed: int) -> Path:
    path.parent.mkdir(parents=True, exist_ok=True)
    synthetic_photo(seed, (96, 72)).save(path, "JPEG", quality=90)
    return path


def _paths(library: Library) -> list[str]:
    return sorted(r.path for r in library.records().values())


@pytest.fixture
def library(tmp_path: Path) -> Path:
    root = tmp_path / "photos"
    _photo(root / "album" / "a.jpg", 1)
    _photo(root / "album" / "b.jpg", 2)
    for n, relative in enumerate(OTHER_APPS):
        _photo(root / relative, 10 + n)
    _photo(root / "Private" / "mine.jpg", 40)
    return root


def test_other_applications_libraries_are_left_out_and_listed(library, tmp_path, capsys):
    catalog = tmp_path / "catalog.sqlite"
    options = ["--include-hidden", "--exclude", "private", "--exclude", "*.nothing"]
    code = main(["scan", str(library), "--catalog", str(catalog), "--workers", "0", *options])
    out = capsys.readouterr().out
    assert code == 0
    with Library([str(library)], catalog=catalog, config=EngineConfig(workers=0)) as opened:
        assert _paths(opened) == [str(library / "album" / n) for n in ("a.jpg", "b.jpg")]
    assert "Left out 14 folders and files" in out
    for relative in OTHER_APPS:
        top = relative.split("/")[0]
        assert any(line.strip().startswith(str(library / top)) for line in out.splitlines())
    assert f"  {library / 'Private'}\n" in out


def test_the_walk_leaves_other_applications_libraries_out_by_default(library):
    state = scanner._Walk()
    found = [f.path for f in scanner.walk(str(library), EngineConfig(workers=0), state)]
    want = ["Private/mine.jpg", "album/a.jpg", "album/b.jpg"]
    assert sorted(found) == [str(library / w) for w in want]
    assert str(library / "Photos Library.photoslibrary") in state.skipped


def test_an_unplugged_drive_keeps_its_photos_offline(library, tmp_path, capsys):
    catalog = tmp_path / "catalog.sqlite"
    args = ["--catalog", str(catalog), "--workers", "0"]
    assert main(["scan", str(library), *args]) == 0
    with Catalog(catalog) as opened:
        before = opened.count()
    assert before[0] == 3
    # The drive is unplugged: its mount point is an empty folder.
    plugged = tmp_path / "elsewhere"
    shutil.move(library, plugged)
    library.mkdir()
    capsys.readouterr()
    assert main(["scan", str(library), *args]) == 0
    out = capsys.readouterr().out
    assert f"Offline: {library} is missing or empty" in out
    assert "0 removed" in out
    with Catalog(catalog) as opened:
        assert opened.count() == before
    # Or there is no folder at all: the library still opens, and says so.
    library.rmdir()
    assert main(["groups", str(library), *args]) == 0
    captured = capsys.readouterr()
    assert f"Offline: {library}" in captured.err
    with Library([str(library)], catalog=catalog, config=EngineConfig(workers=0)) as opened:
        assert opened.offline() == (str(library),)
        assert len(_paths(opened)) == 3
    # Plugged back in: nothing to hash again.
    shutil.move(plugged, library)
    assert main(["scan", str(library), *args]) == 0
    assert "0 new, 0 changed, 0 removed, 3 unchanged" in capsys.readouterr().out
    # Forgetting is the user's explicit choice.
    shutil.rmtree(library)
    library.mkdir()
    assert main(["scan", str(library), *args]) == 0
    with Catalog(catalog) as opened:
        assert opened.count() == before
    assert main(["scan", "--forget-missing", str(library), *args]) == 0
    assert "3 removed" in capsys.readouterr().out
    with Catalog(catalog) as opened:
        assert opened.count() == (0, 0)


def test_an_unknown_missing_folder_is_still_a_typo(tmp_path, capsys):
    code = main(["scan", str(tmp_path / "nope"), "--catalog", str(tmp_path / "c.sqlite")])
    assert code == 2 and "No such folder" in capsys.readouterr().err
