"""Which files are photos: extensions, and formats recognised by their magic bytes.

The scanner asks :data:`IMAGE_EXTENSIONS` and :data:`SKIP_EXTENSIONS` first, and reads
the first bytes of anything else (:func:`looks_like_image`), so that photos with odd or
missing extensions are found and videos or sidecars are never opened. The loader
(``loading.py``) trusts :func:`sniff_format`, never the extension alone, to choose a
decoder. All of this is re-exported by ``loading.py``, the module callers import.
"""

from __future__ import annotations

import logging
from pathlib import PurePath

log = logging.getLogger(__name__)

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
PILLOW_FORMATS = frozenset(
    {"JPEG", "PNG", "GIF", "BMP", "TIFF", "WEBP", "AVIF", "JPEG2000", "PPM", "PSD", "ICO"}
)

#: ISO base media file brands (bytes 8..12 of an ``ftyp`` box).
_HEIF_BRANDS = frozenset({b"heic", b"heix", b"hevc", b"hevx", b"heim", b"heis", b"hevm"})
_AVIF_BRANDS = frozenset({b"avif", b"avis"})
_GENERIC_HEIF_BRANDS = frozenset({b"mif1", b"msf1", b"mif2"})


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
    """Whether a file name has a camera RAW extension.

    Args:
        name: A file name or path.

    Returns:
        True for the extensions in :data:`RAW_EXTENSIONS`, in any case.
    """
    return PurePath(name).suffix.lower() in RAW_EXTENSIONS
