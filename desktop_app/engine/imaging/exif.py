"""The three things we want from EXIF: orientation, date taken and camera.

EXIF in the wild is often damaged (cut by editing tools, written by odd firmware), and a
photo must never be refused because of its metadata: every reader here returns "not
present" rather than raising.
"""

from __future__ import annotations

import contextlib
import logging
import re
import threading
import warnings
from collections.abc import Iterator
from dataclasses import dataclass

from PIL import Image

log = logging.getLogger(__name__)

_ORIENTATION = 0x0112
_MAKE = 0x010F
_MODEL = 0x0110
_DATETIME = 0x0132
_EXIF_IFD = 0x8769
_DATETIME_ORIGINAL = 0x9003

#: "YYYY:MM:DD HH:MM:SS", the EXIF date format; some writers use dashes in the date.
_EXIF_DATE = re.compile(r"(\d{4})[:\-](\d{2})[:\-](\d{2})[ T](\d{2}):(\d{2}):(\d{2})")

#: Company suffixes that make "NIKON CORPORATION NIKON D850" read badly.
_MAKER_SUFFIXES = (
    " imaging corp.",
    " corporation",
    " corp.",
    " co., ltd.",
    " co.,ltd.",
    " company",
    " inc.",
    " optical co.,ltd",
)


@dataclass(frozen=True, slots=True)
class ExifInfo:
    """What we read from a photo's EXIF.

    Attributes:
        orientation: EXIF orientation 1..8 (1 when absent or invalid).
        taken: Date taken as ISO 8601 "YYYY-MM-DDTHH:MM:SS", or None.
        camera: "Make Model" without the make repeated, or None.
    """

    orientation: int = 1
    taken: str | None = None
    camera: str | None = None


NO_EXIF = ExifInfo()

_WARNINGS_LOCK = threading.Lock()


@contextlib.contextmanager
def quiet_warnings() -> Iterator[None]:
    """Silence the warnings Pillow raises while parsing damaged headers and metadata.

    "Corrupt EXIF data" and the like say nothing the user can act on, and in a worker
    process they would land on the terminal. ``catch_warnings`` swaps a process-wide
    filter list, so the lock keeps our own threads (the GUI's thumbnail loaders) from
    interleaving their swaps; it is held only while headers are parsed, never while
    pixels are decoded.
    """
    with _WARNINGS_LOCK, warnings.catch_warnings():
        warnings.simplefilter("ignore")
        yield


def read_exif(image: Image.Image) -> ExifInfo:
    """Read orientation, date taken and camera from an opened (not necessarily decoded) image.

    Args:
        image: A Pillow image straight from ``Image.open``.

    Returns:
        The values found; defaults for anything missing or damaged.
    """
    with quiet_warnings():
        try:
            exif = image.getexif()
        except Exception:  # damaged EXIF is common and never worth refusing a photo for
            log.debug("unreadable EXIF in %s", image.format, exc_info=True)
            return NO_EXIF
        return exif_info(exif)


def exif_info(exif: Image.Exif) -> ExifInfo:
    """Extract :class:`ExifInfo` from a parsed EXIF block.

    Call it within :func:`quiet_warnings`: the date sits in a sub-IFD parsed on demand.

    Args:
        exif: From ``Image.getexif()`` or ``Image.Exif.load``.

    Returns:
        The values found; defaults for anything missing or invalid.
    """
    if not exif:
        return NO_EXIF
    orientation = exif.get(_ORIENTATION, 1)
    if not isinstance(orientation, int) or not 1 <= orientation <= 8:
        orientation = 1
    taken = None
    try:
        # The sub-IFD is parsed only when asked for, so photos without it cost nothing.
        if _EXIF_IFD in exif:
            taken = parse_exif_date(exif.get_ifd(_EXIF_IFD).get(_DATETIME_ORIGINAL))
    except Exception:
        log.debug("unreadable EXIF sub-IFD", exc_info=True)
    if taken is None:
        taken = parse_exif_date(exif.get(_DATETIME))
    return ExifInfo(orientation, taken, camera_name(exif.get(_MAKE), exif.get(_MODEL)))


def parse_exif_date(value: object) -> str | None:
    """Turn an EXIF date ("2024:05:01 13:45:10") into ISO 8601 ("2024-05-01T13:45:10").

    Args:
        value: The raw tag value (str or bytes, possibly NUL-padded), or None.

    Returns:
        The ISO form, or None for a missing, blank or impossible date.
    """
    text = _text(value)
    if not text:
        return None
    match = _EXIF_DATE.match(text)
    if match is None:
        return None
    year, month, day, hour, minute, second = (int(part) for part in match.groups())
    if not (1800 <= year <= 2999 and 1 <= month <= 12 and 1 <= day <= 31):
        return None
    if hour > 23 or minute > 59 or second > 60:
        return None
    return f"{year:04d}-{month:02d}-{day:02d}T{hour:02d}:{minute:02d}:{second:02d}"


def camera_name(make: object, model: object) -> str | None:
    """ "Make Model" as a person would say it.

    Cameras often repeat the make in the model ("Canon" + "Canon EOS R5") or carry a
    company name as the make ("NIKON CORPORATION" + "NIKON D850"); both read as the model
    alone. Otherwise the make is prefixed ("SONY" + "ILCE-7M3" -> "SONY ILCE-7M3").

    Args:
        make: The Make tag value, or None.
        model: The Model tag value, or None.

    Returns:
        The camera's name, or None when neither tag is present.
    """
    make_text, model_text = _text(make), _text(model)
    if not model_text:
        return make_text or None
    if not make_text:
        return model_text
    lower_make = make_text.lower()
    for suffix in _MAKER_SUFFIXES:
        if lower_make.endswith(suffix):
            make_text = make_text[: -len(suffix)].strip()
            lower_make = make_text.lower()
            break
    first_word = lower_make.split()[0] if lower_make else ""
    lower_model = model_text.lower()
    if lower_model.startswith(lower_make) or (first_word and lower_model.startswith(first_word)):
        return model_text
    return f"{make_text} {model_text}"


def _text(value: object) -> str:
    """A tag value as clean text: bytes decoded, NULs and padding removed."""
    if value is None:
        return ""
    if isinstance(value, bytes):
        value = value.decode("utf-8", "replace")
    if not isinstance(value, str):
        return ""
    return " ".join(value.replace("\x00", " ").split())
