"""Reading date taken and camera from EXIF, and surviving damaged EXIF."""

from __future__ import annotations

import io
from pathlib import Path

import pytest
from PIL import Image

from desktop_app.demo import synthetic_photo
from desktop_app.engine.config import EngineConfig
from desktop_app.engine.imaging.exif import camera_name, parse_exif_date, read_exif
from desktop_app.engine.imaging.hashing import hash_file
from desktop_app.engine.types import ImageFeatures


@pytest.mark.parametrize(
    ("make", "model", "expected"),
    [
        ("Canon", "Canon EOS R5", "Canon EOS R5"),
        ("NIKON CORPORATION", "NIKON Z 6_2", "NIKON Z 6_2"),
        ("SONY", "ILCE-7M3", "SONY ILCE-7M3"),
        ("Apple", "iPhone 13", "Apple iPhone 13"),
        ("OLYMPUS IMAGING CORP.", "E-M1", "OLYMPUS E-M1"),
        ("FUJIFILM", "X-T4", "FUJIFILM X-T4"),
        ("Canon\x00\x00", "Canon EOS 5D\x00", "Canon EOS 5D"),
        (b"Panasonic", b"DMC-GH4", "Panasonic DMC-GH4"),
        ("  ", "X100V", "X100V"),
        ("Leica", None, "Leica"),
        (None, None, None),
        (3, 4, None),
    ],
)
def test_camera_name(make: object, model: object, expected: str | None) -> None:
    assert camera_name(make, model) == expected


@pytest.mark.parametrize(
    ("value", "expected"),
    [
        ("2024:05:01 13:45:10", "2024-05-01T13:45:10"),
        ("2024:05:01 13:45:10\x00", "2024-05-01T13:45:10"),
        (b"2019:12:31 23:59:59", "2019-12-31T23:59:59"),
        ("2024-05-01 13:45:10", "2024-05-01T13:45:10"),
        ("0000:00:00 00:00:00", None),
        ("    :  :     :  :  ", None),
        ("2024:13:01 10:00:00", None),
        ("yesterday", None),
        ("", None),
        (None, None),
        (20240501, None),
    ],
)
def test_parse_exif_date(value: object, expected: str | None) -> None:
    assert parse_exif_date(value) == expected


def test_date_time_original_wins_over_date_time(tmp_path: Path) -> None:
    exif = Image.Exif()
    exif[0x0132] = "2024:01:01 00:00:00"
    exif.get_ifd(0x8769)[0x9003] = "2023:06:14 07:12:00"
    path = tmp_path / "a.jpg"
    synthetic_photo(1, (64, 48)).save(path, exif=exif)
    result = hash_file(str(path), EngineConfig(workers=0))
    assert isinstance(result, ImageFeatures)
    assert result.taken == "2023-06-14T07:12:00"


def test_date_time_is_the_fallback() -> None:
    exif = Image.Exif()
    exif[0x0132] = "2024:01:02 03:04:05"
    buffer = io.BytesIO()
    synthetic_photo(1, (64, 48)).save(buffer, "JPEG", exif=exif)
    with Image.open(buffer) as image:
        assert read_exif(image).taken == "2024-01-02T03:04:05"


def test_damaged_exif_is_ignored_not_fatal(tmp_path: Path) -> None:
    path = tmp_path / "odd.jpg"
    synthetic_photo(2, (64, 48)).save(path, exif=b"Exif\x00\x00II*\x00\xff\xff\xff\x7f garbage")
    result = hash_file(str(path), EngineConfig(workers=0))
    assert isinstance(result, ImageFeatures)
    assert result.taken is None and result.camera is None


def test_invalid_orientation_counts_as_upright() -> None:
    exif = Image.Exif()
    exif[0x0112] = 42
    buffer = io.BytesIO()
    synthetic_photo(1, (64, 48)).save(buffer, "JPEG", exif=exif)
    with Image.open(buffer) as image:
        assert read_exif(image).orientation == 1
