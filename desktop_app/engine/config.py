"""Engine settings as one plain dataclass.

The GUI reads them from QSettings (``gui/settings.py``) and the command line from its
arguments; the engine only ever sees an :class:`EngineConfig`.
"""

from __future__ import annotations

import os
from dataclasses import dataclass, field

from desktop_app.engine.imaging.reading import SimulatedDisk

#: Largest Hamming distance the sliders and every search allow. The segment index
#: (``engine/mih.py``) is exact for every threshold from 0 up to this value.
MAX_THRESHOLD = 16

#: Threshold used when the user has chosen none. Chosen with ``benchmarks/quality.py``
#: (see docs/benchmarks.md): the smallest distance that still finds every resize,
#: re-encode, format change and EXIF-rotated copy, with precision above 0.99.
DEFAULT_THRESHOLD = 12

#: Largest image, in pixels, that we agree to decode. A 300 MP panorama loads; a header
#: claiming 100000 x 100000 is refused before any pixel is decoded.
DEFAULT_MAX_PIXELS = 600_000_000


def default_workers() -> int:
    """One hashing process per core the scan may use."""
    try:
        return max(1, len(os.sched_getaffinity(0)))
    except AttributeError:  # macOS and Windows have no sched_getaffinity
        return max(1, os.cpu_count() or 1)


@dataclass(frozen=True, slots=True)
class EngineConfig:
    """Everything the engine needs to know about the user's preferences.

    Attributes:
        threshold: Hamming distance at or below which two photos count as copies.
        skip_hidden: Do not descend into folders (or read files) whose name starts with a dot.
        follow_symlinks: Follow symbolic links to folders and files; loops are detected.
        workers: Hashing processes; 0 hashes in the calling process (tests, tiny scans).
        max_pixels: Decompression-bomb limit, see :data:`DEFAULT_MAX_PIXELS`.
        rotations: Also match copies rotated by quarter turns or mirrored. Off by default:
            it multiplies the pair search time by 5-15 and queries by 7, adds 64 bytes
            per photo to the catalog, and gives every pair 15 chances to match by
            accident (docs/benchmarks.md, "Cost of the rotation setting").
        trim_borders: Trim flat borders before hashing so that a framed copy matches.
        fold_raw_jpeg: Treat a RAW file and the JPEG (or HEIF) the camera wrote beside
            it, with the same name, as one photo: the JPEG is folded into the RAW and
            left out of pairs, groups and query results (``sidecars.py``). Off by
            default: the pair is then found like any other copy.
        batch_size: Files written to the catalog per transaction during a scan.
        excluded: Folder names never descended into (besides hidden ones).
        readers: Hashing processes that may read files at once; None decides by the
            storage (one on a spinning disk or a network share, one per worker on an
            SSD; ``imaging/reading.py``).
        memory_budget: Bytes of decoded pictures the hashing processes may hold at once;
            None for a quarter of the machine's memory (``imaging/budget.py``).
        simulated_disk: Make every read wait as on this disk model (benchmarks only).
    """

    threshold: int = DEFAULT_THRESHOLD
    skip_hidden: bool = True
    follow_symlinks: bool = True
    workers: int = field(default_factory=default_workers)
    max_pixels: int = DEFAULT_MAX_PIXELS
    rotations: bool = False
    trim_borders: bool = True
    fold_raw_jpeg: bool = False
    batch_size: int = 256
    excluded: tuple[str, ...] = ("@eaDir", "$RECYCLE.BIN", "System Volume Information")
    readers: int | None = None
    memory_budget: int | None = None
    simulated_disk: SimulatedDisk | None = None

    def __post_init__(self) -> None:
        if not 0 <= self.threshold <= MAX_THRESHOLD:
            raise ValueError(f"threshold must be between 0 and {MAX_THRESHOLD}")
        if self.workers < 0:
            raise ValueError("workers must be 0 or more")
        if self.readers is not None and self.readers < 1:
            raise ValueError("readers must be 1 or more")
