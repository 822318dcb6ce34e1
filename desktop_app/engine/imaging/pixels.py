"""Converting any Pillow pixel mode to the 8-bit greyscale or RGB we hash and display.

Photos arrive as palettes with or without transparency, RGBA and LA, CMYK, 1-bit,
16-bit greyscale (PNG and TIFF: I;16, I;16B, or I after some conversions), and float.
Pillow's own ``convert("L")`` gets several of these wrong for our purpose: it drops
alpha instead of flattening it (a transparent PNG becomes black) and clips 16-bit data
at 255 (a 16-bit photo becomes white). Here transparency is composited onto white, as
viewers show it, and wide data is scaled, not clipped.
"""

from __future__ import annotations

import logging

import numpy as np
from PIL import Image

log = logging.getLogger(__name__)


def flatten_alpha(image: Image.Image) -> Image.Image:
    """Composite an image with transparency onto white, as a viewer would show it.

    Args:
        image: Any image; "P" images with a transparent colour, "PA", "RGBA", "RGBa",
            "LA" and "La" are composited, a "P" image without one is expanded to RGB.

    Returns:
        An "RGB" or "L" image; other modes are returned unchanged.
    """
    mode = image.mode
    if mode == "P":
        if "transparency" not in image.info:
            return image.convert("RGB")
        image, mode = image.convert("RGBA"), "RGBA"
    elif mode == "PA":
        image, mode = image.convert("RGBA"), "RGBA"
    if mode in ("RGBA", "RGBa", "LA", "La"):
        base_mode = "RGB" if mode.startswith("RGB") else "L"
        if mode in ("RGBa", "La"):  # premultiplied: undo it so the paste below is right
            image = image.convert(base_mode + "A")
        background = Image.new(base_mode, image.size, 255 if base_mode == "L" else (255,) * 3)
        background.paste(image.convert(base_mode), mask=image.getchannel("A"))
        return background
    return image


def _wide_to_8bit(image: Image.Image) -> Image.Image:
    """Scale a 16-bit, 32-bit integer or float image to 8-bit greyscale without clipping.

    Pillow's ``convert("L")`` clips I;16 and I values above 255 to white, which turns a
    16-bit photo into a nearly white page. 16-bit data is scaled by 1/257 (exactly
    inverting the usual 8-to-16-bit expansion v * 257); integer data that already fits in
    8 bits is kept; anything else, and float data, is stretched to its own range, which
    pHash does not mind (it is invariant to a linear change of brightness).
    """
    array = np.asarray(image)
    if array.dtype.kind in "ui":
        low, high = int(array.min()), int(array.max())
        if low >= 0 and high <= 255:
            out = array.astype(np.uint8)
        elif low >= 0 and high <= 65535:
            out = ((array.astype(np.uint32) + 128) // 257).astype(np.uint8)
        else:
            out = _stretch(array.astype(np.float64))
    else:
        values = np.nan_to_num(array.astype(np.float64), nan=0.0, posinf=0.0, neginf=0.0)
        if values.min() >= 0.0 and values.max() <= 1.0:
            out = np.round(values * 255.0).astype(np.uint8)
        else:
            out = _stretch(values)
    return Image.fromarray(np.ascontiguousarray(out), "L")


def _stretch(values: np.ndarray) -> np.ndarray:
    low, high = float(values.min()), float(values.max())
    if high <= low:
        return np.zeros(values.shape, np.uint8)
    return np.round((values - low) * (255.0 / (high - low))).astype(np.uint8)


def to_grey(image: Image.Image) -> Image.Image:
    """The 8-bit greyscale ("L") version of any Pillow image, as pHash needs it.

    Transparency is flattened onto white, palettes expanded, CMYK and YCbCr converted
    through RGB, 1-bit expanded, and 16-bit, 32-bit and float data scaled (not clipped)
    to 8 bits.

    Args:
        image: A loaded or lazily loaded image in any mode.

    Returns:
        An "L" image of the same size.
    """
    mode = image.mode
    if mode == "L":
        return image
    if mode in ("RGB", "1"):
        return image.convert("L")
    if mode.startswith(("I", "F")):
        return _wide_to_8bit(image)
    if mode in ("P", "PA", "RGBA", "RGBa", "LA", "La"):
        return flatten_alpha(image).convert("L")
    if mode == "LAB":
        return image.getchannel("L")
    return image.convert("RGB").convert("L")


def to_rgb(image: Image.Image) -> Image.Image:
    """The 8-bit "RGB" version of any Pillow image, for display.

    Args:
        image: A loaded or lazily loaded image in any mode.

    Returns:
        An "RGB" image of the same size, transparency flattened onto white and wide
        data scaled as :func:`to_grey` does.
    """
    mode = image.mode
    if mode == "RGB":
        return image
    if mode.startswith(("I", "F")):
        return _wide_to_8bit(image).convert("RGB")
    if mode in ("P", "PA", "RGBA", "RGBa", "LA", "La"):
        return flatten_alpha(image).convert("RGB")
    if mode == "LAB":
        return image.getchannel("L").convert("RGB")
    return image.convert("RGB")
