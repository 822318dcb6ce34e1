"""Hashing throughput on camera-size JPEGs, against baselines measured in the same run.

For each kind of file (12 and 24 MP, quality 92, smooth and noisy; written by
``desktop_app.demo.camera_jpeg`` into a temporary folder) it times, file by file and in
interleaved rounds so that a busy machine hurts all three alike:

- plain: ``Image.open`` + ``imagehash.phash``, what most tools do;
- bare:  ``Image.open`` + ``draft("L", (256, 256))`` + ``load``, the physical floor
  (entropy decoding at reduced scale), with the same draft request as ours;
- ours:  ``hash_file``, including reading the file, the xxh3 digest, EXIF, trimming,
  the resize and the DCT.

Then the cost of what issue 9 added to a scan (capture identity, pixel digest,
sharpness): ``hash_file`` against ``hash_file(identity=False)``, same files, same run.

Each file's best time over the rounds is kept (the least disturbed one), and the rates
are files divided by the sum of those times. Then the whole set is hashed by a
``ProcessPoolExecutor`` with one worker per core and compared with one process.

    python benchmarks/hashing.py            # about a minute
    python benchmarks/hashing.py --files 8 --rounds 5
"""

from __future__ import annotations

import argparse
import os
import sys
import tempfile
import time
from collections.abc import Callable
from concurrent.futures import ProcessPoolExecutor
from pathlib import Path

sys.path.insert(0, str(Path(__file__).resolve().parent.parent))
sys.path.insert(0, str(Path(__file__).resolve().parent))

import imagehash
from _common import machine_notes
from PIL import Image

from desktop_app.demo import camera_jpeg, synthetic_photo
from desktop_app.demo.shots import capture_exif, replace_exif
from desktop_app.engine.config import EngineConfig
from desktop_app.engine.imaging import windows
from desktop_app.engine.imaging.capture import read_capture
from desktop_app.engine.imaging.hashing import (
    block_hash,
    dct_block,
    hash_file,
    reduce_for_hash,
    variant_hashes,
)
from desktop_app.engine.imaging.identity import jpeg_scan, sharpness
from desktop_app.engine.imaging.loading import open_image
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
    order = list(functions.items())
    for _ in range(rounds):
        for index, path in enumerate(paths):
            for name, function in order:
                start = time.perf_counter()
                function(path)
                best[name][index] = min(best[name][index], time.perf_counter() - start)
            order.reverse()  # neither one always runs first (caches, frequency scaling)
    return {name: sum(times) for name, times in best.items()}


def rotation_cost(paths: list[str], rounds: int) -> None:
    """What the rotation setting adds per photo: the eight variants from one DCT block."""
    rotations = EngineConfig(workers=0, rotations=True)
    block = dct_block(synthetic_photo(1, (320, 213)).convert("L"))
    loops = 20000
    start = time.perf_counter()
    for _ in range(loops):
        block_hash(block)
    one = (time.perf_counter() - start) / loops
    start = time.perf_counter()
    for _ in range(loops):
        variant_hashes(block)
    eight = (time.perf_counter() - start) / loops
    times = best_times(
        paths,
        {"off": lambda p: hash_file(p, CONFIG), "on": lambda p: hash_file(p, rotations)},
        rounds,
    )
    print(
        f"\nrotation setting: eight hashes from the DCT block {eight * 1e6:.0f} us "
        f"against {one * 1e6:.0f} us for one; hash_file on {len(paths)} files "
        f"{times['on'] / times['off'] - 1:+.1%} with rotations on "
        "(the catalog stores 8 hashes instead of 1)"
    )


def identity_cost(kinds: dict[str, list[str]], folder: Path, rounds: int) -> None:
    """What issue 9 adds per photo (capture identity from EXIF and XMP, the pixel digest,
    the sharpness), against ``hash_file(identity=False)`` in the same run. The files get a
    camera's EXIF first (byte surgery, pixels untouched), so that the metadata is really
    parsed. Two figures: the difference of the two ``hash_file`` timings, and the added
    work timed alone (:func:`identity_work`) as a share of ``hash_file(identity=False)``;
    the first moves by +-10 % between runs on a shared machine, the second does not."""
    print(
        "\n| files | hash_file without identity photos/s | with identity photos/s | cost "
        "| identity work alone, ms | its share of hash_file |"
    )
    print("|---|---:|---:|---:|---:|---:|")
    total_base = total_full = total_work = 0.0
    for label, paths in kinds.items():
        tagged = []
        for path in paths:
            out = folder / f"tagged_{Path(path).name}"
            data = replace_exif(Path(path).read_bytes(), capture_exif(subsec="120"))
            out.write_bytes(data)
            tagged.append(str(out))
        for path in tagged:
            hash_file(path, CONFIG)
        times = best_times(
            tagged,
            {
                "base": lambda p: hash_file(p, CONFIG, identity=False),
                "full": lambda p: hash_file(p, CONFIG),
            },
            rounds,
        )
        work = sum(min(identity_work(p) for _ in range(rounds)) for p in tagged)
        n = len(tagged)
        total_base += times["base"]
        total_full += times["full"]
        total_work += work
        print(
            f"| {label} | {n / times['base']:.1f} | {n / times['full']:.1f} "
            f"| {times['full'] / times['base'] - 1:+.1%} | {work / n * 1e3:.2f} "
            f"| {work / times['base']:.1%} |"
        )
    print(f"| all | | | {total_full / total_base - 1:+.1%} | | {total_work / total_base:.1%} |")


def identity_work(path: str) -> float:
    """Seconds of only what ``identity=True`` adds to ``hash_file``, on a file already
    opened: the capture (EXIF, embedded XMP, the sidecar lookup), the JPEG scan digest,
    and the sharpness of the reduced picture."""
    data = Path(path).read_bytes()
    with Image.open(path) as image:
        image.draft("L", (256, 256))
        grey = reduce_for_hash(image.convert("L"))
    opened = open_image(data, path, CONFIG.max_pixels)
    opened.image.getexif()  # parsed by hash_file anyway, for the orientation
    start = time.perf_counter()
    read_capture(opened.image, path, data=data, raw=False)
    jpeg_scan(data)
    sharpness(grey)
    return time.perf_counter() - start


def _without_windows(path: str) -> None:
    """``hash_file`` as it was before window hashes (issue 10): the baseline they cost."""
    saved = windows.window_hashes
    windows.window_hashes = lambda grey: ()
    try:
        ours(path)
    finally:
        windows.window_hashes = saved


def window_cost(kinds: dict[str, list[str]], rounds: int) -> None:
    """What the window hashes add per photo, against hash_file without them."""
    print("\n| files | without windows photos/s | with windows photos/s | ratio |")
    print("|---|---:|---:|---:|")
    for label, paths in kinds.items():
        times = best_times(paths, {"before": _without_windows, "after": ours}, rounds)
        n = len(paths)
        print(
            f"| {label} | {n / times['before']:.1f} | {n / times['after']:.1f} "
            f"| {times['after'] / times['before']:.3f}x |"
        )


def main() -> int:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--files", type=int, default=6, help="files per kind (default 6)")
    parser.add_argument("--rounds", type=int, default=7, help="timing rounds (default 7)")
    parser.add_argument(
        "--plain-rounds", type=int, default=1, help="rounds for the slow plain pipeline"
    )
    parser.add_argument(
        "--pool-rounds", type=int, default=3, help="rounds of one process vs the pool"
    )
    parser.add_argument("--folder", help="write the files here and keep them (default: temporary)")
    parser.add_argument(
        "--windows-only", action="store_true", help="only the cost of the window hashes"
    )
    args = parser.parse_args()

    print(machine_notes())
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
        window_cost(kinds, args.rounds)
        if args.windows_only:
            return 0

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

        rotation_cost(kinds["12 MP smooth"], args.rounds)
        identity_cost(kinds, folder, args.rounds)

        workers = len(os.sched_getaffinity(0)) if hasattr(os, "sched_getaffinity") else 1
        workers = workers or os.cpu_count() or 1
        single, multi = float("inf"), float("inf")
        with ProcessPoolExecutor(workers) as pool:
            list(pool.map(hash_file, everything, [CONFIG] * len(everything)))  # start-up
            # Alternate the two, keeping each one's best: other work on the machine
            # then hurts both alike instead of whichever ran at the wrong moment.
            for _ in range(args.pool_rounds):
                start = time.perf_counter()
                for path in everything:
                    ours(path)
                single = min(single, time.perf_counter() - start)
                start = time.perf_counter()
                list(pool.map(hash_file, everything, [CONFIG] * len(everything)))
                multi = min(multi, time.perf_counter() - start)
        count = len(everything)
        print(
            f"\nall kinds, {count} files, best of {args.pool_rounds}: one process "
            f"{count / single:.1f} photos/s, {workers} processes {count / multi:.1f} photos/s, "
            f"speedup {single / multi:.2f}x"
        )
    return 0


if __name__ == "__main__":
    sys.exit(main())
