"""Keep-the-best selection: every criterion, presets of rules, marks, reference folders."""

from __future__ import annotations

from dataclasses import replace

import pytest

from desktop_app.engine.errors import UsageError
from desktop_app.engine.fileops.journal import Action
from desktop_app.engine.selection.plans import (
    Criterion,
    KeepRules,
    MarkingError,
    choose,
    copy_marks,
    format_family,
    select,
    unmarked,
)
from tests.engine.cleanup_support import group, record

P = "/photos"


def keeper(g, rules=None, threshold=10, **kwargs):
    plan = select([g], rules or KeepRules(), threshold=threshold, **kwargs)
    return plan.groups[0]


def only(*criteria: Criterion, **kwargs) -> KeepRules:
    return KeepRules(tuple(criteria), **kwargs)


# --------------------------------------------------------------------- each criterion


def test_largest_pixel_count_wins_and_says_so():
    small = record(1, f"{P}/a.jpg", width=3000, height=2000, size=9_000_000)
    big = record(2, f"{P}/b.jpg", width=6000, height=4000, size=5_000_000)
    plan = keeper(group(small, big))
    assert plan.keeper.image is big
    assert plan.reason == "kept: largest pixel count (6000x4000 vs 3000x2000)"
    assert [d.image for d in plan.marked] == [small]
    assert "not kept: largest pixel count (3000x2000 vs 6000x4000)" in plan.marked[0].note


def test_a_frame_adds_pixels_but_no_picture():
    """A copy with a border added has more pixels; its picture is no larger."""
    original = record(
        1, f"{P}/IMG_1.jpg", width=1600, height=1067, size=280_000, taken="2023-06-08T08:03:00"
    )
    framed = replace(
        record(2, f"{P}/export/IMG_1_framed.jpg", width=1600, height=1323, size=250_000),
        content_width=1600,
        content_height=1069,
    )
    plan = keeper(group(framed, original))
    assert plan.keeper.image is original
    assert plan.reason == "kept: larger file (280 KB vs 250 KB)"
    resized = record(3, f"{P}/web/IMG_1.jpg", width=800, height=533)
    assert keeper(group(resized, framed), only(Criterion.PIXELS)).reason == (
        "kept: largest pixel count (1600x1069 inside its border vs 800x533)"
    )


def test_sizes_a_few_percent_apart_are_left_to_the_next_criterion():
    original = record(1, f"{P}/IMG_2.jpg", size=281_000, taken="2023-09-19T09:15:00")
    brightened = record(2, f"{P}/export/IMG_2_bright.jpg", size=287_000)
    plan = keeper(group(brightened, original), only(Criterion.SIZE, Criterion.DATE))
    assert plan.keeper.image is original
    assert plan.reason.startswith("kept: earliest date taken")
    bigger = record(3, f"{P}/export/IMG_2_q98.jpg", size=400_000)
    assert keeper(group(original, bigger), only(Criterion.SIZE)).keeper.image is bigger


def test_preferred_format_ranks_raw_then_tiff_png_heic_jpeg_webp():
    names = {
        "RAW": ("c.cr2", "CR2"),
        "TIFF": ("t.tif", "TIFF"),
        "PNG": ("p.png", "PNG"),
        "HEIC": ("h.heic", "HEIF"),
        "JPEG": ("j.jpg", "JPEG"),
        "WEBP": ("w.webp", "WEBP"),
    }
    records = [record(i, f"{P}/{n}", fmt=f) for i, (n, f) in enumerate(names.values(), 1)]
    rules = only(Criterion.FORMAT)
    for k in range(len(records)):
        g = group(*records[k:])
        assert keeper(g, rules).keeper.image is records[k]
    assert (
        keeper(group(records[4], records[0]), rules).reason
        == "kept: preferred format (CR2 vs JPEG)"
    )


def test_the_format_list_is_editable():
    jpeg = record(1, f"{P}/a.jpg", fmt="JPEG")
    png = record(2, f"{P}/a.png", fmt="PNG")
    gif = record(3, f"{P}/a.gif", fmt="GIF")
    assert keeper(group(jpeg, png), only(Criterion.FORMAT)).keeper.image is png
    jpeg_first = only(Criterion.FORMAT, formats=("jpeg", "png"))
    assert keeper(group(png, jpeg), jpeg_first).keeper.image is jpeg
    assert keeper(group(gif, png), jpeg_first).keeper.image is png  # unlisted comes last
    assert keeper(group(png, gif), only(Criterion.FORMAT, formats=("GIF",))).keeper.image is gif


def test_format_families():
    assert format_family(record(1, "x.nef", fmt="NEF")) == "RAW"
    assert format_family(record(1, "x.jpg", fmt="MPO")) == "JPEG"
    assert format_family(record(1, "x.heic", fmt="HEIF")) == "HEIC"
    assert format_family(record(1, "x.dng", fmt=None)) == "RAW"
    assert format_family(record(1, "x.bmp", fmt="BMP")) == "BMP"


def test_larger_file_wins():
    a = record(1, f"{P}/a.jpg", size=2_300_000)
    b = record(2, f"{P}/b.jpg", size=8_100_000)
    plan = keeper(group(a, b), only(Criterion.SIZE))
    assert plan.keeper.image is b
    assert plan.reason == "kept: larger file (8.1 MB vs 2.3 MB)"


def test_earliest_date_taken_wins_and_undated_comes_last():
    late = record(1, f"{P}/a.jpg", taken="2021-06-01T10:00:00")
    early = record(2, f"{P}/b.jpg", taken="2019-05-01T13:45:10")
    undated = record(3, f"{P}/c.jpg")
    plan = keeper(group(undated, late, early), only(Criterion.DATE))
    assert plan.keeper.image is early
    assert plan.reason == "kept: earliest date taken (2019-05-01 13:45:10 vs 2021-06-01 10:00:00)"
    assert keeper(group(undated, late), only(Criterion.DATE)).keeper.image is late


@pytest.mark.parametrize(
    "name",
    [
        "IMG_1 (1).jpg",
        "IMG_1(2).jpg",
        "IMG_1 - Copy.jpg",
        "IMG_1 - Copy (2).jpg",
        "IMG_1 copy.jpg",
        "IMG_1 copy 2.jpg",
        "IMG_1_copy.jpg",
        "IMG_1-Kopie.jpg",
        "Copy of IMG_1.jpg",
        "IMG_1 - copie.jpg",
    ],
)
def test_copy_suffixes_are_recognised(name):
    assert copy_marks(f"{P}/{name}") == 1
    plan = keeper(
        group(record(1, f"{P}/{name}"), record(2, f"{P}/longer/IMG_1.jpg")), only(Criterion.PATH)
    )
    assert plan.keeper.image.path == f"{P}/longer/IMG_1.jpg"
    assert plan.reason.startswith("kept: path without a copy suffix (IMG_1.jpg vs")


@pytest.mark.parametrize(
    "name", ["IMG_1.jpg", "copyright.jpg", "canopy.jpg", "DSC_0001.jpg", "2019 (Rome).jpg"]
)
def test_names_without_copy_suffixes(name):
    assert copy_marks(f"{P}/{name}") == 0


def test_a_copied_folder_counts_as_a_copy_suffix():
    assert copy_marks(f"{P}/Trip - Copy/IMG_1.jpg") == 1


def test_shortest_path_when_no_copy_suffix_differs():
    deep = record(1, f"{P}/2019/export/web/IMG_1.jpg")
    shallow = record(2, f"{P}/2019/IMG_1.jpg")
    plan = keeper(group(deep, shallow), only(Criterion.PATH))
    assert plan.keeper.image is shallow
    assert plan.reason == (
        f"kept: shortest path ({len(shallow.path)} characters vs {len(deep.path)} characters)"
    )


def test_preferred_folders_in_order():
    a = record(1, f"{P}/Exports/a.jpg")
    b = record(2, f"{P}/Originals/a.jpg")
    c = record(3, f"{P}/Phone/a.jpg")
    rules = only(Criterion.FOLDER, folders=(f"{P}/Originals", f"{P}/Exports"))
    plan = keeper(group(a, b, c), rules)
    assert plan.keeper.image is b
    assert plan.reason == f"kept: preferred folder ({P}/Originals vs {P}/Exports)"
    assert keeper(group(c, a), rules).keeper.image is a


# --------------------------------------------------------------------- order and ties


def test_the_order_of_the_criteria_decides():
    big_small_file = record(1, f"{P}/a.jpg", width=6000, height=4000, size=1_000_000)
    small_big_file = record(2, f"{P}/b.jpg", width=3000, height=2000, size=9_000_000)
    g = group(big_small_file, small_big_file)
    assert keeper(g, only(Criterion.PIXELS, Criterion.SIZE)).keeper.image is big_small_file
    assert keeper(g, only(Criterion.SIZE, Criterion.PIXELS)).keeper.image is small_big_file


def test_a_later_criterion_breaks_a_tie():
    jpeg = record(1, f"{P}/a.jpg", width=6000, height=4000, fmt="JPEG")
    raw = record(2, f"{P}/a.cr2", width=6000, height=4000, fmt="CR2")
    small = record(3, f"{P}/c.jpg", width=600, height=400)
    plan = keeper(group(jpeg, raw, small), only(*(c for c in Criterion if c != "original")))
    assert plan.keeper.image is raw
    assert plan.reason == "kept: preferred format (CR2 vs JPEG)"
    notes = {d.image.id: d.note for d in plan.decisions}
    assert "largest pixel count (600x400 vs 6000x4000)" in notes[3]
    assert "preferred format (JPEG vs CR2)" in notes[1]


def test_a_full_tie_keeps_the_first_by_path_whatever_the_order():
    a = record(1, f"{P}/b.jpg", digest=b"x" * 16)
    b = record(2, f"{P}/a.jpg", digest=b"x" * 16)
    for g in (group(a, b), group(b, a)):
        plan = keeper(g)
        assert plan.keeper.image.path == f"{P}/a.jpg"
        assert "equal on every criterion" in plan.reason
        assert plan.marked[0].note.startswith("marked: identical to the keeper")


def test_rules_parse_and_round_trip():
    rules = KeepRules.parse("size, pixels", formats=["png", "jpeg"], folders=["/x/"])
    assert rules.criteria == (Criterion.SIZE, Criterion.PIXELS)
    assert rules.formats == ("PNG", "JPEG") and rules.folders == ("/x",)
    assert KeepRules.from_json(rules.to_json()) == rules
    with pytest.raises(UsageError, match="Unknown criterion"):
        KeepRules.parse("pixels,colour")
    with pytest.raises(UsageError, match="twice"):
        KeepRules.parse("pixels,pixels")
    assert KeepRules.from_json({"criteria": ["pixels", "from-the-future"]}).criteria == (
        Criterion.PIXELS,
    )


# --------------------------------------------------------------------- safety of marks


def test_members_beyond_the_threshold_of_the_keeper_stay_unmarked():
    ref = record(1, f"{P}/a.jpg", width=100, height=100, phash=0)
    keep = record(2, f"{P}/b.jpg", width=6000, height=4000, phash=(1 << 8) - 1)  # 8 from ref
    far = record(3, f"{P}/c.jpg", width=200, height=200, phash=((1 << 8) - 1) << 56)  # 16 from keep
    plan = keeper(
        group(ref, keep, far), only(*(c for c in Criterion if c != "original")), threshold=8
    )
    assert plan.keeper.image is keep
    assert [d.image for d in plan.marked] == [ref]
    note = next(d.note for d in plan.decisions if d.image is far)
    assert note.startswith("not marked: 16 from the keeper, beyond the threshold (8)")


def test_one_member_always_stays():
    a, b, c = (record(i, f"{P}/{i}.jpg", width=100 * i, height=100) for i in (1, 2, 3))
    plan = select([group(a, b, c)], threshold=10)
    assert [d.image.id for d in plan.groups[0].marked] == [1, 2]
    with pytest.raises(MarkingError, match="stays"):
        plan.mark(0, 3)
    unmarked = plan.mark(0, 1, False)
    assert [d.image.id for d in unmarked.groups[0].marked] == [2]
    assert unmarked.groups[0].decisions[0].note == "unmarked by you"
    moved = unmarked.mark(0, 3)  # marking the keeper hands the role to the one left
    assert moved.groups[0].keeper.image.id == 1
    assert [d.image.id for d in moved.groups[0].marked] == [2, 3]
    with pytest.raises(MarkingError):
        moved.mark(0, 1)
    assert plan.groups[0].keeper.image.id == 3  # plans are values: the old one is unchanged


def test_keep_only_and_clear():
    a, b, c = (record(i, f"{P}/{i}.jpg", width=100 * i, height=100) for i in (1, 2, 3))
    plan = select([group(a, b, c)], threshold=10).keep_only(0, 1)
    assert plan.groups[0].keeper.image.id == 1
    assert plan.groups[0].reason == "kept: chosen by you"
    assert [d.image.id for d in plan.groups[0].marked] == [2, 3]
    assert plan.clear(0).groups[0].marked == []
    with pytest.raises(KeyError):
        plan.mark(0, 99)


def test_the_plan_becomes_a_request_with_keepers():
    a = record(1, f"{P}/a.jpg", width=100, height=100, size=10)
    b = record(2, f"{P}/b.jpg", width=200, height=200, size=20)
    c = record(3, f"{P}/c.jpg", width=300, height=300, size=30)
    d = record(4, f"{P}/d.jpg", width=400, height=400, size=40)
    plan = select([group(a, b), group(c, d, index=1)], threshold=10)
    assert plan.marked_bytes == 40
    req = plan.request(Action.MOVE, destination="/out", roots=[P])
    assert [(r.record.id, r.keeper) for r in req.items] == [(1, b.path), (3, d.path)]
    assert req.action is Action.MOVE and req.destination == "/out" and req.roots == (P,)


# --------------------------------------------------------------------- reference folders


LIB = "/library"
IMPORT = "/import"


def test_reference_photos_are_kept_and_never_marked():
    lib_small = record(1, f"{LIB}/a.jpg", width=1000, height=800)
    lib_other = record(2, f"{LIB}/old/a.jpg", width=900, height=800)
    new_big = record(3, f"{IMPORT}/a.jpg", width=6000, height=4000)
    plan = keeper(group(new_big, lib_small, lib_other), references=[LIB])
    assert plan.keeper.image is lib_small  # the best *reference* photo, though smaller
    assert [d.image for d in plan.marked] == [new_big]
    assert all(d.reference and not d.marked for d in plan.decisions if d.image is not new_big)
    plan_obj = select([group(new_big, lib_small, lib_other)], threshold=10, references=[LIB])
    with pytest.raises(MarkingError, match="reference"):
        plan_obj.mark(0, 2)
    assert plan_obj.request().references == (LIB,)


def test_checking_an_import_marks_only_photos_the_library_has():
    in_library = group(record(1, f"{IMPORT}/a.jpg"), record(2, f"{LIB}/a.jpg"))
    import_only = group(record(3, f"{IMPORT}/b.jpg"), record(4, f"{IMPORT}/b (1).jpg"), index=1)
    plan = select([in_library, import_only], threshold=10, references=[LIB])
    assert [r.record.id for r in plan.marked] == [1]
    assert "no copy in a reference folder" in plan.groups[1].decisions[1].note
    within = select(
        [in_library, import_only], threshold=10, references=[LIB], reference_groups_only=False
    )
    assert sorted(r.record.id for r in within.marked) == [1, 4]


def test_an_import_photo_far_from_every_reference_copy_stays():
    near = record(1, f"{IMPORT}/a.jpg", phash=0)
    lib = record(2, f"{LIB}/a.jpg", phash=(1 << 6) - 1)  # 6 from the group's reference
    far = record(3, f"{IMPORT}/c.jpg", phash=((1 << 6) - 1) << 58)  # 12 from lib
    plan = keeper(group(near, lib, far), threshold=6, references=[LIB])
    assert [d.image for d in plan.marked] == [near]
    assert "beyond the threshold" in plan.decisions[2].note


def test_a_photo_said_not_to_be_a_copy_of_the_keeper_stays():
    keep = record(1, f"{P}/a.jpg", width=6000, height=4000, phash=0)
    middle = record(2, f"{P}/b.jpg", phash=0b111)
    other = record(3, f"{P}/c.jpg", phash=0b11)
    g = group(middle, keep, other)  # grouped through the middle one
    pair = tuple(sorted((keep.digest, other.digest)))
    plan = select([g], threshold=10, not_copies={pair}).groups[0]
    assert plan.keeper.image is keep
    assert [d.image for d in plan.marked] == [middle]
    assert plan.decisions[2].note == "not marked: you said it is not a copy of the keeper"


# --------------------------------------------------------------------- before any selection


def test_unmarked_shows_the_keeper_and_marks_nothing():
    big = record(1, f"{P}/a.jpg", width=6000, height=4000)
    small = record(2, f"{P}/b.jpg")
    ref = record(3, "/library/c.jpg")
    plan = unmarked([group(small, big), group(small, ref, index=1)], threshold=10)
    first, second = plan.groups
    assert first.keeper.image.id == 1 and not first.marked and not second.marked
    assert first.keeper.note == "kept: largest pixel count (6000x4000 vs 3000x2000)"
    assert [d.note for d in first.decisions if not d.keeper] == ["not marked"]
    assert plan.marked == []

    with_ref = unmarked([group(big, ref)], threshold=10, references=["/library"])
    (only_group,) = with_ref.groups
    assert only_group.keeper.image.id == 3 and only_group.keeper.reference
    assert with_ref.references == ("/library",)
    # The user's marks then follow the plan's rules.
    marked = with_ref.mark(0, 1)
    assert [d.image.id for d in marked.groups[0].marked] == [1]
    with pytest.raises(MarkingError, match="reference folder"):
        with_ref.mark(0, 3)


def test_choose_without_explaining_the_losses_keeps_the_same_photo_for_the_same_reason():
    members = group(
        record(1, f"{P}/a.jpg", width=6000, height=4000),
        record(2, f"{P}/b.jpg"),
        record(3, f"{P}/c (1).jpg"),
    ).members
    full = choose(members, KeepRules(), range(3))
    short = choose(members, KeepRules(), range(3), explain_losses=False)
    assert (short.keeper, short.reason) == (full.keeper, full.reason)
    assert full.losses and short.losses == {}


def test_the_path_reason_names_the_folder_when_the_names_are_the_same():
    from desktop_app.engine.selection.keeprules import _distinct_part

    kept = "/lib/2023/2023-09-02 Studio/IMG_1.jpg"
    other = "/lib/backup copy/2023-09-02 Studio/IMG_1.jpg"
    assert _distinct_part(kept, other) == "2023/…/IMG_1.jpg"
    assert _distinct_part(other, kept) == "backup copy/…/IMG_1.jpg"
    assert _distinct_part("/a/x/IMG_1.jpg", "/a/y/IMG_1.jpg") == "x/IMG_1.jpg"
    assert _distinct_part("/a/IMG_1 (1).jpg", "/a/IMG_1.jpg") == "IMG_1 (1).jpg"
