"""Capture identity: when, with which camera and how a photo was taken.

:func:`read_capture` reads, from what the scan has already parsed, the fields that tell
one exposure from another: DateTimeOriginal with its sub-second and offset, Make, Model,
BodySerialNumber, ImageUniqueID, the exposure (ExposureTime, FNumber, ISO,
ExposureBiasValue) and the XMP media-management ids editors write (xmpMM:DocumentID,
OriginalDocumentID, InstanceID, DerivedFrom), from the embedded packet and from an
``.xmp`` sidecar beside the photo (``xmp.py``). EXIF comes from Pillow's ``getexif`` (already
parsed for the orientation, so reading it again costs a dictionary lookup) and its Exif
sub-IFD; RAW files give theirs through the TIFF directories or the embedded preview.

Like ``exif.py``, nothing here raises for damaged metadata: a field that cannot be read
is simply missing.
"""

from __future__ import annotations

import io
import logging
import math

from PIL import Image

from desktop_app.engine.imaging import xmp
from desktop_app.engine.imaging.exif import parse_exif_date, quiet_warnings
from desktop_app.engine.types import Capture

log = logging.getLogger(__name__)

_MAKE = 0x010F
_MODEL = 0x0110
_EXIF_IFD = 0x8769
_EXPOSURE_TIME = 0x829A
_F_NUMBER = 0x829D
_ISO = 0x8827
_DATETIME_ORIGINAL = 0x9003
_OFFSET_TIME_ORIGINAL = 0x9011
_EXPOSURE_BIAS = 0x9204
_SUBSEC_ORIGINAL = 0x9291
_IMAGE_UNIQUE_ID = 0xA420
_BODY_SERIAL = 0xA431

_TIFF_LIKE_MAGIC = (b"IIRO", b"IIRS", b"MMOR", b"IIU\x00")


def read_capture(
    image: Image.Image | None,
    path: str | None = None,
    *,
    data: bytes | None = None,
    raw: bool = False,
) -> Capture | None:
    """The capture identity of one photo.

    Args:
        image: The opened image (its EXIF and embedded XMP are read), or None.
        path: The photo's path, to look for a sidecar beside it; None for pasted bytes.
        data: The file's bytes; with ``raw``, its TIFF directories are read first.
        raw: The file is a camera RAW file (``image`` is then its embedded preview).

    Returns:
        The fields found, or None when there are none at all.
    """
    exif = _raw_exif(data) if raw and data is not None else None
    if exif is None and image is not None:
        try:
            with quiet_warnings():
                exif = image.getexif()
        except Exception:
            log.debug("unreadable EXIF", exc_info=True)
    fields = _from_exif(exif) if exif else {}
    props: dict[str, xmp.XmpValue] = {}
    if image is not None:
        packet = xmp.packet_of(image)
        if packet:
            props = xmp.parse_packet(packet)
    if path is not None and not path.startswith("<"):
        sidecar = xmp.read_sidecar(path)
        if sidecar:
            props = {**props, **sidecar}
    if props:
        _merge_xmp(fields, props)
    if not fields:
        return None
    return Capture(**fields)  # type: ignore[arg-type]


def _raw_exif(data: bytes) -> Image.Exif | None:
    """The first IFDs of a TIFF-shaped RAW file (NEF, CR2, ARW, DNG, ORF, RW2...)."""
    head = data[:4]
    if head in _TIFF_LIKE_MAGIC:
        stream = io.BytesIO((b"II*\x00" if head[:2] == b"II" else b"MM\x00*") + data[4:])
    elif head in (b"II*\x00", b"MM\x00*"):
        stream = io.BytesIO(data)
    else:
        return None  # CR3, RAF...: the preview's EXIF is read instead
    try:
        with quiet_warnings():
            exif = Image.Exif()
            exif.load_from_fp(stream)
        return exif if exif else None
    except Exception:
        log.debug("unreadable TIFF metadata in RAW file", exc_info=True)
        return None


def _from_exif(exif: Image.Exif) -> dict[str, object]:
    fields: dict[str, object] = {}
    _put(fields, "make", _text(exif.get(_MAKE)))
    _put(fields, "model", _text(exif.get(_MODEL)))
    if _EXIF_IFD not in exif:
        return fields
    try:
        with quiet_warnings():
            ifd = exif.get_ifd(_EXIF_IFD)
    except Exception:
        log.debug("unreadable EXIF sub-IFD", exc_info=True)
        return fields
    _put(fields, "taken", parse_exif_date(ifd.get(_DATETIME_ORIGINAL)))
    _put(fields, "subsec", _digits(ifd.get(_SUBSEC_ORIGINAL)))
    _put(fields, "offset", _text(ifd.get(_OFFSET_TIME_ORIGINAL)))
    _put(fields, "serial", _text(ifd.get(_BODY_SERIAL)))
    _put(fields, "unique_id", _text(ifd.get(_IMAGE_UNIQUE_ID)))
    _put(fields, "exposure_time", _number(ifd.get(_EXPOSURE_TIME), positive=True))
    _put(fields, "f_number", _number(ifd.get(_F_NUMBER), positive=True))
    _put(fields, "exposure_bias", _number(ifd.get(_EXPOSURE_BIAS)))
    iso = ifd.get(_ISO)
    if isinstance(iso, tuple | list):
        iso = iso[0] if iso else None
    iso_value = _number(iso, positive=True)
    _put(fields, "iso", None if iso_value is None else round(iso_value))
    return fields


def _merge_xmp(fields: dict[str, object], props: dict[str, xmp.XmpValue]) -> None:
    """Add the XMP ids; EXIF-in-XMP fills only what EXIF left empty (a sidecar of a
    RAW file Pillow cannot open, or a converted file that kept only XMP)."""
    _put(fields, "document_id", xmp.text_value(props, "xmpMM:DocumentID"))
    _put(fields, "original_document_id", xmp.text_value(props, "xmpMM:OriginalDocumentID"))
    _put(fields, "instance_id", xmp.text_value(props, "xmpMM:InstanceID"))
    derived = xmp.text_value(props, "xmpMM:DerivedFrom/stRef:documentID") or xmp.text_value(
        props, "xmpMM:DerivedFrom"
    )
    _put(fields, "derived_from", derived)
    fallbacks = {
        "taken": parse_exif_date(xmp.text_value(props, "exif:DateTimeOriginal")),
        "make": xmp.text_value(props, "tiff:Make"),
        "model": xmp.text_value(props, "tiff:Model"),
        "serial": xmp.text_value(props, "exifEX:BodySerialNumber")
        or xmp.text_value(props, "aux:SerialNumber"),
        "unique_id": xmp.text_value(props, "exif:ImageUniqueID"),
    }
    for key, value in fallbacks.items():
        if key not in fields:
            _put(fields, key, value)


def _put(fields: dict[str, object], key: str, value: object) -> None:
    if value is not None and value != "":
        fields.setdefault(key, value)


def _text(value: object) -> str | None:
    if isinstance(value, bytes):
        value = value.decode("utf-8", "replace")
    if not isinstance(value, str):
        return None
    text = " ".join(value.replace("\x00", " ").split())
    return text or None


def _digits(value: object) -> str | None:
    text = _text(value)
    if text is None:
        return None
    digits = text.strip().rstrip()
    return digits if digits.isdigit() else None


def _number(value: object, *, positive: bool = False) -> float | None:
    """A rational or integer tag as a float; None for a missing or impossible value."""
    if isinstance(value, tuple) and len(value) == 2:  # (numerator, denominator)
        value = value[0] / value[1] if value[1] else None
    try:
        number = float(value)  # type: ignore[arg-type]  # IFDRational, int, str
    except (TypeError, ValueError, ZeroDivisionError):
        return None
    if not math.isfinite(number) or (positive and number <= 0):
        return None
    return round(number, 6)
