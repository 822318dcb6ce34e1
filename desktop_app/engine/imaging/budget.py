"""A memory budget shared by the hashing processes, so large pictures do not all decode at once.

A JPEG decodes at 1/8 scale and costs little, but a 300 MP TIFF decodes whole: about
900 MB in RGB. Two cores hashing two of them at once need twice that, eight cores eight
times. Before decoding, a worker estimates the decoded size from the header
(:func:`decoded_bytes`) and holds that much of the budget while it decodes; a worker
whose picture does not fit waits until others give theirs back. A picture larger than
the whole budget still decodes, alone.
"""

from __future__ import annotations

import logging
import multiprocessing
import os
from collections.abc import Iterator
from contextlib import contextmanager
from typing import Any

from PIL import Image

log = logging.getLogger(__name__)

#: Share of the machine's memory the decoders may use at once, by default.
DEFAULT_SHARE = 0.25
#: Budget when the machine's memory cannot be told.
FALLBACK_BYTES = 2 << 30
#: Pictures below this are not worth accounting for (every JPEG draft, most PNGs).
SMALL = 8 << 20


def default_budget() -> int:
    """:data:`DEFAULT_SHARE` of physical memory, in bytes."""
    try:
        total = os.sysconf("SC_PHYS_PAGES") * os.sysconf("SC_PAGE_SIZE")
    except (AttributeError, ValueError, OSError):
        return FALLBACK_BYTES
    return max(256 << 20, int(total * DEFAULT_SHARE))


def decoded_bytes(image: Image.Image) -> int:
    """Memory the decoded picture will take, from its header (size as drafted, mode)."""
    bands = max(1, len(image.getbands()))
    depth = 2 if image.mode in ("I;16", "I;16B", "I;16L") else 4 if image.mode in ("I", "F") else 1
    if image.mode in ("I", "F"):
        bands = 1
    # Pillow stores 3-band pictures in 4 bytes per pixel.
    per_pixel = 4 if bands == 3 else bands * depth
    return image.width * image.height * per_pixel


class MemoryBudget:
    """Bytes of decoded pictures the pool's processes may hold at once."""

    def __init__(self, limit: int, condition: Any = None, used: Any = None) -> None:
        self.limit = limit
        self._condition = condition
        self._used = used

    @classmethod
    def shared(cls, limit: int, context: Any = None) -> MemoryBudget:
        """A budget all processes started with its :meth:`state` share."""
        context = context or multiprocessing.get_context()
        return cls(limit, context.Condition(), context.Value("q", 0, lock=False))

    def state(self) -> tuple[int, Any, Any]:
        """What a worker needs to rebuild this budget (see :func:`install`)."""
        return self.limit, self._condition, self._used

    @contextmanager
    def hold(self, nbytes: int) -> Iterator[None]:
        """Wait until ``nbytes`` fit in the budget, and hold them while the block runs."""
        if self._condition is None or nbytes < SMALL:
            yield
            return
        share = min(nbytes, self.limit)
        with self._condition:
            while self._used.value > 0 and self._used.value + share > self.limit:
                self._condition.wait(1.0)
            self._used.value += share
        try:
            yield
        finally:
            with self._condition:
                self._used.value -= share
                self._condition.notify_all()


_CURRENT = MemoryBudget(0)


def current() -> MemoryBudget:
    """This process's budget (unbounded unless a pool installed one)."""
    return _CURRENT


def install(state: tuple[int, Any, Any] | None) -> None:
    """Make the budget rebuilt from ``state`` this process's budget (pool initializer)."""
    global _CURRENT
    _CURRENT = MemoryBudget(*state) if state is not None else MemoryBudget(0)
