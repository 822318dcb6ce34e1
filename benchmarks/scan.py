"""Full scan, then re-scan of an unchanged library.

Writes N small generated JPEGs (640x427, the demo generator's realistic pictures with a
different seed each), scans them into a fresh catalog with all cores, then scans again
without changes, then again after touching 1 % of the files. The re-scan reads no image:
it walks the folders, compares size and modification time with the catalog and stops.
The baseline for the re-scan is the bare walk (os.walk + stat of every file) measured in
the same run, so the ratio says what the catalog comparison adds.

RAW and slow disks (issue 11), each against a baseline run in the same invocation:

- **RAW library** (``--raw N``): N generated DNGs (a 16-bit mosaic with a full-size JPEG
  preview, as cameras write them). Bytes read per photo (the process's read counter,
  in-process scans) and photos per second (the pool), *before* (a hasher that reads the
  whole file and digests it, as every scan did until issue 11) and *after* (LibRaw reads
  the headers and the preview from the path; no digest for a size no other file has).
- **Slow disk** (``--slow N``): N large JPEGs and the RAW library scanned through the
  simulated disk of ``imaging/reading.py`` (every read waits for a seek when it does not
  continue the previous one, then for the transfer), once with one reader per hashing
  process and once with one reader feeding them, as on rotational or network storage.

    python benchmarks/scan.py [--files 10000] [--raw 40] [--slow 24]
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
from desktop_app.demo.dng import dng_bytes
from desktop_app.engine.catalog.store import Catalog
from desktop_app.engine.config import EngineConfig
from desktop_app.engine.imaging import hashing, reading
from desktop_app.engine.library import Library
from desktop_app.engine.scan import scanner
from desktop_app.engine.types import FileFailure, ImageFeatures, drain

#: The disk models of the slow-disk runs: a USB 2 hard disk (30 MB/s, the issue's own
#: figure) read in Linux's default read-ahead windows (128 KB), and a NAS over gigabit
#: Ethernet read in NFS's default 1 MB requests (a request that does not follow the last
#: one costs the server a seek).
DISKS = {
    "USB 2 hard disk (12 ms seek, 30 MB/s, 128 KB requests)": reading.SimulatedDisk(
        seek_ms=12.0, mb_per_s=30.0, request_kb=128
    ),
    "NAS (8 ms seek, 60 MB/s, 1 MB requests)": reading.SimulatedDisk(
        seek_ms=8.0, mb_per_s=60.0, request_kb=1024
    ),
}


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


def whole_file_hasher(path: str, config: EngineConfig) -> ImageFeatures | FileFailure:
    """The hashing before issue 11: read the whole file, digest it, decode from memory."""
    reader = reading.current()
    try:
        with open(path, "rb", buffering=0) as file:
            info = os.fstat(file.fileno())
            with reader.turn():
                data = reader.read_all(file.fileno(), info.st_ino)
        return hashing.hash_bytes(data, path, config)
    except Exception as error:
        return FileFailure(path, 0, 0, str(error))


def write_raw_library(root: Path, files: int, size: tuple[int, int]) -> None:
    """``files`` DNGs of distinct pictures (so no two have the same size)."""
    base = synthetic_photo(7, size)
    root.mkdir(parents=True, exist_ok=True)
    for i in range(files):
        picture = base.rotate(i * 0.7, resample=0, expand=False, fillcolor=(i, 90, 200))
        (root / f"DSC_{i:04d}.dng").write_bytes(dng_bytes(picture, preview=True))


def write_large_jpegs(root: Path, files: int, size: tuple[int, int]) -> None:
    base = synthetic_photo(11, size)
    root.mkdir(parents=True, exist_ok=True)
    for i in range(files):
        picture = base.rotate(i * 0.9, resample=0, expand=False, fillcolor=(200, i, 90))
        picture.save(root / f"IMG_{i:04d}.jpg", "JPEG", quality=92)


def _preview_bytes(path: Path) -> int:
    import rawpy

    with rawpy.imread(str(path)) as raw:
        return len(raw.extract_thumb().data)


def timed_scan(root: Path, config: EngineConfig, hasher=hashing.hash_file) -> tuple[float, int]:
    """Seconds to scan ``root`` into a fresh catalog, and bytes this process read."""
    before = reading._io_read_bytes() or 0
    with Catalog(":memory:") as catalog:
        started = time.perf_counter()
        summary = drain(scanner.scan(catalog, [str(root)], config, hasher=hasher))
        seconds = time.perf_counter() - started
    assert summary.added and not summary.failures, summary.failures[:3]
    return seconds, (reading._io_read_bytes() or 0) - before


def raw_and_slow_disk(work: Path, raw_files: int, slow_files: int, workers: int) -> None:
    raw_root, jpeg_root = work / "raw", work / "large"
    started = time.perf_counter()
    write_raw_library(raw_root, raw_files, (2400, 1600))
    write_large_jpegs(jpeg_root, slow_files, (6000, 4000))
    mean_raw = sum(p.stat().st_size for p in raw_root.iterdir()) / raw_files
    mean_jpeg = sum(p.stat().st_size for p in jpeg_root.iterdir()) / slow_files
    print(
        f"wrote {raw_files} DNGs of 3.8 MP ({mean_raw / 1e6:.1f} MB each, preview "
        f"2400x1600) and {slow_files} JPEGs of 24 MP ({mean_jpeg / 1e6:.1f} MB each) "
        f"in {time.perf_counter() - started:.1f} s"
    )
    preview = sum(_preview_bytes(p) for p in raw_root.iterdir()) / raw_files
    print(f"    embedded previews: {preview / 1e6:.3f} MB each on average")
    # Warm up: imports and plugins in this process, page cache for both runs alike.
    timed_scan(raw_root, EngineConfig(workers=0))
    timed_scan(raw_root, EngineConfig(workers=0), whole_file_hasher)

    print("RAW library, no throttling:")
    one = EngineConfig(workers=0)
    for label, hasher in (
        ("before (whole file)", whole_file_hasher),
        ("after (preview)", hashing.hash_file),
    ):
        _, read = timed_scan(raw_root, one, hasher)
        pooled = EngineConfig(workers=workers)
        seconds = min(timed_scan(raw_root, pooled, hasher)[0] for _ in range(2))
        print(
            f"    {label:22s} {read / raw_files / 1e6:7.3f} MB read per photo "
            f"({read / raw_files / mean_raw:.1%} of the file, "
            f"{read / raw_files / preview:.2f}x the preview), "
            f"{raw_files / seconds:6.1f} photos/s with {workers} workers"
        )

    for name, disk in DISKS.items():
        print(f"simulated {name}, {workers} workers:")
        runs = (
            (
                "24 MP JPEGs",
                jpeg_root,
                slow_files,
                hashing.hash_file,
                workers,
                "one reader per worker",
            ),
            ("24 MP JPEGs", jpeg_root, slow_files, hashing.hash_file, 1, "one reader"),
            (
                "DNGs",
                raw_root,
                raw_files,
                whole_file_hasher,
                workers,
                "before: whole files, one reader per worker",
            ),
            (
                "DNGs",
                raw_root,
                raw_files,
                hashing.hash_file,
                workers,
                "previews, one reader per worker",
            ),
            ("DNGs", raw_root, raw_files, hashing.hash_file, 1, "after: previews, one reader"),
        )
        baseline: dict[str, float] = {}
        for what, root, count, hasher, readers, label in runs:
            config = EngineConfig(workers=workers, readers=readers, simulated_disk=disk)
            seconds, _ = timed_scan(root, config, hasher)
            base = baseline.setdefault(what, seconds)
            print(
                f"    {what:12s} {label:44s} {seconds:6.2f} s  {count / seconds:6.1f} photos/s"
                f"  ({base / seconds:.2f}x)"
            )


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--files", type=int, default=10_000, help="JPEGs (0: skip that part)")
    parser.add_argument("--raw", type=int, default=40, help="DNGs (0: skip RAW and slow disk)")
    parser.add_argument("--slow", type=int, default=24, help="24 MP JPEGs for the slow disk")
    parser.add_argument(
        "--workers", type=int, default=EngineConfig().workers, help="for the RAW and slow-disk runs"
    )
    args = parser.parse_args()
    work = Path(tempfile.mkdtemp(prefix="doppel-scan-"))
    try:
        if args.raw:
            raw_and_slow_disk(work, args.raw, args.slow, args.workers)
        if not args.files:
            print(machine_notes())
            return
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
