"""Generated photos and their copies: the demo library, and the pictures tests and benchmarks use.

:mod:`.pictures` draws a realistic-looking photo from a seed; :mod:`.library` writes the
copies a photographer's library accumulates and lays out a whole demo library, which
``doppel demo`` opens in the window.
"""

from desktop_app.demo.library import (
    CAMERA_SIZES,
    FINDABLE_KINDS,
    VARIANT_KINDS,
    add_border,
    add_watermark,
    build_demo_library,
    camera_jpeg,
    synthetic_photo,
    write_variant,
)

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
