"""The thumbnail loader: decoding off the GUI thread, orientation, cache and errors."""

from __future__ import annotations

import pytest
from PIL import Image
from PySide6.QtGui import QImage

from desktop_app.gui.groups.thumbnails import ThumbnailLoader
from tests.gui.factories import scene, write_photo


@pytest.fixture
def loader(qtbot):
    made = ThumbnailLoader(max_side=100, threads=2)
    yield made
    made.shutdown()


def test_loads_a_thumbnail_off_the_gui_thread(qtbot, loader, tmp_path):
    path = str(write_photo(tmp_path / "a.jpg", seed=1, size=(400, 300)))
    assert loader.pixmap(path) is None  # placeholder first
    with qtbot.waitSignal(loader.loaded, timeout=5000) as blocker:
        pass
    key, image = blocker.args
    assert key == path
    assert isinstance(image, QImage)
    assert (image.width(), image.height()) == (100, 75)
    assert loader.pixmap(path) is not None


def test_exif_orientation_is_applied(qtbot, loader, tmp_path):
    path = tmp_path / "rotated.jpg"
    exif = Image.Exif()
    exif[0x0112] = 6  # stored landscape, displayed portrait
    scene(2, (400, 300)).save(path, exif=exif)
    with qtbot.waitSignal(loader.loaded, timeout=5000) as blocker:
        loader.request(str(path))
    image = blocker.args[1]
    assert image.height() > image.width()


def test_an_unreadable_file_fails_once(qtbot, loader, tmp_path):
    path = tmp_path / "notes.jpg"
    path.write_text("not a photo")
    with qtbot.waitSignal(loader.failed, timeout=5000) as blocker:
        loader.request(str(path))
    assert blocker.args[0] == str(path)
    assert loader.error(str(path))
    with qtbot.assertNotEmitted(loader.failed, wait=100):
        loader.request(str(path))


def test_cache_evicts_least_recently_used(qtbot, tmp_path):
    loader = ThumbnailLoader(max_side=100, cache_bytes=100 * 75 * 4 * 2, threads=1)
    try:
        paths = [str(write_photo(tmp_path / f"{k}.jpg", seed=k, size=(400, 300))) for k in range(3)]
        for path in paths:
            with qtbot.waitSignal(loader.loaded, timeout=5000):
                loader.request(path)
        assert loader.pixmap(paths[0]) is None  # evicted, and asked again
        assert loader.pixmap(paths[2]) is not None
    finally:
        loader.shutdown()


def test_drop_queued_forgets_requests_not_started(qtbot, tmp_path):
    loader = ThumbnailLoader(max_side=100, threads=1)
    try:
        paths = [str(write_photo(tmp_path / f"{k}.jpg", seed=k)) for k in range(20)]
        got: list[str] = []
        loader.loaded.connect(lambda key, _: got.append(key))
        for path in paths:
            loader.request(path)
        loader.drop_queued()
        qtbot.wait(300)
        assert len(got) < len(paths)
    finally:
        loader.shutdown()


def test_thumbnails_are_kept_on_disk_and_read_back(qtbot, tmp_path, monkeypatch):
    from desktop_app.engine.imaging import thumbcache

    path = str(write_photo(tmp_path / "b.jpg", seed=3, size=(800, 600)))
    first = ThumbnailLoader(max_side=200, threads=1)
    with qtbot.waitSignal(first.loaded, timeout=5000):
        first.request(path)
    first.shutdown()
    cached = thumbcache.cache_path(path, 200)
    assert cached.is_file() and cached.parent.name == "large"
    assert str(cached).startswith(str(tmp_path))  # the test's XDG_CACHE_HOME, not the user's

    def no_decoding(*args, **kwargs):
        raise AssertionError("decoded again")

    monkeypatch.setattr(thumbcache, "open_oriented", no_decoding)
    again = ThumbnailLoader(max_side=200, threads=1)  # a new window: an empty memory cache
    with qtbot.waitSignal(again.loaded, timeout=5000) as blocker:
        again.request(path)
    again.shutdown()
    assert (blocker.args[1].width(), blocker.args[1].height()) == (200, 150)
