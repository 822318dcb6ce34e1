"""RAW + JPEG: found as a pair, or folded into one photo by a setting."""

from __future__ import annotations

import json
from pathlib import Path

import numpy as np
import pytest

from desktop_app.cli import main
from desktop_app.demo import synthetic_photo, write_variant
from desktop_app.engine.config import EngineConfig
from desktop_app.engine.library import Library
from desktop_app.engine.selection import raw_jpeg
from desktop_app.engine.types import ImageRecord, PairSet, drain
from tests.engine.test_heif_raw import tiny_dng


@pytest.fixture(scope="module")
def shoot(tmp_path_factory: pytest.TempPathFactory) -> Path:
    """A card with two RAW + JPEG shots (the second JPEG named in upper case, as many
    cameras do), a web export of the first, a copy of the second elsewhere that bears
    the same name as its RAW file, and an unrelated photo. The DNGs are under 100 KB."""
    root = tmp_path_factory.mktemp("card")
    card = root / "DCIM"
    card.mkdir()
    first = synthetic_photo(21, (256, 160))
    (card / "DSC_0001.dng").write_bytes(tiny_dng(first, preview=True))
    first.save(card / "DSC_0001.jpg", quality=92)
    second = synthetic_photo(22, (256, 160))
    (card / "DSC_0002.dng").write_bytes(tiny_dng(second, preview=True))
    second.save(card / "DSC_0002.JPG", quality=92)
    write_variant(first, "resize50", root / "exports" / "DSC_0001_web")
    # Same name as a RAW file, but in another folder: not the camera's sidecar.
    second.save(root / "exports" / "DSC_0002.jpg", quality=80)
    synthetic_photo(23, (256, 160)).save(root / "other.jpg", quality=92)
    assert all(len(p.read_bytes()) < 100_000 for p in card.glob("*.dng"))
    return root


def pair_names(library: Library) -> set[tuple[str, str]]:
    records = library.records()
    pairs = library.pairs()
    return {
        tuple(  # type: ignore[misc]
            sorted(str(Path(records[int(x)].path).relative_to(library.roots[0])) for x in (a, b))
        )
        for a, b in zip(pairs.a, pairs.b, strict=True)
    }


def test_a_raw_file_and_its_jpeg_are_found_as_a_pair(shoot: Path, tmp_path: Path) -> None:
    with Library([shoot], catalog=tmp_path / "c.sqlite", config=EngineConfig(workers=0)) as lib:
        summary = drain(lib.scan())
        assert not summary.failures
        found = pair_names(lib)
        assert ("DCIM/DSC_0001.dng", "DCIM/DSC_0001.jpg") in found
        assert ("DCIM/DSC_0002.JPG", "DCIM/DSC_0002.dng") in found
        assert ("DCIM/DSC_0001.dng", "exports/DSC_0001_web.jpg") in found
        groups = lib.groups()
        first = next(g for g in groups if any("DSC_0001" in m.image.name for m in g.members))
        assert {m.image.name for m in first.members} == {
            "DSC_0001.dng",
            "DSC_0001.jpg",
            "DSC_0001_web.jpg",
        }


def test_with_the_setting_the_jpeg_is_folded_into_its_raw(shoot: Path, tmp_path: Path) -> None:
    config = EngineConfig(workers=0, fold_raw_jpeg=True)
    with Library([shoot], catalog=tmp_path / "c.sqlite", config=config) as lib:
        drain(lib.scan())
        found = pair_names(lib)
        assert not any("DCIM/DSC_0001.jpg" in pair or "DCIM/DSC_0002.JPG" in pair for pair in found)
        assert ("DCIM/DSC_0001.dng", "exports/DSC_0001_web.jpg") in found
        # A JPEG of the same name elsewhere is a copy like any other.
        assert ("DCIM/DSC_0002.dng", "exports/DSC_0002.jpg") in found
        groups = lib.groups()
        first = next(g for g in groups if any("DSC_0001" in m.image.name for m in g.members))
        assert {m.image.name for m in first.members} == {"DSC_0001.dng", "DSC_0001_web.jpg"}
        names = {m.image.name for m in lib.query(shoot / "DCIM" / "DSC_0001.jpg").matches}
        assert names == {"DSC_0001.dng", "DSC_0001_web.jpg"}


def test_switching_the_setting_needs_no_rescan(shoot: Path, tmp_path: Path) -> None:
    catalog = tmp_path / "c.sqlite"
    with Library([shoot], catalog=catalog, config=EngineConfig(workers=0)) as lib:
        drain(lib.scan())
        assert ("DCIM/DSC_0001.dng", "DCIM/DSC_0001.jpg") in pair_names(lib)
    config = EngineConfig(workers=0, fold_raw_jpeg=True)
    with Library([shoot], catalog=catalog, config=config) as lib:
        assert not lib.needs_scan()
        assert ("DCIM/DSC_0001.dng", "DCIM/DSC_0001.jpg") not in pair_names(lib)


def record(image_id: int, path: str, phash: int | None = 1) -> ImageRecord:
    return ImageRecord(image_id, path, 1, 1, None, phash, 1, 1, "JPEG", None, None)


def test_sidecar_rule() -> None:
    records = [
        record(1, "/a/IMG_1.CR2"),
        record(2, "/a/img_1.jpg"),  # case differs: still the sidecar
        record(3, "/b/IMG_1.jpg"),  # another folder
        record(4, "/a/IMG_2.jpeg"),  # no RAW of that name
        record(5, "/a/IMG_3.ARW", phash=None),  # unreadable RAW: still the photo
        record(6, "/a/IMG_3.HIF"),
        record(7, "/a/IMG_4.NEF"),
        record(8, "/a/IMG_4.png"),  # not what a camera writes beside a RAW
        record(9, "/a/IMG_1.jpg.CR2"),
    ]
    assert raw_jpeg.camera_jpeg_ids(records) == {2, 6}


def test_without_drops_every_pair_of_the_ids() -> None:
    pairs = PairSet(
        np.array([1, 1, 2], np.int64),
        np.array([2, 3, 3], np.int64),
        np.array([0, 4, 6], np.uint8),
        np.array([0, 0, 0], np.uint8),
        10,
    )
    kept = raw_jpeg.without(pairs, {2})
    assert kept.a.tolist() == [1] and kept.b.tolist() == [3] and kept.threshold == 10
    assert raw_jpeg.without(pairs, set()) is pairs


def test_command_line_flag(shoot: Path, tmp_path: Path, capsys: pytest.CaptureFixture[str]) -> None:
    catalog = str(tmp_path / "c.sqlite")
    base = ["pairs", str(shoot), "--json", "--catalog", catalog, "--workers", "0"]
    assert main(base) == 0
    plain = json.loads(capsys.readouterr().out)["pairs"]
    assert main([*base, "--fold-raw-jpeg"]) == 0
    folded = json.loads(capsys.readouterr().out)["pairs"]
    jpeg = str(shoot.resolve() / "DCIM" / "DSC_0001.jpg")
    assert any(jpeg in (p["a"], p["b"]) for p in plain)
    assert not any(jpeg in (p["a"], p["b"]) for p in folded)
    assert len(folded) < len(plain)
