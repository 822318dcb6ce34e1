"""Formats beyond Pillow's own: HEIF/HEIC (pillow-heif), AVIF, and camera RAW (rawpy)."""

from __future__ import annotations

import io
import struct
from pathlib import Path

import numpy as np
import pytest
from PIL import Image

from desktop_app.demo import synthetic_photo
from desktop_app.engine.config import EngineConfig
from desktop_app.engine.imaging.hashing import hash_file, hash_image
from desktop_app.engine.imaging.loading import open_oriented
from desktop_app.engine.types import FileFailure, ImageFeatures

DEFAULT = EngineConfig(workers=0)


def distance(a: int, b: int) -> int:
    return (a ^ b).bit_count()


def features(path: Path) -> ImageFeatures:
    result = hash_file(str(path), DEFAULT)
    assert isinstance(result, ImageFeatures), result
    return result


def phone_exif(orientation: int) -> bytes:
    exif = Image.Exif()
    exif[0x0112] = orientation
    exif[0x010F], exif[0x0110] = "Apple", "iPhone 13"
    exif.get_ifd(0x8769)[0x9003] = "2022:12:24 09:30:00"
    return exif.tobytes()


@pytest.mark.parametrize(("fmt", "suffix"), [("HEIF", "heic"), ("AVIF", "avif")])
@pytest.mark.parametrize("orientation", [1, 6])
def test_heic_and_avif_hash_like_the_original(
    tmp_path: Path, fmt: str, suffix: str, orientation: int
) -> None:
    import pillow_heif

    pillow_heif.register_heif_opener()  # only to write; the loader registers it itself
    photo = synthetic_photo(1, (600, 400))
    stored = photo.transpose(Image.Transpose.ROTATE_90) if orientation == 6 else photo
    path = tmp_path / f"IMG_0001.{suffix}"
    stored.save(path, fmt, quality=90, exif=phone_exif(orientation))
    result = features(path)
    assert result.format == fmt
    assert (result.width, result.height) == (600, 400)
    assert result.camera == "Apple iPhone 13"
    assert result.taken == "2022-12-24T09:30:00"
    assert distance(result.phash, hash_image(photo, DEFAULT)[0]) <= 2
    assert open_oriented(path, max_side=300).size == (300, 200)


# --- a tiny DNG, written here -------------------------------------------------------------


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


def tiny_dng(picture: Image.Image, preview: bool, orientation: int = 1) -> bytes:
    """A minimal DNG that LibRaw reads: an RGGB 16-bit mosaic of ``picture``.

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
    raw_tags = [
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
    shared = [
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
        preview_tags = [
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


@pytest.mark.parametrize("preview", [True, False])
@pytest.mark.parametrize("orientation", [1, 6])
def test_dng_hashes_like_the_photo(tmp_path: Path, preview: bool, orientation: int) -> None:
    photo = synthetic_photo(2, (288, 192))
    sensor = photo.transpose(Image.Transpose.ROTATE_90) if orientation == 6 else photo
    data = tiny_dng(sensor, preview, orientation)
    assert len(data) < 200_000
    path = tmp_path / "DSC_0001.dng"
    path.write_bytes(data)
    result = features(path)
    assert result.format == "DNG"
    assert (result.width, result.height) == (288, 192)
    assert result.camera == "Doppel Test DNG"
    assert result.taken == "2024-05-01T13:45:10"
    reference = hash_image(photo, DEFAULT)[0]
    # The preview is the camera's own rendering; a demosaic with our made-up colour
    # matrix renders the scene differently, but its layout is the same.
    assert distance(result.phash, reference) <= (2 if preview else 10)
    assert open_oriented(path).size == (288, 192)


def test_raw_extension_with_tiff_magic_goes_through_rawpy(tmp_path: Path) -> None:
    data = tiny_dng(synthetic_photo(3, (192, 128)), preview=True)
    path = tmp_path / "renamed.nef"
    path.write_bytes(data)
    assert features(path).format == "NEF"


def test_damaged_raw_is_a_failure(tmp_path: Path) -> None:
    path = tmp_path / "broken.cr2"
    path.write_bytes(b"II*\x00\x10\x00\x00\x00CR\x02\x00" + bytes(range(256)) * 8)
    result = hash_file(str(path), DEFAULT)
    assert isinstance(result, FileFailure)
    assert result.reason == "damaged or unsupported CR2 file"
