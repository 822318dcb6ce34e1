"""Realistic synthetic pHashes for the benchmarks (all pairs, query latency, the window).

The generator lives in ``desktop_app/demo/hashes.py`` (the tests use it too); this script
prints how crowded its segments are.

Real 64-bit pHashes are far from uniform random bits: bit 63, the DC term compared with
the median, is always set, and the other bits lean one way or the other, so that 16-bit
segments of a real library fall into buckets about 6x more crowded than uniform bits
would. A library also holds families of near-copies (exports, re-saves, resizes) whose
hashes differ by a few bits. :func:`synthetic_hashes` reproduces all three traits;
``python benchmarks/synthetic.py`` prints the crowding factor it reaches.
"""

from __future__ import annotations

import argparse

import numpy as np

from desktop_app.demo.hashes import DC_BIT, HashArray, crowding, synthetic_hashes

__all__ = ["DC_BIT", "HashArray", "crowding", "synthetic_hashes"]


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__)
    parser.add_argument("-n", type=int, default=1_000_000)
    parser.add_argument("--seed", type=int, default=0)
    args = parser.parse_args()
    hashes = synthetic_hashes(args.n, args.seed)
    uniform = np.random.default_rng(args.seed).integers(
        0, 2**64, size=args.n, dtype=np.uint64, endpoint=False
    )
    print(f"{args.n:,} synthetic hashes, seed {args.seed}")
    print("16-bit segment crowding, synthetic:", " ".join(f"{c:.2f}" for c in crowding(hashes)))
    print("16-bit segment crowding, uniform:  ", " ".join(f"{c:.2f}" for c in crowding(uniform)))


if __name__ == "__main__":
    main()
