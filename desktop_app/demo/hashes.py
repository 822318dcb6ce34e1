"""Realistic synthetic pHashes, for tests and benchmarks of the pair search at scale.

Real 64-bit pHashes are far from uniform random bits: bit 63, the DC term compared with
the median, is always set, and the other bits lean one way or the other, so that 16-bit
segments of a real library fall into buckets about 6x more crowded than uniform bits
would. A library also holds families of near-copies (exports, re-saves, resizes) whose
hashes differ by a few bits. :func:`synthetic_hashes` reproduces all three traits;
``python benchmarks/synthetic.py`` prints the crowding factor it reaches.
"""

from __future__ import annotations

import numpy as np
import numpy.typing as npt

HashArray = npt.NDArray[np.uint64]

#: The always-set DC bit.
DC_BIT = np.uint64(1 << 63)


def synthetic_hashes(
    n: int,
    seed: int = 0,
    *,
    bias: float = 0.67,
    copy_fraction: float = 0.25,
    cluster_sizes: tuple[int, int] = (2, 6),
    max_flips: int = 8,
) -> HashArray:
    """``n`` hashes with biased bits and clusters of near-copies, in random order.

    Args:
        n: How many hashes.
        seed: Seed of the generator; the same seed gives the same array.
        bias: P(1) of half the 63 non-DC bit positions; the other half get ``1 - bias``.
            Which half is which is drawn from ``seed``. 0.67 makes 16-bit segments about
            6x more crowded than uniform bits.
        copy_fraction: Share of the items that are near-copies of another item.
        cluster_sizes: Smallest and largest cluster (an original plus its copies).
        max_flips: A copy differs from its original by 0..max_flips random bits (never
            the DC bit).

    Returns:
        A ``uint64`` array of length ``n``; bit 63 is set in every element.
    """
    rng = np.random.default_rng(seed)
    positions = rng.permutation(63)
    p_one = np.empty(63)
    p_one[positions[:32]] = bias
    p_one[positions[32:]] = 1.0 - bias

    # Draw clusters until they hold copy_fraction of the items (counting their originals
    # as copies too: a cluster of s items has s - 1 copies of one original).
    low, high = cluster_sizes
    want = round(n * copy_fraction)
    sizes: list[int] = []
    copies = 0
    while copies < want:
        s = int(rng.integers(low, high + 1))
        s = min(s, want - copies + 1)
        if s < 2:
            break
        sizes.append(s)
        copies += s - 1
    originals = n - copies

    out = np.full(n, DC_BIT, dtype=np.uint64)
    for bit in range(63):
        ones = rng.random(originals) < p_one[bit]
        out[:originals] |= ones.astype(np.uint64) << np.uint64(bit)

    # Each cluster's original is one of the first len(sizes) originals.
    source = np.repeat(np.arange(len(sizes)), np.array(sizes, dtype=np.int64) - 1)
    copy_values = out[source].copy()
    flips = rng.integers(0, max_flips + 1, size=copies)
    for k in range(1, max_flips + 1):
        rows = np.flatnonzero(flips >= k)
        bits = rng.integers(0, 63, size=rows.shape[0]).astype(np.uint64)
        # Flipping the same bit twice undoes it: a copy may end up with fewer flips.
        copy_values[rows] ^= np.uint64(1) << bits
    out[originals:] = copy_values
    return out[rng.permutation(n)]


def crowding(hashes: HashArray, bits: int = 16) -> list[float]:
    """Crowding factor of each ``bits``-wide segment: sum(c_v^2) / N / (N / 2^bits).

    1.0 (plus 2^bits / N for the diagonal) is what uniform random bits give.
    """
    n = hashes.shape[0]
    out = []
    for p in range(64 // bits):
        shift = np.uint64(64 - bits * (p + 1))
        seg = ((hashes >> shift) & np.uint64((1 << bits) - 1)).astype(np.int64)
        counts = np.bincount(seg, minlength=1 << bits).astype(np.float64)
        out.append(float((counts**2).sum() / n / (n / (1 << bits))))
    return out
