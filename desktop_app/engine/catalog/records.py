"""A library's records as read from the catalog: rows kept, each made a record when asked.

Opening a library reads the row of every photo: its pairs are filtered and judged with
them (digests, captures), and the window resolves its groups and plans its marks from
them. But a screen shows a few dozen photos, and making an :class:`ImageRecord` (a
frozen dataclass of nineteen fields) costs about as much as reading its row: at 20,000
photos, half of the 0.1 s the records took. :class:`RecordTable` keeps the rows and
makes each record the first time it is looked up; what the opening needs of every photo
(ids, sizes, which are hashed, digests, which carry a capture) it reads from the rows.

Reading the rows themselves (19 columns each, converted one value at a time by sqlite3)
is then most of what opening a library costs: the catalog keeps a copy of a library's
rows as one blob (``record_rows``, :func:`pack_rows`), valid while no image row has
changed since it was read (``image_changes``, counted by triggers: ``schema.py``). The
copy is in :mod:`marshal`'s format, which rebuilds the tuples of ints, floats, strings,
bytes and None four times faster than reading them; it is tied to the format's and
Python's versions and to the columns (:data:`ROWS_FORMAT`), and checked against a
digest before it is decoded, so a damaged copy is read again from the table rather
than decoded.
"""

from __future__ import annotations

import json
import marshal
import sys
from collections.abc import Iterator, Mapping, Sequence
from typing import Any

import numpy as np
import numpy.typing as npt
import xxhash

from desktop_app.engine.types import Capture, FileFailure, IdArray, ImageRecord

#: The ``images`` columns a record is made of, in the order :func:`make_record` takes.
IMAGE_COLUMNS = (
    "id, path, size, mtime_ns, digest, phash, width, height, format, taken, camera, error,"
    " content_width, content_height, capture, pixel_digest, sharpness, greyscale,"
    " brightness"
)
# Positions in a row of IMAGE_COLUMNS, and its length.
_ID, _PATH, _SIZE, _MTIME, _DIGEST, _PHASH, _ERROR, _CAPTURE = 0, 1, 2, 3, 4, 5, 11, 14
_WIDTH = len(IMAGE_COLUMNS.split(","))

#: What a kept copy of rows (:func:`pack_rows`) depends on besides the rows themselves.
ROWS_FORMAT = (
    f"marshal {marshal.version}, Python {sys.version_info.major}.{sys.version_info.minor}:"
    f" {IMAGE_COLUMNS}"
)

#: What ``os.fsdecode`` decodes paths with.
_FS_ENCODING = sys.getfilesystemencoding()
_FS_ERRORS = sys.getfilesystemencodeerrors()
_TWO_64 = 1 << 64


def make_record(row: Sequence[Any]) -> ImageRecord:
    """The record of a row of :data:`IMAGE_COLUMNS`."""
    # Positional, with the path decoded and the hash made unsigned inline: this runs
    # once per photo of a library.
    (
        image_id,
        path,
        size,
        mtime_ns,
        digest,
        phash,
        width,
        height,
        image_format,
        taken,
        camera,
        error,
        content_width,
        content_height,
        capture,
        pixel_digest,
        sharpness,
        greyscale,
        brightness,
    ) = row
    return ImageRecord(
        image_id,
        path.decode(_FS_ENCODING, _FS_ERRORS),
        size,
        mtime_ns,
        digest,
        None if phash is None else phash + _TWO_64 if phash < 0 else phash,
        width,
        height,
        image_format,
        taken,
        camera,
        error,
        content_width,
        content_height,
        parse_capture(capture) if capture else None,
        pixel_digest,
        sharpness,
        bool(greyscale),
        brightness,
    )


def pack_rows(rows: Sequence[tuple[Any, ...]]) -> tuple[bytes, bytes]:
    """Rows of :data:`IMAGE_COLUMNS` (as sqlite3 returns them) as one blob, and its
    digest (:func:`unpack_rows` checks it)."""
    blob = marshal.dumps(list(rows), marshal.version)
    return blob, xxhash.xxh3_128_digest(blob)


def unpack_rows(blob: bytes, checksum: bytes) -> list[tuple[Any, ...]] | None:
    """The rows :func:`pack_rows` made ``blob`` of, or None if it is not what it was
    (another digest, or not a list of rows once decoded)."""
    if xxhash.xxh3_128_digest(blob) != checksum:
        return None
    try:
        rows = marshal.loads(blob)
    except (EOFError, ValueError, TypeError):
        return None
    if not isinstance(rows, list) or not all(
        type(row) is tuple and len(row) == _WIDTH for row in rows
    ):
        return None
    return rows


def capture_text(capture: Capture | None) -> str | None:
    """A capture as the ``images.capture`` column stores it."""
    return None if capture is None else json.dumps(capture.to_json(), separators=(",", ":"))


def parse_capture(text: str | None) -> Capture | None:
    """Inverse of :func:`capture_text`; a damaged value is as if never read (None)."""
    if not text:
        return None
    try:
        data = json.loads(text)
        return Capture.from_json(data) if isinstance(data, dict) else None
    except (ValueError, TypeError):
        return None


class RecordTable(Mapping[int, ImageRecord]):
    """Records by image id, in the order of the rows given, each made from its row the
    first time it is looked up (and the same object every time after).

    It may be read from several threads (the window hands its worker's table to the GUI
    thread, which hands it to "Select duplicates" on another): rows are never changed,
    and a record made twice at once is kept once.

    Args:
        rows: Rows of :data:`IMAGE_COLUMNS`, one per image, ids unique.
    """

    __slots__ = ("_made", "_position", "_rows")

    def __init__(self, rows: Sequence[Sequence[Any]]) -> None:
        self._rows = rows
        self._position: dict[int, int] = {row[_ID]: k for k, row in enumerate(rows)}
        self._made: dict[int, ImageRecord] = {}

    def __getitem__(self, image_id: int) -> ImageRecord:
        made = self._made.get(image_id)
        if made is None:
            row = self._rows[self._position[image_id]]
            made = self._made.setdefault(image_id, make_record(row))
        return made

    def __contains__(self, image_id: object) -> bool:
        return image_id in self._position

    def __iter__(self) -> Iterator[int]:
        return iter(self._position)

    def __len__(self) -> int:
        return len(self._position)

    def __repr__(self) -> str:
        return f"RecordTable({len(self)} records, {len(self._made)} made)"

    def made(self) -> int:
        """How many records were made so far."""
        return len(self._made)

    def ids(self) -> IdArray:
        """The ids, in row order."""
        return np.fromiter(self._position, dtype=np.int64, count=len(self._position))

    def sizes(self) -> npt.NDArray[np.int64]:
        """File sizes in bytes, in row order."""
        rows = self._rows
        return np.fromiter((row[_SIZE] for row in rows), dtype=np.int64, count=len(rows))

    def hashed_ids(self) -> IdArray:
        """Ids of the images with a pHash (not the unreadable files), in row order."""
        return np.fromiter((row[_ID] for row in self._rows if row[_PHASH] is not None), np.int64)

    def digests(self) -> list[bytes | None]:
        """File digests, in row order (None where the file has none)."""
        return [row[_DIGEST] for row in self._rows]

    def failures(self) -> list[FileFailure]:
        """The files that could not be read, and why, in row order."""
        return [
            FileFailure(
                row[_PATH].decode(_FS_ENCODING, _FS_ERRORS), row[_SIZE], row[_MTIME], row[_ERROR]
            )
            for row in self._rows
            if row[_ERROR] is not None
        ]

    def captured_ids(self) -> list[int]:
        """Ids of the images whose row holds a capture (in row order); their records say
        what it is (:attr:`ImageRecord.capture` can still be None if it is damaged)."""
        return [row[_ID] for row in self._rows if row[_CAPTURE]]


def hashed_ids(records: Mapping[int, ImageRecord]) -> IdArray:
    """Ids of the records with a pHash, without making them when ``records`` is a table."""
    if isinstance(records, RecordTable):
        return records.hashed_ids()
    return np.fromiter((i for i, r in records.items() if r.phash is not None), np.int64)


def file_sizes(records: Mapping[int, ImageRecord]) -> tuple[IdArray, npt.NDArray[np.int64]]:
    """``(ids, sizes)`` of the records, in their order, without making them when
    ``records`` is a table."""
    if isinstance(records, RecordTable):
        return records.ids(), records.sizes()
    count = len(records)
    ids = np.fromiter(records.keys(), dtype=np.int64, count=count)
    sizes = np.fromiter((r.size for r in records.values()), dtype=np.int64, count=count)
    return ids, sizes


def digests(records: Mapping[int, ImageRecord]) -> list[bytes | None]:
    """The records' digests, in their order, without making them when ``records`` is a
    table."""
    if isinstance(records, RecordTable):
        return records.digests()
    return [r.digest for r in records.values()]


def with_capture(records: Mapping[int, ImageRecord]) -> list[int]:
    """Ids of the records that may have a capture: only those of a table whose rows hold
    one, every id otherwise (look at ``records[i].capture`` for each)."""
    if isinstance(records, RecordTable):
        return records.captured_ids()
    return list(records)
