"""How the command line writes one catalogued photo in its JSON output (``groups``,
``query``, ``shots``...); later versions only add keys."""

from __future__ import annotations

from typing import Any

from desktop_app.engine.types import ImageRecord, hash_to_hex


def record_json(record: ImageRecord) -> dict[str, Any]:
    """One photo as JSON: path, hash, sizes, format, dates, capture identity, sharpness."""
    return {
        "path": record.path,
        "hash": None if record.phash is None else hash_to_hex(record.phash),
        "width": record.width,
        "height": record.height,
        "size": record.size,
        "format": record.format,
        "taken": record.taken,
        "camera": record.camera,
        "error": record.error,
        "capture": None if record.capture is None else record.capture.to_json(),
        "sharpness": record.sharpness,
    }
