"""Recognising, opening and converting photos: formats, pixel modes, limits, bad files."""

from __future__ import annotations

import io
import os
import struct
import subprocess
import sys
import types
import zlib
from pathlib import Path

import numpy as np
import pytest
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st
from PIL import Image

from desktop_app.demo import synthetic_photo
from desktop_app.engine.config import EngineConfig
from desktop_app.engine.errors import UnreadableImage
from desktop_app.engine.imaging import hashing
from desktop_app.engine.imaging.hashing import hash_bytes, hash_file, hash_image
from desktop_app.engine.imaging.loading import (
    IMAGE_EXTENSIONS,
    SKIP_EXTENSIONS,
    looks_like_image,
    open_oriented,
    sniff_format,
    to_grey,
    to_rgb,
)
from desktop_app.engine.types import FileFailure, ImageFeatures
from tests.engine.factories import stored_for_orientation

DEFAULT = EngineConfig(workers=0)


def encode(image: Image.Image, fmt: str, **params: object) -> bytes:
    buffer = io.BytesIO()
    image.save(buffer, fmt, **params)
    return buffer.getvalue()


def distance(a: int, b: int) -> int:
    return (a ^ b).bit_count()


def features(path: Path, config: EngineConfig = DEFAULT) -> ImageFeatures:
    result = hash_file(str(path), config)
    assert isinstance(result, ImageFeatures), result
    return result


def failure(path: Path, config: EngineConfig = DEFAULT) -> FileFailure:
    result = hash_file(str(path), config)
    assert isinstance(result, FileFailure), result
    return result


# --- extensions and sniffing -----------------------------------------------------------


def test_extension_sets_are_lower_case_with_a_dot_and_disjoint() -> None:
    for extension in IMAGE_EXTENSIONS | SKIP_EXTENSIONS:
        assert extension.startswith(".")
        assert extension == extension.lower()
    assert not IMAGE_EXTENSIONS & SKIP_EXTENSIONS
    expected = {".jpg", ".jpeg", ".png", ".webp", ".tif", ".tiff", ".bmp", ".gif"}
    expected |= {".heic", ".heif", ".avif", ".cr2", ".cr3", ".nef", ".arw", ".dng", ".raf"}
    assert expected <= IMAGE_EXTENSIONS
    assert {".xmp", ".txt", ".json", ".mp4", ".mov", ".pdf"} <= SKIP_EXTENSIONS


@pytest.mark.parametrize(
    ("fmt", "mode", "expected"),
    [
        ("JPEG", "RGB", "JPEG"),
        ("PNG", "RGBA", "PNG"),
        ("GIF", "P", "GIF"),
        ("BMP", "RGB", "BMP"),
        ("TIFF", "RGB", "TIFF"),
        ("WEBP", "RGB", "WEBP"),
        ("AVIF", "RGB", "AVIF"),
        ("PPM", "RGB", "PPM"),
        ("ICO", "RGBA", "ICO"),
        ("JPEG2000", "RGB", "JPEG2000"),
    ],
)
def test_sniff_format_recognises_what_pillow_writes(fmt: str, mode: str, expected: str) -> None:
    data = encode(Image.new(mode, (16, 16)), fmt)
    assert sniff_format(data[:32]) == expected


def test_sniff_format_recognises_heic() -> None:
    import pillow_heif

    pillow_heif.register_heif_opener()
    assert sniff_format(encode(Image.new("RGB", (16, 16)), "HEIF")[:32]) == "HEIF"


@pytest.mark.parametrize(
    ("head", "expected"),
    [
        (b"II*\x00\x10\x00\x00\x00CR\x02\x00", "RAW"),  # Canon CR2
        (b"\x00\x00\x00\x18ftypcrx \x00\x00\x00\x01crx isom", "RAW"),  # Canon CR3
        (b"FUJIFILMCCD-RAW 0201FF383501", "RAW"),
        (b"IIRO\x08\x00\x00\x00", "RAW"),  # Olympus ORF
        (b"IIU\x00\x08\x00\x00\x00", "RAW"),  # Panasonic RW2
        (b"II*\x00\x08\x00\x00\x00\x1c\x00\xfe\x00", "TIFF"),  # NEF, ARW and DNG look like this
        (b"\x00\x00\x00\x1cftypmif1\x00\x00\x00\x00mif1avif", "AVIF"),
        (b"\x00\x00\x00\x1cftypmif1\x00\x00\x00\x00mif1heic", "HEIF"),
        (b"", None),
        (b"hello world, this is text", None),
        (b"BM", None),
        (b"\x00\x00\x00\x18ftypisom\x00\x00\x02\x00isomiso2", None),  # an MP4 video
        (b"%PDF-1.7\n", None),
    ],
)
def test_sniff_format_on_magic_bytes(head: bytes, expected: str | None) -> None:
    assert sniff_format(head) == expected


def test_looks_like_image(tmp_path: Path) -> None:
    photo = tmp_path / "no_extension"
    photo.write_bytes(encode(Image.new("RGB", (8, 8)), "PNG"))
    text = tmp_path / "notes"
    text.write_text("just words")
    assert looks_like_image(str(photo))
    assert not looks_like_image(str(text))
    assert not looks_like_image(str(tmp_path / "missing"))
    assert not looks_like_image(str(tmp_path))


# --- pixel modes -------------------------------------------------------------------------


def test_to_grey_scales_16_bit_instead_of_clipping() -> None:
    ramp = np.tile(np.linspace(0, 65535, 256), (4, 1)).astype(np.uint16)
    for image in (Image.fromarray(ramp), Image.fromarray(ramp.astype(">u2"))):
        assert image.mode in ("I;16", "I;16B")
        grey = np.asarray(to_grey(image))
        assert grey.min() == 0 and grey.max() == 255
        assert abs(int(grey[0, 128]) - 128) <= 2
    wide = Image.fromarray(ramp).convert("I")
    assert wide.mode == "I"
    assert np.asarray(to_grey(wide)).max() == 255


def test_16_bit_png_and_tiff_hash_like_their_8_bit_original(tmp_path: Path) -> None:
    photo = synthetic_photo(1, (300, 200)).convert("L")
    eight = np.asarray(photo).astype(np.uint16)
    sixteen = Image.fromarray(eight * 257)
    reference = hash_image(photo, DEFAULT)[0]
    for fmt in ("PNG", "TIFF"):
        path = tmp_path / f"wide.{fmt.lower()}"
        sixteen.save(path, fmt)
        with Image.open(path) as opened:
            assert opened.mode == "I;16"
        assert features(path).phash == reference


def test_to_grey_handles_float_images() -> None:
    ramp = np.tile(np.linspace(0.0, 1.0, 64, dtype=np.float32), (4, 1))
    grey = np.asarray(to_grey(Image.fromarray(ramp)))
    assert grey[0, 0] == 0 and grey[0, -1] == 255


def test_transparency_is_flattened_onto_white() -> None:
    clear = Image.new("RGBA", (10, 10), (0, 0, 0, 0))
    assert np.asarray(to_grey(clear)).min() == 255
    assert to_rgb(clear).getpixel((0, 0)) == (255, 255, 255)
    half = Image.new("LA", (10, 10), (0, 128))
    assert abs(int(np.asarray(to_grey(half))[0, 0]) - 127) <= 1
    palette = Image.new("P", (10, 10), 0)
    palette.putpalette([200, 0, 0, 0, 0, 255])
    palette.info["transparency"] = 0
    assert np.asarray(to_grey(palette)).min() == 255
    del palette.info["transparency"]
    assert to_rgb(palette).getpixel((0, 0)) == (200, 0, 0)


@pytest.mark.parametrize("mode", ["1", "L", "P", "RGB", "RGBA", "LA", "CMYK", "YCbCr", "I", "F"])
def test_every_mode_gives_8_bit_grey_and_rgb(mode: str) -> None:
    image = synthetic_photo(2, (64, 48)).convert(mode)
    assert to_grey(image).mode == "L"
    assert to_rgb(image).mode == "RGB"
    assert to_grey(image).size == (64, 48)


@pytest.mark.parametrize(
    ("fmt", "mode", "suffix"),
    [
        ("PNG", "P", "png"),
        ("PNG", "RGBA", "png"),
        ("PNG", "LA", "png"),
        ("PNG", "1", "png"),
        ("PNG", "L", "png"),
        ("JPEG", "CMYK", "jpg"),
        ("JPEG", "L", "jpg"),
        ("TIFF", "CMYK", "tif"),
        ("TIFF", "F", "tif"),
        ("BMP", "RGB", "bmp"),
        ("BMP", "P", "bmp"),
        ("GIF", "P", "gif"),
        ("WEBP", "RGBA", "webp"),
    ],
)
def test_formats_and_modes_hash_close_to_the_rgb_original(
    tmp_path: Path, fmt: str, mode: str, suffix: str
) -> None:
    photo = synthetic_photo(3, (400, 267))
    reference = hash_image(photo, DEFAULT)[0]
    path = tmp_path / f"photo.{suffix}"
    converted = photo.convert(mode) if mode != "F" else photo.convert("L").convert("F")
    converted.save(path, fmt)
    result = features(path)
    # A palette or 1-bit copy loses a lot of the picture; the others very little.
    limit = {"1": 12, "P": 6}.get(mode, 2)
    assert distance(result.phash, reference) <= limit
    assert (result.width, result.height) == (400, 267)
    assert result.format == fmt


def test_palette_with_transparency_hashes_like_white_background(tmp_path: Path) -> None:
    photo = synthetic_photo(4, (200, 150))
    on_white = photo.copy()
    on_white.paste((255, 255, 255), (0, 0, 200, 30))
    rgba = photo.convert("RGBA")
    rgba.paste((0, 0, 0, 0), (0, 0, 200, 30))
    path = tmp_path / "t.png"
    rgba.save(path)
    assert distance(features(path).phash, hash_image(on_white, DEFAULT)[0]) <= 2


# --- multi-frame files -------------------------------------------------------------------


def frames() -> list[Image.Image]:
    return [synthetic_photo(seed, (320, 240)) for seed in (10, 11, 12)]


@pytest.mark.parametrize(("fmt", "suffix"), [("GIF", "gif"), ("WEBP", "webp"), ("TIFF", "tif")])
def test_first_frame_or_page_is_hashed(tmp_path: Path, fmt: str, suffix: str) -> None:
    first, *rest = frames()
    path = tmp_path / f"multi.{suffix}"
    first.save(path, fmt, save_all=True, append_images=rest)
    with Image.open(path) as opened:
        assert getattr(opened, "n_frames", 1) == 3
    single = tmp_path / f"single.{suffix}"
    first.save(single, fmt)
    assert distance(features(path).phash, features(single).phash) <= 2
    assert distance(features(path).phash, hash_image(rest[0], DEFAULT)[0]) > 10


# --- orientation and display -----------------------------------------------------------


@pytest.mark.parametrize("orientation", range(1, 9))
def test_open_oriented_applies_exif_orientation(tmp_path: Path, orientation: int) -> None:
    photo = synthetic_photo(5, (300, 200))
    stored = stored_for_orientation(photo, orientation)
    exif = Image.Exif()
    exif[0x0112] = orientation
    path = tmp_path / "o.png"
    stored.save(path, exif=exif)
    shown = open_oriented(str(path))
    assert shown.mode == "RGB"
    assert shown.size == (300, 200)
    assert np.array_equal(np.asarray(shown), np.asarray(photo))


def test_open_oriented_reduces_jpegs_to_max_side(tmp_path: Path) -> None:
    exif = Image.Exif()
    exif[0x0112] = 6
    path = tmp_path / "big.jpg"
    synthetic_photo(6, (2400, 1600)).save(path, quality=90, exif=exif)
    thumb = open_oriented(path, max_side=256)
    assert thumb.mode == "RGB"
    assert max(thumb.size) == 256
    assert thumb.size[1] > thumb.size[0]  # displayed turned a quarter
    full = open_oriented(path.read_bytes())
    assert full.size == (1600, 2400)


def test_open_oriented_flattens_alpha_and_accepts_bytes() -> None:
    data = encode(Image.new("RGBA", (40, 30), (0, 0, 0, 0)), "PNG")
    shown = open_oriented(data, max_side=20)
    assert shown.mode == "RGB"
    assert max(shown.size) == 20
    assert shown.getpixel((0, 0)) == (255, 255, 255)


@pytest.mark.parametrize("content", [b"", b"plain text", b"\xff\xd8\xff\xe0\x00\x10JFIF"])
def test_open_oriented_raises_unreadable_image(tmp_path: Path, content: bytes) -> None:
    path = tmp_path / "bad.jpg"
    path.write_bytes(content)
    with pytest.raises(UnreadableImage):
        open_oriented(path)
    with pytest.raises(UnreadableImage):
        open_oriented(tmp_path / "missing.jpg")


# --- limits ---------------------------------------------------------------------------


def png_claiming(width: int, height: int) -> bytes:
    """A small valid PNG whose header claims another size: a decompression bomb."""
    data = bytearray(encode(Image.new("L", (8, 8)), "PNG"))
    ihdr = 8 + 8  # signature, then length and type of the IHDR chunk
    data[ihdr : ihdr + 8] = struct.pack(">II", width, height)
    crc = zlib.crc32(bytes(data[ihdr - 4 : ihdr + 13]))
    data[ihdr + 13 : ihdr + 17] = struct.pack(">I", crc)
    return bytes(data)


def test_decompression_bomb_is_refused_before_decoding(tmp_path: Path) -> None:
    path = tmp_path / "bomb.png"
    path.write_bytes(png_claiming(100_000, 100_000))
    result = failure(path)
    assert result.reason == "image too large: 100000 x 100000 pixels"
    assert not result.gone
    with pytest.raises(UnreadableImage, match="too large"):
        open_oriented(path)


def test_max_pixels_comes_from_the_config(tmp_path: Path) -> None:
    path = tmp_path / "photo.jpg"
    synthetic_photo(7, (400, 300)).save(path)
    assert failure(path, EngineConfig(workers=0, max_pixels=100_000)).reason == (
        "image too large: 400 x 300 pixels"
    )


def test_a_300_megapixel_panorama_loads(tmp_path: Path) -> None:
    # Flat grey with a ramp: cheap to encode, still 300 MP for the decoder.
    width, height = 30_000, 10_000
    row = np.linspace(0, 255, width).astype(np.uint8)
    panorama = Image.fromarray(np.broadcast_to(row, (height, width)).copy(), "L")
    path = tmp_path / "panorama.jpg"
    panorama.save(path, quality=80)
    del panorama
    result = features(path)
    assert (result.width, result.height) == (width, height)


def test_a_large_png_beyond_pillows_own_limit_loads(tmp_path: Path) -> None:
    # 100 MP is over Pillow's 89 MP warning threshold, which pytest would turn into an error.
    path = tmp_path / "wide.png"
    Image.new("L", (20_000, 5_000), 90).save(path, compress_level=1)
    result = features(path)
    assert (result.width, result.height) == (20_000, 5_000)


@pytest.mark.parametrize("size", [(1, 1), (100_000, 10), (10, 100_000), (2, 3)])
def test_extreme_shapes_hash(tmp_path: Path, size: tuple[int, int]) -> None:
    path = tmp_path / "odd.png"
    Image.new("RGB", size, (120, 30, 200)).save(path)
    result = features(path)
    assert (result.width, result.height) == size


# --- bad files ------------------------------------------------------------------------


def test_zero_byte_file(tmp_path: Path) -> None:
    path = tmp_path / "empty.jpg"
    path.write_bytes(b"")
    assert failure(path).reason == "empty file"


def test_truncated_jpeg(tmp_path: Path) -> None:
    path = tmp_path / "cut.jpg"
    data = encode(synthetic_photo(8, (600, 400)), "JPEG", quality=90)
    path.write_bytes(data[: len(data) // 2])
    result = failure(path)
    assert result.reason == "truncated JPEG"
    assert result.size == len(data) // 2


def test_truncated_png(tmp_path: Path) -> None:
    path = tmp_path / "cut.png"
    data = encode(synthetic_photo(8, (200, 100)), "PNG")
    path.write_bytes(data[: len(data) // 2])
    assert failure(path).reason == "truncated PNG"


@pytest.mark.parametrize(
    ("name", "content"),
    [("random.jpg", os.urandom(5000)), ("text.png", b"this is not a picture\n" * 20)],
)
def test_not_an_image(tmp_path: Path, name: str, content: bytes) -> None:
    path = tmp_path / name
    path.write_bytes(content)
    assert failure(path).reason == "not an image"


def test_damaged_png_header(tmp_path: Path) -> None:
    data = bytearray(encode(synthetic_photo(8, (64, 64)), "PNG"))
    data[20] ^= 0xFF  # inside IHDR, so its checksum no longer matches
    path = tmp_path / "broken.png"
    path.write_bytes(bytes(data))
    assert failure(path).reason == "damaged PNG"


def test_missing_file_is_gone(tmp_path: Path) -> None:
    result = failure(tmp_path / "vanished.jpg")
    assert result.gone
    assert result.reason


def test_folder_is_not_a_file(tmp_path: Path) -> None:
    result = failure(tmp_path)
    assert not result.gone
    assert result.reason in ("is a folder, not a file", "not a regular file")


def test_permission_denied(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    # Tests may run as root, for whom chmod 000 does not stop reading: fake the refusal.
    path = tmp_path / "locked.jpg"
    synthetic_photo(9, (64, 64)).save(path)

    def refuse(*args: object, **kwargs: object) -> None:
        raise PermissionError(13, "Permission denied")

    monkeypatch.setattr(hashing, "open", refuse, raising=False)
    assert failure(path).reason == "permission denied"


def test_file_changed_while_being_read(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    path = tmp_path / "busy.jpg"
    synthetic_photo(9, (64, 64)).save(path)
    real_fstat = os.fstat
    calls = []

    def fstat(fd: int) -> object:
        result = real_fstat(fd)
        calls.append(fd)
        if len(calls) == 1:
            return result
        return types.SimpleNamespace(
            st_size=result.st_size + 10, st_mtime_ns=result.st_mtime_ns + 1, st_mode=result.st_mode
        )

    monkeypatch.setattr(hashing.os, "fstat", fstat)
    result = failure(path)
    assert result.reason == "changed while being read"
    assert not result.gone


def test_unexpected_decoder_errors_become_failures(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    path = tmp_path / "odd.jpg"
    synthetic_photo(9, (64, 64)).save(path)

    def explode(*args: object, **kwargs: object) -> None:
        raise ZeroDivisionError("a bug deep in a decoder")

    monkeypatch.setattr(hashing, "to_grey", explode)
    assert failure(path).reason == "damaged JPEG"


_SEEDS = {
    "jpeg": encode(synthetic_photo(20, (96, 64)), "JPEG", quality=85),
    "png": encode(synthetic_photo(21, (48, 32)), "PNG"),
    "gif": encode(synthetic_photo(22, (48, 32)).convert("P"), "GIF"),
    "webp": encode(synthetic_photo(23, (48, 32)), "WEBP"),
    "tiff": encode(synthetic_photo(24, (48, 32)), "TIFF"),
    "bmp": encode(synthetic_photo(25, (24, 16)), "BMP"),
}


@settings(max_examples=300, deadline=None, suppress_health_check=[HealthCheck.too_slow])
@given(
    kind=st.sampled_from(sorted(_SEEDS)),
    edits=st.lists(st.tuples(st.integers(0, 10**6), st.integers(0, 255)), max_size=12),
    cut=st.one_of(st.none(), st.integers(0, 10**6)),
)
def test_mutated_image_bytes_never_crash_the_hasher(
    kind: str, edits: list[tuple[int, int]], cut: int | None
) -> None:
    data = bytearray(_SEEDS[kind])
    for position, value in edits:
        data[position % len(data)] = value
    if cut is not None:
        data = data[: cut % (len(data) + 1)]
    try:
        result = hash_bytes(bytes(data), f"fuzz.{kind}", DEFAULT)
    except UnreadableImage as exc:
        assert exc.reason
    else:
        assert 0 <= result.phash < 2**64


def test_engine_and_demo_import_without_qt() -> None:
    code = (
        "import sys, desktop_app.engine.imaging.hashing, desktop_app.engine.imaging.raw\n"
        "import desktop_app.demo\n"
        "assert not [m for m in sys.modules if m.startswith('PySide6')], 'Qt imported'\n"
    )
    root = Path(__file__).resolve().parents[2]
    env = {**os.environ, "PYTHONPATH": str(root)}
    subprocess.run([sys.executable, "-c", code], check=True, env=env, cwd=root)


def test_a_huge_misnamed_file_is_refused_without_reading_it(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    path = tmp_path / "holiday.jpg"
    path.write_bytes(b"\x00\x00\x00\x18ftypmp42" + b"\x00" * 4096)  # an MP4 video

    class PeekOnly(io.FileIO):
        def readall(self) -> bytes:
            raise AssertionError("the whole file was read")

    monkeypatch.setattr(
        hashing, "open", lambda name, *args, **kwargs: PeekOnly(name), raising=False
    )
    assert failure(path).reason == "not an image"


def test_file_name_that_is_not_valid_utf8(tmp_path: Path) -> None:
    raw_name = os.fsencode(tmp_path) + b"/caf\xe9 \xff.jpg"
    synthetic_photo(14, (64, 48)).save(raw_name.decode("utf-8", "surrogateescape"), "JPEG")
    path = os.fsdecode(raw_name)
    result = hash_file(path, DEFAULT)
    assert isinstance(result, ImageFeatures)
    assert result.path == path


def test_progressive_jpeg(tmp_path: Path) -> None:
    photo = synthetic_photo(13, (1200, 800))
    baseline, progressive = tmp_path / "b.jpg", tmp_path / "p.jpg"
    photo.save(baseline, quality=90)
    photo.save(progressive, quality=90, progressive=True)
    assert distance(features(baseline).phash, features(progressive).phash) <= 2
