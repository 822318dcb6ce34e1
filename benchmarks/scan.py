"""Full scan, then re-scan of an unchanged library.

Writes N small generated JPEGs (640x427, the demo generator's realistic pictures with a
different seed each), scans them into a fresh catalog with all cores, then scans again
without changes, then again after touching 1 % of the files. The re-scan reads no image:
it walks the folders, compares size and modification time with the catalog and stops.
The baseline for the re-scan is the bare walk (os.walk + stat of every file) measured in
the same run, so the ratio says what the catalog comparison adds.

    python benchmarks/scan.py [--files 10000]
"""

from __future__ import annotations

import argparse
import os
import shutil
import tempfile
import time
from pathlib import Path

from _common import machine_notes

from desktop_app.demo import synthetic_photo
from desktop_app.engine.config import EngineConfig
from desktop_app.engine.library import Library
from desktop_app.engine.types import drain


def write_library(root: Path, files: int) -> None:
    """``files`` JPEGs in folders of 250, from 200 pictures re-saved at varied quality."""
    pictures = [synthetic_photo(seed, (640, 427)) for seed in range(200)]
    for i in range(files):
        folder = root / f"{2000 + i // 2500}" / f"roll-{i // 250:03d}"
        folder.mkdir(parents=True, exist_ok=True)
        pictures[i % 200].save(folder / f"IMG_{i:05d}.jpg", "JPEG", quality=70 + i % 25)


def bare_walk(root: Path) -> int:
    count = 0
    for folder, _, names in os.walk(root):
        for name in names:
            os.stat(os.path.join(folder, name))
            count += 1
    return count


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--files", type=int, default=10_000)
    args = parser.parse_args()
    work = Path(tempfile.mkdtemp(prefix="doppel-scan-"))
    try:
        root = work / "photos"
        started = time.perf_counter()
        write_library(root, args.files)
        print(f"wrote {args.files} JPEGs in {time.perf_counter() - started:.1f} s")
        catalog = work / "catalog.sqlite"
        config = EngineConfig()
        with Library([root], catalog=catalog, config=config) as library:
            started = time.perf_counter()
            first = drain(library.scan())
            full = time.perf_counter() - started
            assert first.added == args.files, first
            started = time.perf_counter()
            second = drain(library.scan())
            rescan = time.perf_counter() - started
            assert second.unchanged == args.files and second.added == second.updated == 0
            walk = min(_timed(bare_walk, root) for _ in range(3))
            touched = sorted(root.rglob("*.jpg"))[::100]
            for path in touched:
                os.utime(path, None)
            started = time.perf_counter()
            third = drain(library.scan())
            partial = time.perf_counter() - started
            assert third.updated == len(touched)
        print(machine_notes())
        print(f"workers: {config.workers}")
        print(
            f"full scan of {args.files} files:    {full:7.2f} s  ({args.files / full:.0f} files/s)"
        )
        print(
            f"re-scan, nothing changed:         {rescan:7.2f} s  (bare walk {walk:.2f} s, "
            f"ratio {rescan / walk:.1f}x)"
        )
        print(f"re-scan, {len(touched)} files touched:       {partial:7.2f} s")
    finally:
        shutil.rmtree(work, ignore_errors=True)


def _timed(fn, *args) -> float:
    started = time.perf_counter()
    fn(*args)
    return time.perf_counter() - started


if __name__ == "__main__":
    main()
