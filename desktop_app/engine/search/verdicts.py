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
import re
from collections.abc import Callable, Mapping

import numpy as np

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
        if ca.derived_from and ca.derived_from == cb.derived_from:
            if not _FILE_NAME.match(ca.derived_from):  # a file name alone is not unique
                found.append("derived from the same document")
        if (
            ca.shot
            and ca.taken == cb.taken
            and ca.subsec
            and _same_subsec(ca.subsec, cb.subsec)
            and (ca.model or ca.serial)
            and ca.model == cb.model
            and ca.make == cb.make
            and not _differ(ca.serial, cb.serial)
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


def _seconds_between(x: str | None, y: str | None) -> int | None:
    from datetime import datetime

    if x is None or y is None:
        return None
    try:
        return int((datetime.fromisoformat(y) - datetime.fromisoformat(x)).total_seconds())
    except ValueError:
        return None


def split_pairs(
    pairs: PairSet,
    records: Callable[[list[int]], Mapping[int, ImageRecord]],
    cache: dict[tuple[int, int], PairVerdict] | None = None,
) -> tuple[PairSet, PairSet]:
    """Split a pair set into copies and similar shots.

    Only pairs whose two ends both carry a capture can be similar shots, so only those
    are judged; the others are copies whatever :func:`verdict` adds as evidence.

    Args:
        pairs: Pairs of catalog ids.
        records: Gives the records of some ids (a catalog lookup or a cached mapping).
        cache: Verdicts already made, by ``(a, b)``; filled with the new ones.

    Returns:
        ``(copies, similar_shots)``, both with the threshold of ``pairs``.
    """
    if len(pairs) == 0:
        return pairs, pairs
    ids = np.unique(np.concatenate((pairs.a, pairs.b)))
    found = records([int(i) for i in ids])
    captured = np.fromiter(
        (i for i, r in found.items() if r.capture is not None and r.capture.shot), dtype=np.int64
    )
    suspects = np.flatnonzero(np.isin(pairs.a, captured) & np.isin(pairs.b, captured))
    shot = np.zeros(len(pairs), dtype=bool)
    for k in suspects.tolist():
        key = (int(pairs.a[k]), int(pairs.b[k]))
        judged = cache.get(key) if cache is not None else None
        if judged is None:
            judged = verdict(found[key[0]], found[key[1]], int(pairs.distance[k]))
            if cache is not None:
                cache[key] = judged
        shot[k] = not judged.is_copy
    if not shot.any():
        return pairs, PairSet.empty(pairs.threshold)
    log.debug("%d of %d pairs are similar shots, not copies", int(shot.sum()), len(pairs))
    return _subset(pairs, ~shot), _subset(pairs, shot)


def _subset(pairs: PairSet, keep: np.ndarray) -> PairSet:  # type: ignore[type-arg]
    return PairSet(
        pairs.a[keep], pairs.b[keep], pairs.distance[keep], pairs.transform[keep], pairs.threshold
    )
