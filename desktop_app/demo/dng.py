"""A minimal DNG writer: camera RAW files for tests and benchmarks, without a camera.

The file is what Adobe's converter and cameras write, reduced to what LibRaw needs: an
RGGB 16-bit mosaic of the picture (uncompressed), and optionally a baseline-JPEG preview
of it in IFD 0 with the mosaic in a SubIFD. A 288 x 192 picture makes about 120 KB.
"""

from __future__ import annotations

import io
import struct

import numpy as np
from PIL import Image


def _pack(kind: int, values: object) -> tuple[bytes, int]:
    if kind == 2:  # ASCII
        data = str(values).encode() + b"\0"
        return data, len(data)
    items = list(values)  # type: ignore[call-overload]
    if kind in (5, 10):  # (S)RATIONAL
        code = "<II" if kind == 5 else "<ii"
        return b"".join(struct.pack(code, *pair) for pair in items), len(items)
    code = {1: "B", 3: "H", 4: "I"}[kind]
    return struct.pack(f"<{len(items)}{code}", *items), len(items)


def dng_bytes(picture: Image.Image, preview: bool, orientation: int = 1) -> bytes:
    """A minimal DNG that LibRaw reads: an RGGB 16-bit mosaic of ``picture`` (RGB).

    With ``preview``, IFD 0 is a baseline-JPEG preview of the picture (as cameras and
    Adobe's converter write them) and the mosaic sits in a SubIFD.
    """
    width, height = picture.size
    linear = (np.asarray(picture, np.float64) / 255.0) ** 2.2 * 60000
    mosaic = np.empty((height, width), np.uint16)
    mosaic[0::2, 0::2] = linear[0::2, 0::2, 0]
    mosaic[0::2, 1::2] = linear[0::2, 1::2, 1]
    mosaic[1::2, 0::2] = linear[1::2, 0::2, 1]
    mosaic[1::2, 1::2] = linear[1::2, 1::2, 2]
    out = bytearray(b"II*\x00\x00\x00\x00\x00")

    def blob(data: bytes) -> int:
        if len(out) % 2:
            out.append(0)
        offset = len(out)
        out.extend(data)
        return offset

    def ifd(tags: list[tuple[int, int, object]]) -> int:
        entries = []
        for tag, kind, values in sorted(tags, key=lambda entry: entry[0]):
            data, count = _pack(kind, values)
            if len(data) > 4:
                data = struct.pack("<I", blob(data))
            entries.append(struct.pack("<HHI", tag, kind, count) + data.ljust(4, b"\0"))
        offset = blob(struct.pack("<H", len(entries)) + b"".join(entries) + b"\0\0\0\0")
        return offset

    raw = mosaic.astype("<u2").tobytes()
    raw_tags: list[tuple[int, int, object]] = [
        (254, 4, [0]),
        (256, 4, [width]),
        (257, 4, [height]),
        (258, 3, [16]),
        (259, 3, [1]),
        (262, 3, [32803]),  # colour filter array
        (273, 4, [blob(raw)]),
        (277, 3, [1]),
        (278, 4, [height]),
        (279, 4, [len(raw)]),
        (284, 3, [1]),
        (33421, 3, [2, 2]),
        (33422, 1, [0, 1, 1, 2]),  # RGGB
        (50717, 4, [65535]),
    ]
    shared: list[tuple[int, int, object]] = [
        (271, 2, "Doppel"),
        (272, 2, "Doppel Test DNG"),
        (274, 3, [orientation]),
        (306, 2, "2024:05:01 13:45:10"),
        (50706, 1, [1, 4, 0, 0]),
        (50707, 1, [1, 1, 0, 0]),
        (50708, 2, "Doppel Test DNG"),
        (50721, 10, [(1, 1), (0, 1), (0, 1), (0, 1), (1, 1), (0, 1), (0, 1), (0, 1), (1, 1)]),
        (50728, 5, [(1, 1), (1, 1), (1, 1)]),
        (50778, 3, [21]),
    ]
    if preview:
        buffer = io.BytesIO()
        picture.save(buffer, "JPEG", quality=85)
        jpeg = buffer.getvalue()
        sub_ifd = ifd(raw_tags)
        preview_tags: list[tuple[int, int, object]] = [
            (254, 4, [1]),
            (256, 4, [width]),
            (257, 4, [height]),
            (258, 3, [8, 8, 8]),
            (259, 3, [7]),  # JPEG
            (262, 3, [6]),  # YCbCr
            (273, 4, [blob(jpeg)]),
            (277, 3, [3]),
            (278, 4, [height]),
            (279, 4, [len(jpeg)]),
            (284, 3, [1]),
            (330, 4, [sub_ifd]),
        ]
        first = ifd(preview_tags + shared)
    else:
        first = ifd(raw_tags + shared)
    out[4:8] = struct.pack("<I", first)
    return bytes(out)
