"""Turning catalog rows into engine values: one definition each.

SQLite stores a 64-bit pHash as a signed integer; the engine computes with unsigned
ones. Statements with many parameters go in slices below SQLite's variable limit.
"""

from __future__ import annotations

from collections.abc import Iterator, Sequence
from typing import TypeVar

import numpy as np

from desktop_app.engine.types import HashArray, IdArray

_T = TypeVar("_T")


def as_signed(value: int) -> int:
    """A 64-bit unsigned hash as the signed integer SQLite stores."""
    return value - (1 << 64) if value >= 1 << 63 else value


def as_unsigned(value: int) -> int:
    """Inverse of :func:`as_signed`."""
    return value + (1 << 64) if value < 0 else value


def id_hash_arrays(rows: Sequence[Sequence[int]]) -> tuple[IdArray, HashArray]:
    """``(id, signed hash, ...)`` rows as an id array and an unsigned hash array."""
    ids = np.fromiter((r[0] for r in rows), dtype=np.int64, count=len(rows))
    signed = np.fromiter((r[1] for r in rows), dtype=np.int64, count=len(rows))
    return ids, signed.view(np.uint64)


def chunks(items: Sequence[_T], size: int) -> Iterator[Sequence[_T]]:
    """``items`` in slices of ``size`` (at least 1)."""
    step = max(1, size)
    for start in range(0, len(items), step):
        yield items[start : start + step]
