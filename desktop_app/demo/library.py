"""Realistic-looking generated photos and their copies, for tests, demos and benchmarks.

No real photographs ship with Doppel, yet every part of it needs pictures that behave
like photos under pHash: smooth large-scale structure (skies, hills, walls, objects
with soft shadows) that decides the low frequencies, plus fine texture and sensor noise
that JPEG has to work for. :func:`synthetic_photo` (from ``pictures.py``) draws one
such picture per seed, deterministically (same seed, same pixels, on every machine with
the same numpy and Pillow), and different seeds give unrelated layouts whose pHashes are
far apart (32 bits apart at the median, under 20 for fewer than 1 % of pairs).

:func:`write_variant` makes the copies a photographer's library accumulates (see
:data:`VARIANT_KINDS`), :func:`build_demo_library` lays out a small library with
originals, copies in export and backup folders and unrelated singles, and
:func:`camera_jpeg` writes camera-size JPEGs (12 or 24 MP, quality 92) for benchmarks.

It is fast enough to use freely (docs/benchmarks.md, "Generated photos"). No Qt here:
the window's demo command and the screenshot scripts import it like the tests do.

Example::

    from desktop_app.demo import build_demo_library
    manifest = build_demo_library("/tmp/demo", photos=60)
    # manifest["copies"][path] == {"original": ..., "kind": "jpeg30"}
"""

from __future__ import annotations

import logging
import shutil
from pathlib import Path
from typing import Any

import numpy as np
from PIL import Image, ImageDraw, ImageEnhance, ImageFont

from desktop_app.demo.pictures import grain, synthetic_photo

__all__ = [
    "CAMERA_SIZES",
    "FINDABLE_KINDS",
    "VARIANT_KINDS",
    "add_border",
    "add_watermark",
    "build_demo_library",
    "camera_jpeg",
    "synthetic_photo",
    "write_variant",
]

log = logging.getLogger(__name__)


#: Every kind of copy :func:`write_variant` can make, with what it does.
VARIANT_KINDS: dict[str, str] = {
    "resize50": "resized to 50 %, JPEG quality 90",
    "jpeg30": "re-saved as JPEG quality 30",
    "png": "saved as PNG",
    "webp": "saved as WebP quality 80",
    "exif_rotated": "pixels turned 90 degrees, EXIF Orientation 6 so it displays the same",
    "border_black": "black frame, 6 % of each side",
    "border_white": "white frame, 10 % of each side",
    "border_colour": "coloured bands, 12 % at top and bottom (letterbox)",
    "crop5": "5 % of the width and height cut off, half on each side",
    "crop10": "10 % of the width and height cut off, half on each side",
    "watermark": "semi-transparent copyright text in the lower right",
    "brighten": "brightness x1.25",
    "greyscale": "converted to greyscale",
    "noise": "Gaussian noise, sigma 10 levels",
    "mirror": "mirrored left-right",
    "rotate90": "turned 90 degrees counter-clockwise (no EXIF tag)",
}

#: Kinds a default-threshold search is expected to find without the rotation setting.
FINDABLE_KINDS = (
    "resize50",
    "jpeg30",
    "png",
    "webp",
    "exif_rotated",
    "border_black",
    "border_white",
    "border_colour",
    "watermark",
    "brighten",
    "greyscale",
    "noise",
)

_EXTENSIONS = {"png": ".png", "webp": ".webp"}


#: Sky top / horizon colours (RGB, 0..1): day, haze, sunset, overcast, dusk, night.
def write_variant(image: Image.Image, kind: str, path: str | Path) -> Path:
    """Save a copy of ``image`` transformed as a photographer's library would have it.

    Args:
        image: The original, upright ("RGB").
        kind: One of :data:`VARIANT_KINDS`.
        path: Where to write; the suffix is replaced by the one the kind needs
            (".png", ".webp", else ".jpg").

    Returns:
        The path actually written.

    Raises:
        ValueError: Unknown ``kind``.
    """
    if kind not in VARIANT_KINDS:
        raise ValueError(f"unknown variant kind {kind!r}; known: {', '.join(VARIANT_KINDS)}")
    out = Path(path).with_suffix(_EXTENSIONS.get(kind, ".jpg"))
    out.parent.mkdir(parents=True, exist_ok=True)
    if kind == "png":
        image.save(out, "PNG", compress_level=1)
    elif kind == "webp":
        image.save(out, "WEBP", quality=80, method=2)
    elif kind == "jpeg30":
        image.save(out, "JPEG", quality=30)
    elif kind == "exif_rotated":
        exif = Image.Exif()
        exif[0x0112] = 6  # "rotate 90 degrees clockwise to display"
        image.transpose(Image.Transpose.ROTATE_90).save(out, "JPEG", quality=90, exif=exif)
    else:
        _transformed(image, kind).save(out, "JPEG", quality=90)
    return out


def _transformed(image: Image.Image, kind: str) -> Image.Image:
    width, height = image.size
    if kind == "resize50":
        return image.resize((max(1, width // 2), max(1, height // 2)), Image.Resampling.LANCZOS)
    if kind.startswith("border_"):
        return add_border(image, kind)
    if kind in ("crop5", "crop10"):
        share = 0.05 if kind == "crop5" else 0.10
        dx, dy = round(width * share / 2), round(height * share / 2)
        return image.crop((dx, dy, width - dx, height - dy))
    if kind == "watermark":
        return add_watermark(image)
    if kind == "brighten":
        return ImageEnhance.Brightness(image).enhance(1.25)
    if kind == "greyscale":
        return image.convert("L")
    if kind == "noise":
        rng = np.random.default_rng(width * 31 + height)
        noisy = np.asarray(image, np.float32) + rng.normal(0, 10, (height, width, 1))
        return Image.fromarray(np.clip(noisy, 0, 255).astype(np.uint8), "RGB")
    if kind == "mirror":
        return image.transpose(Image.Transpose.FLIP_LEFT_RIGHT)
    if kind == "rotate90":
        return image.transpose(Image.Transpose.ROTATE_90)
    return image.copy()


def add_border(
    image: Image.Image,
    kind: str = "border_black",
    share: float | None = None,
    colour: tuple[int, int, int] | None = None,
    sides: str = "",
) -> Image.Image:
    """Frame a picture with a flat border.

    Args:
        image: The picture.
        kind: "border_black" (6 % all round), "border_white" (10 %) or "border_colour"
            (12 % letterbox bands at top and bottom), the defaults for the others.
        share: Border width as a share of the picture's width (left/right) or height
            (top/bottom), overriding the kind's.
        colour: Border colour, overriding the kind's.
        sides: Any of "l", "t", "r", "b", overriding the kind's sides.

    Returns:
        A larger "RGB" image with the picture pasted inside the border.
    """
    defaults = {
        "border_black": (0.06, (0, 0, 0), "ltrb"),
        "border_white": (0.10, (255, 255, 255), "ltrb"),
        "border_colour": (0.12, (86, 110, 140), "tb"),
    }
    default_share, default_colour, default_sides = defaults[kind]
    share = default_share if share is None else share
    colour = default_colour if colour is None else colour
    sides = sides or default_sides
    width, height = image.size
    dx, dy = round(width * share), round(height * share)
    left, top = dx * ("l" in sides), dy * ("t" in sides)
    right, bottom = dx * ("r" in sides), dy * ("b" in sides)
    framed = Image.new("RGB", (width + left + right, height + top + bottom), colour)
    framed.paste(image.convert("RGB"), (left, top))
    return framed


def add_watermark(image: Image.Image, text: str = "© Doppel Studio 2024") -> Image.Image:
    """Overlay semi-transparent text in the lower right, as on a proof sent to a client."""
    base = image.convert("RGBA")
    layer = Image.new("RGBA", base.size, (0, 0, 0, 0))
    draw = ImageDraw.Draw(layer)
    font_size = max(8, base.height // 16)
    font = ImageFont.load_default(font_size)
    left, top, right, bottom = draw.textbbox((0, 0), text, font=font)
    margin = base.height // 30
    position = (base.width - (right - left) - margin, base.height - (bottom - top) - 2 * margin)
    draw.text(position, text, font=font, fill=(255, 255, 255, 150))
    return Image.alpha_composite(base, layer).convert("RGB")


def _exif_for(index: int, rng: np.random.Generator) -> Image.Exif:
    """Plausible camera EXIF: make, model and the date taken."""
    cameras = (
        ("Canon", "Canon EOS R5"),
        ("NIKON CORPORATION", "NIKON Z 6_2"),
        ("SONY", "ILCE-7M3"),
    )
    make, model = cameras[index % len(cameras)]
    exif = Image.Exif()
    exif[0x010F], exif[0x0110] = make, model
    month, day, hour = int(rng.integers(1, 13)), int(rng.integers(1, 29)), int(rng.integers(6, 21))
    stamp = f"2023:{month:02d}:{day:02d} {hour:02d}:{index % 60:02d}:{(index * 7) % 60:02d}"
    exif[0x0132] = stamp
    exif.get_ifd(0x8769)[0x9003] = stamp
    return exif


#: Folders of the demo library: originals, then where copies end up.
_ORIGINAL_FOLDERS = ("2023/2023-06-14 Lake", "2023/2023-09-02 Studio", "2024/2024-01-20 Trip")
_COPY_FOLDERS = ("exports/web", "exports/print", "backup copy/2023", "phone sync")


def build_demo_library(
    folder: str | Path,
    photos: int,
    seed: int = 0,
    size: tuple[int, int] = (1600, 1067),
) -> dict[str, Any]:
    """Write a small photo library with known copies, like a real one's folders.

    Two photos in three get copies (one to three of :data:`FINDABLE_KINDS`, and every
    fifth such photo a byte-identical backup); the others are unrelated singles.
    Originals are JPEG quality 92 with camera EXIF, under "2023/..." and "2024/...";
    copies go to "exports/...", "backup copy/..." and "phone sync".

    Args:
        folder: Where to write (created if needed).
        photos: How many different pictures.
        seed: Library seed; the same seed writes the same files.
        size: ``(width, height)`` of the originals.

    Returns:
        A manifest with absolute paths: ``{"root": str, "originals": [str],
        "singles": [str], "copies": {copy: {"original": str, "kind": str}}}``, where
        "singles" lists the originals that have no copy and kind "identical" marks a
        byte-identical copy.
    """
    root = Path(folder).resolve()
    rng = np.random.default_rng(seed)
    manifest: dict[str, Any] = {"root": str(root), "originals": [], "singles": [], "copies": {}}
    copy_number = 0
    for index in range(photos):
        picture = synthetic_photo(seed * 1_000_003 + index, size)
        original = (
            root / _ORIGINAL_FOLDERS[index % len(_ORIGINAL_FOLDERS)] / f"IMG_{1000 + index}.jpg"
        )
        original.parent.mkdir(parents=True, exist_ok=True)
        picture.save(original, "JPEG", quality=92, exif=_exif_for(index, rng))
        manifest["originals"].append(str(original))
        if index % 3 == 2:
            manifest["singles"].append(str(original))
            continue
        count = int(rng.integers(1, 4))
        kinds = rng.choice(len(FINDABLE_KINDS), size=count, replace=False)
        for kind_index in kinds:
            kind = FINDABLE_KINDS[int(kind_index)]
            target = (
                root / _COPY_FOLDERS[copy_number % len(_COPY_FOLDERS)] / f"{original.stem}_{kind}"
            )
            written = write_variant(picture, kind, target)
            manifest["copies"][str(written)] = {"original": str(original), "kind": kind}
            copy_number += 1
        if index % 5 == 0:
            twin = root / "backup copy" / original.parent.name / original.name
            twin.parent.mkdir(parents=True, exist_ok=True)
            shutil.copyfile(original, twin)
            manifest["copies"][str(twin)] = {"original": str(original), "kind": "identical"}
    log.debug("demo library: %d originals, %d copies", photos, len(manifest["copies"]))
    return manifest


#: Camera-size pictures for benchmarks: megapixels -> (width, height), 3:2 frames.
CAMERA_SIZES = {12: (4240, 2832), 24: (6000, 4000)}


def camera_jpeg(path: str | Path, seed: int, megapixels: int = 24, noisy: bool = False) -> Path:
    """Write a camera-size JPEG (quality 92) for throughput benchmarks.

    Args:
        path: Where to write.
        seed: Picture seed.
        megapixels: 12 or 24 (see :data:`CAMERA_SIZES`).
        noisy: Add strong per-pixel noise, as a high-ISO photo has; the files then weigh
            6-11 MB like real camera JPEGs, and entropy decoding dominates their cost.
            The smooth kind compresses to 1-3 MB.

    Returns:
        The path written.
    """
    size = CAMERA_SIZES[megapixels]
    width, height = size
    if noisy:
        picture = synthetic_photo(seed, size)
        # Sigma chosen so both sizes land in the range of real camera files (6-11 MB).
        sigma = 14.0 if megapixels <= 12 else 9.0
        noise = grain(np.random.default_rng(seed + 7), size, sigma)
        pixels = np.asarray(picture, np.int16) + noise
        picture = Image.fromarray(np.clip(pixels, 0, 255).astype(np.uint8), "RGB")
    else:
        # Drawn at a quarter of the size and enlarged: clean, like a low-ISO shot of a
        # smooth scene, so entropy decoding is cheap and the other costs show.
        small = synthetic_photo(seed, (width // 4, height // 4))
        picture = small.resize(size, Image.Resampling.BICUBIC)
    out = Path(path)
    out.parent.mkdir(parents=True, exist_ok=True)
    picture.save(out, "JPEG", quality=92)
    return out
