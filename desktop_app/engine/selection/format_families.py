"""Format families: a CR2 and a NEF are both RAW, a JPG and an MPO both JPEG.

The keep rules prefer one family over another, and the camera-original rule tells the
camera's own format from a conversion, by these families.
"""

from __future__ import annotations

import os

from desktop_app.engine.types import ImageRecord

#: Extensions of camera RAW formats (the hashing module names a RAW file's format so).
_RAW_NAMES = (
    "3FR ARI ARW CR2 CR3 CRW DCR DNG ERF IIQ K25 KDC MEF MOS MRW NEF NRW ORF PEF RAF "
    "RAW RW2 RWL SR2 SRF SRW X3F"
)

#: Format names (Pillow's, or a RAW file's extension) grouped under one family name.
FAMILIES: dict[str, frozenset[str]] = {
    "RAW": frozenset(_RAW_NAMES.split()),
    "TIFF": frozenset({"TIFF", "TIF"}),
    "PNG": frozenset({"PNG"}),
    "HEIC": frozenset({"HEIC", "HEIF", "HIF"}),
    "JPEG": frozenset({"JPEG", "JPG", "JPE", "MPO"}),
    "WEBP": frozenset({"WEBP"}),
}


def format_family(record: ImageRecord) -> str:
    """The family of a photo's format ("RAW" for a CR2), or its own name if in none."""
    name = (record.format or os.path.splitext(record.path)[1].lstrip(".")).upper()
    for family, members in FAMILIES.items():
        if name in members:
            return family
    return name
