"""Formats beyond Pillow's own: HEIF/HEIC (pillow-heif), AVIF, and camera RAW (rawpy)."""

from __future__ import annotations

from pathlib import Path

import pytest
from PIL import Image

from desktop_app.demo import synthetic_photo
from desktop_app.demo.dng import dng_bytes
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


# --- a tiny DNG (desktop_app/demo/dng.py) ----------------------------------------------------

tiny_dng = dng_bytes


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
