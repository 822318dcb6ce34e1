"""The keep rule "original": every case the issue lists keeps the camera original, and
the keeper's reason names the evidence that decided (issue 9, item 6)."""

from __future__ import annotations

from dataclasses import replace

from desktop_app.demo import add_border, add_watermark, synthetic_photo
from desktop_app.demo.shots import capture_exif
from desktop_app.engine.config import EngineConfig
from desktop_app.engine.library import Library
from desktop_app.engine.selection.original import folder_score, framed
from desktop_app.engine.selection.plans import KeepRules, select
from desktop_app.engine.types import Capture, drain
from tests.engine.cleanup_support import group, record

SHOT = Capture(taken="2024-05-01T14:22:48", subsec="00", make="Canon", model="Canon EOS R5")


def kept(*records, threshold=12):
    plan = select([group(*records)], KeepRules(), threshold=threshold).groups[0]
    return plan.keeper.image, plan.reason


def camera(image_id, path, **kwargs):
    return replace(record(image_id, path, **kwargs), capture=SHOT)


def test_watermarked_proof_larger_file_loses_to_the_camera_jpeg():
    original = camera(1, "/p/IMG_1.jpg", size=3_000_000)
    proof = record(2, "/p/proofs/IMG_1_proof.jpg", size=4_500_000)
    keeper, reason = kept(proof, original)
    assert keeper is original
    assert reason == "kept: the camera original, capture metadata (2024-05-01 14:22:48.00 vs none)"


def test_copy_with_an_added_white_frame_loses_even_with_more_bytes():
    original = record(1, "/p/IMG_1.jpg", width=3000, height=2000, size=2_000_000)
    framed_copy = replace(
        record(2, "/p/IMG_1_framed.jpg", width=3000, height=2000, size=2_400_000),
        content_width=2700,
        content_height=1800,
    )
    assert framed(framed_copy) and not framed(original)
    keeper, reason = kept(framed_copy, original)
    assert keeper is original
    assert reason == "kept: the camera original, no added frame (no frame vs added frame)"


def test_a_flat_edge_trimmed_on_one_side_is_not_a_frame():
    """The original's sky is cut as a border on one axis only (2.5 % of its height):
    no frame, and the q30 re-save without capture metadata loses on that."""
    original = replace(camera(1, "/p/IMG_1.jpg", size=2_000_000), content_height=1950)
    resave = record(2, "/p/q30/IMG_1.jpg", size=600_000)
    assert not framed(original)
    keeper, reason = kept(resave, original)
    assert keeper is original and "capture metadata" in reason


def test_brightened_edit_saved_at_q95_loses():
    original = camera(1, "/p/IMG_1.jpg", size=2_000_000)
    edit = record(2, "/p/edits/IMG_1_bright.jpg", size=2_600_000)
    assert kept(edit, original)[0] is original


def test_the_member_far_from_the_others_loses_when_all_carry_the_capture():
    """A watermark or an edit moves a copy away from the group's consensus; so does a
    mirrored copy of a *different* photo that sat 12 bits away."""
    original = camera(1, "/p/IMG_1.jpg", size=2_000_000, phash=0)
    resave = camera(2, "/p/b/IMG_1.jpg", size=1_000_000, phash=0b1)
    exact = camera(3, "/p/c/IMG_1.jpg", size=2_000_000, phash=0, digest=original.digest)
    other = camera(4, "/p/d/IMG_9.jpg", size=9_000_000, width=6000, phash=(1 << 12) - 1)
    keeper, reason = kept(original, resave, exact, other, threshold=12)
    assert keeper in (original, exact)
    assert reason.startswith("kept: the camera original, closest to the other copies")


def test_greyscale_tiff_and_png_conversion_lose_to_the_colour_jpeg():
    original = record(1, "/p/IMG_1.jpg", size=2_000_000)
    grey = replace(record(2, "/p/IMG_1.tif", fmt="TIFF", size=6_000_000), greyscale=True)
    png = record(3, "/p/IMG_1.png", fmt="PNG", size=9_000_000)
    keeper, reason = kept(grey, png, original)
    assert keeper is original
    assert reason == "kept: the camera original, the camera's format (JPEG vs PNG)"
    keeper, reason = kept(replace(grey, format="JPEG"), original)
    assert keeper is original
    assert reason == "kept: the camera original, colour (colour vs greyscale)"


def test_raw_beats_its_camera_jpeg_and_a_half_size_jpeg_does_not_beat_a_full_png():
    raw = record(1, "/p/IMG_1.CR3", fmt="CR3", size=30_000_000)
    jpeg = record(2, "/p/IMG_1.jpg", size=8_000_000)
    assert kept(jpeg, raw)[0] is raw
    png = record(3, "/p/IMG_1.png", fmt="PNG", width=3000, height=2000)
    web = record(4, "/p/IMG_1_web.jpg", width=1500, height=1000)
    keeper, reason = kept(web, png)
    assert keeper is png and reason.startswith("kept: largest pixel count")


def test_byte_identical_copies_keep_the_archive_over_the_import():
    digest = b"d" * 16
    archive = record(1, "/photos/Archive/2024/IMG_1.CR3", fmt="CR3", digest=digest)
    imported = record(2, "/photos/Import/IMG_1.CR3", fmt="CR3", digest=digest)
    keeper, reason = kept(imported, archive)
    assert keeper is archive
    assert reason == (
        "kept: the camera original, dated or archive folder over an import or copy folder"
        " (2024 vs Import)"
    )
    assert folder_score("/x/Downloads/a.jpg") == 1
    assert folder_score("/x/2023-06-08 Holiday/a.jpg") == -1
    assert folder_score("/x/misc/a.jpg") == 0
    # Not byte-identical: the folder's name does not decide.
    other = replace(imported, digest=b"e" * 16, size=archive.size * 2)
    assert "folder" not in kept(other, archive)[1]


def test_a_scanned_library_keeps_the_camera_original(tmp_path):
    """The same cases end to end: real files, a real scan, Select Duplicates."""
    picture = synthetic_photo(33, (900, 600))
    root = tmp_path / "photos"
    (root / "2024").mkdir(parents=True)
    (root / "copies").mkdir()
    picture.save(root / "2024" / "IMG_1.jpg", "JPEG", quality=88, exif=capture_exif())
    add_watermark(picture).save(root / "copies" / "proof.jpg", "JPEG", quality=98)
    picture.save(root / "copies" / "IMG_1.png")
    picture.convert("L").save(root / "copies" / "IMG_1_grey.tiff")
    picture.save(root / "copies" / "IMG_1_q30.jpg", "JPEG", quality=30)
    add_border(picture, "border_white").resize(picture.size).save(
        root / "copies" / "framed.jpg", quality=95
    )
    config = EngineConfig(workers=0)
    with Library([root], catalog=tmp_path / "c.sqlite", config=config) as library:
        drain(library.scan())
        groups = library.groups()
        plan = select(groups, KeepRules(), threshold=config.threshold)
    (mine,) = [g for g in plan.groups if any(d.image.name == "IMG_1.jpg" for d in g.decisions)]
    assert mine.keeper.image.name == "IMG_1.jpg"
    assert mine.reason.startswith("kept: the camera original, capture metadata")
    assert {d.image.name for d in mine.marked} == {d.image.name for d in mine.decisions} - {
        "IMG_1.jpg"
    }
