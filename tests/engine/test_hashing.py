"""The hash itself: agreement with imagehash, the draft decode, rotations, features of a file."""

from __future__ import annotations

import io
import multiprocessing
import os
from concurrent.futures import ProcessPoolExecutor
from pathlib import Path

import imagehash
import numpy as np
import pytest
import xxhash
from PIL import Image

from desktop_app.demo import FINDABLE_KINDS, synthetic_photo, write_variant
from desktop_app.engine.config import DEFAULT_THRESHOLD, EngineConfig
from desktop_app.engine.errors import UnreadableImage
from desktop_app.engine.imaging.hashing import (
    HASH_VERSION,
    dct_block,
    hash_bytes,
    hash_file,
    hash_image,
    variant_hashes,
)
from desktop_app.engine.types import FileFailure, ImageFeatures, Transform, hash_to_hex
from tests.engine.factories import stored_for_orientation

PLAIN = EngineConfig(workers=0, trim_borders=False)
DEFAULT = EngineConfig(workers=0)
ROTATIONS = EngineConfig(workers=0, rotations=True)


def distance(a: int, b: int) -> int:
    return (a ^ b).bit_count()


def features(path: Path | str, config: EngineConfig = DEFAULT) -> ImageFeatures:
    result = hash_file(str(path), config)
    assert isinstance(result, ImageFeatures), result
    return result


def save_jpeg(image: Image.Image, path: Path, quality: int = 92, **params: object) -> Path:
    image.save(path, "JPEG", quality=quality, **params)
    return path


def test_hash_version_is_a_positive_int() -> None:
    assert isinstance(HASH_VERSION, int)
    assert HASH_VERSION >= 1


@pytest.mark.parametrize("seed", range(6))
@pytest.mark.parametrize("size", [(100, 80), (64, 64), (127, 33), (20, 90)])
def test_small_images_hash_exactly_as_imagehash(seed: int, size: tuple[int, int]) -> None:
    # Under 128 px a side the reduction steps do nothing, so the hash is imagehash's.
    rng = np.random.default_rng(seed)
    pixels = (rng.random((size[1], size[0], 3)) * 255).astype(np.uint8)
    image = Image.fromarray(pixels)
    expected = str(imagehash.phash(image))
    assert hash_to_hex(hash_image(image, PLAIN)[0]) == expected
    # Random pixels have no flat border, so trimming does not change anything either.
    assert hash_to_hex(hash_image(image, DEFAULT)[0]) == expected


@pytest.mark.parametrize("seed", range(4))
def test_small_photo_hash_equals_imagehash(seed: int) -> None:
    image = synthetic_photo(seed, (120, 80))
    assert hash_to_hex(hash_image(image, PLAIN)[0]) == str(imagehash.phash(image))


@pytest.mark.parametrize("seed", range(8))
def test_draft_decode_is_within_two_bits_of_full_decode(tmp_path: Path, seed: int) -> None:
    path = save_jpeg(synthetic_photo(seed, (3000, 2000)), tmp_path / "photo.jpg")
    drafted = features(path).phash
    with Image.open(path) as full:
        full.load()
        assert distance(drafted, hash_image(full, DEFAULT)[0]) <= 2
        # and against the plain imagehash pipeline on the full image
        assert distance(drafted, int(str(imagehash.phash(full)), 16)) <= 2


@pytest.mark.parametrize("seed", range(5))
def test_real_photos_have_the_dc_bit_set(seed: int) -> None:
    phash, _ = hash_image(synthetic_photo(seed, (400, 267)), DEFAULT)
    assert phash >> 63 == 1


def test_features_of_a_jpeg(tmp_path: Path) -> None:
    exif = Image.Exif()
    exif[0x010F], exif[0x0110] = "Canon", "Canon EOS R5"
    exif.get_ifd(0x8769)[0x9003] = "2023:07:14 18:05:33"
    path = save_jpeg(synthetic_photo(1, (900, 600)), tmp_path / "a.jpg", exif=exif)
    data = path.read_bytes()
    result = features(path)
    stat = os.stat(path)
    assert result.path == str(path)
    assert result.size == len(data) == stat.st_size
    assert result.mtime_ns == stat.st_mtime_ns
    assert result.digest == xxhash.xxh3_128(data).digest()
    assert len(result.digest) == 16
    assert (result.width, result.height) == (900, 600)
    assert result.format == "JPEG"
    assert result.taken == "2023-07-14T18:05:33"
    assert result.camera == "Canon EOS R5"
    assert result.variants == ()


def test_byte_identical_copies_share_a_digest(tmp_path: Path) -> None:
    path = save_jpeg(synthetic_photo(2, (300, 200)), tmp_path / "a.jpg")
    twin = tmp_path / "b.jpg"
    twin.write_bytes(path.read_bytes())
    resaved = save_jpeg(synthetic_photo(2, (300, 200)), tmp_path / "c.jpg", quality=80)
    assert features(path).digest == features(twin).digest
    assert features(path).digest != features(resaved).digest


def test_exif_rotated_copy_has_same_hash_and_displayed_size(tmp_path: Path) -> None:
    photo = synthetic_photo(4, (800, 533))
    original = features(save_jpeg(photo, tmp_path / "o.jpg", quality=90))
    rotated = features(write_variant(photo, "exif_rotated", tmp_path / "r"))
    assert (rotated.width, rotated.height) == (800, 533)
    assert distance(original.phash, rotated.phash) <= 2


@pytest.mark.parametrize("orientation", range(1, 9))
def test_every_exif_orientation_is_applied(tmp_path: Path, orientation: int) -> None:
    photo = synthetic_photo(5, (600, 400))
    stored = stored_for_orientation(photo, orientation)
    exif = Image.Exif()
    exif[0x0112] = orientation
    result = features(save_jpeg(stored, tmp_path / "x.jpg", exif=exif))
    reference = hash_image(photo, DEFAULT)[0]
    assert (result.width, result.height) == (600, 400)
    assert distance(result.phash, reference) <= 2


def test_copies_are_near_and_different_photos_far(tmp_path: Path) -> None:
    for seed in range(3):
        photo = synthetic_photo(100 + seed, (1200, 800))
        original = features(save_jpeg(photo, tmp_path / f"o{seed}.jpg"))
        for kind in FINDABLE_KINDS:
            copy = features(write_variant(photo, kind, tmp_path / f"{seed}_{kind}"))
            assert distance(original.phash, copy.phash) <= DEFAULT_THRESHOLD, kind
    hashes = [hash_image(synthetic_photo(200 + seed, (300, 200)), DEFAULT)[0] for seed in range(12)]
    far = [distance(a, b) for i, a in enumerate(hashes) for b in hashes[i + 1 :]]
    assert min(far) > DEFAULT_THRESHOLD
    assert np.median(far) >= 24


def test_hash_bytes_matches_hash_file(tmp_path: Path) -> None:
    path = save_jpeg(synthetic_photo(6, (640, 480)), tmp_path / "q.jpg")
    data = path.read_bytes()
    from_bytes = hash_bytes(data, "dropped.jpg", ROTATIONS)
    from_file = features(path, ROTATIONS)
    assert from_bytes.path == "dropped.jpg"
    assert from_bytes.size == len(data)
    assert from_bytes.mtime_ns == 0
    assert from_bytes.phash == from_file.phash
    assert from_bytes.variants == from_file.variants
    assert from_bytes.digest == from_file.digest


@pytest.mark.parametrize("data", [b"", b"hello, world", b"\xff\xd8\xff\xe0" + b"\x00" * 50])
def test_hash_bytes_raises_unreadable_image(data: bytes) -> None:
    with pytest.raises(UnreadableImage):
        hash_bytes(data, "query.jpg", DEFAULT)


# --- rotations -----------------------------------------------------------------------


def pil_transpose(image: Image.Image, transform: Transform) -> Image.Image:
    if transform == Transform.IDENTITY:
        return image.copy()
    return image.transpose(Image.Transpose[transform.name])


def test_variants_are_empty_without_rotations() -> None:
    assert hash_image(synthetic_photo(7, (200, 150)), DEFAULT)[1] == ()


@pytest.mark.parametrize("seed", range(6))
@pytest.mark.parametrize("kind", ["noise", "photo"])
def test_variants_equal_hashes_of_transposed_squares(seed: int, kind: str) -> None:
    # At 32x32 there is no resampling at all, so transposing commutes with everything
    # before the DCT and the derived variants must be bit-for-bit the direct hashes.
    # (Larger squares differ in rounding: Pillow resizes rows first, then columns.)
    if kind == "noise":
        rng = np.random.default_rng(seed)
        image = Image.fromarray((rng.random((32, 32)) * 255).astype(np.uint8), "L")
    else:
        image = synthetic_photo(seed, (32, 32))
    phash, variants = hash_image(image, ROTATIONS)
    assert len(variants) == 8
    assert variants[Transform.IDENTITY] == phash
    for transform in Transform:
        direct, _ = hash_image(pil_transpose(image, transform), ROTATIONS)
        assert variants[transform] == direct, transform.name


@pytest.mark.parametrize("seed", range(5))
def test_variants_match_hashes_of_transposed_photos(seed: int) -> None:
    photo = synthetic_photo(300 + seed, (900, 600))
    phash, variants = hash_image(photo, ROTATIONS)
    assert phash == hash_image(photo, DEFAULT)[0]
    for transform in Transform:
        direct, _ = hash_image(pil_transpose(photo, transform), DEFAULT)
        assert distance(variants[transform], direct) <= 2, transform.name


def test_variants_of_the_block_cover_the_group() -> None:
    # Turning the block by each transform and asking again gives a permutation of the
    # same eight hashes (the eight transforms form a group).
    block = dct_block(synthetic_photo(8, (300, 300)).convert("L"))
    variants = variant_hashes(block)
    assert len(set(variants)) == 8
    flipped = variant_hashes(block * np.where(np.arange(8) % 2, -1.0, 1.0)[None, :])
    assert set(flipped) == set(variants)


def test_mirrored_and_turned_files_match_through_variants(tmp_path: Path) -> None:
    photo = synthetic_photo(9, (1000, 667))
    original = features(save_jpeg(photo, tmp_path / "o.jpg"), ROTATIONS)
    for kind in ("mirror", "rotate90"):
        copy = features(write_variant(photo, kind, tmp_path / kind), ROTATIONS)
        assert distance(original.phash, copy.phash) > DEFAULT_THRESHOLD
        best = min(distance(original.phash, variant) for variant in copy.variants)
        assert best <= 2, kind


# --- processes -------------------------------------------------------------------------


def test_hash_file_runs_in_spawned_worker_processes(tmp_path: Path) -> None:
    paths = [
        str(save_jpeg(synthetic_photo(s, (400, 300)), tmp_path / f"{s}.jpg")) for s in range(3)
    ]
    paths.append(str(tmp_path / "missing.jpg"))
    context = multiprocessing.get_context("spawn")
    with ProcessPoolExecutor(2, mp_context=context) as pool:
        results = list(pool.map(hash_file, paths, [DEFAULT] * len(paths)))
    assert [r.phash for r in results[:3]] == [features(p).phash for p in paths[:3]]  # type: ignore[union-attr]
    assert isinstance(results[3], FileFailure)
    assert results[3].gone


def test_hash_image_accepts_any_mode() -> None:
    photo = synthetic_photo(10, (300, 200))
    reference = hash_image(photo, DEFAULT)[0]
    for mode in ("L", "RGBA", "P", "CMYK", "YCbCr", "LA"):
        assert distance(hash_image(photo.convert(mode), DEFAULT)[0], reference) <= 4, mode


def test_hash_is_the_same_from_a_png_and_a_jpeg(tmp_path: Path) -> None:
    photo = synthetic_photo(11, (1600, 1067))
    photo.save(tmp_path / "a.png")
    buffer = io.BytesIO()
    photo.save(buffer, "JPEG", quality=95)
    (tmp_path / "a.jpg").write_bytes(buffer.getvalue())
    assert distance(features(tmp_path / "a.png").phash, features(tmp_path / "a.jpg").phash) <= 2


def test_the_picture_size_leaves_out_an_added_border(tmp_path: Path) -> None:
    photo = synthetic_photo(8, (1200, 800))
    plain = features(save_jpeg(photo, tmp_path / "plain.jpg"))
    assert (plain.content_width, plain.content_height) == (1200, 800)
    framed_path = write_variant(photo, "border_colour", tmp_path / "framed")
    framed = features(str(framed_path))
    assert (framed.width, framed.height) != (1200, 800)
    assert abs(framed.content_width - framed.width) <= 0.02 * framed.width
    # The bands cover about a quarter of the height; what is left is the picture.
    assert framed.content_height < 0.85 * framed.height
    assert framed.content_width * framed.content_height < framed.width * framed.height
