"""The generated demo photos, their copies and the demo library."""

from __future__ import annotations

import itertools
from pathlib import Path

import numpy as np
import pytest
from PIL import Image

from desktop_app.demo import (
    CAMERA_SIZES,
    FINDABLE_KINDS,
    VARIANT_KINDS,
    add_border,
    build_demo_library,
    camera_jpeg,
    synthetic_photo,
    write_variant,
)
from desktop_app.engine.config import EngineConfig
from desktop_app.engine.imaging.hashing import hash_file, hash_image
from desktop_app.engine.imaging.loading import open_oriented
from desktop_app.engine.types import ImageFeatures

DEFAULT = EngineConfig(workers=0)


def distance(a: int, b: int) -> int:
    return (a ^ b).bit_count()


def test_same_seed_same_pixels() -> None:
    first = synthetic_photo(42, (320, 200))
    again = synthetic_photo(42, (320, 200))
    assert first.mode == "RGB"
    assert first.size == (320, 200)
    assert first.tobytes() == again.tobytes()


def test_different_seeds_are_different_pictures() -> None:
    hashes = [hash_image(synthetic_photo(seed, (320, 213)), DEFAULT)[0] for seed in range(40)]
    distances = [distance(a, b) for a, b in itertools.combinations(hashes, 2)]
    assert min(distances) >= 10
    assert np.median(distances) >= 26
    assert np.mean(np.array(distances) >= 20) >= 0.95


def test_photos_have_texture_and_noise() -> None:
    pixels = np.asarray(synthetic_photo(3, (400, 300)).convert("L"), np.float64)
    # Fine detail: neighbouring pixels differ, as in a real photo (not a flat render).
    assert np.abs(np.diff(pixels, axis=1)).mean() > 1.0
    # Large-scale structure: the picture is not uniform.
    assert pixels.std() > 15


@pytest.mark.parametrize("kind", list(VARIANT_KINDS))
def test_every_variant_kind_is_written_and_readable(tmp_path: Path, kind: str) -> None:
    photo = synthetic_photo(5, (400, 267))
    path = write_variant(photo, kind, tmp_path / "sub" / f"copy_{kind}.jpg")
    assert path.exists()
    assert path.suffix == {"png": ".png", "webp": ".webp"}.get(kind, ".jpg")
    result = hash_file(str(path), DEFAULT)
    assert isinstance(result, ImageFeatures)


def test_exif_rotated_variant_displays_like_the_original(tmp_path: Path) -> None:
    photo = synthetic_photo(6, (300, 200))
    path = write_variant(photo, "exif_rotated", tmp_path / "r.jpg")
    with Image.open(path) as stored:
        assert stored.size == (200, 300)
    shown = np.asarray(open_oriented(path), np.float64)
    assert shown.shape == (200, 300, 3)
    assert np.abs(shown - np.asarray(photo, np.float64)).mean() < 4


def test_unknown_variant_kind(tmp_path: Path) -> None:
    with pytest.raises(ValueError, match="unknown variant"):
        write_variant(synthetic_photo(1, (50, 50)), "sepia", tmp_path / "x.jpg")


def test_add_border_sizes() -> None:
    photo = synthetic_photo(1, (200, 100))
    assert add_border(photo, "border_black").size == (224, 112)
    assert add_border(photo, "border_colour").size == (200, 124)
    assert add_border(photo, share=0.1, sides="l").size == (220, 100)


def test_build_demo_library(tmp_path: Path) -> None:
    manifest = build_demo_library(tmp_path / "library", photos=9, seed=3, size=(320, 213))
    root = Path(manifest["root"])
    assert root == (tmp_path / "library").resolve()
    assert len(manifest["originals"]) == 9
    assert set(manifest["singles"]) <= set(manifest["originals"])
    assert len(manifest["singles"]) == 3
    assert manifest["copies"]
    top_folders = {Path(p).relative_to(root).parts[0] for p in manifest["copies"]}
    assert top_folders & {"exports", "backup copy", "phone sync"}
    on_disk = {str(p) for p in root.rglob("*") if p.is_file()}
    assert on_disk == set(manifest["originals"]) | set(manifest["copies"])
    kinds = {entry["kind"] for entry in manifest["copies"].values()}
    assert kinds <= set(FINDABLE_KINDS) | {"identical"}
    assert "identical" in kinds
    hashes = {}
    for path in on_disk:
        result = hash_file(path, DEFAULT)
        assert isinstance(result, ImageFeatures), result
        hashes[path] = result
    for copy, entry in manifest["copies"].items():
        original = hashes[entry["original"]]
        assert distance(hashes[copy].phash, original.phash) <= 10, entry["kind"]
        if entry["kind"] == "identical":
            assert hashes[copy].digest == original.digest
    first = hashes[manifest["originals"][0]]
    assert first.camera and first.taken


def test_demo_library_is_deterministic(tmp_path: Path) -> None:
    one = build_demo_library(tmp_path / "a", photos=3, seed=1, size=(160, 107))
    two = build_demo_library(tmp_path / "b", photos=3, seed=1, size=(160, 107))
    relative = [{str(Path(p).relative_to(m["root"])) for p in m["copies"]} for m in (one, two)]
    assert relative[0] == relative[1]
    for path in one["originals"]:
        twin = Path(two["root"]) / Path(path).relative_to(one["root"])
        assert Path(path).read_bytes() == twin.read_bytes()


def test_camera_jpeg(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    # The real sizes (12 and 24 MP) are the benchmark's business; a small one here.
    monkeypatch.setitem(CAMERA_SIZES, 1, (1200, 800))
    smooth = camera_jpeg(tmp_path / "s.jpg", seed=1, megapixels=1)
    noisy = camera_jpeg(tmp_path / "n.jpg", seed=1, megapixels=1, noisy=True)
    with Image.open(smooth) as image:
        assert image.size == (1200, 800)
    assert noisy.stat().st_size > 2 * smooth.stat().st_size
