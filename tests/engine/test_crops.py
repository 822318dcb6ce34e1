"""Crops, straightened and mirrored copies: window hashes, window pairs, the geometric
check and the gate in front of grouping (issue 10)."""

from __future__ import annotations

import math
from pathlib import Path

import cv2
import numpy as np
import pytest
from PIL import Image, ImageDraw, ImageEnhance, ImageFont, ImageOps

from desktop_app.demo.library import add_watermark
from desktop_app.demo.pictures import synthetic_photo
from desktop_app.engine.catalog import mih
from desktop_app.engine.config import EngineConfig
from desktop_app.engine.imaging import windows
from desktop_app.engine.imaging.hashing import hash_file, hash_image
from desktop_app.engine.library import Library
from desktop_app.engine.search import confirm, geometry, window_pairs
from desktop_app.engine.search.confirm import CERTAIN_DISTANCE, needs_check, windows_disagree
from desktop_app.engine.search.plan import Plan
from desktop_app.engine.search.segment_join import Segment
from desktop_app.engine.types import PairSet, Transform

SIZE = (720, 480)


@pytest.fixture(scope="module")
def photo() -> Image.Image:
    return synthetic_photo(11, SIZE)


def _crop(image: Image.Image, left: float, top: float, right: float, bottom: float) -> Image.Image:
    w, h = image.size
    return image.crop((round(w * left), round(h * top), round(w * right), round(h * bottom)))


def _straightened(image: Image.Image, degrees: float) -> Image.Image:
    turned = image.rotate(degrees, Image.Resampling.BICUBIC)
    w, h = image.size
    a = math.radians(abs(degrees))
    factor = 1 / (math.cos(a) + w / h * math.sin(a))
    cw, ch = round(w * factor), round(h * factor)
    return turned.crop(((w - cw) // 2, (h - ch) // 2, (w + cw) // 2, (h + ch) // 2))


def _another_shot(image: Image.Image) -> Image.Image:
    """The same scene a moment later: the camera moved a little and so did a subject."""
    w, h = image.size
    moved = image.copy()
    block = image.crop((w // 3, h // 3, w // 3 + w // 4, h // 3 + h // 4))
    moved.paste(block, (w // 3 + w // 12, h // 3))
    quad = (0.02 * w, 0.01 * h, 0.0, 0.98 * h, 0.97 * w, h, w, 0.03 * h)
    return moved.transform(image.size, Image.Transform.QUAD, quad, Image.Resampling.BICUBIC)


def _check(
    a: Image.Image,
    b: Image.Image,
    turned: Transform = Transform.IDENTITY,
    *,
    colour: bool = False,
):
    first = geometry.keypoints(geometry.prepare(a.convert("L"), turned))
    second = geometry.keypoints(geometry.prepare(b.convert("L")))
    if not colour:
        return geometry.compare(first, second, turned=turned)

    def pixels() -> tuple[np.ndarray, np.ndarray]:
        return (
            geometry.colour_pixels(geometry.prepare(a.convert("RGB"), turned)),
            geometry.colour_pixels(geometry.prepare(b.convert("RGB"))),
        )

    return geometry.compare(first, second, turned=turned, colour=pixels)


def _pale(photo: Image.Image) -> Image.Image:
    """The photo washed with a pale yellow: light, low in contrast, little blue."""
    return Image.blend(photo, Image.new("RGB", photo.size, (250, 240, 150)), 0.5)


# ----------------------------------------------------------------- window hashes


def test_a_crop_meets_its_originals_window(photo: Image.Image) -> None:
    config = EngineConfig(workers=0)
    crop = _crop(photo, 0.1, 0.1, 0.9, 0.9)
    whole, _ = hash_image(crop, config)
    original, _ = hash_image(photo, config)
    own = windows.window_hashes(photo.convert("L"))
    assert len(own) == len(windows.WINDOWS) == len(windows.WINDOW_NAMES)
    centre80 = own[windows.WINDOW_NAMES.index("centre 80 %")]
    assert bin(whole ^ centre80).count("1") <= 4
    assert bin(whole ^ original).count("1") > bin(whole ^ centre80).count("1")


def test_window_boxes_stay_inside_the_picture() -> None:
    for size in ((600, 400), (400, 600), (500, 500), (1600, 400)):
        for window in windows.WINDOWS:
            left, top, right, bottom = windows.window_box(window, *size)
            assert 0 <= left < right <= size[0] and 0 <= top < bottom <= size[1]


# ----------------------------------------------------------------- window pairs


def _reference(ids: np.ndarray, hashes: np.ndarray, table: np.ndarray, threshold: int) -> set:
    found: dict[tuple[int, int], int] = {}
    for x in range(ids.size):
        known = table[x][table[x] != 0]  # zeros: windows never hashed
        if not known.size:
            continue
        near = np.bitwise_count(known[:, None] ^ hashes[None, :]).min(axis=0)
        for y in np.flatnonzero(near <= threshold).tolist():
            if x == y:
                continue
            key = (int(min(ids[x], ids[y])), int(max(ids[x], ids[y])))
            found[key] = min(found.get(key, 99), int(near[y]))
    return {(a, b, d) for (a, b), d in found.items()}


@pytest.mark.parametrize("method", ["brute", "mih"])
def test_window_pairs_are_exact(method: str, search_loop: str) -> None:
    rng = np.random.default_rng(3)
    n, k = 400, 4
    hashes = rng.integers(0, 2**63, n, dtype=np.uint64) | np.uint64(1 << 63)
    table = rng.integers(0, 2**63, (n, k), dtype=np.uint64)
    # Plant windows near other photos' hashes, a few bits apart.
    for x in range(0, n, 3):
        y = int(rng.integers(n))
        flips = rng.choice(64, int(rng.integers(0, 12)), replace=False)
        table[x, x % k] = hashes[y] ^ np.uint64(sum(1 << int(f) for f in flips))
    table[n // 2 :: 7] = 0  # photos hashed before windows existed: they match nothing
    table[1::5, 1] = 0  # one window unknown
    hashes[::50] = np.uint64(1 << 63)  # blank photos: one bit set, 1 from a zero window
    ids = np.arange(1, n + 1, dtype=np.int64) * 3
    threshold = 8
    plan = (
        Plan("brute")
        if method == "brute"
        else Plan(
            "mih",
            # Radii 3, 2, 2 over three 21-bit segments: (3+1)+(2+1)+(2+1) > 8.
            tuple(Segment(tuple(range(21 * s, 21 * s + 21)), r) for s, r in enumerate((3, 2, 2))),
        )
    )
    found = window_pairs.window_pairs(ids, hashes, table, threshold, plan=plan, workers=2)
    got = set(zip(found.a.tolist(), found.b.tolist(), found.distance.tolist(), strict=True))
    assert got == _reference(ids, hashes, table, threshold)
    assert (found.transform >= window_pairs.WINDOW_BASE).all()
    assert len(got) > 50


def test_merge_prefers_the_smaller_distance_and_the_whole_image_on_ties() -> None:
    whole = PairSet(
        np.array([1, 1]), np.array([2, 3]), np.array([5, 9], np.uint8), np.zeros(2, np.uint8), 12
    )
    code = window_pairs.window_code(2, of_b=True)
    windowed = PairSet(
        np.array([1, 1, 4]),
        np.array([2, 3, 5]),
        np.array([5, 3, 13], np.uint8),
        np.full(3, code, np.uint8),
        10,
    )
    merged = window_pairs.merge(whole, windowed)
    rows = list(
        zip(
            merged.a.tolist(),
            merged.b.tolist(),
            merged.distance.tolist(),
            merged.transform.tolist(),
            strict=True,
        )
    )
    assert rows == [(1, 2, 5, 0), (1, 3, 3, code)]  # (4, 5) is beyond the reach
    assert window_pairs.decode(code) == (2, True)
    assert needs_check(merged).tolist() == [False, True]
    assert CERTAIN_DISTANCE < 12


def test_near_pairs_whose_windows_disagree_are_checked() -> None:
    pairs = PairSet(
        np.array([1, 1, 2]), np.array([2, 3, 3]), np.array([4, 4, 10], np.uint8),
        np.zeros(3, np.uint8), 12,
    )  # fmt: skip
    base = np.full(len(windows.WINDOWS), 0x8F0F_0F0F_0F0F_0F0F, np.uint64)
    moved = base ^ np.uint64(0xFF)  # every window 8 bits away
    table = {1: base, 2: base ^ np.uint64(1), 3: moved}

    def lookup(ids: np.ndarray) -> np.ndarray:
        return np.stack([table[int(i)] for i in ids])

    # (1, 2): near, windows agree; (1, 3): near, windows 8 bits apart; (2, 3): far.
    assert needs_check(pairs, lookup).tolist() == [False, True, True]
    assert needs_check(pairs).tolist() == [False, False, True]
    unknown = np.zeros((1, len(windows.WINDOWS)), np.uint64)  # hashed before windows
    assert not windows_disagree(unknown, moved[None, :])[0]


def _features(folder: Path, name: str, image: Image.Image):
    path = folder / name
    image.save(path, quality=92)
    found = hash_file(str(path), EngineConfig(workers=0))
    assert not isinstance(found, Exception)
    return found


def test_a_burst_frame_near_as_a_whole_has_windows_that_disagree(
    tmp_path: Path, photo: Image.Image
) -> None:
    original = _features(tmp_path, "original.jpg", photo)
    shot = _features(tmp_path, "shot.jpg", _another_shot(photo))
    assert bin(shot.phash ^ original.phash).count("1") <= CERTAIN_DISTANCE
    pair = (np.array([shot.windows], np.uint64), np.array([original.windows], np.uint64))
    assert windows_disagree(*pair)[0]
    copies = {
        "resized": photo.resize((360, 240), Image.Resampling.LANCZOS),
        "brightened": ImageEnhance.Brightness(photo).enhance(1.25),
        "watermarked": add_watermark(photo),
    }
    for name, image in copies.items():
        copy = _features(tmp_path, f"{name}.jpg", image)
        rows = (np.array([copy.windows], np.uint64), np.array([original.windows], np.uint64))
        assert not windows_disagree(*rows)[0], name


# ----------------------------------------------------------------- geometric check


def test_a_crop_is_confirmed_with_its_frame(photo: Image.Image) -> None:
    check = _check(_crop(photo, 0.05, 0.10, 0.83, 0.95), photo)
    assert check.confirmed, check.reason
    assert check.cropped == "a"
    assert check.frame is not None
    assert check.frame == pytest.approx((0.05, 0.10, 0.83, 0.95), abs=0.02)
    assert check.evidence[0] == "crop of the original: 78 % of its width, offset (5 %, 10 %)"


def test_a_straightened_copy_is_confirmed(photo: Image.Image) -> None:
    check = _check(_straightened(photo, 2.0), photo)
    assert check.confirmed, check.reason
    assert "turned 2 degrees" in check.evidence


def test_a_mirror_is_confirmed(photo: Image.Image) -> None:
    mirrored = photo.transpose(Image.Transpose.FLIP_LEFT_RIGHT)
    check = _check(mirrored, photo, Transform.FLIP_LEFT_RIGHT)
    assert check.confirmed, check.reason
    assert "mirrored" in check.evidence


def test_a_quarter_turn_is_confirmed(photo: Image.Image) -> None:
    turned = photo.transpose(Image.Transpose.ROTATE_90)
    check = _check(turned, photo, Transform.ROTATE_270)
    assert check.confirmed, check.reason
    assert "turned 270 degrees" in check.evidence


def test_a_copy_with_clipped_highlights_is_confirmed_either_way(photo: Image.Image) -> None:
    # Brightened until the light parts clip: no gain and offset maps one onto the
    # other, a monotone tone curve does (from the picture that kept its highlights).
    bright = ImageEnhance.Brightness(photo).enhance(1.5)
    assert np.asarray(bright.convert("L")).max() == 255
    assert _check(bright, photo).confirmed, _check(bright, photo).reason
    assert _check(photo, bright).confirmed, _check(photo, bright).reason


def test_a_copy_whose_channels_clip_each_its_own_way_is_confirmed(photo: Image.Image) -> None:
    # Brightened x1.4, each channel clipped at 255 on its own: red clips in half the
    # picture, green in a few places, blue nowhere. Each channel of the copy is a
    # monotone curve of the same channel of the original, but its grey is no curve of
    # the original's grey (two greys alike, one yellower, end up apart).
    pale = _pale(photo)
    bright = ImageEnhance.Brightness(pale).enhance(1.4)
    clipped = (np.asarray(bright).reshape(-1, 3) == 255).mean(axis=0)
    assert clipped[0] > 0.3 and clipped[2] == 0.0
    grey_only = _check(bright, pale)
    assert not grey_only.confirmed and "pixels differ" in grey_only.reason
    for a, b in ((bright, pale), (pale, bright)):
        check = _check(a, b, colour=True)
        assert check.confirmed, check.reason
        assert "per channel" in check.reason


def _burst_frame(image: Image.Image) -> Image.Image:
    """The next frame of a burst from a tripod: a block of the scene moved."""
    w, h = image.size
    frame = image.copy()
    box = (w // 4, h // 3, w // 2, 2 * h // 3)
    frame.paste(image.crop(box), (box[0] + round(0.04 * w), box[1] + round(0.02 * h)))
    return frame


def _other_shots_and_brightened_copies(
    image: Image.Image, frame: Image.Image, gain: float
) -> list[tuple[Image.Image, Image.Image]]:
    """Pairs of a different shot and a copy brightened by ``gain``, either way round."""
    bright = ImageEnhance.Brightness(image).enhance(gain)
    return [
        (frame, bright),
        (bright, frame),
        (ImageEnhance.Brightness(frame).enhance(gain), image),
        (_another_shot(bright), image),
        (_another_shot(image), bright),
    ]


def test_a_burst_frame_is_refused_in_colour_too(photo: Image.Image) -> None:
    # The second chance in colour explains tones, not a moved subject or camera, even
    # against a copy whose channels clipped.
    pale = _pale(photo)
    frame = _burst_frame(pale)
    for a, b in _other_shots_and_brightened_copies(pale, frame, 1.4):
        check = _check(a, b, colour=True)
        assert not check.confirmed
        assert "per channel" in check.reason
    # At the same exposure there is no tone edit to explain: no second chance, and the
    # colour is not even read.
    asked: list[int] = []

    def colour() -> tuple[None, None]:
        asked.append(1)
        return None, None

    first = geometry.keypoints(geometry.prepare(frame.convert("L")))
    second = geometry.keypoints(geometry.prepare(pale.convert("L")))
    check = geometry.compare(first, second, colour=colour)
    assert not check.confirmed and "pixels differ" in check.reason and not asked


def _page(lines: int = 0) -> Image.Image:
    """A scanned page: dark words on paper lit from the left (215 to 175), its
    ``lines``-th line of words moved right by a word (0: none)."""
    width, height = 720, 480
    rng = np.random.default_rng(5)
    paper = np.linspace(215, 175, width)[None, :] + rng.normal(0, 3, (height, width))
    page = Image.fromarray(np.clip(paper, 0, 255).astype(np.uint8))
    draw = ImageDraw.Draw(page)
    font = ImageFont.load_default(size=24)
    words = ("let", "us", "first", "determine", "markers", "of", "the", "coins", "and")
    for line, y in enumerate(range(10, height - 24, 36)):
        x = 10.0 + (60 if line == lines and lines else 0)
        for k in range(line, line + 12):
            draw.text((x, y), words[k % len(words)], fill=50, font=font)
            x += draw.textlength(words[k % len(words)] + " ", font=font)
    return page


def test_a_grey_page_whose_paper_clips_is_confirmed() -> None:
    # Brightened x1.25, the paper on the left clips to white, on the right it does not.
    # A clip does not commute with the blur: the blurred edge of a letter on clipped
    # paper is not the clipped blurred edge, and one curve fitted to the blurred pixels
    # leaves the letters' edges. The second chance applies its curve before the blur.
    # A grey picture has no colour (none is given): the one channel is its grey.
    page = _page()
    bright = ImageEnhance.Brightness(page).enhance(1.25)
    assert 0.1 < (np.asarray(bright) == 255).mean() < 0.5
    for a, b in ((bright, page), (page, bright)):
        check = _check(a, b)
        assert check.confirmed, check.reason
        assert "per channel" in check.reason
    # The same page with a line of words moved is another page.
    moved = ImageEnhance.Brightness(_page(lines=5)).enhance(1.25)
    assert not _check(moved, page).confirmed


def _cream(photo_size: tuple[int, int] = (1536, 1024), light: bool = False) -> Image.Image:
    """A pale cream picture with a fine grain, larger than the check's working size
    (like the quality benchmark's `mate/Wood`): brightened x1.25, its red and green clip
    in most of it, its blue nowhere. ``light``: its upper left quarter 40 levels lighter,
    so that it clips in every channel."""
    w, h = photo_size
    scene = np.asarray(synthetic_photo(11, photo_size)).astype(np.float32)
    rng = np.random.default_rng(3)
    grain = cv2.GaussianBlur(rng.normal(0, 1, (h, w)).astype(np.float32), (0, 0), 1.2)
    grain *= 6.0 / grain.std()
    pale = (
        np.array([209, 213, 181], np.float32)
        + (scene - scene.mean(axis=(0, 1))) * 0.45
        + grain[..., None] * np.array([1.0, 1.0, 1.2], np.float32)
    )
    if light:
        pale[: h // 2, : w // 2] += 40
    return Image.fromarray(np.clip(pale, 0, 255).astype(np.uint8))


def test_a_pale_copy_whose_red_and_green_clip_is_confirmed_where_they_did_not() -> None:
    # Red and green clip in two thirds of the copy. Where a reduced pixel mixes clipped
    # and unclipped ones its grey is no curve of the original's, so the grey and the
    # per-channel looks leave a residual the size of what spread is left; blue, which
    # did not clip, is the original's blue times 1.25. And the keypoints align the two
    # to a fraction of a pixel, while the refinement on the pixels (which assumes a
    # linear tone relation) would drift by one: it is not kept.
    pale = _cream()
    bright = ImageEnhance.Brightness(pale).enhance(1.25)
    clipped = (np.asarray(bright).reshape(-1, 3) == 255).mean(axis=0)
    assert clipped[0] > 0.5 and clipped[1] > 0.5 and clipped[2] < 0.05
    reasons = []
    for a, b in ((bright, pale), (pale, bright)):
        check = _check(a, b, colour=True)
        assert check.confirmed, check.reason
        reasons.append(check.reason)
    assert any("where unclipped" in reason for reason in reasons), reasons


def test_another_shot_of_a_pale_scene_is_refused_where_unclipped() -> None:
    pale = _cream()
    for a, b in _other_shots_and_brightened_copies(pale, _burst_frame(pale), 1.25):
        check = _check(a, b, colour=True)
        assert not check.confirmed, check.reason


def test_what_clipped_in_every_channel_is_not_taken_for_agreement() -> None:
    # The light quarter of the picture clips in every channel of the brightened copy:
    # nothing is left there to compare, and a subject that moved there would not show.
    # The look that leaves out what clipped cannot decide a pair with a cell that no
    # channel sees.
    pale = _cream(light=True)
    bright = ImageEnhance.Brightness(pale).enhance(1.25)
    w, h = pale.size
    assert (np.asarray(bright)[: h // 2, : w // 2] == 255).all(axis=2).mean() > 0.95
    first = geometry.keypoints(geometry.prepare(pale.convert("L")))
    second = geometry.keypoints(geometry.prepare(bright.convert("L")))
    colours = (
        geometry.colour_pixels(geometry.prepare(pale.convert("RGB"))),
        geometry.colour_pixels(geometry.prepare(bright.convert("RGB"))),
    )
    identity = np.eye(2, 3)
    assert math.isinf(
        geometry._unclipped_channels(second, geometry._view(first, second, identity, *colours))
    )
    # Without that quarter, the same look sees every cell, and the copy agrees.
    dark = _cream()
    first = geometry.keypoints(geometry.prepare(dark.convert("L")))
    second = geometry.keypoints(
        geometry.prepare(ImageEnhance.Brightness(dark).enhance(1.25).convert("L"))
    )
    colours = (
        geometry.colour_pixels(geometry.prepare(dark.convert("RGB"))),
        geometry.colour_pixels(
            geometry.prepare(ImageEnhance.Brightness(dark).enhance(1.25).convert("RGB"))
        ),
    )
    view = geometry._view(first, second, identity, *colours)
    assert geometry._unclipped_channels(second, view) <= (geometry.CLIPPED_CELL_ERROR)


def test_the_colour_is_read_the_same_size_as_the_grey(tmp_path: Path, photo: Image.Image) -> None:
    # Borders cut and EXIF orientation applied alike: the colour of the second chance
    # lies pixel for pixel on the grey the keypoints were taken from.
    framed = ImageOps.expand(_pale(photo), border=40, fill="black")
    exif = Image.Exif()
    exif[0x0112] = 6  # stored turned a quarter: a viewer turns it back
    path = tmp_path / "turned.jpg"
    framed.transpose(Image.Transpose.ROTATE_90).save(path, quality=92, exif=exif)
    points = confirm.read_keypoints(str(path), 10**9)
    colour = confirm.read_colour(str(path), 10**9)
    assert colour is not None and colour.shape == (*points.pixels.shape, 3)
    assert points.size == geometry.prepare(_pale(photo)).size
    grey = colour.astype(np.float32) @ np.array(geometry.LUMA, np.float32)
    assert float(np.abs(grey - points.pixels).mean()) < 1.5
    turned = confirm.read_colour(str(path), 10**9, Transform.ROTATE_90)
    assert turned is not None and turned.shape == (colour.shape[1], colour.shape[0], 3)
    grey_file = tmp_path / "grey.jpg"
    photo.convert("L").save(grey_file, quality=92)
    assert confirm.read_colour(str(grey_file), 10**9) is None


def test_a_watermarked_copy_is_confirmed(photo: Image.Image) -> None:
    check = _check(add_watermark(photo), photo)
    assert check.confirmed, check.reason


def test_another_shot_of_the_scene_is_not_a_crop(photo: Image.Image) -> None:
    check = _check(_another_shot(photo), photo)
    assert not check.confirmed
    cropped = _check(_crop(_another_shot(photo), 0.1, 0.1, 0.9, 0.9), photo)
    assert not cropped.confirmed


def test_a_burst_frame_is_not_a_crop(photo: Image.Image) -> None:
    # Only the subject moved (a tripod): most of the frame is the same pixels.
    w, h = photo.size
    frame = photo.copy()
    subject = photo.crop((w // 2, h // 2, w // 2 + w // 5, h // 2 + h // 4))
    frame.paste(subject, (w // 2 - w // 10, h // 2 + h // 20))
    assert not _check(_crop(frame, 0.1, 0.1, 0.9, 0.9), photo).confirmed
    assert not _check(frame, photo).confirmed


def test_unrelated_photos_are_not_confirmed(photo: Image.Image) -> None:
    assert not _check(synthetic_photo(12, SIZE), photo).confirmed


# ----------------------------------------------------------------- through the Library


def _scanned_pairs(lib: Library) -> tuple[dict[str, int], set[tuple[int, int]]]:
    """Scan the library; its ids by file name, and its pairs at 12 as ``(a, b)``."""
    from desktop_app.engine.types import drain

    drain(lib.scan())
    ids = {r.name: r.id for r in lib.records().values()}
    pairs = lib.pairs(12).within(12)
    return ids, {(int(min(a, b)), int(max(a, b))) for a, b in zip(pairs.a, pairs.b, strict=True)}


def test_a_library_pairs_crops_and_says_how(
    tmp_path: Path, photo: Image.Image, monkeypatch: pytest.MonkeyPatch
) -> None:
    root = tmp_path / "photos"
    root.mkdir()
    photo.save(root / "original.jpg", quality=92)
    _crop(photo, 0.10, 0.10, 0.90, 0.90).save(root / "crop.jpg", quality=90)
    _another_shot(photo).save(root / "another_shot.jpg", quality=90)
    with Library([root], catalog=tmp_path / "c.sqlite", config=EngineConfig(workers=0)) as lib:
        records, found = _scanned_pairs(lib)
        crop_pair = tuple(sorted((records["original.jpg"], records["crop.jpg"])))
        assert crop_pair in found
        # The other shot meets the crop only through a window: the check refuses it.
        assert tuple(sorted((records["crop.jpg"], records["another_shot.jpg"]))) not in found
        # It is 6 bits from the original, near enough for pHash alone, but its windows
        # disagree with the original's: the check sees the moved camera and subject.
        shot_pair = tuple(sorted((records["original.jpg"], records["another_shot.jpg"])))
        assert shot_pair not in found
        assert lib.geometry(*shot_pair) is None
        check = lib.geometry(*crop_pair)
        assert check is not None and check.confirmed
        assert check.evidence[0].startswith("crop of the original: 80 % of its width")
        groups = lib.groups(12)
        member = next(m for g in groups for m in g.members if m.image.name == "crop.jpg")
        reference = next(g for g in groups if member in g.members).reference
        if reference.image.name == "original.jpg":
            assert member.geometry is not None and member.geometry.cropped == "a"

    # Another Library on the catalog (the window's, after its worker's scan) reads the
    # evidence of the groups it shows, one pair at a time, never the whole table.
    def whole_table(self: object) -> None:
        raise AssertionError("read every stored check")

    monkeypatch.setattr(confirm.StoredChecks, "__iter__", whole_table)
    monkeypatch.setattr(confirm.StoredChecks, "__len__", whole_table)
    with Library([root], catalog=tmp_path / "c.sqlite", config=EngineConfig(workers=0)) as lib:
        check = lib.geometry(*crop_pair)
        assert check is not None and check.evidence[0].startswith("crop of the original")
        assert any(m.geometry is not None for g in lib.groups(12) for m in g.members)


def test_a_library_pairs_a_copy_whose_channels_clip(tmp_path: Path) -> None:
    # A pale photo and its copy brightened x1.3 (red clips, blue does not) lie 10 bits
    # apart: the pair is checked, its grey pixels differ, its colour channels do not.
    # The colour is read from the files only for that second chance.
    photo = synthetic_photo(5, SIZE)
    pale = Image.blend(photo, Image.new("RGB", SIZE, (250, 240, 150)), 0.4)
    bright = ImageEnhance.Brightness(pale).enhance(1.3)
    frame = _another_shot(bright)  # 10 bits from both: checked, and refused
    root = tmp_path / "photos"
    root.mkdir()
    pale.save(root / "original.jpg", quality=92)
    bright.save(root / "bright.jpg", quality=90)
    frame.save(root / "frame.jpg", quality=90)
    with Library([root], catalog=tmp_path / "c.sqlite", config=EngineConfig(workers=0)) as lib:
        ids, found = _scanned_pairs(lib)
        pair = tuple(sorted((ids["original.jpg"], ids["bright.jpg"])))
        assert pair in found
        check = lib.geometry(*pair)
        assert check is not None and check.confirmed
        assert tuple(sorted((ids["original.jpg"], ids["frame.jpg"]))) not in found
        assert tuple(sorted((ids["bright.jpg"], ids["frame.jpg"]))) not in found


def test_two_different_photos_in_the_upper_range_are_not_paired(
    tmp_path: Path, photo: Image.Image
) -> None:
    """Two pictures whose hashes happen to lie 10-12 bits apart (here: another photo
    with the first one showing through it) are not copies, and are not paired."""
    config = EngineConfig(workers=0)
    other = synthetic_photo(23, SIZE)
    target, _ = hash_image(photo, config)
    for alpha in np.linspace(0.2, 0.8, 31):
        blend = Image.blend(other, photo, float(alpha))
        value, _ = hash_image(blend, config)
        if 10 <= bin(value ^ target).count("1") <= 12:
            break
    else:
        pytest.fail("no blend lies 10-12 bits from the photo")
    root = tmp_path / "photos"
    root.mkdir()
    photo.save(root / "a.png")
    blend.save(root / "b.png")
    with Library([root], catalog=tmp_path / "c.sqlite", config=config) as lib:
        from desktop_app.engine.types import drain

        drain(lib.scan())
        _, hashes, _ = lib.catalog.hashes()
        assert 10 <= int(mih.hamming(hashes[:1], hashes[1])[0]) <= 12
        assert len(lib.pairs(12).within(12)) == 0


def test_verdicts_of_an_earlier_check_are_reached_again(tmp_path: Path) -> None:
    from desktop_app.engine.catalog.store import Catalog

    def rows(catalog: Catalog) -> int:
        return int(catalog.execute("SELECT COUNT(*) FROM geometry_checks").fetchone()[0])

    def add(catalog: Catalog) -> None:
        with catalog.transaction() as db:
            db.execute(
                "INSERT OR REPLACE INTO geometry_checks(first, second, transform, confirmed,"
                " evidence, cropped, frame) VALUES(?, ?, 0, 0, '[]', '', NULL)",
                (b"a" * 16, b"b" * 16),
            )

    with Catalog(tmp_path / "c.sqlite") as catalog:
        add(catalog)
        catalog.set_meta(confirm.VERSION_KEY, str(geometry.CHECK_VERSION - 1))
        confirm.forget_outdated(catalog)
        assert rows(catalog) == 0
        assert catalog.get_meta(confirm.VERSION_KEY) == str(geometry.CHECK_VERSION)
        add(catalog)
        confirm.forget_outdated(catalog)  # reached by this version: kept
        assert rows(catalog) == 1


@pytest.mark.parametrize("seed", range(8))
def test_merge_in_place_equals_merging_by_sorting(seed: int) -> None:
    rng = np.random.default_rng(seed)

    def pair_set(count: int, top: int, codes: tuple[int, int], threshold: int) -> PairSet:
        a = rng.integers(1, top, count)
        b = rng.integers(1, top, count)
        a, b = np.minimum(a, b), np.maximum(a, b)
        keep = a < b
        key = np.unique(a[keep] * top + b[keep])
        n = key.shape[0]
        return PairSet(
            key // top, key % top, rng.integers(0, threshold + 3, n).astype(np.uint8),
            rng.integers(*codes, n).astype(np.uint8), threshold,
        )  # fmt: skip

    whole = pair_set(400, 60, (0, 8), 12)
    whole = whole.within(12)
    windowed = pair_set(120, 70, (window_pairs.WINDOW_BASE, window_pairs.WINDOW_BASE + 22), 10)
    fast = window_pairs.merge(whole, windowed)
    slow = window_pairs._merge_sorting(whole, windowed)
    for name in ("a", "b", "distance", "transform"):
        assert getattr(fast, name).tolist() == getattr(slow, name).tolist(), name
    assert fast.threshold == slow.threshold
    # What the pair cache stores: the folded whole-image pairs and the extra ones.
    folded, extra = window_pairs.fold(whole, windowed)
    rows = {
        row
        for part in (folded, extra)
        for row in zip(part.a.tolist(), part.b.tolist(), part.distance.tolist(),
                       part.transform.tolist(), strict=True)
    }  # fmt: skip
    assert len(folded) + len(extra) == len(slow)
    assert rows == set(
        zip(slow.a.tolist(), slow.b.tolist(), slow.distance.tolist(), slow.transform.tolist(),
            strict=True)
    )  # fmt: skip


def test_verdicts_are_read_back_in_bulk_and_the_newest_wins(tmp_path: Path) -> None:
    from desktop_app.engine.catalog.store import Catalog
    from desktop_app.engine.types import GeometryCheck, ImageRecord

    def record(image_id: int, digest: bytes) -> ImageRecord:
        return ImageRecord(
            image_id, f"/lib/{image_id}.jpg", 1, 1, digest, 1 << 63, 10, 10, "JPEG", None, None
        )

    records = {1: record(1, b"a" * 16), 2: record(2, b"b" * 16), 3: record(3, b"c" * 16)}
    code = window_pairs.window_code(0, False)
    pairs = PairSet(
        np.array([1, 1, 2]), np.array([2, 3, 3]), np.array([10, 11, 12], np.uint8),
        np.array([0, code, 0], np.uint8), 12,
    )  # fmt: skip
    need = np.ones(3, bool)
    words = confirm._digest_words(records)
    with Catalog(tmp_path / "c.sqlite") as catalog:
        assert not confirm._load_verdicts(catalog, pairs, need, words)[0].any()
        refused, accepted = GeometryCheck(False), GeometryCheck(True, ("same",))
        confirm._store_verdicts(catalog, pairs, {(1, 2): refused, (1, 3): accepted}, records)
        decided, confirmed = confirm._load_verdicts(catalog, pairs, need, words)
        assert decided.tolist() == [True, True, False]
        assert confirmed.tolist() == [False, True, False]
        # The same two files checked again (another version of the check): newest wins.
        confirm._store_verdicts(catalog, pairs, {(1, 2): accepted}, records)
        decided, confirmed = confirm._load_verdicts(catalog, pairs, need, words)
        assert confirmed.tolist() == [True, True, False]
        # Another file under id 2 (a new digest): no verdict for it yet.
        changed = {**records, 2: record(2, b"z" * 16)}
        decided, _ = confirm._load_verdicts(catalog, pairs, need, confirm._digest_words(changed))
        assert decided.tolist() == [False, True, False]


def test_verdicts_of_digests_alike_but_for_a_few_bytes_are_all_found(tmp_path: Path) -> None:
    """Keys are joined on a mix of all their words: digests that share most of their
    bytes (as made-up ones do) must not collide into one."""
    from desktop_app.engine.catalog.store import Catalog
    from desktop_app.engine.types import GeometryCheck, ImageRecord

    records = {
        i: ImageRecord(
            i, f"/lib/{i}.jpg", 1, 1, i.to_bytes(16, "big"), 1 << 63, 10, 10, "JPEG", None, None
        )
        for i in range(1, 41)
    }
    a, b = np.triu_indices(40, 1)
    pairs = PairSet(a + 1, b + 1, np.full(a.size, 10, np.uint8), np.zeros(a.size, np.uint8), 12)
    ids = zip((a + 1).tolist(), (b + 1).tolist(), strict=True)
    fresh = {(x, y): GeometryCheck(bool(x % 2)) for x, y in ids}
    with Catalog(tmp_path / "c.sqlite") as catalog:
        confirm._store_verdicts(catalog, pairs, fresh, records)
        words = confirm._digest_words(records)
        decided, confirmed = confirm._load_verdicts(catalog, pairs, np.ones(a.size, bool), words)
    assert decided.all()
    assert confirmed.tolist() == [bool(x % 2) for x in (a + 1).tolist()]


def test_a_reopened_library_reuses_the_last_confirmation_until_something_changes(
    tmp_path: Path, photo: Image.Image, monkeypatch: pytest.MonkeyPatch
) -> None:
    root = tmp_path / "photos"
    root.mkdir()
    photo.save(root / "original.jpg", quality=92)
    _crop(photo, 0.10, 0.10, 0.90, 0.90).save(root / "crop.jpg", quality=90)
    _another_shot(photo).save(root / "another_shot.jpg", quality=90)
    config = EngineConfig(workers=0)
    from desktop_app.engine.types import drain

    with Library([root], catalog=tmp_path / "c.sqlite", config=config) as lib:
        drain(lib.scan())
        first = lib.pairs(12)
    joins: list[int] = []
    real = confirm._load_verdicts

    def counted(*args, **kwargs):
        joins.append(1)
        return real(*args, **kwargs)

    monkeypatch.setattr(confirm, "_load_verdicts", counted)
    with Library([root], catalog=tmp_path / "c.sqlite", config=config) as lib:
        again = lib.pairs(12)
        assert joins == []  # the flags of the last confirmation, nothing joined
        assert (again.a.tolist(), again.b.tolist()) == (first.a.tolist(), first.b.tolist())
        with lib.catalog.transaction() as db:  # another verdict kept since
            db.execute("INSERT INTO geometry_packed(keys, flags) VALUES(?, ?)", (bytes(40), b"\0"))
        lib.pairs(12)
        assert joins == [1]


def test_a_blank_photo_added_later_is_not_paired_with_photos_without_windows() -> None:
    # Photos hashed before windows existed have none (zeros); a blank photo's hash has
    # one bit set, one bit from a zero. The incremental path must not take it for a crop.
    from desktop_app.engine.catalog.store import Catalog
    from desktop_app.engine.search import pairing
    from desktop_app.engine.types import drain
    from tests.engine.factories import features

    rng = np.random.default_rng(11)
    hashes = rng.integers(0, 2**63, 60, dtype=np.uint64) | np.uint64(1 << 63)
    with Catalog(":memory:") as catalog:
        catalog.add_results(
            [features(f"/lib/{k:03d}.jpg", int(h)) for k, h in enumerate(hashes)], 1
        )
        drain(pairing.update_pairs(catalog, 16))
        with pytest.MonkeyPatch.context() as patch:

            def no_full_search(*args: object) -> None:
                raise AssertionError("one new photo is paired incrementally")

            patch.setattr(pairing, "_full", no_full_search)
            catalog.add_results([features("/lib/blank.jpg", 1 << 63)], 1)
            drain(pairing.update_pairs(catalog, 16))
        pairs = catalog.pairs.load(16)
        assert not (pairs.transform >= window_pairs.WINDOW_BASE).any()


def test_a_library_without_window_hashes_searches_no_windows(monkeypatch) -> None:
    # Photos hashed before windows existed: nothing to join (a brute force over their
    # zero windows took 25 s at 20,000 photos).
    def no_search(*args: object) -> None:
        raise AssertionError("no window is known: nothing to search")

    monkeypatch.setattr(window_pairs, "_brute_jobs", no_search)
    monkeypatch.setattr(window_pairs, "_mih_jobs", no_search)
    hashes = np.random.default_rng(1).integers(0, 2**63, 9000, dtype=np.uint64)
    ids = np.arange(hashes.size, dtype=np.int64)
    found = window_pairs.window_pairs(ids, hashes, np.zeros((hashes.size, 11), np.uint64), 10)
    assert len(found) == 0
