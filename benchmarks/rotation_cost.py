"""What the rotation setting costs: pair search, query and catalog size on synthetic hashes.

With rotations on, every photo carries the hashes of its eight rotations and mirrors
(``ImageFeatures.variants``, 64 bytes in the ``images.variants`` column), the bulk search
joins the identity hashes against each of the seven other variants as well
(``all_pairs.py``), a query probes the segment index once per variant (``Library.query``),
and pairing a new photo incrementally scans every stored variant (``pairing.py``).

Variants are modelled on the hashes of ``benchmarks/synthetic.py``: a quarter turn or a
mirror of a picture is a signed permutation of its 8x8 DCT block (``hashing.py``), and
since the median of the block's AC coefficients is close to 0, flipping a coefficient's
sign flips its bit. So variant t of hash h is h with its bits transposed (for the
transforms that swap the axes) and the bits of the sign-flipped frequencies inverted,
the DC bit excepted. Real variants differ from this by the few coefficients close to the
median.

    python benchmarks/rotation_cost.py              # 100,000 hashes, thresholds 10 and 12
    python benchmarks/rotation_cost.py -n 20000 --thresholds 10
"""

from __future__ import annotations

import argparse
import sys
import tempfile
import time
from pathlib import Path

import numpy as np

sys.path.insert(0, str(Path(__file__).resolve().parent.parent))
sys.path.insert(0, str(Path(__file__).resolve().parent))

from synthetic import synthetic_hashes

from desktop_app.engine.catalog.store import Catalog
from desktop_app.engine.imaging.hashing import _TRANSFORM_OPS
from desktop_app.engine.search import all_pairs
from desktop_app.engine.types import FileFailure, ImageFeatures, Transform


def synthetic_variants(hashes: np.ndarray) -> np.ndarray:
    """``(n, 8)`` modelled variant hashes, identity first (see the module docstring)."""
    bits = ((hashes[:, None] >> np.arange(63, -1, -1, dtype=np.uint64)) & np.uint64(1)).astype(bool)
    block = bits.reshape(-1, 8, 8)
    odd = (np.arange(8) % 2).astype(bool)
    weights = np.uint64(1) << np.arange(63, -1, -1, dtype=np.uint64)
    out = np.empty((hashes.shape[0], len(Transform)), dtype=np.uint64)
    for transform, (swap, rows, cols) in _TRANSFORM_OPS.items():
        b = block.transpose(0, 2, 1) if swap else block
        flip = np.zeros((8, 8), bool)
        if rows:
            flip ^= odd[:, None]
        if cols:
            flip ^= odd[None, :]
        flip[0, 0] = False
        v = (b ^ flip).reshape(-1, 64)
        out[:, transform] = np.bitwise_or.reduce(np.where(v, weights, np.uint64(0)), axis=1)
    out[:, 0] = hashes
    return out


def features(i: int, value: int, variants: tuple[int, ...]) -> ImageFeatures:
    return ImageFeatures(
        f"/p/{i:08d}.jpg",
        1000,
        1,
        i.to_bytes(16, "little"),
        value,
        64,
        48,
        "JPEG",
        variants=variants,
    )


def main() -> int:
    parser = argparse.ArgumentParser(description=__doc__)
    parser.add_argument("-n", type=int, default=100_000)
    parser.add_argument("--thresholds", default="10,12")
    parser.add_argument("--queries", type=int, default=200)
    args = parser.parse_args()
    hashes = synthetic_hashes(args.n, seed=1)
    variants = synthetic_variants(hashes)
    ids = np.arange(1, args.n + 1, dtype=np.int64)
    print(f"{args.n:,} synthetic hashes with modelled rotation variants")
    print(
        "\n| threshold | pairs off | pairs on | search off s | search on s | ratio"
        " | plan off | plan on |"
    )
    print("|---:|---:|---:|---:|---:|---:|---|---|")
    for threshold in (int(t) for t in args.thresholds.split(",")):
        t0 = time.perf_counter()
        plain = all_pairs.all_pairs(ids, hashes, threshold)
        t1 = time.perf_counter()
        rotated = all_pairs.all_pairs(ids, hashes, threshold, variants=variants)
        t2 = time.perf_counter()
        plan_off = all_pairs.plan_search(hashes, threshold).describe()
        plan_on = all_pairs.plan_search(hashes, threshold, variants=variants).describe()
        print(
            f"| {threshold} | {len(plain):,} | {len(rotated):,} | {t1 - t0:.1f} | {t2 - t1:.1f} |"
            f" {(t2 - t1) / (t1 - t0):.1f}x | {plan_off} | {plan_on} |"
        )

    # Catalog size and query latency, on a real catalog file.
    with tempfile.TemporaryDirectory() as temp:
        sizes = {}
        timings = {}
        for label, with_variants in (("off", False), ("on", True)):
            path = Path(temp) / f"{label}.sqlite"
            with Catalog(path) as catalog:
                batch: list[ImageFeatures | FileFailure] = []
                for i in range(args.n):
                    v = tuple(int(x) for x in variants[i]) if with_variants else ()
                    batch.append(features(i, int(hashes[i]), v))
                catalog.add_results(batch, 2)
                catalog.index.sync()
                catalog.execute("VACUUM")
                sizes[label] = path.stat().st_size
                rng = np.random.default_rng(5)
                picks = rng.choice(args.n, size=args.queries, replace=False)
                started = time.perf_counter()
                for k in picks:
                    probes = variants[k] if with_variants else variants[k][:1]
                    for value in probes:
                        catalog.query(int(value), 16)
                timings[label] = (time.perf_counter() - started) / args.queries
    print(
        f"\nCatalog file: {sizes['off'] / 1e6:.1f} MB off, {sizes['on'] / 1e6:.1f} MB on "
        f"(+{(sizes['on'] - sizes['off']) / args.n:.0f} bytes per photo)."
    )
    print(
        f"Query at threshold 16: {timings['off'] * 1e3:.1f} ms off, {timings['on'] * 1e3:.1f} ms on"
        f" (one index query per variant, {timings['on'] / timings['off']:.1f}x)."
    )
    return 0


if __name__ == "__main__":
    sys.exit(main())
