"""Shared bits of the benchmark scripts: machine notes and timing helpers."""

from __future__ import annotations

import os
import platform
import resource
import sqlite3
import sys
import time
from collections.abc import Callable
from pathlib import Path

# Run from a checkout without installing: make the package importable.
sys.path.insert(0, str(Path(__file__).resolve().parents[1]))


def cpu_model() -> str:
    """The processor's model name (from /proc/cpuinfo on Linux)."""
    try:
        with open("/proc/cpuinfo") as info:
            for line in info:
                if line.startswith("model name"):
                    return line.split(":", 1)[1].strip()
    except OSError:
        pass
    return platform.processor() or platform.machine()


def machine_notes() -> str:
    """One line describing the machine and the versions that matter for speed."""
    import imagehash
    import numpy
    import PIL
    from PIL import features

    cores = len(os.sched_getaffinity(0)) if hasattr(os, "sched_getaffinity") else os.cpu_count()
    jpeg = features.version("libjpeg_turbo") or "no libjpeg-turbo"
    return (
        f"{cpu_model()}, {cores} cores, Python {platform.python_version()}, "
        f"numpy {numpy.__version__}, Pillow {PIL.__version__} (libjpeg-turbo {jpeg}), "
        f"imagehash {imagehash.__version__}, SQLite {sqlite3.sqlite_version}"
    )


def best_of(repeat: int, fn: Callable[[], object]) -> float:
    """The fastest of ``repeat`` runs of ``fn``, in seconds (noise only ever adds time)."""
    best = float("inf")
    for _ in range(repeat):
        start = time.perf_counter()
        fn()
        best = min(best, time.perf_counter() - start)
    return best


def peak_rss_mb() -> float:
    """Peak resident memory of this process so far, in MB."""
    return resource.getrusage(resource.RUSAGE_SELF).ru_maxrss / 1024
