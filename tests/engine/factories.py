"""Small builders of engine records for tests that do not need real photos."""

from __future__ import annotations

import os

import numpy as np
from PIL import Image

from desktop_app.engine.types import ImageFeatures


def features(
    path: str,
    phash: int,
    *,
    size: int = 1000,
    digest: bytes | None = None,
    mtime_ns: int = 1,
    width: int = 64,
    height: int = 48,
    variants: tuple[int, ...] = (),
) -> ImageFeatures:
    """Features of a pretend photo at ``path``."""
    return ImageFeatures(
        path=path,
        size=size,
        mtime_ns=mtime_ns,
        digest=digest if digest is not None else os.fsencode(path)[-16:].rjust(16, b"\0"),
        phash=phash,
        width=width,
        height=height,
        format="JPEG",
        taken=None,
        camera=None,
        variants=variants,
    )


def clustered_hashes(n: int, seed: int = 0, spread: int = 6) -> np.ndarray:
    """``n`` hashes in small clusters of near-copies (a few bits apart), bit 63 set."""
    rng = np.random.default_rng(seed)
    out = np.empty(n, dtype=np.uint64)
    i = 0
    while i < n:
        base = int(rng.integers(0, 1 << 63, dtype=np.uint64)) | (1 << 63)
        for _ in range(int(rng.integers(1, 5))):
            if i == n:
                break
            value = base
            for bit in rng.choice(63, size=int(rng.integers(0, spread + 1)), replace=False):
                value ^= 1 << int(bit)
            out[i] = value
            i += 1
    return out


#: The transpose that, undone by EXIF orientation N, gives back the upright photo.
_STORED_FOR = {
    2: Image.Transpose.FLIP_LEFT_RIGHT,
    3: Image.Transpose.ROTATE_180,
    4: Image.Transpose.FLIP_TOP_BOTTOM,
    5: Image.Transpose.TRANSPOSE,
    6: Image.Transpose.ROTATE_90,
    7: Image.Transpose.TRANSVERSE,
    8: Image.Transpose.ROTATE_270,
}


def stored_for_orientation(photo: Image.Image, orientation: int) -> Image.Image:
    """The pixels a camera stores for ``photo`` when it writes EXIF ``orientation``."""
    return photo.transpose(_STORED_FOR[orientation]) if orientation > 1 else photo
