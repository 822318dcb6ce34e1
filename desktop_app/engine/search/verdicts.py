"""Copy or different shot: the verdict on a pair of near photos, with its evidence.

The pHash says two pictures look alike; it cannot tell a copy of a photo from the next
frame of the same burst, or from a bracketed exposure one stop darker (pHash ignores
brightness). The camera can: every exposure it writes carries its own capture time to
the sub-second, its body, its exposure. :func:`verdict` weighs, in this order:

1. ``identical``: the same bytes (equal file digests).
2. ``same_pixels``: the same picture with other metadata (equal pixel digests,
   ``imaging/identity.py``): a copy whose EXIF was stripped, rewritten or retimed.
3. ``copy`` by lineage: the same xmpMM:DocumentID / OriginalDocumentID, one derived from
   the other (xmpMM:DerivedFrom), or the same capture time to the sub-second from the
   same camera.
4. ``similar_shot``: both files carry capture metadata and it says they are different
   exposures: another capture time or sub-second, another camera body or
   ImageUniqueID, another exposure. A capture time moved by whole hours with
   everything else equal is a time-zone fix, not another shot: still a copy.
5. ``copy``: otherwise. Where one file has no capture metadata nothing contradicts the
   pixels, and the pixels decide.

:func:`verdict` is pure: it only reads the two records (and the distance for the
evidence). ``Library`` applies it to every pair it returns; ``split_pairs`` does that on
a whole :class:`PairSet`, looking only at the pairs where both ends have a capture.
"""

from __future__ import annotations

import logging
import math
import re
from collections.abc import Callable, Mapping
from dataclasses import replace

import numpy as np
import numpy.typing as npt

from desktop_app.engine.catalog import records as catalog_records
from desktop_app.engine.types import (
    Capture,
    ImageRecord,
    PairSet,
    PairVerdict,
    VerdictKind,
)

log = logging.getLogger(__name__)

#: Relative difference above which two exposure values differ (rationals written by
#: different tools round differently: 1/250 as 0.004 or 4/1000).
EXPOSURE_TOLERANCE = 0.01

#: Bits of pHash distance one stop of brightness weighs as, when a photo without a
#: capture is attributed to the captured photo it copies (:func:`attribute`). Chosen on
#: half A of ``benchmarks/quality_shots.py`` (0 to 16 tried; 2 had the fewest false pairs).
STOP_BITS = 2.0

#: Largest shift, in hours, accepted as a time-zone fix (UTC-12 to UTC+14).
MAX_ZONE_HOURS = 26

_FILE_NAME = re.compile(r"^[^/\\:]+\.[A-Za-z0-9]{2,5}$")


def verdict(a: ImageRecord, b: ImageRecord, distance: int | None = None) -> PairVerdict:
    """The verdict on two photos found near each other, and its evidence.

    Args:
        a: One photo.
        b: The other.
        distance: Their pHash distance, for the evidence (None when unknown).

    Returns:
        The verdict (see the module docstring for the rules).
    """
    if a.digest is not None and a.digest == b.digest:
        return PairVerdict(VerdictKind.IDENTICAL, ("same bytes",))
    if a.pixel_digest is not None and a.pixel_digest == b.pixel_digest:
        return PairVerdict(VerdictKind.SAME_PIXELS, ("same pixels, other metadata",))
    near = () if distance is None else (f"near in pHash ({distance} bits)",)
    ca, cb = a.capture, b.capture
    lineage = _lineage(a, ca, b, cb)
    if lineage:
        return PairVerdict(VerdictKind.COPY, (*lineage, *near))
    if ca is None or cb is None or not ca.shot or not cb.shot:
        missing = [r.name for r, c in ((a, ca), (b, cb)) if c is None or not c.shot]
        return PairVerdict(
            VerdictKind.COPY, (*near, f"no capture metadata on {' and '.join(missing)}")
        )
    differences, zone_shift = _differences(ca, cb)
    if differences:
        return PairVerdict(VerdictKind.SIMILAR_SHOT, tuple(differences))
    agree = [f"same capture time {_clock(ca)}"]
    if zone_shift:
        agree = [f"capture time moved by {zone_shift} h (a time-zone fix), all else equal"]
    if ca.serial and ca.serial == cb.serial:
        agree.append("same camera body")
    elif ca.model and ca.model == cb.model:
        agree.append("same camera")
    return PairVerdict(VerdictKind.COPY, (*agree, *near))


def _clock(c: Capture) -> str:
    """ "14:22:48.120" from the capture time."""
    clock = (c.taken or "")[11:19]
    return f"{clock}.{c.subsec}" if c.subsec else clock


def _ids(c: Capture | None) -> set[str]:
    if c is None:
        return set()
    return {v for v in (c.document_id, c.original_document_id) if v}


def _lineage(a: ImageRecord, ca: Capture | None, b: ImageRecord, cb: Capture | None) -> list[str]:
    """Positive evidence that one file comes from the other, or both from one exposure."""
    found = []
    shared = _ids(ca) & _ids(cb)
    if shared:
        found.append(f"same document id {min(shared)}")
    for x, cx, y, cy in ((a, ca, b, cb), (b, cb, a, ca)):
        derived = cx.derived_from if cx is not None else None
        if derived and (derived in _ids(cy) or derived == y.name):
            found.append(f"{x.name} derived from {y.name}")
    if ca is not None and cb is not None:
        shared_source = ca.derived_from and ca.derived_from == cb.derived_from
        if shared_source and not _FILE_NAME.match(ca.derived_from or ""):
            found.append("derived from the same document")  # a file name is not unique
        if (
            ca.shot
            and ca.taken == cb.taken
            and ca.subsec
            and _same_subsec(ca.subsec, cb.subsec)
            and (ca.model or ca.serial)
            and ca.model == cb.model
            and ca.make == cb.make
            and not _differences(ca, cb)[0]  # cameras that write ".00" for every frame
        ):
            found.append(f"same capture time {_clock(ca)}")
            found.append("same camera body" if ca.serial else "same camera")
    return found


def _same_subsec(x: str | None, y: str | None) -> bool:
    """ "12" and "120" are the same fraction of a second."""
    return x is not None and y is not None and x.rstrip("0") == y.rstrip("0")


def _differ(x: object, y: object) -> bool:
    return x is not None and y is not None and x != y


def _differ_number(x: float | None, y: float | None) -> bool:
    if x is None or y is None:
        return False
    return abs(x - y) > EXPOSURE_TOLERANCE * max(abs(x), abs(y), 1e-9)


def _differences(ca: Capture, cb: Capture) -> tuple[list[str], int]:
    """What says two captured files are different exposures, and a time-zone shift in
    whole hours (0 if none) when that is the only difference."""
    out = []
    if _differ(ca.unique_id, cb.unique_id):
        out.append("another ImageUniqueID")
    if _differ(ca.serial, cb.serial):
        out.append(f"another camera body ({ca.serial} vs {cb.serial})")
    if _differ(ca.model, cb.model) or _differ(ca.make, cb.make):
        out.append(f"another camera ({ca.model or ca.make} vs {cb.model or cb.make})")
    exposure = (
        _differ_number(ca.exposure_time, cb.exposure_time)
        or _differ_number(ca.f_number, cb.f_number)
        or _differ(ca.iso, cb.iso)
        or _differ_number(ca.exposure_bias, cb.exposure_bias)
    )
    if exposure:
        out.append(f"another exposure ({ca.exposure} vs {cb.exposure})")
    subsec_differs = (
        ca.subsec is not None and cb.subsec is not None and not _same_subsec(ca.subsec, cb.subsec)
    )
    shift = 0
    if ca.taken != cb.taken:
        seconds = _seconds_between(ca.taken, cb.taken)
        hours, rest = divmod(abs(seconds), 3600) if seconds is not None else (0, 1)
        if rest == 0 and 0 < hours <= MAX_ZONE_HOURS and not subsec_differs and not out:
            shift = int(hours)
        else:
            out.append(f"other capture time ({_clock(ca)} vs {_clock(cb)})")
    elif subsec_differs:
        out.append(f"other sub-second ({_clock(ca)} vs {_clock(cb)})")
    return out, shift


def same_exposure(ca: Capture, cb: Capture) -> bool:
    """Whether two captures describe one exposure (a time-zone shift allowed)."""
    return not _differences(ca, cb)[0]


def _seconds_between(x: str | None, y: str | None) -> float | None:
    """Seconds from capture time ``x`` to ``y`` (None when either is missing or unreadable)."""
    seconds = _epoch(y) - _epoch(x)
    return None if math.isnan(seconds) else seconds


def _ids_of(pairs: PairSet) -> npt.NDArray[np.int64]:
    """The ids in ``pairs``, sorted, once each (a mask over the ids where they are dense,
    as catalog ids are: millions of pairs, a few milliseconds)."""
    top = int(max(int(pairs.a.max()), int(pairs.b.max())))
    if int(min(int(pairs.a.min()), int(pairs.b.min()))) < 0 or top > 8 * len(pairs) + 4096:
        unique: npt.NDArray[np.int64] = np.unique(np.concatenate((pairs.a, pairs.b)))
        return unique
    present = np.zeros(top + 1, dtype=bool)
    present[pairs.a] = True
    present[pairs.b] = True
    dense: npt.NDArray[np.int64] = np.flatnonzero(present).astype(np.int64)
    return dense


def split_pairs(
    pairs: PairSet,
    records: Callable[[list[int]], Mapping[int, ImageRecord]],
    cache: dict[tuple[int, int], PairVerdict] | None = None,
) -> tuple[PairSet, PairSet]:
    """Split a pair set into copies and similar shots.

    Only pairs whose two ends carry a capture can be similar shots, so only those are
    judged. A photo without one is first attributed to the captured photo it is a copy
    of, if it has a captured neighbour: the one with the same pixels, else the nearest
    (:func:`attribute`). It is then judged with that capture, so that a stripped copy of
    the first frame of a burst is no more a copy of the second frame than the first
    frame is, and no group of copies can join two exposures through it.

    Args:
        pairs: Pairs of catalog ids.
        records: Gives the records of some ids (a catalog lookup or a cached mapping).
        cache: Verdicts already made, by ``(a, b)``; filled with the new ones (with
            their attributions and same-pixel siblings, so that what a caller shows
            for a pair is what decided it).

    Returns:
        ``(copies, similar_shots)``, both with the threshold of ``pairs``.
    """
    if len(pairs) == 0:
        return pairs, pairs
    ids = _ids_of(pairs)
    found = records(ids.tolist())
    # Only the photos whose rows hold a capture are looked at (and made records of).
    captured = {
        i
        for i in catalog_records.with_capture(found)
        if (capture := found[i].capture) is not None and capture.shot
    }
    if not captured:
        return pairs, PairSet.empty(pairs.threshold)
    source = attribute(pairs, found, captured)
    twins: dict[bytes, list[int]] = {}
    for i in captured:
        pixels = found[i].pixel_digest
        if pixels is not None:
            twins.setdefault(pixels, []).append(i)
    judged_ids = np.fromiter((*captured, *source), dtype=np.int64)
    suspects = np.flatnonzero(np.isin(pairs.a, judged_ids) & np.isin(pairs.b, judged_ids))
    shot = np.zeros(len(pairs), dtype=bool)
    # Most pairs of two captured photos are decided by their capture fields alone: judge
    # those with arrays, and only the rest one by one (a library of camera photos has
    # millions of pairs within the slider's range).
    certain, copies = decide_on_arrays(pairs, suspects, found, captured, twins)
    shot[suspects[certain]] = True
    for k in suspects[~(certain | copies)].tolist():
        key = (int(pairs.a[k]), int(pairs.b[k]))
        if key[0] in captured and key[1] in captured:
            judged = cache.get(key) if cache is not None else None
            if judged is None:
                judged = verdict(found[key[0]], found[key[1]], int(pairs.distance[k]))
                if cache is not None:
                    cache[key] = judged
        else:
            judged = attributed_verdict(found, source, key[0], key[1], int(pairs.distance[k]))
        if not judged.is_copy:
            judged = _through_twins(found, twins, key, int(pairs.distance[k])) or judged
        if cache is not None:
            cache[key] = judged
        shot[k] = not judged.is_copy
    if not shot.any():
        return pairs, PairSet.empty(pairs.threshold)
    log.debug("%d of %d pairs are similar shots, not copies", int(shot.sum()), len(pairs))
    return _subset(pairs, ~shot), _subset(pairs, shot)


def verdict_among(
    records: Mapping[int, ImageRecord], a: int, b: int, distance: int | None = None
) -> PairVerdict:
    """:func:`verdict` on two of ``records``, where a same-pixel sibling among them may
    show that they are copies after all (an EXIF rewritten with another date)."""
    judged = verdict(records[a], records[b], distance)
    if judged.is_copy:
        return judged
    twins: dict[bytes, list[int]] = {}
    for i, record in records.items():
        if record.pixel_digest is not None and record.capture is not None:
            twins.setdefault(record.pixel_digest, []).append(i)
    return _through_twins(records, twins, (a, b), distance) or judged


def decide_on_arrays(
    pairs: PairSet,
    rows: npt.NDArray[np.intp],
    found: Mapping[int, ImageRecord],
    captured: set[int],
    twins: Mapping[bytes, list[int]],
) -> tuple[npt.NDArray[np.bool_], npt.NDArray[np.bool_]]:
    """Which of the pairs at ``rows`` :func:`verdict` certainly calls similar shots, and
    which certainly copies, decided on arrays of capture fields rather than pair by pair.

    Certain copies: two captured photos with the same bytes or the same pixels
    (:func:`verdict` says IDENTICAL or SAME PIXELS before it looks at anything else).

    Certain means: both photos captured, other bytes and other pixels, neither with a
    document id, original document id or derived-from (no lineage can say "copy"),
    neither with a same-pixel sibling (:func:`_through_twins` cannot say "copy"), and a
    difference :func:`_differences` names that a time-zone shift cannot explain (another
    body, camera, ImageUniqueID, exposure or sub-second, or a capture time that is not a
    whole number of hours away). Every other pair is left to :func:`verdict`.
    """
    ids = sorted(captured)
    if not ids or not rows.size:
        return np.zeros(rows.size, dtype=bool), np.zeros(rows.size, dtype=bool)
    n = len(ids)
    plain = np.zeros(n, dtype=bool)
    epoch = np.full(n, np.nan)
    text_fields = ("unique_id", "serial", "model", "make", "iso", "subsec", "taken")
    number_fields = ("exposure_time", "f_number", "exposure_bias")
    codes = {name: np.full(n, -1, dtype=np.int64) for name in (*text_fields, "bytes", "pixels")}
    numbers = {name: np.full(n, np.nan) for name in number_fields}
    vocabulary: dict[object, int] = {}

    def code(value: object) -> int:
        return -1 if value is None else vocabulary.setdefault(value, len(vocabulary))

    for k, image in enumerate(ids):
        record = found[image]
        c = record.capture
        assert c is not None
        plain[k] = not (c.document_id or c.original_document_id or c.derived_from) and not (
            record.pixel_digest is not None and len(twins.get(record.pixel_digest, ())) > 1
        )
        for name in text_fields:
            value = getattr(c, name)
            if name == "subsec" and value is not None:
                value = ("subsec", value.rstrip("0"))
            codes[name][k] = code(None if value is None else (name, value))
        codes["bytes"][k] = code(None if record.digest is None else ("d", record.digest))
        codes["pixels"][k] = code(
            None if record.pixel_digest is None else ("p", record.pixel_digest)
        )
        for name in number_fields:
            value = getattr(c, name)
            numbers[name][k] = math.nan if value is None else float(value)
        epoch[k] = _epoch(c.taken)
    sorted_ids = np.asarray(ids, dtype=np.int64)

    def rank(side: npt.NDArray[np.int64]) -> tuple[npt.NDArray[np.intp], npt.NDArray[np.bool_]]:
        at = np.minimum(np.searchsorted(sorted_ids, side), n - 1)
        return at, sorted_ids[at] == side

    a, known_a = rank(pairs.a[rows])
    b, known_b = rank(pairs.b[rows])
    both = known_a & known_b

    def differ(values: npt.NDArray[np.int64]) -> npt.NDArray[np.bool_]:
        x, y = values[a], values[b]
        out: npt.NDArray[np.bool_] = (x >= 0) & (y >= 0) & (x != y)
        return out

    def same(values: npt.NDArray[np.int64]) -> npt.NDArray[np.bool_]:
        x, y = values[a], values[b]
        out: npt.NDArray[np.bool_] = (x >= 0) & (x == y)
        return out

    hard = differ(codes["unique_id"]) | differ(codes["serial"]) | differ(codes["model"])
    hard |= differ(codes["make"]) | differ(codes["iso"]) | differ(codes["subsec"])
    for name in number_fields:
        x, y = numbers[name][a], numbers[name][b]
        with np.errstate(invalid="ignore"):
            hard |= np.abs(x - y) > EXPOSURE_TOLERANCE * np.maximum(
                np.maximum(np.abs(x), np.abs(y)), 1e-9
            )
    seconds = np.abs(epoch[b] - epoch[a])
    with np.errstate(invalid="ignore"):
        whole_hours = (seconds % 3600 == 0) & (seconds <= MAX_ZONE_HOURS * 3600)
    hard |= differ(codes["taken"]) & ~whole_hours
    twin = same(codes["bytes"]) | same(codes["pixels"])
    shots: npt.NDArray[np.bool_] = both & plain[a] & plain[b] & ~twin & hard
    copies: npt.NDArray[np.bool_] = both & twin
    return shots, copies


def _epoch(taken: str | None) -> float:
    """Seconds since the epoch of an ISO capture time (NaN when there is none)."""
    from datetime import UTC, datetime

    if taken is None:
        return math.nan
    try:
        return datetime.fromisoformat(taken).replace(tzinfo=UTC).timestamp()
    except (ValueError, OverflowError):
        return math.nan


def _through_twins(
    found: Mapping[int, ImageRecord],
    twins: Mapping[bytes, list[int]],
    key: tuple[int, int],
    distance: int | None,
) -> PairVerdict | None:
    """A copy verdict through files with the same pixels as either end, if one says so.

    The same picture can carry two captures: its EXIF was rewritten (a wrong date, a
    phone's name). The pixels are the same picture all the same, so two photos are
    copies if any same-pixel sibling of one is a copy of any of the other.
    """
    sides = []
    for image in key:
        pixels = found[image].pixel_digest
        sides.append(
            [image, *(t for t in twins.get(pixels, ()) if t != image)] if pixels else [image]
        )
    if len(sides[0]) == 1 and len(sides[1]) == 1:
        return None
    for x in sides[0]:
        for y in sides[1]:
            if (x, y) == key:
                continue
            judged = verdict(found[x], found[y], distance)
            if judged.is_copy:
                via = [found[i].name for i, end in ((x, key[0]), (y, key[1])) if i != end]
                return PairVerdict(
                    VerdictKind.COPY, (f"same pixels as {' and '.join(via)}", *judged.evidence)
                )
    return None


def attribute(
    pairs: PairSet, found: Mapping[int, ImageRecord], captured: set[int]
) -> dict[int, int]:
    """For each photo without a capture that has captured neighbours in ``pairs``: the
    one it is a copy of. Same pixels first; then the nearest by pHash distance plus
    :data:`STOP_BITS` per stop of brightness between them (pHash ignores brightness; a
    bracket one stop darker is as near as the original, but a copy keeps the
    original's brightness); on a tie, the exposure more of its captured neighbours
    share (the original and its copies that kept their metadata, over a lone burst
    frame); then the lowest id."""
    near: dict[int, list[tuple[int, int]]] = {}
    mixed = np.flatnonzero(np.isin(pairs.a, list(captured)) != np.isin(pairs.b, list(captured)))
    for k in mixed.tolist():
        a, b = int(pairs.a[k]), int(pairs.b[k])
        x, o = (b, a) if a in captured else (a, b)
        if x in found and o in found:
            near.setdefault(x, []).append((o, int(pairs.distance[k])))
    out: dict[int, int] = {}
    for x, neighbours in near.items():
        keys = [(_rank(found, x, neighbours, item), item[0]) for item in neighbours]
        out[x] = min(keys)[1]
    return out


def _rank(
    found: Mapping[int, ImageRecord],
    x: int,
    neighbours: list[tuple[int, int]],
    item: tuple[int, int],
) -> tuple[int, float, int, int]:
    """Sort key of the candidate ``item`` = (captured id, distance) for :func:`attribute`."""
    o, distance = item
    pixels = found[x].pixel_digest
    same = 0 if pixels is not None and pixels == found[o].pixel_digest else 1
    score = distance + STOP_BITS * _stops(found[x], found[o])
    mine = found[o].capture
    support = sum(
        1
        for n, _ in neighbours
        if mine is not None and (c := found[n].capture) is not None and same_exposure(mine, c)
    )
    return same, round(score * 2) / 2, -support, o  # half-bit steps: ties are ties


def _stops(a: ImageRecord, b: ImageRecord) -> float:
    """Brightness difference in stops (0 when either is unknown)."""
    if a.brightness is None or b.brightness is None:
        return 0.0
    return abs(math.log2((a.brightness + 1.0) / (b.brightness + 1.0)))


def attributed_verdict(
    found: Mapping[int, ImageRecord], source: Mapping[int, int], a: int, b: int, distance: int
) -> PairVerdict:
    """The verdict on ``a`` and ``b`` with each photo without a capture standing in for
    the captured photo it copies (``source``)."""
    ra, rb = found[a], found[b]
    notes = []
    for image in (a, b):
        if image in source:
            notes.append(f"{found[image].name} is a copy of {found[source[image]].name}")
    ea = replace(ra, capture=found[source[a]].capture) if a in source else ra
    eb = replace(rb, capture=found[source[b]].capture) if b in source else rb
    if ra.digest is not None and ra.digest == rb.digest:
        return verdict(ra, rb, distance)
    if ra.pixel_digest is not None and ra.pixel_digest == rb.pixel_digest:
        return verdict(ra, rb, distance)
    judged = verdict(ea, eb, distance)
    if judged.is_copy:
        return verdict(ra, rb, distance)
    return PairVerdict(judged.kind, (*notes, *judged.evidence))


def _subset(pairs: PairSet, keep: np.ndarray) -> PairSet:
    return PairSet(
        pairs.a[keep], pairs.b[keep], pairs.distance[keep], pairs.transform[keep], pairs.threshold
    )
