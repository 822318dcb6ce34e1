"""Reading photos: which files are images, and turning their bytes into upright pixels.

Everything that opens a photo goes through here: the hasher (``hashing.py``) for the
scan, and the GUI for thumbnails, previews and the compare view (:func:`open_oriented`).
A file is always read into memory first and decoded from those bytes, so that the digest
and the pixels come from the same read and no file handle outlives the call.

Formats are recognised by their magic bytes (:func:`sniff_format`), never trusted from
the extension alone. HEIF/HEIC goes through pillow-heif, registered lazily once per
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
from dataclasses import dataclass
from pathlib import Path, PurePath

import numpy as np
from PIL import Image, UnidentifiedImageError

from desktop_app.engine.config import DEFAULT_MAX_PIXELS
from desktop_app.engine.errors import UnreadableImage
from desktop_app.engine.exif import ExifInfo, read_exif

log = logging.getLogger(__name__)

#: Extensions of camera RAW files, decoded through rawpy (``raw.py``).
RAW_EXTENSIONS: frozenset[str] = frozenset(
    {".cr2", ".cr3", ".nef", ".arw", ".dng", ".raf", ".orf", ".rw2"}
)

#: Extensions the scanner treats as photos without looking inside first.
IMAGE_EXTENSIONS: frozenset[str] = frozenset(
    {
        ".jpg",
        ".jpeg",
        ".jpe",
        ".jfif",
        ".png",
        ".webp",
        ".tif",
        ".tiff",
        ".bmp",
        ".gif",
        ".heic",
        ".heif",
        ".hif",
        ".avif",
    }
    | RAW_EXTENSIONS
)

#: Extensions of files that sit in photo libraries but are never images, so the scanner
#: does not even read their first bytes (sidecars, video, documents, catalogs).
SKIP_EXTENSIONS: frozenset[str] = frozenset(
    {
        ".xmp",
        ".txt",
        ".json",
        ".xml",
        ".csv",
        ".md",
        ".html",
        ".htm",
        ".pdf",
        ".doc",
        ".docx",
        ".mp4",
        ".mov",
        ".m4v",
        ".avi",
        ".mkv",
        ".mts",
        ".m2ts",
        ".3gp",
        ".wav",
        ".mp3",
        ".aac",
        ".m4a",
        ".lrcat",
        ".lrdata",
        ".db",
        ".sqlite",
        ".aae",
        ".thm",
        ".pp3",
        ".dop",
        ".on1",
        ".zip",
        ".7z",
        ".rar",
        ".gz",
        ".tar",
        ".exe",
        ".dll",
        ".ini",
        ".ds_store",
        ".icc",
        ".icm",
    }
)

#: Formats decoded by Pillow under the same name; anything else :func:`sniff_format`
#: returns ("HEIF", "RAW") needs a plugin.
_PILLOW_FORMATS = frozenset(
    {"JPEG", "PNG", "GIF", "BMP", "TIFF", "WEBP", "AVIF", "JPEG2000", "PPM", "PSD", "ICO"}
)

#: ISO base media file brands (bytes 8..12 of an ``ftyp`` box).
_HEIF_BRANDS = frozenset({b"heic", b"heix", b"hevc", b"hevx", b"heim", b"heis", b"hevm"})
_AVIF_BRANDS = frozenset({b"avif", b"avis"})
_GENERIC_HEIF_BRANDS = frozenset({b"mif1", b"msf1", b"mif2"})

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


def sniff_format(head: bytes) -> str | None:
    """Recognise an image format from the first bytes of a file.

    Args:
        head: The first bytes of the file (32 are enough; fewer may give None).

    Returns:
        A Pillow format name ("JPEG", "PNG", "GIF", "BMP", "TIFF", "WEBP", "AVIF",
        "JPEG2000", "PPM", "PSD", "ICO"), "HEIF" for HEIF/HEIC, "RAW" for camera RAW
        containers that are not TIFF-shaped (CR2, CR3, RAF, ORF, RW2), or None when the
        bytes are not an image we can read. TIFF-based RAW files (NEF, ARW, DNG) report
        "TIFF": their magic is TIFF's, and the extension decides.
    """
    if head.startswith(b"\xff\xd8\xff"):
        return "JPEG"
    if head.startswith(b"\x89PNG\r\n\x1a\n"):
        return "PNG"
    if head.startswith((b"GIF87a", b"GIF89a")):
        return "GIF"
    if head.startswith(b"BM") and len(head) >= 18 and head[14] in (12, 40, 52, 56, 64, 108, 124):
        # "BM" alone is too weak a signature; the DIB header size pins it down.
        return "BMP"
    if head.startswith((b"II*\x00", b"MM\x00*", b"II+\x00", b"MM\x00+")):
        return "RAW" if head[8:10] == b"CR" else "TIFF"
    if head.startswith((b"IIRO", b"IIRS", b"MMOR", b"IIU\x00")):
        return "RAW"  # Olympus ORF and Panasonic RW2: TIFF variants with their own magic
    if head.startswith(b"FUJIFILMCCD-RAW"):
        return "RAW"
    if head.startswith(b"RIFF") and head[8:12] == b"WEBP":
        return "WEBP"
    if head[4:8] == b"ftyp":
        return _sniff_ftyp(head)
    if head.startswith((b"\x00\x00\x00\x0cjP  \r\n\x87\n", b"\xff\x4f\xff\x51")):
        return "JPEG2000"
    if head.startswith(b"8BPS"):
        return "PSD"
    if head.startswith(b"\x00\x00\x01\x00") and len(head) >= 6 and head[4] > 0:
        return "ICO"
    if len(head) >= 3 and head[0:1] == b"P" and head[1:2] in b"123456" and head[2:3].isspace():
        return "PPM"
    return None


def _sniff_ftyp(head: bytes) -> str | None:
    """Tell HEIF, AVIF and Canon CR3 apart by the brands of an ISO BMFF ``ftyp`` box."""
    major = head[8:12]
    if major == b"crx ":
        return "RAW"
    if major in _AVIF_BRANDS:
        return "AVIF"
    if major in _HEIF_BRANDS:
        return "HEIF"
    if major in _GENERIC_HEIF_BRANDS:
        # A generic brand: the compatible brands that follow say which codec it holds.
        compatible = head[16:32]
        brands = {compatible[i : i + 4] for i in range(0, len(compatible) - 3, 4)}
        return "AVIF" if brands & _AVIF_BRANDS else "HEIF"
    return None


def looks_like_image(path: str) -> bool:
    """Whether a file of unknown extension is an image we can read, from its first bytes.

    Args:
        path: The file to peek at.

    Returns:
        True if :func:`sniff_format` recognises its first 32 bytes; False otherwise,
        including when the file cannot be read.
    """
    try:
        with open(path, "rb") as file:
            head = file.read(32)
    except OSError:
        return False
    return sniff_format(head) is not None


def is_raw_name(name: str) -> bool:
    """Whether a file name has a camera RAW extension."""
    return PurePath(name).suffix.lower() in RAW_EXTENSIONS


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


def open_image(data: bytes, name: str, max_pixels: int = DEFAULT_MAX_PIXELS) -> OpenedImage:
    """Open (but do not decode) the picture in ``data``.

    Args:
        data: The whole file.
        name: The file name, for messages and to tell TIFF-shaped RAW files by extension.
        max_pixels: Decompression-bomb limit, checked on the header.

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
        from desktop_app.engine.raw import open_raw  # rawpy only when needed

        return open_raw(data, name, max_pixels)
    if fmt is None:
        raise UnreadableImage(name, "not an image")
    if fmt == "HEIF":
        _register_heif()
    elif fmt not in _PILLOW_FORMATS:
        raise UnreadableImage(name, f"unsupported format: {fmt}")
    try:
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
    """Turn decoded pixels upright according to an EXIF orientation (1..8)."""
    method = _ORIENTATION_TRANSPOSE.get(orientation)
    return image if method is None else image.transpose(method)


def flatten_alpha(image: Image.Image) -> Image.Image:
    """Composite an image with transparency onto white, as a viewer would show it.

    Returns an "RGB" or "L" image; images without alpha are returned unchanged.
    """
    mode = image.mode
    if mode == "P":
        if "transparency" not in image.info:
            return image.convert("RGB")
        image, mode = image.convert("RGBA"), "RGBA"
    elif mode == "PA":
        image, mode = image.convert("RGBA"), "RGBA"
    if mode in ("RGBA", "RGBa", "LA", "La"):
        base_mode = "RGB" if mode.startswith("RGB") else "L"
        if mode in ("RGBa", "La"):  # premultiplied: undo it so the paste below is right
            image = image.convert(base_mode + "A")
        background = Image.new(base_mode, image.size, 255 if base_mode == "L" else (255,) * 3)
        background.paste(image.convert(base_mode), mask=image.getchannel("A"))
        return background
    return image


def _wide_to_8bit(image: Image.Image) -> Image.Image:
    """Scale a 16-bit, 32-bit integer or float image to 8-bit greyscale without clipping.

    Pillow's ``convert("L")`` clips I;16 and I values above 255 to white, which turns a
    16-bit photo into a nearly white page. 16-bit data is scaled by 1/257 (exactly
    inverting the usual 8-to-16-bit expansion v * 257); integer data that already fits in
    8 bits is kept; anything else, and float data, is stretched to its own range, which
    pHash does not mind (it is invariant to a linear change of brightness).
    """
    array = np.asarray(image)
    if array.dtype.kind in "ui":
        low, high = int(array.min()), int(array.max())
        if low >= 0 and high <= 255:
            out = array.astype(np.uint8)
        elif low >= 0 and high <= 65535:
            out = ((array.astype(np.uint32) + 128) // 257).astype(np.uint8)
        else:
            out = _stretch(array.astype(np.float64))
    else:
        values = np.nan_to_num(array.astype(np.float64), nan=0.0, posinf=0.0, neginf=0.0)
        if values.min() >= 0.0 and values.max() <= 1.0:
            out = np.round(values * 255.0).astype(np.uint8)
        else:
            out = _stretch(values)
    return Image.fromarray(np.ascontiguousarray(out), "L")


def _stretch(values: np.ndarray) -> np.ndarray:
    low, high = float(values.min()), float(values.max())
    if high <= low:
        return np.zeros(values.shape, np.uint8)
    return np.round((values - low) * (255.0 / (high - low))).astype(np.uint8)


def to_grey(image: Image.Image) -> Image.Image:
    """The 8-bit greyscale ("L") version of any Pillow image, as pHash needs it.

    Transparency is flattened onto white, palettes expanded, CMYK and YCbCr converted
    through RGB, 1-bit expanded, and 16-bit, 32-bit and float data scaled (not clipped)
    to 8 bits.

    Args:
        image: A loaded or lazily loaded image in any mode.

    Returns:
        An "L" image of the same size.
    """
    mode = image.mode
    if mode == "L":
        return image
    if mode in ("RGB", "1"):
        return image.convert("L")
    if mode.startswith(("I", "F")):
        return _wide_to_8bit(image)
    if mode in ("P", "PA", "RGBA", "RGBa", "LA", "La"):
        return flatten_alpha(image).convert("L")
    if mode == "LAB":
        return image.getchannel("L")
    return image.convert("RGB").convert("L")


def to_rgb(image: Image.Image) -> Image.Image:
    """The 8-bit "RGB" version of any Pillow image, transparency flattened onto white."""
    mode = image.mode
    if mode == "RGB":
        return image
    if mode.startswith(("I", "F")):
        return _wide_to_8bit(image).convert("RGB")
    if mode in ("P", "PA", "RGBA", "RGBa", "LA", "La"):
        return flatten_alpha(image).convert("RGB")
    if mode == "LAB":
        return image.getchannel("L").convert("RGB")
    return image.convert("RGB")


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
    if isinstance(path_or_bytes, bytes):
        data, name = path_or_bytes, "<image>"
    else:
        name = os.fspath(path_or_bytes)
        try:
            data = Path(name).read_bytes()
        except OSError as exc:
            raise UnreadableImage(name, os_error_reason(exc)) from exc
    opened = open_image(data, name, max_pixels)
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
    """A short sentence for the user from an error reading a file."""
    if isinstance(exc, PermissionError):
        return "permission denied"
    if isinstance(exc, FileNotFoundError):
        return "file no longer exists"
    if isinstance(exc, IsADirectoryError):
        return "is a folder, not a file"
    return f"could not be read: {exc.strerror or exc}"
