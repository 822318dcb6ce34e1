"""Thumbnails on disk, in the freedesktop.org Thumbnail Managing Standard's layout."""

from __future__ import annotations

import hashlib
import os
from pathlib import Path

import pytest
from PIL import Image

from desktop_app.demo import synthetic_photo
from desktop_app.engine.imaging import thumbcache


@pytest.fixture(autouse=True)
def cache_home(tmp_path, monkeypatch):
    folder = tmp_path / "cache"
    monkeypatch.setenv("XDG_CACHE_HOME", str(folder))
    return folder


def _photo(path: Path, seed: int = 1) -> Path:
    path.parent.mkdir(parents=True, exist_ok=True)
    synthetic_photo(seed, (1200, 800)).save(path, "JPEG")
    return path


def test_a_thumbnail_is_written_where_file_managers_look(tmp_path, cache_home):
    photo = _photo(tmp_path / "photos" / "a photo #1.jpg")
    image = thumbcache.thumbnail(str(photo), 320)
    assert image.size == (320, 213)
    uri = photo.resolve().as_uri()
    assert "%20" in uri and "%23" in uri  # percent-encoded, as the standard keys it
    name = hashlib.md5(uri.encode()).hexdigest() + ".png"
    cached = cache_home / "thumbnails" / "x-large" / name
    with Image.open(cached) as png:
        assert png.format == "PNG" and max(png.size) == 512
        assert png.text["Thumb::URI"] == uri
        assert png.text["Thumb::MTime"] == str(int(photo.stat().st_mtime))
    assert cached.stat().st_mode & 0o777 == 0o600
    assert (cache_home / "thumbnails" / "x-large").stat().st_mode & 0o777 == 0o700


def test_a_fresh_thumbnail_is_read_back_without_decoding_the_photo(tmp_path, monkeypatch):
    photo = _photo(tmp_path / "b.jpg")
    first = thumbcache.thumbnail(str(photo), 128)

    def no_decoding(*args, **kwargs):
        raise AssertionError("decoded again")

    monkeypatch.setattr(thumbcache, "open_oriented", no_decoding)
    again = thumbcache.thumbnail(str(photo), 128)
    assert again.size == first.size == (128, 85)
    assert thumbcache.cache_path(str(photo), 128).parent.name == "normal"


def test_a_changed_photo_gets_a_new_thumbnail(tmp_path):
    photo = _photo(tmp_path / "c.jpg", seed=1)
    before = thumbcache.thumbnail(str(photo), 256)
    _photo(photo, seed=2)
    os.utime(photo, (1_000_000_000, 1_000_000_000))  # another modification time
    assert thumbcache.load_cached(str(photo), 256) is None  # stale
    after = thumbcache.thumbnail(str(photo), 256)
    assert after.tobytes() != before.tobytes()
    with Image.open(thumbcache.cache_path(str(photo), 256)) as png:
        assert png.text["Thumb::MTime"] == "1000000000"


def test_a_damaged_cache_file_is_a_miss_and_is_replaced(tmp_path):
    photo = _photo(tmp_path / "d.jpg")
    where = thumbcache.cache_path(str(photo), 256)
    where.parent.mkdir(parents=True)
    where.write_bytes(b"\x89PNG\r\n\x1a\n truncated")
    assert thumbcache.load_cached(str(photo), 256) is None
    thumbcache.thumbnail(str(photo), 256)
    assert thumbcache.load_cached(str(photo), 256) is not None


def test_a_relative_cache_home_is_ignored(monkeypatch, tmp_path):
    monkeypatch.setenv("XDG_CACHE_HOME", "relative/cache")
    monkeypatch.setenv("HOME", str(tmp_path / "home"))
    assert thumbcache.cache_root() == tmp_path / "home" / ".cache" / "thumbnails"


def test_an_unwritable_cache_still_gives_the_thumbnail(tmp_path, monkeypatch):
    blocker = tmp_path / "not-a-folder"
    blocker.write_bytes(b"")
    monkeypatch.setenv("XDG_CACHE_HOME", str(blocker))
    photo = _photo(tmp_path / "e.jpg")
    assert thumbcache.thumbnail(str(photo), 128).size == (128, 85)
