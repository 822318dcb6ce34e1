"""Flat borders are cut before hashing, and nothing else is."""

from __future__ import annotations

import io
from pathlib import Path

import numpy as np
import pytest
from hypothesis import given, settings
from hypothesis import strategies as st
from PIL import Image

from desktop_app.demo import add_border, synthetic_photo
from desktop_app.engine.borders import MIN_KEPT_SHARE, find_content_box
from desktop_app.engine.config import DEFAULT_THRESHOLD, EngineConfig
from desktop_app.engine.hashing import hash_bytes, hash_image

DEFAULT = EngineConfig(workers=0)
NO_TRIM = EngineConfig(workers=0, trim_borders=False)
COLOURS = {
    "black": (0, 0, 0),
    "white": (255, 255, 255),
    "slate": (86, 110, 140),
    "red": (190, 30, 40),
}
SIDES = ["ltrb", "l", "t", "r", "b", "tb"]


def distance(a: int, b: int) -> int:
    return (a ^ b).bit_count()


def encoded(image: Image.Image, quality: int) -> bytes:
    buffer = io.BytesIO()
    image.save(buffer, "JPEG", quality=quality)
    return buffer.getvalue()


@pytest.fixture(scope="module")
def photos() -> list[tuple[Image.Image, int]]:
    result = []
    for seed in (1, 2, 3):
        photo = synthetic_photo(seed, (800, 533))
        result.append((photo, hash_image(photo, DEFAULT)[0]))
    return result


@pytest.mark.parametrize("colour", list(COLOURS))
@pytest.mark.parametrize("share", [0.02, 0.05, 0.10, 0.15])
@pytest.mark.parametrize("sides", SIDES)
def test_bordered_copy_hashes_like_the_original(
    photos: list[tuple[Image.Image, int]], colour: str, share: float, sides: str
) -> None:
    for photo, original in photos:
        framed = add_border(photo, share=share, colour=COLOURS[colour], sides=sides)
        assert distance(hash_image(framed, DEFAULT)[0], original) <= 2


@pytest.mark.parametrize("colour", list(COLOURS))
@pytest.mark.parametrize("share", [0.02, 0.10, 0.15])
@pytest.mark.parametrize("sides", ["ltrb", "l", "b"])
def test_bordered_copy_survives_a_quality_30_jpeg(
    photos: list[tuple[Image.Image, int]], colour: str, share: float, sides: str
) -> None:
    # q=30 leaves ringing in the border next to the picture; the hash goes through the
    # JPEG draft decode like a scanned file does.
    for photo, original in photos:
        framed = add_border(photo, share=share, colour=COLOURS[colour], sides=sides)
        copy = hash_bytes(encoded(framed, 30), "copy.jpg", DEFAULT).phash
        plain_q30 = hash_bytes(encoded(photo, 30), "plain.jpg", DEFAULT).phash
        assert distance(copy, original) <= max(4, distance(plain_q30, original) + 2)


def test_trimming_is_what_makes_framed_copies_match(photos: list[tuple[Image.Image, int]]) -> None:
    photo, _ = photos[0]
    framed = add_border(photo, share=0.10, colour=(0, 0, 0), sides="ltrb")
    untrimmed = distance(hash_image(framed, NO_TRIM)[0], hash_image(photo, NO_TRIM)[0])
    assert untrimmed > DEFAULT_THRESHOLD
    assert distance(hash_image(framed, DEFAULT)[0], hash_image(photo, DEFAULT)[0]) <= 2


def test_content_box_of_a_framed_picture() -> None:
    pixels = np.full((300, 400), 255, np.uint8)
    rng = np.random.default_rng(0)
    pixels[30:260, 50:370] = rng.integers(0, 256, (230, 320), dtype=np.uint8)
    assert find_content_box(pixels) == (50, 30, 370, 260)


def test_a_blended_edge_line_goes_with_the_border() -> None:
    pixels = np.full((300, 400), 0, np.uint8)
    rng = np.random.default_rng(0)
    pixels[30:, :] = rng.integers(100, 200, (270, 400), dtype=np.uint8)
    pixels[30, :] = pixels[31, :] // 2  # half border, half picture
    assert find_content_box(pixels) == (0, 31, 400, 300)


@pytest.mark.parametrize("level", [0, 37, 128, 255])
def test_a_flat_picture_is_never_trimmed(level: int) -> None:
    pixels = np.full((200, 300), level, np.uint8)
    assert find_content_box(pixels) == (0, 0, 300, 200)


def test_a_tiny_subject_on_a_plain_background_is_left_whole() -> None:
    pixels = np.full((300, 400), 250, np.uint8)
    pixels[145:155, 195:205] = 20
    assert find_content_box(pixels) == (0, 0, 400, 300)


def test_textured_edges_are_not_trimmed() -> None:
    rng = np.random.default_rng(1)
    # Dark, faintly textured ground (std ~3 levels) and a smooth sky: content, not border.
    pixels = np.clip(rng.normal(20, 3, (300, 400)), 0, 255).astype(np.uint8)
    assert find_content_box(pixels) == (0, 0, 400, 300)


def test_a_smooth_sky_is_not_eaten_into() -> None:
    rows = np.linspace(210, 120, 300)[:, None] + np.zeros((1, 400))
    pixels = np.round(rows).astype(np.uint8)
    left, top, right, bottom = find_content_box(pixels)
    assert (left, right) == (0, 400)
    assert top <= 6 and bottom >= 294


def test_generated_photos_are_not_trimmed() -> None:
    for seed in range(20):
        grey = np.asarray(synthetic_photo(seed, (480, 320)).convert("L"))
        left, top, right, bottom = find_content_box(grey)
        assert left <= 2 and top <= 2 and right >= 478 and bottom >= 318, seed


@settings(max_examples=200, deadline=None)
@given(
    height=st.integers(1, 60),
    width=st.integers(1, 60),
    seed=st.integers(0, 2**32 - 1),
    flat_share=st.floats(0.0, 1.0),
)
def test_content_box_is_always_a_sane_part_of_the_picture(
    height: int, width: int, seed: int, flat_share: float
) -> None:
    rng = np.random.default_rng(seed)
    pixels = np.full((height, width), int(rng.integers(0, 256)), np.uint8)
    keep_h, keep_w = (
        max(1, round(height * (1 - flat_share))),
        max(1, round(width * (1 - flat_share))),
    )
    top, left = int(rng.integers(0, height - keep_h + 1)), int(rng.integers(0, width - keep_w + 1))
    pixels[top : top + keep_h, left : left + keep_w] = rng.integers(0, 256, (keep_h, keep_w))
    box_left, box_top, box_right, box_bottom = find_content_box(pixels)
    assert 0 <= box_left < box_right <= width
    assert 0 <= box_top < box_bottom <= height
    assert box_right - box_left >= min(width, max(4, width * MIN_KEPT_SHARE))
    assert box_bottom - box_top >= min(height, max(4, height * MIN_KEPT_SHARE))


def test_trimming_can_be_turned_off(tmp_path: Path) -> None:
    photo = synthetic_photo(4, (600, 400))
    framed = add_border(photo, share=0.1, colour=(255, 255, 255), sides="ltrb")
    assert hash_image(framed, NO_TRIM)[0] != hash_image(framed, DEFAULT)[0]
