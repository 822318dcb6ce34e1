"""A photo opened but not yet decoded, and the size check every decoder makes first.

Shared by the Pillow path (``loading.py``) and the RAW path (``raw.py``).
"""

from __future__ import annotations

from dataclasses import dataclass

from PIL import Image

from desktop_app.engine.errors import UnreadableImage
from desktop_app.engine.imaging.exif import ExifInfo


def check_size(width: int, height: int, max_pixels: int) -> None:
    """Refuse a decompression bomb from its header dimensions, before any decoding.

    Args:
        width: Width the header claims.
        height: Height the header claims.
        max_pixels: The largest pixel count we agree to decode.

    Raises:
        UnreadableImage: The image is larger than ``max_pixels`` (the path is filled in
            by the caller's handler).
    """
    if width <= 0 or height <= 0:
        raise UnreadableImage("", f"invalid image size: {width} x {height} pixels")
    if width * height > max_pixels:
        raise UnreadableImage("", f"image too large: {width} x {height} pixels")


@dataclass(frozen=True, slots=True)
class OpenedImage:
    """A photo opened but (where the format allows) not yet decoded.

    Attributes:
        image: The Pillow image; still lazy for JPEG, so that ``draft`` can be applied.
        format: The format to show the user ("JPEG", "PNG", "HEIF", "NEF", ...).
        width: Displayed width (after EXIF orientation) of the full-size picture.
        height: Displayed height.
        exif: Date taken and camera, and the orientation still to apply to ``image``.
    """

    image: Image.Image
    format: str
    width: int
    height: int
    exif: ExifInfo
