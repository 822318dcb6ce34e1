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
