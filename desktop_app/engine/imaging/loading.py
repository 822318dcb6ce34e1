"""Reading photos: which files are images, and turning their bytes into upright pixels.

Everything that opens a photo goes through here: the hasher (``hashing.py``) for the
scan, and the GUI for thumbnails, previews and the compare view (:func:`open_oriented`).
A file is always read into memory first and decoded from those bytes, so that the digest
and the pixels come from the same read and no file handle outlives the call.

Formats are recognised by their magic bytes (:func:`sniff_format`, in ``formats.py``),
never trusted from the extension alone; pixel modes are converted in ``pixels.py``. Both
are re-exported here. HEIF/HEIC goes through pillow-heif, registered lazily once per
process; camera RAW through rawpy (``raw.py``). Pillow's own decompression-bomb check is
replaced by ours (:func:`check_size`), which refuses an absurd header *before* decoding
with a message for the user, and lets legitimate 300 MP panoramas through without the
``DecompressionBombWarning`` that Pillow would otherwise raise above 89 MP.
"""

from __future__ import annotations

import functools
import io
import logging
import os

from PIL import Image, UnidentifiedImageError

from desktop_app.engine.config import DEFAULT_MAX_PIXELS
from desktop_app.engine.errors import UnreadableImage
from desktop_app.engine.imaging.exif import quiet_warnings, read_exif
from desktop_app.engine.imaging.formats import (
    IMAGE_EXTENSIONS,
    PILLOW_FORMATS,
    RAW_EXTENSIONS,
    SKIP_EXTENSIONS,
    is_raw_name,
    looks_like_image,
    sniff_format,
)
from desktop_app.engine.imaging.opened import OpenedImage, check_size
from desktop_app.engine.imaging.pixels import flatten_alpha, to_grey, to_rgb
from desktop_app.engine.imaging.raw import open_raw

log = logging.getLogger(__name__)

__all__ = [
    "IMAGE_EXTENSIONS",
    "RAW_EXTENSIONS",
    "SKIP_EXTENSIONS",
    "OpenedImage",
    "apply_orientation",
    "check_size",
    "failure_reason",
    "flatten_alpha",
    "is_raw_name",
    "looks_like_image",
    "open_image",
    "open_oriented",
    "os_error_reason",
    "sniff_format",
    "to_grey",
    "to_rgb",
]

#: EXIF orientation -> the transpose that makes the picture upright (as ImageOps.exif_transpose).
_ORIENTATION_TRANSPOSE: dict[int, Image.Transpose] = {
    2: Image.Transpose.FLIP_LEFT_RIGHT,
    3: Image.Transpose.ROTATE_180,
    4: Image.Transpose.FLIP_TOP_BOTTOM,
    5: Image.Transpose.TRANSPOSE,
    6: Image.Transpose.ROTATE_270,
    7: Image.Transpose.TRANSVERSE,
    8: Image.Transpose.ROTATE_90,
}


@functools.cache
def _configure_pillow() -> None:
    """Per-process Pillow set-up, done once.

    Pillow warns above 89 MP and refuses above 179 MP, which would reject real
    panoramas; :func:`check_size` applies our own limit instead, before decoding.
    """
    Image.MAX_IMAGE_PIXELS = None


@functools.cache
def _register_heif() -> None:
    """Register pillow-heif's opener, once per process and only when a HEIF file appears.

    Imported lazily: the import costs tens of milliseconds that a worker which never
    meets an iPhone photo should not pay.
    """
    import pillow_heif

    pillow_heif.register_heif_opener()


def open_image(
    data: bytes,
    name: str,
    max_pixels: int = DEFAULT_MAX_PIXELS,
    *,
    raw_half_size: bool = True,
) -> OpenedImage:
    """Open (but do not decode) the picture in ``data``.

    Args:
        data: The whole file.
        name: The file name, for messages and to tell TIFF-shaped RAW files by extension.
        max_pixels: Decompression-bomb limit, checked on the header.
        raw_half_size: For a RAW file without a usable preview, demosaic at half size
            (plenty for a hash or a thumbnail, four times faster) rather than in full.

    Returns:
        The lazily decoded image with its format, displayed size and EXIF. Camera RAW
        files come back as their embedded preview, or a demosaic when there is none.

    Raises:
        UnreadableImage: Not an image, an unsupported one, or too large.
    """
    _configure_pillow()
    if not data:
        raise UnreadableImage(name, "empty file")
    fmt = sniff_format(data[:32])
    if fmt == "RAW" or (fmt == "TIFF" and is_raw_name(name)):
        return open_raw(data, name, max_pixels, half_size=raw_half_size)
    if fmt is None:
        raise UnreadableImage(name, "not an image")
    if fmt == "HEIF":
        _register_heif()
    elif fmt not in PILLOW_FORMATS:
        raise UnreadableImage(name, f"unsupported format: {fmt}")
    try:
        with quiet_warnings():
            image = Image.open(io.BytesIO(data), formats=[fmt])
        check_size(image.width, image.height, max_pixels)
    except UnreadableImage as exc:
        raise UnreadableImage(name, exc.reason) from None
    except Exception as exc:
        raise UnreadableImage(name, failure_reason(exc, fmt)) from exc
    exif = read_exif(image)
    width, height = image.size
    if exif.orientation >= 5:  # a quarter turn: displayed the other way round
        width, height = height, width
    # MPO is a JPEG with extra frames (some cameras' stereo or depth shots): a JPEG to the user.
    shown = "JPEG" if image.format == "MPO" else (image.format or fmt)
    return OpenedImage(image, shown, width, height, exif)


def failure_reason(exc: BaseException, fmt: str | None) -> str:
    """A short sentence for the user from whatever a decoder raised.

    Pillow's decoders raise many exception types on damaged files (OSError, SyntaxError,
    ValueError, struct.error, EOFError, ...); the user only needs to know what is wrong.

    Args:
        exc: The exception.
        fmt: The format we believed the file to be in, if known.

    Returns:
        For example "truncated JPEG", "damaged PNG", "not an image".
    """
    label = {"WEBP": "WebP", "HEIF": "HEIF/HEIC", None: "image"}.get(fmt, fmt or "image")
    message = str(exc).lower()
    if isinstance(exc, UnreadableImage):
        return exc.reason
    if isinstance(exc, MemoryError):
        return "not enough memory to decode this image"
    if isinstance(exc, UnidentifiedImageError):
        return f"damaged {label}" if fmt else "not an image"
    if isinstance(exc, EOFError) or "truncated" in message or "premature end" in message:
        return f"truncated {label}"
    return f"damaged {label}"


def apply_orientation(image: Image.Image, orientation: int) -> Image.Image:
    """Turn decoded pixels upright according to an EXIF orientation.

    Args:
        image: Decoded pixels as stored in the file.
        orientation: EXIF orientation 1..8; anything else leaves the image as it is.

    Returns:
        The upright image (the same object when no turn is needed).
    """
    method = _ORIENTATION_TRANSPOSE.get(orientation)
    return image if method is None else image.transpose(method)


def is_raw(head: bytes, name: str) -> bool:
    """Whether a file is a camera RAW file, from its first 32 bytes and its name."""
    fmt = sniff_format(head)
    return fmt == "RAW" or (fmt == "TIFF" and is_raw_name(name))


def _open_path(name: str, max_pixels: int, raw_half_size: bool) -> OpenedImage:
    """:func:`open_image` of a file; a camera RAW file's preview is read from the path,
    not the whole file."""
    try:
        with open(name, "rb") as stream:
            head = stream.read(32)
            if is_raw(head, name):
                from desktop_app.engine.imaging.raw import open_raw_file

                return open_raw_file(name, max_pixels, half_size=raw_half_size)
            data = head + stream.read()
    except OSError as exc:
        raise UnreadableImage(name, os_error_reason(exc)) from exc
    return open_image(data, name, max_pixels, raw_half_size=raw_half_size)


def open_oriented(
    path_or_bytes: str | os.PathLike[str] | bytes,
    max_side: int | None = None,
    *,
    max_pixels: int = DEFAULT_MAX_PIXELS,
) -> Image.Image:
    """Decode a photo upright, in RGB, for display (thumbnails, preview, compare view).

    Args:
        path_or_bytes: A file path, or the bytes of a whole file.
        max_side: If given, the result fits in a ``max_side`` x ``max_side`` square, and
            JPEGs are decoded at a reduced scale (libjpeg's DCT scaling) to get there fast.
        max_pixels: Decompression-bomb limit on the header's dimensions.

    Returns:
        A loaded "RGB" image with its EXIF orientation applied and transparency
        flattened onto white.

    Raises:
        UnreadableImage: The file cannot be read or decoded.
    """
    small = max_side is not None
    if isinstance(path_or_bytes, bytes):
        name = "<image>"
        opened = open_image(path_or_bytes, name, max_pixels, raw_half_size=small)
    else:
        name = os.fspath(path_or_bytes)
        opened = _open_path(name, max_pixels, small)
    image = opened.image
    try:
        if max_side is not None and image.format in ("JPEG", "MPO"):
            width, height = image.size
            scale = 2 * max_side / max(width, height)  # keep 2x for a sharp final resize
            image.draft("RGB", (max(1, int(width * scale)), max(1, int(height * scale))))
        image.load()
        image = apply_orientation(to_rgb(image), opened.exif.orientation)
        if max_side is not None:
            image.thumbnail((max_side, max_side), Image.Resampling.LANCZOS, reducing_gap=2.0)
    except Exception as exc:
        raise UnreadableImage(name, failure_reason(exc, opened.format)) from exc
    return image


def os_error_reason(exc: OSError) -> str:
    """A short sentence for the user from an error reading a file.

    Args:
        exc: What ``open`` or ``read`` raised.

    Returns:
        For example "permission denied" or "could not be read: Input/output error".
    """
    if isinstance(exc, PermissionError):
        return "permission denied"
    if isinstance(exc, FileNotFoundError):
        return "file no longer exists"
    if isinstance(exc, IsADirectoryError):
        return "is a folder, not a file"
    return f"could not be read: {exc.strerror or exc}"
