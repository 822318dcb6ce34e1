"""How the window writes sizes, dates, distances and folders for people.

Plain functions without Qt, shared by the card painter, the compare view and the
summary line, so that one photo reads the same everywhere.
"""

from __future__ import annotations

import datetime as dt
import os
from collections.abc import Sequence

from desktop_app.engine.types import ImageRecord, Transform

# Re-exported: the window's modules take their words from here.
from desktop_app.engine.units import human_size as human_size

_TRANSFORM_NAMES = {
    Transform.IDENTITY: "",
    Transform.ROTATE_90: "rotated 90°",
    Transform.ROTATE_180: "rotated 180°",
    Transform.ROTATE_270: "rotated 270°",
    Transform.FLIP_LEFT_RIGHT: "mirrored",
    Transform.FLIP_TOP_BOTTOM: "flipped",
    Transform.TRANSPOSE: "transposed",
    Transform.TRANSVERSE: "transversed",
}


def pixel_size(record: ImageRecord) -> str:
    """``6000 × 4000``, or an empty string when unknown."""
    return f"{record.width} × {record.height}" if record.width and record.height else ""


def megapixels(record: ImageRecord) -> str:
    """``24.0 MP``; two significant digits below 0.1 MP (``0.03 MP``, not ``0.0 MP``)."""
    if not record.pixels:
        return ""
    value = record.pixels / 1e6
    return f"{value:.1f} MP" if value >= 0.1 else f"{value:.2g} MP"


def taken(record: ImageRecord) -> str:
    """Date taken as ``2024-05-01 13:45``, or an empty string."""
    if not record.taken:
        return ""
    try:
        return dt.datetime.fromisoformat(record.taken).strftime("%Y-%m-%d %H:%M")
    except ValueError:
        return record.taken


def modified(record: ImageRecord) -> str:
    """Modification time as ``2024-05-01 13:45``."""
    stamp = dt.datetime.fromtimestamp(record.mtime_ns / 1e9)
    return stamp.strftime("%Y-%m-%d %H:%M")


def folder(path: str) -> str:
    """The folder of ``path``, with the home folder written as ``~``."""
    parent = os.path.dirname(path)
    home = os.path.expanduser("~")
    if home not in ("", "/", "~") and (parent == home or parent.startswith(home + os.sep)):
        return "~" + parent[len(home) :]
    return parent


def short_folder(path: str) -> str:
    """The last folder name of ``path``, for cards where space is short."""
    return os.path.basename(os.path.dirname(path)) or os.path.dirname(path)


def relative_folder(path: str, roots: Sequence[str]) -> str:
    """The folder of ``path`` inside the library folder holding it.

    ``exports/web`` for ``/photos/exports/web/a.jpg`` in the library ``/photos``; the
    library folder's own name for a photo at its top; the whole folder (home as ``~``)
    for a photo outside the library.
    """
    parent = os.path.dirname(path)
    for root in roots:
        base = root.rstrip(os.sep)
        if parent == base:
            return os.path.basename(base) or base
        if parent.startswith(base + os.sep):
            return parent[len(base) + 1 :]
    return folder(path)


def transform_name(transform: Transform) -> str:
    """``rotated 90°``, ``mirrored``...; empty for the identity."""
    return _TRANSFORM_NAMES[Transform(transform)]


def relation(distance: int, identical: bool, reference: bool) -> str:
    """The card's relation line: reference, identical copy, or the distance."""
    if reference:
        return "reference"
    if identical:
        return "identical file"
    return f"distance {distance}"


def plural(n: int, word: str, words: str | None = None) -> str:
    """``1 group``, ``3 groups``."""
    return f"{n:,} {word if n == 1 else (words or word + 's')}"
