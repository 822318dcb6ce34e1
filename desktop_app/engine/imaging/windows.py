"""Window hashes: pHashes of fixed parts of a photo, so that a crop meets its original.

A whole-image pHash describes the whole frame: cut 10 % from every side and the copy's
hash lies 15-25 bits from the original's, out of the slider's reach. But the crop's
whole-image hash is close to the hash of *the same part* of the original. So each photo
also gets the pHashes of a few fixed windows of its (oriented, border-trimmed, reduced)
picture, and the pair search compares every photo's whole-image hash with every other
photo's windows (``engine/search/window_pairs.py``), with the same exact multi-index
machinery as the whole-image search.

THE WINDOWS (:data:`WINDOWS`), as fractions of the picture's width and height: centred at
93, 90, 85, 80 and 70 % of each side (the crops of 5, 10 and 15 % from every side a
photographer makes to tighten a frame, off-centre crops between those, and the centre
of a straightened copy: 93 % is what a 3 degree turn keeps), the centred square and
the centred 16:9 frame (social-media and screen re-framings of a 3:2 photo; for a
picture already square or wider than 16:9 these fall back to 90 % centred windows), and
the picture with 12 % cut from one side (left, right, top, bottom). Chosen with
``benchmarks/quality.py``'s corpus, on its tuning half (docs/benchmarks.md, "Crops"):
the first nine alone left off-centre crops at 0.86 within distance 10; the 85 % and 93 %
windows bring every crop kind to 0.95 or more, where six more (off-centre 85 %
windows) bought nothing further at that distance.

Off-centre crops fall between windows; their distance to the nearest window is larger,
which is why every window pair is confirmed by the geometric check
(``engine/search/geometry.py``) before it is shown.

Cost: one 32x32 LANCZOS reduction and one DCT per window on the ~256-511 px picture the
hash already made (about as much as the whole-image reduction, per window), 8 bytes per
window in the catalog; ``benchmarks/hashing.py --windows-only`` measures it per photo.
"""

from __future__ import annotations

import logging

import numpy as np
import scipy.fftpack
from PIL import Image

log = logging.getLogger(__name__)

#: A window as ``(left, top, right, bottom)`` fractions of the picture, or a named
#: aspect-ratio window ("square", "16:9") resolved per picture by :func:`window_box`.
Window = tuple[float, float, float, float] | str

#: The windows, in the order their hashes are stored. Changing it changes stored values:
#: bump ``hashing.HASH_VERSION``.
WINDOWS: tuple[Window, ...] = (
    (0.035, 0.035, 0.965, 0.965),
    (0.05, 0.05, 0.95, 0.95),
    (0.075, 0.075, 0.925, 0.925),
    (0.10, 0.10, 0.90, 0.90),
    (0.15, 0.15, 0.85, 0.85),
    "square",
    "16:9",
    (0.12, 0.0, 1.0, 1.0),
    (0.0, 0.0, 0.88, 1.0),
    (0.0, 0.12, 1.0, 1.0),
    (0.0, 0.0, 1.0, 0.88),
)

#: Names for the evidence strings and the benchmark's tables.
WINDOW_NAMES: tuple[str, ...] = (
    "centre 93 %",
    "centre 90 %",
    "centre 85 %",
    "centre 80 %",
    "centre 70 %",
    "centre square",
    "centre 16:9",
    "12 % off the left",
    "12 % off the right",
    "12 % off the top",
    "12 % off the bottom",
)

_SIDE = 32
_BLOCK = 8
_BIT_WEIGHTS = np.array([1 << (63 - i) for i in range(64)], dtype=np.uint64)


def window_box(window: Window, width: int, height: int) -> tuple[int, int, int, int]:
    """The pixel box of ``window`` in a ``width`` x ``height`` picture.

    Args:
        window: One of :data:`WINDOWS`.
        width: Picture width in pixels.
        height: Picture height in pixels.

    Returns:
        ``(left, top, right, bottom)``, at least 1 px each way.
    """
    if isinstance(window, str):
        ratio = 1.0 if window == "square" else 16 / 9
        if width >= height:
            target_w, target_h = min(width, height * ratio), float(height)
            if width / height < ratio:  # narrower than the ratio: cut the height instead
                target_w, target_h = float(width), width / ratio
        else:
            target_w, target_h = float(width), min(float(height), width * ratio)
            if height / width < ratio:
                target_w, target_h = height / ratio, float(height)
        if target_w >= width * 0.97 and target_h >= height * 0.97:
            # Already this shape: the window would repeat the whole picture.
            target_w, target_h = width * 0.9, height * 0.9
        left = (width - target_w) / 2
        top = (height - target_h) / 2
        box = (left, top, left + target_w, top + target_h)
    else:
        box = (window[0] * width, window[1] * height, window[2] * width, window[3] * height)
    x0, y0 = round(box[0]), round(box[1])
    return x0, y0, max(x0 + 1, round(box[2])), max(y0 + 1, round(box[3]))


def window_hashes(grey: Image.Image) -> tuple[int, ...]:
    """The pHash of each of :data:`WINDOWS` of an upright, trimmed, reduced picture.

    Computed exactly as the whole-image hash (32x32 LANCZOS with ``reducing_gap=2.0``,
    2-D DCT, 8x8 block against its median, bit 63 the DC term), so that a crop's
    whole-image hash is directly comparable with its original's window.

    Args:
        grey: The "L" picture the whole-image hash was computed from, before its
            32x32 reduction.

    Returns:
        One unsigned 64-bit hash per window, in :data:`WINDOWS` order.
    """
    width, height = grey.size
    blocks = np.empty((len(WINDOWS), _SIDE, _SIDE), dtype=np.float64)
    for k, window in enumerate(WINDOWS):
        box = window_box(window, width, height)
        small = grey.resize((_SIDE, _SIDE), Image.Resampling.LANCZOS, box=box, reducing_gap=2.0)
        blocks[k] = np.asarray(small)
    dct = scipy.fftpack.dct(scipy.fftpack.dct(blocks, axis=1), axis=2)
    flat = dct[:, :_BLOCK, :_BLOCK].reshape(len(WINDOWS), _BLOCK * _BLOCK)
    bits = flat > np.median(flat, axis=1, keepdims=True)
    values = np.bitwise_or.reduce(np.where(bits, _BIT_WEIGHTS, np.uint64(0)), axis=1)
    return tuple(int(v) for v in values)
