"""Camera RAW files (CR2, CR3, NEF, ARW, DNG, RAF, ORF, RW2) through rawpy (LibRaw).

A RAW file nearly always embeds a JPEG preview rendered by the camera, often at full
size: decoding it (at reduced scale, like any JPEG) takes milliseconds, while
demosaicing the sensor data takes a second or more. So we use the preview when there is
one of useful size and fall back to a half-size demosaic otherwise. The hash is then that
of the camera's rendering, which is what the JPEG the camera wrote beside the RAW shows:
the pair matches.

Orientation: LibRaw reports the camera's orientation as its ``flip`` code; previews are
stored unrotated, so we turn that into an EXIF orientation for the caller to apply. The
demosaic path applies it itself. Date and camera come from the RAW's own TIFF structure
when it has one (every format here but CR3 and RAF), else from the preview's EXIF.
"""

from __future__ import annotations

import io
import logging
from collections.abc import Callable
from pathlib import PurePath
from typing import Any, BinaryIO

from PIL import Image

from desktop_app.engine.errors import UnreadableImage
from desktop_app.engine.imaging.exif import NO_EXIF, ExifInfo, exif_info, quiet_warnings, read_exif
from desktop_app.engine.imaging.opened import OpenedImage, check_size

log = logging.getLogger(__name__)

#: LibRaw ``flip`` code -> EXIF orientation (the inverse of dcraw's "50132467" table).
_FLIP_TO_ORIENTATION = {0: 1, 1: 2, 2: 4, 3: 3, 4: 5, 5: 8, 6: 6, 7: 7}

#: A preview whose long side is below this is a thumbnail strip, not worth hashing.
MIN_PREVIEW_SIDE = 256

#: RAW formats laid out as TIFF with a magic number of their own (Olympus, Panasonic).
_TIFF_LIKE_MAGIC = (b"IIRO", b"IIRS", b"MMOR", b"IIU\x00")


def open_raw(data: bytes, name: str, max_pixels: int, *, half_size: bool = True) -> OpenedImage:
    """Open a camera RAW file as the picture the camera rendered.

    Args:
        data: The whole file.
        name: The file name (its extension names the format).
        max_pixels: Decompression-bomb limit on the sensor's dimensions.
        half_size: Demosaic at half size when there is no preview (fast, enough to hash).

    Returns:
        The embedded JPEG preview, not yet decoded so that the caller can draft it, with
        the orientation still to apply; or a demosaic already upright.

    Raises:
        UnreadableImage: LibRaw cannot read the file, or it is too large.
    """
    import rawpy  # a heavy import only RAW files should pay for

    opened = _open(lambda: rawpy.imread(io.BytesIO(data)), name, max_pixels, half_size)
    return _with_metadata(opened, _tiff_exif(data))


def open_raw_file(path: str, max_pixels: int, *, half_size: bool = True) -> OpenedImage:
    """:func:`open_raw` reading from the path: LibRaw reads the headers and the embedded
    preview and leaves the sensor data on the disk (unless there is no usable preview,
    when it must read it to demosaic). The preview's bytes are in memory on return.

    Raises:
        UnreadableImage: LibRaw cannot read the file, or it is too large.
        OSError: The file cannot be opened.
    """
    import rawpy

    opened = _open(lambda: rawpy.imread(path), path, max_pixels, half_size)
    with open(path, "rb") as stream:
        head = stream.read(4)
        stream.seek(0)
        metadata = _tiff_exif_stream(head, stream)
    return _with_metadata(opened, metadata)


def _with_metadata(opened: OpenedImage, metadata: ExifInfo) -> OpenedImage:
    exif = ExifInfo(
        opened.exif.orientation,
        metadata.taken or opened.exif.taken,
        metadata.camera or opened.exif.camera,
    )
    return OpenedImage(opened.image, opened.format, opened.width, opened.height, exif)


def _open(imread: Callable[[], Any], name: str, max_pixels: int, half_size: bool) -> OpenedImage:
    """The preview (or a demosaic) of the RAW file ``imread`` opens; metadata from the
    preview's EXIF only."""
    import rawpy

    fmt = PurePath(name).suffix.lstrip(".").upper() or "RAW"
    try:
        with imread() as raw:
            sizes = raw.sizes
            check_size(sizes.width, sizes.height, max_pixels)
            orientation = _FLIP_TO_ORIENTATION.get(sizes.flip, 1)
            width, height = sizes.width, sizes.height
            if orientation >= 5:  # a quarter turn: displayed the other way round
                width, height = height, width
            preview = _preview(raw, rawpy)
            if preview is not None:
                preview_exif = read_exif(preview)
                if preview_exif.orientation != 1:
                    orientation = preview_exif.orientation
                image = preview
            else:
                preview_exif = NO_EXIF
                rgb = raw.postprocess(half_size=half_size, use_camera_wb=True, output_bps=8)
                image = Image.fromarray(rgb, "RGB")
                orientation = 1  # postprocess has already applied the flip
    except UnreadableImage as exc:
        raise UnreadableImage(name, exc.reason) from None
    except FileNotFoundError:
        raise
    except (rawpy.LibRawError, OSError, ValueError) as exc:
        raise UnreadableImage(name, f"damaged or unsupported {fmt} file") from exc
    exif = ExifInfo(orientation, preview_exif.taken, preview_exif.camera)
    return OpenedImage(image, fmt, width, height, exif)


def _preview(raw: object, rawpy: object) -> Image.Image | None:  # rawpy is untyped
    """The embedded preview as a lazily decoded Pillow image, or None if unusable."""
    try:
        thumb = raw.extract_thumb()  # type: ignore[attr-defined]
    except Exception:  # no preview, or one in a form LibRaw cannot hand out
        log.debug("no usable embedded preview", exc_info=True)
        return None
    image: Image.Image
    try:
        if thumb.format == rawpy.ThumbFormat.JPEG:  # type: ignore[attr-defined]
            with quiet_warnings():
                image = Image.open(io.BytesIO(thumb.data), formats=["JPEG"])
        else:
            image = Image.fromarray(thumb.data, "RGB")
    except Exception:
        log.debug("embedded preview is not readable", exc_info=True)
        return None
    if max(image.size) < MIN_PREVIEW_SIDE:
        return None
    return image


def _tiff_exif(data: bytes) -> ExifInfo:
    """Date and camera from a TIFF-shaped RAW file's own IFDs, without copying the file."""
    return _tiff_exif_stream(data[:4], io.BytesIO(data))


def _tiff_exif_stream(head: bytes, stream: BinaryIO) -> ExifInfo:
    """:func:`_tiff_exif` from a stream positioned at the start; reads only the IFDs."""
    if head in _TIFF_LIKE_MAGIC:
        # Pillow's TIFF reader wants the standard magic; only the first IFDs are read.
        magic = b"II*\x00" if head[:2] == b"II" else b"MM\x00*"
        stream = io.BufferedReader(_Remagicked(stream, magic))
    elif head not in (b"II*\x00", b"MM\x00*"):
        return NO_EXIF
    try:
        with quiet_warnings():
            exif = Image.Exif()
            exif.load_from_fp(stream)
            return exif_info(exif)
    except Exception:
        log.debug("unreadable TIFF metadata in RAW file", exc_info=True)
        return NO_EXIF


class _Remagicked(io.RawIOBase):
    """A seekable stream whose first four bytes read as ``magic`` instead."""

    def __init__(self, inner: BinaryIO, magic: bytes) -> None:
        self._inner = inner
        self._magic = magic

    def readable(self) -> bool:
        return True

    def seekable(self) -> bool:
        return True

    def seek(self, offset: int, whence: int = 0) -> int:
        return self._inner.seek(offset, whence)

    def tell(self) -> int:
        return self._inner.tell()

    def readinto(self, buffer: Any) -> int:
        start = self._inner.tell()
        data = self._inner.read(len(buffer))
        if start < len(self._magic):
            cut = min(len(data), len(self._magic) - start)
            data = self._magic[start : start + cut] + data[cut:]
        buffer[: len(data)] = data
        return len(data)
