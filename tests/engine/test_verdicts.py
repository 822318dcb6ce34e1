"""Copy or different shot: the verdict on every pair, groups of copies only, similar
shots for culling, "not copies" that survive a metadata edit (issue 9)."""

from __future__ import annotations

from dataclasses import replace

import pytest

from desktop_app.demo import synthetic_photo
from desktop_app.demo.shots import (
    bracket,
    burst_frame,
    capture_exif,
    replace_exif,
    strip_metadata,
)
from desktop_app.engine.cleanup import select_in
from desktop_app.engine.config import EngineConfig
from desktop_app.engine.library import Library
from desktop_app.engine.search.verdicts import verdict
from desktop_app.engine.selection import not_copies
from desktop_app.engine.selection.plans import select
from desktop_app.engine.selection.sharpest import keep_sharpest
from desktop_app.engine.types import Capture, VerdictKind, drain
from tests.engine.cleanup_support import group, record

SHOT = Capture(
    taken="2024-05-01T14:22:48",
    subsec="00",
    make="Canon",
    model="Canon EOS R5",
    serial="0123",
    exposure_time=0.004,
    f_number=2.8,
    iso=200,
    exposure_bias=0.0,
)


def rec(image_id, capture=None, **kwargs):
    return replace(record(image_id, f"/p/{image_id}.jpg", **kwargs), capture=capture)


def kind(a, b):
    return verdict(a, b, 3).kind


def test_same_bytes_then_same_pixels_then_pixels_decide():
    a = rec(1, SHOT, digest=b"x" * 16)
    assert verdict(a, rec(2, digest=b"x" * 16)).evidence == ("same bytes",)
    a = replace(a, pixel_digest=b"p" * 16)
    retimed = rec(2, replace(SHOT, taken="2019-01-01T00:00:00"))
    assert kind(a, replace(retimed, pixel_digest=b"p" * 16)) is VerdictKind.SAME_PIXELS
    stripped = rec(3)
    assert kind(a, stripped) is VerdictKind.COPY
    assert "no capture metadata on 3.jpg" in verdict(a, stripped, 3).evidence


@pytest.mark.parametrize(
    ("change", "evidence"),
    [
        ({"subsec": "12"}, "other sub-second (14:22:48.00 vs 14:22:48.12)"),
        ({"taken": "2024-05-01T14:22:49"}, "other capture time"),
        ({"serial": "9999"}, "another camera body (0123 vs 9999)"),
        ({"model": "Canon EOS R6"}, "another camera"),
        ({"exposure_time": 0.008, "exposure_bias": -1.0}, "another exposure"),
        ({"iso": 400}, "another exposure"),
        ({"unique_id": "B"}, "another ImageUniqueID"),
        ({"taken": "2024-05-01T16:22:48", "subsec": "40"}, "other capture time"),
        ({"taken": "2024-05-01T16:22:48", "iso": 100}, "another exposure"),
    ],
)
def test_different_exposures_are_similar_shots(change, evidence):
    other = replace(SHOT, **change)
    if "unique_id" in change:
        first = replace(SHOT, unique_id="A")
    else:
        first = SHOT
    found = verdict(rec(1, first), rec(2, other), 4)
    assert found.kind is VerdictKind.SIMILAR_SHOT
    assert any(e.startswith(evidence) for e in found.evidence), found.evidence


def test_time_zone_fix_is_still_a_copy():
    moved = replace(SHOT, taken="2024-05-01T16:22:48")
    found = verdict(rec(1, SHOT), rec(2, moved), 2)
    assert found.kind is VerdictKind.COPY
    assert found.evidence[0].startswith("capture time moved by 2 h")
    # Not whole hours: another shot.
    assert kind(rec(1, SHOT), rec(2, replace(SHOT, taken="2024-05-01T16:20:48"))) == "similar_shot"


def test_lineage_and_the_same_exposure_are_positive_evidence():
    same = verdict(rec(1, SHOT), rec(2, replace(SHOT, subsec="000")), 5)
    assert same.kind is VerdictKind.COPY
    assert same.evidence[:2] == ("same capture time 14:22:48.00", "same camera body")
    edit = replace(SHOT, document_id="xmp.did:E", derived_from="xmp.did:O", iso=400)
    found = verdict(rec(1, replace(SHOT, document_id="xmp.did:O")), rec(2, edit), 5)
    assert found.kind is VerdictKind.COPY and found.evidence[0] == "2.jpg derived from 1.jpg"
    shared = replace(SHOT, original_document_id="xmp.did:O", subsec="50")
    found = verdict(rec(1, replace(SHOT, original_document_id="xmp.did:O")), rec(2, shared))
    assert found.kind is VerdictKind.COPY and found.evidence == ("same document id xmp.did:O",)
    # darktable names the source file only: the same name elsewhere proves nothing.
    a = replace(SHOT, derived_from="IMG_0001.CR2")
    assert kind(rec(1, a), rec(2, replace(a, subsec="50"))) is VerdictKind.SIMILAR_SHOT


# --------------------------------------------------------------------- through a Library

PICTURE = synthetic_photo(21, (640, 427))


def _jpeg(path, picture=PICTURE, exif=None, quality=90):
    path.parent.mkdir(parents=True, exist_ok=True)
    picture.save(path, "JPEG", quality=quality, **({"exif": exif} if exif else {}))
    return path


@pytest.fixture
def burst(tmp_path):
    """An original, three burst frames, a bracket, and copies of the original."""
    root = tmp_path / "photos"
    original = _jpeg(root / "2024" / "IMG_0.jpg", exif=capture_exif(subsec="00"))
    for n, (kind_, subsec) in enumerate((("moved", "12"), ("subject", "24"), ("moved", "36"))):
        frame = burst_frame(PICTURE, kind_, 0.01 * (n + 1))
        _jpeg(root / "2024" / f"IMG_{n + 1}.jpg", frame, capture_exif(subsec=subsec))
    _jpeg(
        root / "2024" / "IMG_4.jpg",
        bracket(PICTURE),
        capture_exif(subsec="48", exposure=(1, 500), bias=(-1, 1)),
    )
    data = original.read_bytes()
    (root / "export").mkdir()
    (root / "export" / "stripped.jpg").write_bytes(strip_metadata(data))
    (root / "export" / "rewritten.jpg").write_bytes(
        replace_exif(data, capture_exif("2020-02-02T02:02:02", model="Phone"))
    )
    _jpeg(
        root / "export" / "retimed.jpg", exif=capture_exif(subsec="00", shift_hours=2), quality=80
    )
    _jpeg(root / "export" / "small.jpg", PICTURE.resize((320, 213)))
    return root


@pytest.fixture
def library(burst, tmp_path):
    config = EngineConfig(workers=0, threshold=12)
    with Library([burst], catalog=tmp_path / "c.sqlite", config=config) as opened:
        drain(opened.scan())
        yield opened


def _names(group_):
    return sorted(m.image.name for m in group_.members)


def test_groups_hold_copies_only_and_say_why(library):
    groups = library.groups()
    copies = {"IMG_0.jpg", "stripped.jpg", "rewritten.jpg", "retimed.jpg", "small.jpg"}
    frames = {f"IMG_{n}.jpg" for n in range(1, 5)}
    for found in groups:
        names = set(_names(found))
        assert not (names & copies and names & frames), names
        ref = found.reference.image
        for member in found.members[1:]:
            assert member.verdict is not None and member.verdict.is_copy
            assert member.verdict.kind == library.verdict(ref, member.image).kind
    (originals,) = [g for g in groups if "IMG_0.jpg" in _names(g)]
    assert set(_names(originals)) == copies
    kinds = {m.image.name: m.verdict.kind for m in originals.members[1:]}
    reference = originals.reference.image.name
    if reference == "IMG_0.jpg":
        assert kinds["stripped.jpg"] == kinds["rewritten.jpg"] == VerdictKind.SAME_PIXELS
        assert kinds["retimed.jpg"] == VerdictKind.COPY
    # The pairs left out are the frames against the original, its copies and each other.
    shots = library.similar_shot_pairs()
    assert len(shots) >= 4
    records = library.records()
    for a, b in zip(shots.a.tolist(), shots.b.tolist(), strict=True):
        assert {records[a].name, records[b].name} & frames
    everything = library.pairs(similar_shots=True)
    assert len(everything) == len(library.pairs()) + len(shots)


def test_select_and_apply_never_mark_a_different_shot(library):
    plan = select_in(library, 12)
    frames = {f"IMG_{n}.jpg" for n in range(1, 5)}
    marked = {d.image.name for g in plan.groups for d in g.marked}
    assert not marked & frames
    assert "IMG_0.jpg" not in marked
    keeper = next(g.keeper for g in plan.groups if "IMG_0.jpg" in _names(g.group))
    assert keeper.image.name == "IMG_0.jpg"
    group_ = next(g for g in plan.groups if "IMG_0.jpg" in _names(g.group))
    lost = {d.image.name: d.note for d in group_.decisions}
    assert "capture agrees with the other copies (agrees with 0 vs" in lost["rewritten.jpg"]


def test_two_frames_joined_through_a_stripped_copy_are_not_marked():
    """A stripped copy (no capture) is near both frames: the plan never marks one frame
    as a copy of the other."""
    stripped = rec(1, None, phash=0b0)
    first = rec(2, SHOT, phash=0b11)
    second = rec(3, replace(SHOT, subsec="12"), phash=0b1100)
    plan = select([group(stripped, first, second)], threshold=4).groups[0]
    assert plan.keeper.image is first  # capture metadata: the camera original
    marks = {d.image.id for d in plan.marked}
    assert marks == {1}
    note = next(d.note for d in plan.decisions if d.image is second)
    assert note.startswith("not marked: a different shot from the keeper (other sub-second")


def test_similar_shots_view_lists_the_burst_in_time_order_with_sharpness(library):
    (shots,) = library.shots()
    names = [r.name for r in shots.members]
    assert names == ["IMG_0.jpg", "IMG_1.jpg", "IMG_2.jpg", "IMG_3.jpg", "IMG_4.jpg"]
    assert all(r.sharpness and r.sharpness > 0 for r in shots.members)
    assert shots.sharpest in shots.members
    # Keeping the sharpest is an explicit plan, through the same request and journal.
    plan = keep_sharpest([shots])
    assert [d.image.id for d in plan.groups[0].decisions if d.keeper] == [shots.sharpest.id]
    assert len(plan.marked) == 4
    assert plan.groups[0].reason.startswith("kept: the sharpest (")
    request = plan.request()
    assert {r.record.id for r in request.items} == {
        r.id for r in shots.members if r.id != shots.sharpest.id
    }
    assert keep_sharpest([shots], references=[str(library.roots[0])]).marked == []


def test_not_copies_survive_a_metadata_edit(library, burst):
    (originals,) = [g for g in library.groups() if "IMG_0.jpg" in _names(g)]
    pair = [m.image for m in originals.members if m.image.name in ("IMG_0.jpg", "stripped.jpg")]
    not_copies.ignore(library.catalog, pair)
    # Writing a rating into the file changes its bytes, not its pixels.
    path = burst / "2024" / "IMG_0.jpg"
    path.write_bytes(replace_exif(path.read_bytes(), capture_exif(subsec="00", iso=200)))
    drain(library.scan())
    assert library.records()  # re-read
    for found in library.groups():
        names = set(_names(found))
        assert not {"IMG_0.jpg", "stripped.jpg"} <= names or len(names) > 2
    pairs = library.pairs()
    records = library.records()
    ends = {
        frozenset((records[a].name, records[b].name))
        for a, b in zip(pairs.a.tolist(), pairs.b.tolist(), strict=True)
    }
    assert frozenset(("IMG_0.jpg", "stripped.jpg")) not in ends


def test_older_not_copies_entries_move_to_pixel_digests(library):
    records = {r.name: r for r in library.records().values()}
    a, b = records["IMG_0.jpg"], records["small.jpg"]
    lo, hi = sorted((a.digest, b.digest))
    with library.catalog.transaction() as db:  # as a version-4 catalog kept it
        db.execute(
            "INSERT INTO ignored_pairs(a, b, added_ns, a_path, b_path) VALUES(?, ?, 1, NULL, NULL)",
            (lo, hi),
        )
    assert not_copies.upgrade(library.catalog) == 1
    assert not_copies.keys(library.catalog) == {tuple(sorted((a.pixel_digest, b.pixel_digest)))}


def test_a_query_carries_the_verdict(library, burst):
    result = library.query(burst / "2024" / "IMG_0.jpg")
    by_name = {m.image.name: m.verdict.kind for m in result.matches}
    assert by_name["IMG_0.jpg"] is VerdictKind.IDENTICAL
    assert by_name["stripped.jpg"] is VerdictKind.SAME_PIXELS
    assert by_name.get("IMG_1.jpg", VerdictKind.SIMILAR_SHOT) is VerdictKind.SIMILAR_SHOT


def test_the_array_fast_path_agrees_with_the_verdict_pair_by_pair(monkeypatch):
    """decide_on_arrays decides on arrays what verdict() would decide one pair at a time:
    every pair it calls a similar shot or a copy is one, and split_pairs gives the same split with
    and without it, over random captures with missing fields, time-zone shifts,
    lineage, same bytes, same pixels and photos without any capture."""
    import random

    import numpy as np

    from desktop_app.engine.search import verdicts
    from desktop_app.engine.types import Capture, ImageRecord, PairSet, VerdictKind

    rng = random.Random(7)
    times = ["2024-05-01T14:22:48", "2024-05-01T15:22:48", "2024-05-01T14:22:49", "bad", None]
    records = {}
    for i in range(1, 161):
        capture = None
        if rng.random() < 0.85:
            capture = Capture(
                taken=rng.choice(times),
                subsec=rng.choice(["12", "120", "24", None]),
                make=rng.choice(["Canon", None]),
                model=rng.choice(["EOS R5", "EOS R6", None]),
                serial=rng.choice(["111", "222", None]),
                unique_id=rng.choice(["u1", "u2", None, None]),
                exposure_time=rng.choice([1 / 250, 1 / 125, None]),
                f_number=rng.choice([4.0, 4.02, 5.6, None]),
                iso=rng.choice([100, 200, None]),
                exposure_bias=rng.choice([0.0, -1.0, None]),
                document_id=rng.choice([None] * 6 + ["doc1"]),
                derived_from=rng.choice([None] * 8 + ["doc1", "p3.jpg"]),
            )
        records[i] = ImageRecord(
            id=i,
            path=f"/lib/p{i}.jpg",
            size=1000,
            mtime_ns=0,
            digest=bytes([rng.randrange(120)]) * 16,
            phash=0,
            width=10,
            height=10,
            format="JPEG",
            taken=None,
            camera=None,
            capture=capture,
            pixel_digest=rng.choice([None, bytes([rng.randrange(140)]) * 16]),
        )
    keys = sorted({tuple(sorted(rng.sample(range(1, 161), 2))) for _ in range(4000)})
    pairs = PairSet(
        np.array([k[0] for k in keys], dtype=np.int64),
        np.array([k[1] for k in keys], dtype=np.int64),
        np.array([rng.randrange(17) for _ in keys], dtype=np.uint8),
        np.zeros(len(keys), dtype=np.uint8),
        16,
    )
    copies, shots = verdicts.split_pairs(pairs, lambda ids: records)
    captured = {i for i, r in records.items() if r.capture is not None and r.capture.shot}
    twins: dict[bytes, list[int]] = {}
    for i in captured:
        if records[i].pixel_digest is not None:
            twins.setdefault(records[i].pixel_digest, []).append(i)
    rows = np.arange(len(pairs))
    sure_shots, sure_copies = verdicts.decide_on_arrays(pairs, rows, records, captured, twins)
    assert (
        sure_shots.sum() > 0
        and sure_copies.sum() > 0
        and (sure_shots | sure_copies).sum() < len(pairs)
    )
    for k in np.flatnonzero(sure_shots | sure_copies).tolist():
        a, b = records[int(pairs.a[k])], records[int(pairs.b[k])]
        judged = verdicts.verdict(a, b, int(pairs.distance[k]))
        assert judged.is_copy == bool(sure_copies[k])
        assert judged.kind is not VerdictKind.SIMILAR_SHOT or sure_shots[k]
    monkeypatch.setattr(
        verdicts,
        "decide_on_arrays",
        lambda pairs, rows, *_: (np.zeros(rows.size, dtype=bool), np.zeros(rows.size, dtype=bool)),
    )
    slow_copies, slow_shots = verdicts.split_pairs(pairs, lambda ids: records)
    assert set(zip(copies.a.tolist(), copies.b.tolist(), strict=True)) == set(
        zip(slow_copies.a.tolist(), slow_copies.b.tolist(), strict=True)
    )
    assert len(shots) == len(slow_shots)


def test_the_ids_of_pairs_are_each_id_once_in_order() -> None:
    import numpy as np

    from desktop_app.engine.search.verdicts import _ids_of
    from desktop_app.engine.types import PairSet

    rng = np.random.default_rng(5)
    for top in (50, 10**9):  # dense ids (a mask) and sparse ones (a sort)
        a = rng.integers(1, top, 300)
        b = a + rng.integers(1, 40, 300)
        pairs = PairSet(a, b, np.zeros(300, np.uint8), np.zeros(300, np.uint8), 12)
        assert _ids_of(pairs).tolist() == np.unique(np.concatenate([a, b])).tolist()
