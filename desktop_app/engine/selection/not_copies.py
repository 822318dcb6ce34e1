"""The "not duplicates" memory: pairs of photos the user said are not copies.

A pair is remembered by the pixel digests of the two pictures (``imaging/identity.py``:
a JPEG's entropy-coded data, another format's decoded pixels), not by path or catalog
id, so it survives renames, moves, re-scans, a rebuilt catalog and edits of the files'
metadata (a rating or keywords written into the file): the same two pictures are never
offered as copies again, wherever they are. Photos read before pixel digests existed
(and RAW files, which have none) are remembered by their file digests (xxh3-128 of their
bytes); such an entry moves to the pixel digests once both files have been read again
(:func:`upgrade`, run by :func:`filter_pairs`). Saying it of a
group remembers every pair of its members. Byte-identical files can be remembered too
("I keep both on purpose"); the key is then the digest twice.

:func:`filter_pairs` is applied by ``Library.pairs`` to every pair set before grouping.
It costs nothing when the list is empty, and one indexed query on the digest otherwise.
The list is the user's data: migrations keep it and a catalog rebuild salvages it.
"""

from __future__ import annotations

import itertools
import logging
import os
import time
from collections.abc import Iterable, Sequence
from dataclasses import dataclass, replace

import numpy as np

from desktop_app.engine.catalog.rows import chunks
from desktop_app.engine.catalog.store import Catalog, decode_path, encode_path
from desktop_app.engine.errors import UsageError
from desktop_app.engine.fileops import fsutil
from desktop_app.engine.types import ImageRecord, PairSet

log = logging.getLogger(__name__)


@dataclass(frozen=True, slots=True)
class IgnoredPair:
    """One remembered pair.

    Attributes:
        a: The smaller digest.
        b: The larger digest (equal to ``a`` for byte-identical files).
        added_ns: When the user said so.
        a_path: Where the file with digest ``a`` was at the time.
        b_path: Where the file with digest ``b`` was at the time.
    """

    a: bytes
    b: bytes
    added_ns: int
    a_path: str | None
    b_path: str | None

    @property
    def key(self) -> str:
        """``AHEX:BHEX``, how the command line names a pair."""
        return f"{self.a.hex()}:{self.b.hex()}"


def with_digests(catalog: Catalog, records: Sequence[ImageRecord]) -> list[ImageRecord]:
    """``records``, each with its digest: those the scan left without one (camera RAW
    files of a size no other file has, read only as far as their preview) are read now,
    and their digests stored in the catalog.
    """
    missing = [r for r in records if r.digest is None]
    if not missing:
        return list(records)
    found: dict[int, bytes] = {}
    for record in missing:
        try:
            info = os.stat(record.path)
            digest = fsutil.digest_file(record.path)
        except OSError as error:
            raise UsageError(f"{record.path} cannot be read: {error.strerror or error}") from None
        if (info.st_size, info.st_mtime_ns) != (record.size, record.mtime_ns):
            raise UsageError(f"{record.path} changed since the last scan; scan again first.")
        found[record.id] = digest
    catalog.set_digests([(r.id, r.mtime_ns, found[r.id]) for r in missing])
    return [replace(r, digest=found[r.id]) if r.id in found else r for r in records]


def key_of(record: ImageRecord) -> bytes | None:
    """What a photo is remembered by: its pixel digest, else its file digest."""
    return record.pixel_digest or record.digest


def _ordered(x: ImageRecord, y: ImageRecord) -> tuple[bytes, bytes]:
    """The pair's key, smaller first: pixel digests when both have one, else file digests."""
    if x.digest is None or y.digest is None:
        raise UsageError(f"{x.path if x.digest is None else y.path} has not been read yet.")
    if x.pixel_digest is not None and y.pixel_digest is not None:
        a, b = x.pixel_digest, y.pixel_digest
    else:
        a, b = x.digest, y.digest
    return (a, b) if a <= b else (b, a)


def ignore(catalog: Catalog, records: Sequence[ImageRecord]) -> int:
    """Remember that these photos are not copies of each other (every pair of them).

    Args:
        catalog: The catalog holding the list.
        records: Two or more photos (a pair, or a whole group).

    Returns:
        How many pairs were newly remembered.

    Raises:
        UsageError: Fewer than two photos, or a photo without a digest.
    """
    if len({r.path for r in records}) < 2:
        raise UsageError("Name at least two photos that are not copies.")
    records = with_digests(catalog, records)
    added = 0
    now = time.time_ns()
    with catalog.transaction() as db:
        for x, y in itertools.combinations(records, 2):
            lo, hi = _ordered(x, y)
            lo_path, hi_path = (
                (x.path, y.path)
                if lo in (x.pixel_digest, x.digest)
                else (
                    y.path,
                    x.path,
                )
            )
            cur = db.execute(
                "INSERT INTO ignored_pairs(a, b, added_ns, a_path, b_path) VALUES(?, ?, ?, ?, ?)"
                " ON CONFLICT(a, b) DO NOTHING",
                (lo, hi, now, encode_path(lo_path), encode_path(hi_path)),
            )
            added += cur.rowcount
    log.info("Remembered %d pairs as not duplicates", added)
    return added


def unignore(catalog: Catalog, pairs: Iterable[tuple[bytes, bytes]]) -> int:
    """Forget remembered pairs (by their digests, in either order); returns how many."""
    removed = 0
    with catalog.transaction() as db:
        for x, y in pairs:
            lo, hi = (x, y) if x <= y else (y, x)
            removed += db.execute("DELETE FROM ignored_pairs WHERE a=? AND b=?", (lo, hi)).rowcount
    return removed


def unignore_records(catalog: Catalog, records: Sequence[ImageRecord]) -> int:
    """Forget every remembered pair among these photos; returns how many."""
    keys = []
    for x, y in itertools.combinations(with_digests(catalog, records), 2):
        keys.append(_ordered(x, y))
        if x.digest is not None and y.digest is not None:  # an entry not yet upgraded
            keys.append((x.digest, y.digest))
    return unignore(catalog, keys)


def ignored(catalog: Catalog) -> list[IgnoredPair]:
    """The whole list, most recent first (for the ignore-list view)."""
    rows = catalog.execute(
        "SELECT a, b, added_ns, a_path, b_path FROM ignored_pairs ORDER BY added_ns DESC, a, b"
    )
    return [
        IgnoredPair(
            bytes(r[0]),
            bytes(r[1]),
            r[2],
            None if r[3] is None else decode_path(r[3]),
            None if r[4] is None else decode_path(r[4]),
        )
        for r in rows
    ]


def keys(catalog: Catalog) -> frozenset[tuple[bytes, bytes]]:
    """Every remembered pair as ``(smaller digest, larger digest)``, for ``selection.select``."""
    rows = catalog.execute("SELECT a, b FROM ignored_pairs").fetchall()
    return frozenset((bytes(a), bytes(b)) for a, b in rows)


def parse_key(text: str) -> tuple[bytes, bytes]:
    """``AHEX:BHEX`` (as :attr:`IgnoredPair.key` prints it) to two digests.

    Raises:
        UsageError: Not two hex digests separated by a colon.
    """
    try:
        a, b = text.strip().split(":")
        return bytes.fromhex(a), bytes.fromhex(b)
    except ValueError:
        raise UsageError(f"Not a pair key (HEX:HEX): {text!r}") from None


def filter_pairs(catalog: Catalog, pairs: PairSet) -> PairSet:
    """``pairs`` without those the user said are not copies.

    Args:
        catalog: The catalog the pair ids refer to.
        pairs: Pairs of catalog image ids.

    Returns:
        The same set when nothing applies; otherwise a new set with the same threshold.
    """
    if len(pairs) == 0:
        return pairs
    remembered = keys(catalog)
    if not remembered:
        return pairs
    if upgrade(catalog):
        remembered = keys(catalog)
    digests = sorted({d for key in remembered for d in key})
    # Only images whose pixel or file digest is on the list can be in an ignored pair.
    owner: dict[int, set[bytes]] = {}
    for chunk in chunks(digests, 400):
        marks = ",".join("?" * len(chunk))
        for image_id, digest, pixels in catalog.execute(
            f"SELECT id, digest, pixel_digest FROM images WHERE digest IN ({marks})"
            f" OR pixel_digest IN ({marks})",
            [*chunk, *chunk],
        ):
            owner.setdefault(int(image_id), set()).update(
                bytes(d) for d in (digest, pixels) if d is not None
            )
    if not owner:
        return pairs
    ids = np.fromiter(owner, dtype=np.int64, count=len(owner))
    suspects = np.flatnonzero(np.isin(pairs.a, ids) & np.isin(pairs.b, ids))
    drop = np.zeros(len(pairs), dtype=bool)
    for k in suspects.tolist():
        mine, theirs = owner[int(pairs.a[k])], owner[int(pairs.b[k])]
        if any(((x, y) if x <= y else (y, x)) in remembered for x in mine for y in theirs):
            drop[k] = True
    if not drop.any():
        return pairs
    keep = ~drop
    log.debug("Dropped %d ignored pairs", int(drop.sum()))
    return PairSet(
        pairs.a[keep], pairs.b[keep], pairs.distance[keep], pairs.transform[keep], pairs.threshold
    )


def upgrade(catalog: Catalog) -> int:
    """Move entries keyed by file digests to pixel digests where both photos now have one.

    Older entries (and entries made before a re-scan read the pixels) name files by their
    bytes, which change when a rating or keywords are written into the file; the pixel
    digest does not. Returns how many entries moved.
    """
    rows = catalog.execute("SELECT a, b, added_ns, a_path, b_path FROM ignored_pairs").fetchall()
    moved = 0
    pixel_of: dict[bytes, bytes] = {}
    wanted = sorted({bytes(d) for r in rows for d in r[:2]})
    for chunk in chunks(wanted, 500):
        marks = ",".join("?" * len(chunk))
        for digest, pixels in catalog.execute(
            f"SELECT digest, pixel_digest FROM images WHERE digest IN ({marks})"
            " AND pixel_digest IS NOT NULL",
            chunk,
        ):
            pixel_of[bytes(digest)] = bytes(pixels)
    if not pixel_of:
        return 0
    with catalog.transaction() as db:
        for a, b, added, a_path, b_path in rows:
            pa, pb = pixel_of.get(bytes(a)), pixel_of.get(bytes(b))
            if pa is None or pb is None:
                continue
            lo, hi, lo_path, hi_path = (
                (pa, pb, a_path, b_path) if pa <= pb else (pb, pa, b_path, a_path)
            )
            db.execute("DELETE FROM ignored_pairs WHERE a=? AND b=?", (a, b))
            db.execute(
                "INSERT INTO ignored_pairs(a, b, added_ns, a_path, b_path) VALUES(?, ?, ?, ?, ?)"
                " ON CONFLICT(a, b) DO NOTHING",
                (lo, hi, added, lo_path, hi_path),
            )
            moved += 1
    if moved:
        log.info('Moved %d "not copies" entries to pixel digests', moved)
    return moved
