"""Thumbnails kept on disk, shared with file managers where the desktop has a standard.

On Linux and the BSDs this is the freedesktop.org Thumbnail Managing Standard:
``$XDG_CACHE_HOME/thumbnails`` (``~/.cache/thumbnails`` when unset) with one folder per
size (``normal`` 128 px, ``large`` 256, ``x-large`` 512, ``xx-large`` 1024), each
thumbnail a PNG named by the MD5 of the photo's ``file://`` URI, carrying the text chunks
``Thumb::URI`` and ``Thumb::MTime`` (the photo's modification time in whole seconds). A
thumbnail whose ``Thumb::MTime`` differs from the photo's is stale and made again, as
the standard says; GNOME Files, Dolphin and others read and write the same files. On
Windows and macOS the same layout lives in the per-user cache folder (platformdirs).

:func:`thumbnail` is what a viewer calls: the cached picture when it is fresh, else a
decode (through :func:`loading.open_oriented`) that is then written to the cache. Writes
go to a temporary name and are renamed into place, so a reader never sees half a PNG;
files are private to the user (0600, folders 0700), as the standard asks. Nothing here
touches the photos.
"""

from __future__ import annotations

import hashlib
import logging
import os
import sys
import tempfile
from pathlib import Path

from PIL import Image, PngImagePlugin

from desktop_app.engine.imaging.loading import open_oriented

log = logging.getLogger(__name__)

#: The standard's size folders, smallest first: (folder, longest side in pixels).
SIZES = (("normal", 128), ("large", 256), ("x-large", 512), ("xx-large", 1024))

_SOFTWARE = "Doppel"


def cache_root() -> Path:
    """The folder holding the size folders.

    ``$XDG_CACHE_HOME/thumbnails`` (``~/.cache/thumbnails``) on freedesktop systems, the
    per-user cache folder's ``thumbnails`` elsewhere.
    """
    if sys.platform.startswith(("win", "darwin")):
        import platformdirs

        return Path(platformdirs.user_cache_dir("Doppel", appauthor=False)) / "thumbnails"
    base = os.environ.get("XDG_CACHE_HOME") or ""
    if not os.path.isabs(base):  # the standard says to ignore a relative value
        base = os.path.join(os.path.expanduser("~"), ".cache")
    return Path(base) / "thumbnails"


def size_for(max_side: int) -> tuple[str, int]:
    """The smallest standard size at least ``max_side``, or the largest there is."""
    return next((entry for entry in SIZES if entry[1] >= max_side), SIZES[-1])


def file_uri(path: str) -> str:
    """The photo's absolute ``file://`` URI, percent-encoded, as the standard keys it."""
    return Path(os.path.abspath(path)).as_uri()


def cache_path(path: str, max_side: int) -> Path:
    """Where the thumbnail of ``path`` for ``max_side`` lives (whether or not it exists)."""
    folder, _ = size_for(max_side)
    name = hashlib.md5(file_uri(path).encode(), usedforsecurity=False).hexdigest() + ".png"
    return cache_root() / folder / name


def load_cached(path: str, max_side: int) -> Image.Image | None:
    """The cached thumbnail of ``path`` if there is one made from the file as it is now.

    Returns:
        A loaded RGB image with its longest side at most the standard size, or None.
    """
    try:
        mtime = int(os.stat(path).st_mtime)
    except OSError:
        return None
    where = cache_path(path, max_side)
    try:
        with Image.open(where, formats=["PNG"]) as png:
            text = getattr(png, "text", {})
            if text.get("Thumb::URI") != file_uri(path) or text.get("Thumb::MTime") != str(mtime):
                return None  # another file's (MD5 collision) or a stale one
            png.load()
            return png.convert("RGB") if png.mode != "RGB" else png.copy()
    except FileNotFoundError:
        return None
    except Exception:  # an unreadable cache file is a miss; it is overwritten later
        log.debug("unreadable cached thumbnail %s", where, exc_info=True)
        return None


def store(path: str, image: Image.Image, max_side: int, mtime: int) -> Path | None:
    """Write ``image`` (already at most the standard size) as the thumbnail of ``path``.

    Args:
        path: The photo.
        image: Its upright thumbnail.
        max_side: The size asked for (it chooses the folder).
        mtime: The photo's modification time, in whole seconds, as read before decoding.

    Returns:
        Where it was written, or None if the cache folder cannot be written to (a
        read-only home: the viewer just decodes again next time).
    """
    where = cache_path(path, max_side)
    if os.path.abspath(path).startswith(str(cache_root()) + os.sep):
        return None  # never thumbnail the thumbnails
    info = PngImagePlugin.PngInfo()
    info.add_text("Thumb::URI", file_uri(path))
    info.add_text("Thumb::MTime", str(mtime))
    info.add_text("Software", _SOFTWARE)
    try:
        info.add_text("Thumb::Size", str(os.stat(path).st_size))
        where.parent.mkdir(mode=0o700, parents=True, exist_ok=True)
        handle, temporary = tempfile.mkstemp(prefix=".doppel-", suffix=".png", dir=where.parent)
        try:
            with os.fdopen(handle, "wb") as stream:
                image.save(stream, "PNG", pnginfo=info, compress_level=1)
            os.chmod(temporary, 0o600)
            os.replace(temporary, where)
        except BaseException:
            os.unlink(temporary)
            raise
    except OSError as error:
        log.debug("cannot write thumbnail %s: %s", where, error)
        return None
    return where


def thumbnail(path: str, max_side: int) -> Image.Image:
    """The upright RGB thumbnail of ``path`` fitting ``max_side``, from the cache when fresh.

    On a miss the photo is decoded at the standard size that holds ``max_side`` and the
    result is cached for next time (and for file managers).

    Raises:
        UnreadableImage: The photo cannot be read or decoded.
    """
    image = load_cached(path, max_side)
    if image is None:
        try:
            mtime = int(os.stat(path).st_mtime)
        except OSError:
            mtime = None
        _, side = size_for(max_side)
        image = open_oriented(path, side)
        if mtime is not None:
            store(path, image, max_side, mtime)
    if max(image.size) > max_side:
        image.thumbnail((max_side, max_side), Image.Resampling.LANCZOS, reducing_gap=2.0)
    return image
