"""The ``sidecars`` table: which sidecar files the last scan found beside each photo.

A cache the scan refills (``scan/scanner.py``); file operations look at the disk again
before moving anything (``fileops/sidecars.py``), so a sidecar made after the scan still
goes with its photo. The window and the JSON read it to show each photo's sidecars.
"""

from __future__ import annotations

import logging
from collections.abc import Mapping, Sequence

from desktop_app.engine.catalog.store import Catalog, decode_path, encode_path

log = logging.getLogger(__name__)


def record(
    catalog: Catalog, photos: Sequence[str], found: Mapping[str, Sequence[tuple[str, str]]]
) -> None:
    """Replace the sidecars of ``photos`` by ``found`` (photo -> [(sidecar, kind)])."""
    with catalog.transaction() as db:
        for start in range(0, len(photos), 500):
            chunk = [encode_path(p) for p in photos[start : start + 500]]
            db.execute(f"DELETE FROM sidecars WHERE photo IN ({','.join('?' * len(chunk))})", chunk)
        db.executemany(
            "INSERT OR REPLACE INTO sidecars(photo, path, kind) VALUES(?, ?, ?)",
            [
                (encode_path(photo), encode_path(path), what)
                for photo, paths in found.items()
                for path, what in paths
            ],
        )


def forget(catalog: Catalog, photos: Sequence[str]) -> None:
    """Drop the sidecars of photos that left the library (moved, trashed, deleted)."""
    for start in range(0, len(photos), 500):
        chunk = [encode_path(p) for p in photos[start : start + 500]]
        catalog.execute(
            f"DELETE FROM sidecars WHERE photo IN ({','.join('?' * len(chunk))})", chunk
        )


def of(catalog: Catalog, photos: Sequence[str]) -> dict[str, list[tuple[str, str]]]:
    """The recorded sidecars of ``photos``: photo path -> [(sidecar path, kind)], sorted."""
    out: dict[str, list[tuple[str, str]]] = {}
    for start in range(0, len(photos), 500):
        chunk = [encode_path(p) for p in photos[start : start + 500]]
        rows = catalog.execute(
            "SELECT photo, path, kind FROM sidecars"
            f" WHERE photo IN ({','.join('?' * len(chunk))}) ORDER BY photo, path",
            chunk,
        )
        for photo, path, what in rows:
            out.setdefault(decode_path(photo), []).append((decode_path(path), what))
    return out
