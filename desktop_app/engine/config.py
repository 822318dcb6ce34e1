"""Engine settings as one plain dataclass.

The GUI reads them from QSettings (``gui/common/settings.py``) and the command line from its
arguments; the engine only ever sees an :class:`EngineConfig`.
"""

from __future__ import annotations

import os
from dataclasses import dataclass, field

#: Largest Hamming distance the sliders and every search allow. The segment index
#: (``engine/catalog/mih.py``) is exact for every threshold from 0 up to this value.
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


#: Folders and files never scanned, as patterns matched against names (case-insensitive
#: shell wildcards; a pattern with a "/" is matched against the end of the path): other
#: applications' libraries and caches, whose images are derivatives those applications
#: manage (trashing them damages their libraries), and system and NAS folders.
KNOWN_BUNDLES: tuple[str, ...] = (
    "*.lrdata",  # Lightroom previews and smart previews (DNGs)
    "*.lrcat-data",  # Lightroom catalog data
    "*.photoslibrary",  # Apple Photos
    "*.migratedphotolibrary",
    "*.aplibrary",  # Aperture
    "CaptureOne",  # Capture One session caches and settings
    "*.cocatalog/Cache",  # Capture One catalog previews
    "mipmaps-*.d",  # darktable thumbnail cache
    ".dtrash",  # digiKam's trash
    ".thumbnails",  # freedesktop and digiKam thumbnails
    "._*",  # AppleDouble files macOS writes on foreign disks
    "#recycle",  # Synology and QNAP recycle bins
    "#snapshot",
    "@eaDir",  # Synology thumbnails
    ".Trash-*",  # freedesktop trash on removable drives
    ".Trashes",
    "$RECYCLE.BIN",
    "System Volume Information",
)


@dataclass(frozen=True, slots=True)
class SimulatedDisk:
    """A disk model for benchmarks: every read waits as a real disk would.

    Attributes:
        seek_ms: Cost of a read that does not continue where the disk last read (another
            file, or another place in the file): a head seek or a network round trip.
        mb_per_s: Transfer rate, in MB (10^6 bytes) per second.
        request_kb: Size of the requests a reader's reads reach the disk in, and so how
            finely two readers interleave: Linux's default read-ahead window is 128 KB
            (``/sys/block/*/queue/read_ahead_kb``), an NFS client's ``rsize`` 1 MB.
    """

    seek_ms: float = 8.0
    mb_per_s: float = 40.0
    request_kb: int = 128


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
            left out of pairs, groups and query results (``selection/raw_jpeg.py``). Off by
            default: the pair is then found like any other copy.
        batch_size: Files written to the catalog per transaction during a scan.
        excluded: Folder names never descended into (besides hidden ones).
        exclude: The user's own patterns of folders and files to leave out, like
            :data:`KNOWN_BUNDLES` (which always apply).
        forget_missing: Let a scan forget the photos of a library folder that is
            missing or empty; otherwise they are kept as offline (an unplugged drive).
        index: Where the hash index lives: ``"sqlite"`` (the catalog's own segment index,
            the default) or ``"milvus:URI"``, a Milvus server (``http://host:19530``) or a
            local file run by the embedded Milvus Lite (``search/milvus_index.py``; needs
            the ``scale`` extra).
        dask: Address of a Dask scheduler (``tcp://host:8786``) whose workers hash the
            files of a scan (``scan/dask_pool.py``; needs the ``scale`` extra); None
            hashes on this machine.
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
    exclude: tuple[str, ...] = ()
    forget_missing: bool = False
    index: str = "sqlite"
    dask: str | None = None
    readers: int | None = None
    memory_budget: int | None = None
    simulated_disk: SimulatedDisk | None = None

    def __post_init__(self) -> None:
        if not 0 <= self.threshold <= MAX_THRESHOLD:
            raise ValueError(f"threshold must be between 0 and {MAX_THRESHOLD}")
        if self.workers < 0:
            raise ValueError("workers must be 0 or more")
        if self.index != "sqlite" and not (
            self.index.startswith("milvus:") and len(self.index) > len("milvus:")
        ):
            raise ValueError('index must be "sqlite" or "milvus:URI"')
        if self.readers is not None and self.readers < 1:
            raise ValueError("readers must be 1 or more")
