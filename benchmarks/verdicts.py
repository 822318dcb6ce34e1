"""Splitting pairs into copies and similar shots: the array path against pair by pair.

A library of camera photos has millions of pairs within the slider's range, and every
photo carries a capture. ``verdicts.split_pairs`` decides on arrays the pairs whose
capture fields alone say "different shots" (``verdicts.decide_on_arrays``) and judges the
rest one by one; this script times it against judging every pair one by one (the
array path switched off), in the same run, on generated records.

    python benchmarks/verdicts.py [--photos 20000] [--pairs 1000000]
"""

from __future__ import annotations

import argparse
import sys
import time
from pathlib import Path

import numpy as np

sys.path.insert(0, str(Path(__file__).resolve().parent))

from _common import machine_notes

from desktop_app.engine.search import verdicts
from desktop_app.engine.types import Capture, ImageRecord, PairSet


def records(photos: int, seed: int) -> dict[int, ImageRecord]:
    """Camera photos of one body, a few per second, some bursts, no lineage."""
    rng = np.random.default_rng(seed)
    out = {}
    for i in range(1, photos + 1):
        second = int(rng.integers(0, 86_400 * 30))
        day, rest = divmod(second, 86_400)
        capture = Capture(
            taken=f"2024-05-{1 + day:02d}T{rest // 3600:02d}:{rest // 60 % 60:02d}:{rest % 60:02d}",
            subsec=str(int(rng.integers(0, 100))),
            make="Canon",
            model="EOS R5",
            serial="1234",
            exposure_time=float(rng.choice([1 / 250, 1 / 125, 1 / 60])),
            f_number=float(rng.choice([2.8, 4.0, 5.6])),
            iso=int(rng.choice([100, 400, 1600])),
        )
        out[i] = ImageRecord(
            id=i,
            path=f"/library/IMG_{i:05d}.jpg",
            size=5_000_000 + i,
            mtime_ns=0,
            digest=i.to_bytes(16, "little"),
            phash=0,
            width=6000,
            height=4000,
            format="JPEG",
            taken=None,
            camera=None,
            capture=capture,
            pixel_digest=(i + 10**9).to_bytes(16, "little"),
        )
    return out


def main() -> int:
    parser = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    parser.add_argument("--photos", type=int, default=20_000)
    parser.add_argument("--pairs", type=int, default=1_000_000)
    args = parser.parse_args()
    print(f"Machine: {machine_notes()}")
    found = records(args.photos, seed=1)
    rng = np.random.default_rng(2)
    a = rng.integers(1, args.photos + 1, args.pairs)
    b = rng.integers(1, args.photos + 1, args.pairs)
    keep = a < b
    keys = np.unique(np.stack([a[keep], b[keep]], axis=1), axis=0)
    pairs = PairSet(
        keys[:, 0].astype(np.int64),
        keys[:, 1].astype(np.int64),
        rng.integers(0, 17, len(keys)).astype(np.uint8),
        np.zeros(len(keys), dtype=np.uint8),
        16,
    )

    def split() -> tuple[float, int]:
        begin = time.perf_counter()
        _, shots = verdicts.split_pairs(pairs, lambda ids: found, {})
        return time.perf_counter() - begin, len(shots)

    fast, fast_shots = split()
    original = verdicts.decide_on_arrays

    def pair_by_pair(pairs: PairSet, rows: np.ndarray, *_: object) -> tuple[np.ndarray, ...]:
        return np.zeros(rows.size, dtype=bool), np.zeros(rows.size, dtype=bool)

    verdicts.decide_on_arrays = pair_by_pair  # type: ignore[assignment]
    try:
        slow, slow_shots = split()
    finally:
        verdicts.decide_on_arrays = original
    assert fast_shots == slow_shots, (fast_shots, slow_shots)
    print(
        f"{len(pairs):,} pairs of {args.photos:,} captured photos ({fast_shots:,} similar "
        f"shots): pair by pair {slow:.2f} s, with the array path {fast:.2f} s, "
        f"{slow / fast:.1f}x faster"
    )
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
