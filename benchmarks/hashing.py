"""Hashing throughput on camera-size JPEGs, against baselines measured in the same run.

For each kind of file (12 and 24 MP, quality 92, smooth and noisy; written by
``desktop_app.demo.camera_jpeg`` into a temporary folder) it times, file by file and in
interleaved rounds so that a busy machine hurts all three alike:

- plain: ``Image.open`` + ``imagehash.phash``, what most tools do;
- bare:  ``Image.open`` + ``draft("L", (256, 256))`` + ``load``, the physical floor
  (entropy decoding at reduced scale), with the same draft request as ours;
- ours:  ``hash_file``, including reading the file, the xxh3 digest, EXIF, trimming,
  the resize and the DCT.

Each file's best time over the rounds is kept (the least disturbed one), and the rates
are files divided by the sum of those times. Then the whole set is hashed by a
``ProcessPoolExecutor`` with one worker per core and compared with one process.

    python benchmarks/hashing.py            # about a minute and a half
    python benchmarks/hashing.py --files 8 --rounds 5
"""

from __future__ import annotations

import argparse
import os
import platform
import sys
import tempfile
import time
from collections.abc import Callable
from concurrent.futures import ProcessPoolExecutor
from pathlib import Path

sys.path.insert(0, str(Path(__file__).resolve().parent.parent))

import imagehash
import PIL
from PIL import Image, features

from desktop_app.demo import camera_jpeg
from desktop_app.engine.config import EngineConfig
from desktop_app.engine.hashing import hash_file
from desktop_app.engine.types import ImageFeatures

CONFIG = EngineConfig(workers=0)


def plain(path: str) -> None:
    with Image.open(path) as image:
        imagehash.phash(image)


def bare(path: str) -> None:
    with Image.open(path) as image:
        image.draft("L", (256, 256))
        image.load()


def ours(path: str) -> None:
    result = hash_file(path, CONFIG)
    if not isinstance(result, ImageFeatures):
        raise RuntimeError(f"{path}: {result.reason}")


def best_times(
    paths: list[str], functions: dict[str, Callable[[str], None]], rounds: int
) -> dict[str, float]:
    """Sum over files of each function's best time, rounds interleaved file by file."""
    best = {name: [float("inf")] * len(paths) for name in functions}
    for _ in range(rounds):
        for index, path in enumerate(paths):
            for name, function in functions.items():
                start = time.perf_counter()
                function(path)
                best[name][index] = min(best[name][index], time.perf_counter() - start)
    return {name: sum(times) for name, times in best.items()}


def cpu_model() -> str:
    try:
        with open("/proc/cpuinfo") as info:
            for line in info:
                if line.startswith("model name"):
                    return line.split(":", 1)[1].strip()
    except OSError:
        pass
    return platform.processor() or "unknown"


def machine_notes() -> None:
    print(f"CPU: {cpu_model()}, {os.cpu_count()} logical cores")
    print(f"Python {platform.python_version()}, Pillow {PIL.__version__}, ", end="")
    print(f"libjpeg-turbo {features.version('libjpeg_turbo') or 'no'}, ", end="")
    print(f"imagehash {imagehash.__version__}")


def main() -> int:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--files", type=int, default=4, help="files per kind (default 4)")
    parser.add_argument("--rounds", type=int, default=3, help="timing rounds (default 3)")
    parser.add_argument(
        "--plain-rounds", type=int, default=1, help="rounds for the slow plain pipeline"
    )
    parser.add_argument("--folder", help="write the files here and keep them (default: temporary)")
    args = parser.parse_args()

    machine_notes()
    with tempfile.TemporaryDirectory() as temporary:
        folder = Path(args.folder or temporary)
        kinds: dict[str, list[str]] = {}
        start = time.perf_counter()
        for megapixels in (12, 24):
            for noisy in (False, True):
                label = f"{megapixels} MP {'noisy' if noisy else 'smooth'}"
                kinds[label] = [
                    str(
                        camera_jpeg(
                            folder / f"{megapixels}mp_{'noisy' if noisy else 'smooth'}_{i}.jpg",
                            seed=1000 * megapixels + 100 * noisy + i,
                            megapixels=megapixels,
                            noisy=noisy,
                        )
                    )
                    for i in range(args.files)
                ]
        print(
            f"wrote {sum(map(len, kinds.values()))} files in {time.perf_counter() - start:.0f} s\n"
        )
        everything = [path for paths in kinds.values() for path in paths]
        for path in everything:  # warm the page cache and every per-process set-up
            ours(path)
            bare(path)

        print(
            "| files | MB/file | plain photos/s | bare draft photos/s | hash_file photos/s "
            "| share of bare | speedup over plain |"
        )
        print("|---|---:|---:|---:|---:|---:|---:|")
        for label, paths in kinds.items():
            size = sum(Path(path).stat().st_size for path in paths) / len(paths) / 1e6
            fast = best_times(paths, {"bare": bare, "ours": ours}, args.rounds)
            slow = best_times(paths, {"plain": plain}, args.plain_rounds)
            n = len(paths)
            print(
                f"| {label} | {size:.1f} | {n / slow['plain']:.1f} | {n / fast['bare']:.1f} "
                f"| {n / fast['ours']:.1f} | {fast['bare'] / fast['ours']:.3f} "
                f"| {slow['plain'] / fast['ours']:.1f}x |"
            )

        workers = os.cpu_count() or 1
        work = everything * 2
        start = time.perf_counter()
        for path in work:
            ours(path)
        single = time.perf_counter() - start
        with ProcessPoolExecutor(workers) as pool:
            list(pool.map(hash_file, everything, [CONFIG] * len(everything)))  # start-up
            start = time.perf_counter()
            list(pool.map(hash_file, work, [CONFIG] * len(work), chunksize=1))
            multi = time.perf_counter() - start
        print(
            f"\nall kinds, {len(work)} files: one process {len(work) / single:.1f} photos/s, "
            f"{workers} processes {len(work) / multi:.1f} photos/s, "
            f"speedup {single / multi:.2f}x"
        )
    return 0


if __name__ == "__main__":
    sys.exit(main())
