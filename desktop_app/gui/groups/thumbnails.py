"""Thumbnails decoded off the GUI thread, cached, delivered by signal.

:class:`ThumbnailLoader` owns its own thread pool and an LRU cache. Each request runs
a :class:`_ThumbnailJob` that takes the photo's thumbnail from the disk cache
(``engine/imaging/thumbcache.py``, the freedesktop thumbnail folders on Linux) or
decodes it with Pillow (EXIF-oriented, reduced-scale decode for JPEGs, the embedded
preview of RAW files) and caches it there, and emits a :class:`QImage`; the QImage
becomes a :class:`QPixmap` on the GUI thread only, since pixmaps are GUI-thread
objects (vimiv builds pixmaps in its workers; we don't). Requests are LIFO, so the
rows the user is looking at now come before the ones scrolled past;
:meth:`ThumbnailLoader.drop_queued` drops what is queued when the view changes, and
generation numbers stop jobs that were dequeued just before that from decoding for
nothing.
"""

from __future__ import annotations

import itertools
import logging
import os
from collections import OrderedDict

from PIL import Image
from PySide6.QtCore import QObject, QRunnable, Signal, Slot
from PySide6.QtGui import QImage, QPixmap

from desktop_app.engine.errors import UnreadableImage
from desktop_app.engine.library import THUMBNAIL_SIZES, cached_thumbnail, open_oriented
from desktop_app.gui.common.workers import emit_safely, make_pool, stop_pool

log = logging.getLogger(__name__)

#: Longest side of the thumbnails in the cluster view, in device pixels.
THUMBNAIL_SIDE = 320
#: Memory the thumbnail cache may use, in bytes.
THUMBNAIL_CACHE_BYTES = 192 * 1024 * 1024


def pil_to_qimage(image: Image.Image) -> QImage:
    """A QImage that owns a copy of an RGB Pillow image's pixels (any thread)."""
    rgb = image if image.mode == "RGB" else image.convert("RGB")
    width, height = rgb.size
    data = rgb.tobytes()
    return QImage(data, width, height, 3 * width, QImage.Format.Format_RGB888).copy()


def decode(
    path: str,
    max_side: int | None,
    box: tuple[int, int] | None = None,
    pixel_ratio: float = 1.0,
) -> QImage:
    """Decode a photo upright, scaled to fit ``max_side`` (full size when None).

    Args:
        path: The photo.
        max_side: Longest side of the result, in device pixels.
        box: Further fit the result in this ``(width, height)``, in device pixels, so
            that painting it is a copy rather than a scaling on the GUI thread.
        pixel_ratio: Device pixels per logical pixel of the screen it is for.

    Raises:
        UnreadableImage: The file cannot be read as an image.
    """
    if max_side is not None and max_side <= THUMBNAIL_SIZES[-1][1]:
        image = cached_thumbnail(path, max_side)  # on disk, shared with file managers
    else:
        image = open_oriented(path, max_side)
    if box is not None:
        image.thumbnail(box, Image.Resampling.LANCZOS)
    result = pil_to_qimage(image)
    result.setDevicePixelRatio(pixel_ratio)
    return result


class _ThumbnailJob(QRunnable):
    def __init__(self, loader: ThumbnailLoader, key: str, generation: int) -> None:
        super().__init__()
        self._loader = loader
        self._key = key
        self._generation = generation
        self._max_side = loader.max_side
        self._box = loader.box
        self._ratio = loader.pixel_ratio

    def run(self) -> None:
        if self._generation != self._loader.generation:
            return  # the view moved on after this job was taken from the queue
        try:
            image = decode(self._key, self._max_side, self._box, self._ratio)
        except UnreadableImage as error:
            emit_safely(self._loader._job_done, self._key, error.reason, self._generation)
            return
        except Exception as error:  # a bad photo must never take the window down
            log.exception("Could not make a thumbnail of %s", self._key)
            emit_safely(self._loader._job_done, self._key, str(error), self._generation)
            return
        emit_safely(self._loader._job_done, self._key, image, self._generation)


class ThumbnailLoader(QObject):
    """Loads and caches downscaled photos.

    Args:
        max_side: Longest side of the images made, in device pixels (None: full size).
        cache_bytes: Memory the cache may use.
        threads: Decoding threads (default: all cores but one, for the GUI thread).
        box: Fit the images in this ``(width, height)`` too (device pixels).
        pixel_ratio: Device pixels per logical pixel of the images.
        parent: Owner.

    Signals:
        loaded(str, QImage): An image is ready (the key is the photo's path).
        failed(str, str): A photo could not be decoded, and why.
    """

    loaded = Signal(str, QImage)
    failed = Signal(str, str)
    _job_done = Signal(str, object, int)

    def __init__(
        self,
        max_side: int | None = THUMBNAIL_SIDE,
        cache_bytes: int = THUMBNAIL_CACHE_BYTES,
        threads: int | None = None,
        box: tuple[int, int] | None = None,
        pixel_ratio: float = 1.0,
        parent: QObject | None = None,
    ) -> None:
        super().__init__(parent)
        self.max_side = max_side
        self.box = box
        self.pixel_ratio = pixel_ratio
        if threads is None:
            threads = min(4, max(1, (os.cpu_count() or 2) - 1))
        self.generation = 0
        self._cache_bytes = cache_bytes
        self._used = 0
        self._cache: OrderedDict[str, QPixmap] = OrderedDict()
        self._errors: dict[str, str] = {}
        self._pending: set[str] = set()
        self._priority = itertools.count()
        self._pool = make_pool("doppel-thumbnails", threads, self)
        self._job_done.connect(self._on_job_done)

    def pixmap(self, key: str) -> QPixmap | None:
        """The cached pixmap of ``key``; None (and a load is requested) when not cached."""
        found = self._cache.get(key)
        if found is not None:
            self._cache.move_to_end(key)
            return found
        self.request(key)
        return None

    def error(self, key: str) -> str | None:
        """Why ``key`` could not be decoded, if it could not."""
        return self._errors.get(key)

    def request(self, key: str) -> None:
        """Start loading ``key`` unless it is cached, failed or on its way."""
        if key in self._cache or key in self._errors or key in self._pending:
            return
        self._pending.add(key)
        # Newest first: what was asked for last is what is on screen now.
        self._pool.start(_ThumbnailJob(self, key, self.generation), next(self._priority))

    def drop_queued(self) -> None:
        """Forget every request not started yet (the view changed)."""
        self.generation += 1
        self._pool.clear()
        self._pending.clear()

    def clear_cache(self) -> None:
        """Forget every cached image and error (after a re-scan changed files)."""
        self.drop_queued()
        self._cache.clear()
        self._errors.clear()
        self._used = 0

    def shutdown(self) -> None:
        """Drop queued work and wait for the running decodes."""
        self.drop_queued()
        stop_pool(self._pool)

    @Slot(str, object, int)
    def _on_job_done(self, key: str, result: object, generation: int) -> None:
        self._pending.discard(key)
        if isinstance(result, QImage):
            pixmap = QPixmap.fromImage(result)  # on the GUI thread, as pixmaps must be
            self._store(key, pixmap)
            self.loaded.emit(key, result)
        else:
            self._errors[key] = str(result)
            log.debug("No thumbnail for %s: %s", key, result)
            self.failed.emit(key, str(result))

    def _store(self, key: str, pixmap: QPixmap) -> None:
        old = self._cache.pop(key, None)
        if old is not None:
            self._used -= _cost(old)
        self._cache[key] = pixmap
        self._used += _cost(pixmap)
        while self._used > self._cache_bytes and len(self._cache) > 1:
            _, dropped = self._cache.popitem(last=False)
            self._used -= _cost(dropped)


def _cost(pixmap: QPixmap) -> int:
    return pixmap.width() * pixmap.height() * 4  # device pixels, 4 bytes each
