"""Crops, re-framings and straightened copies for ``quality_corpus.py``, and the
near-identical negatives beside them.

Every copy is made from the original's pixels as an editor would export it, and saved as
JPEG quality 90. Parameters that vary (which side is cut, the off-centre offsets, the
straightening angle) come from a generator seeded by the photo's name, so a corpus is
the same on every machine.

Negatives (kind ``burst``): a second *shot* of the scene, not a copy: the camera moved
(a perspective change of 3 % at the corners and a 4 % shift), and a part of the scene
moved within the frame (a block of the picture a tenth of its size displaced, as a
walking person or a bird between two frames of a burst). It gets its own label, so any
pair it forms with its original is a false pair.
"""

from __future__ import annotations

import math
import zlib
from pathlib import Path

import numpy as np
from PIL import Image

#: Kind -> what it is, in table order.
CROP_KINDS: dict[str, str] = {
    "crop5side": "5 % cut from every side",
    "crop10side": "10 % cut from every side",
    "crop15side": "15 % cut from every side",
    "offcentre": "5-10 % cut from each side, each side its own amount",
    "cut12": "12 % cut from one side",
    "square": "centred square re-framing of a 3:2 photo",
    "wide169": "centred 16:9 re-framing",
    "straight1": "straightened by 1 degree and cropped to remove the corners",
    "straight2": "straightened by 2 degrees and cropped",
    "straight3": "straightened by 3 degrees and cropped",
}
#: Kinds that are not copies of their original.
NEGATIVE_KINDS: dict[str, str] = {
    "burst": "another shot of the scene: camera moved 4 %, part of the scene moved",
}


def _rng(name: str) -> np.random.Generator:
    return np.random.default_rng(zlib.crc32(name.encode()))


def make(image: Image.Image, kind: str, name: str) -> Image.Image:
    """The copy (or negative) of ``kind`` made from ``image``."""
    width, height = image.size
    rng = _rng(f"{kind}/{name}")
    if kind.startswith("crop") and kind.endswith("side"):
        share = int(kind[4:-4]) / 100
        return image.crop(_box(width, height, share, share, share, share))
    if kind == "offcentre":
        left, top, right, bottom = rng.uniform(0.05, 0.10, 4)
        return image.crop(_box(width, height, left, top, right, bottom))
    if kind == "cut12":
        side = int(rng.integers(4))
        cuts = [0.0, 0.0, 0.0, 0.0]
        cuts[side] = 0.12
        return image.crop(_box(width, height, *cuts))
    if kind in ("square", "wide169"):
        ratio = 1.0 if kind == "square" else 16 / 9
        if width / height > ratio:
            w, h = round(height * ratio), height
        else:
            w, h = width, round(width / ratio)
        x0, y0 = (width - w) // 2, (height - h) // 2
        return image.crop((x0, y0, x0 + w, y0 + h))
    if kind.startswith("straight"):
        degrees = float(kind[-1]) * (1 if rng.random() < 0.5 else -1)
        turned = image.rotate(degrees, Image.Resampling.BICUBIC, expand=False)
        # The largest centred rectangle of the same shape without the empty corners.
        a = math.radians(abs(degrees))
        factor = 1 / (math.cos(a) + max(width / height, height / width) * math.sin(a))
        w, h = round(width * factor), round(height * factor)
        x0, y0 = (width - w) // 2, (height - h) // 2
        return turned.crop((x0, y0, x0 + w, y0 + h))
    if kind == "burst":
        return _burst(image, rng)
    raise ValueError(f"unknown kind {kind}")


def _box(
    width: int, height: int, left: float, top: float, right: float, bottom: float
) -> tuple[int, int, int, int]:
    return (
        round(width * left),
        round(height * top),
        width - round(width * right),
        height - round(height * bottom),
    )


def _burst(image: Image.Image, rng: np.random.Generator) -> Image.Image:
    width, height = image.size
    # Part of the scene moves: a block a tenth of the picture's size is displaced.
    moved = image.copy()
    bw, bh = width // 3, height // 3
    x0 = int(rng.integers(width // 6, width - bw - width // 6))
    y0 = int(rng.integers(height // 6, height - bh - height // 6))
    block = image.crop((x0, y0, x0 + bw, y0 + bh))
    dx = int(rng.choice([-1, 1]) * width * 0.08)
    moved.paste(block, (x0 + dx, y0))
    # The camera moves: a perspective change of 3 % at the corners, and a 4 % shift.
    jitter = rng.uniform(-0.03, 0.03, 8) * np.array([width, height] * 4)
    shift = np.array([width, height] * 4) * 0.04 * rng.choice([-1, 1])
    corners = np.array([0, 0, 0, height, width, height, width, 0], float) + jitter + shift
    quad = tuple(float(v) for v in corners)
    return moved.transform(image.size, Image.Transform.QUAD, quad, Image.Resampling.BICUBIC)


def write(image: Image.Image, kind: str, target: Path) -> Path:
    """Save the copy of ``kind`` as JPEG q90 at ``target`` (suffix replaced)."""
    out = target.with_suffix(".jpg")
    out.parent.mkdir(parents=True, exist_ok=True)
    make(image, kind, target.name).save(out, "JPEG", quality=90)
    return out
