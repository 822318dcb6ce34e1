"""Confirming the pairs that pHash alone cannot vouch for, with the geometric check.

Which pairs (:func:`needs_check`): window pairs (``window_pairs.py``), pairs matched
through a rotation or mirror variant, and whole-image pairs above
:data:`CERTAIN_DISTANCE`. Between distinct photographs the pHash distance averages about
31 bits; below :data:`CERTAIN_DISTANCE` chance pairs are rare enough that the
benchmark's hard negatives never reach it, but above it two different photos do meet
(a mirrored copy of one photo and another photo 11 bits apart, on a real library). Each
such pair is re-read from its two files and checked by ``geometry.py``; a pair it does
not confirm is left out.

Verdicts are kept in ``geometry_checks``, keyed by the two files' digests and the
transform, so a pair is checked once whatever the scans that follow, and a changed file
(new digest) is checked again. Keypoints are computed once per photo (and transform)
within one call, so checking k pairs among m photos costs m reduced decodes.

How far: pairs up to the threshold asked for are always checked; beyond it, each
further slider position is checked while its unchecked pairs stay within
:data:`EXTRA_BUDGET`, and the returned set then reaches that far (its ``threshold``):
a small library gets the slider's whole range at once, a large one checks the upper
positions when the slider gets there.
"""

from __future__ import annotations

import json
import logging
import threading
from collections.abc import Mapping

import numpy as np
import numpy.typing as npt
from PIL import Image

from desktop_app.engine.catalog.store import Catalog
from desktop_app.engine.errors import UnreadableImage
from desktop_app.engine.imaging.borders import find_content_box
from desktop_app.engine.imaging.loading import apply_orientation, open_image, to_grey
from desktop_app.engine.search import geometry
from desktop_app.engine.search.window_pairs import WINDOW_BASE
from desktop_app.engine.types import GeometryCheck, ImageRecord, PairSet, Transform

log = logging.getLogger(__name__)

#: Whole-image pairs at or below this distance are copies without a further check.
#: Chosen with benchmarks/quality.py on the tuning half of its corpus.
CERTAIN_DISTANCE = 8
#: Unchecked pairs a call checks beyond the threshold asked for (about 30 ms each).
EXTRA_BUDGET = 400
#: Short side the check decodes to (JPEG DCT scaling, then box reduction).
_DECODE_SIDE = 512

Checks = dict[tuple[int, int], GeometryCheck]


def needs_check(pairs: PairSet) -> npt.NDArray[np.bool_]:
    """Which pairs the geometric check must confirm before they are shown."""
    need: npt.NDArray[np.bool_] = (pairs.transform != 0) | (pairs.distance > CERTAIN_DISTANCE)
    return need


def confirm(
    catalog: Catalog,
    pairs: PairSet,
    wanted: int,
    records: Mapping[int, ImageRecord],
    *,
    max_pixels: int,
    trim: bool = True,
    cancel: threading.Event | None = None,
) -> tuple[PairSet, Checks]:
    """Keep the pairs that are certain or confirmed, as far as the budget allows.

    Args:
        catalog: Holds the verdicts already reached (and receives the new ones).
        pairs: Candidate pairs; window pairs carry codes from ``WINDOW_BASE`` up.
        wanted: Every pair up to this threshold is decided.
        records: Catalog records of the images (paths and digests).
        max_pixels: Decompression-bomb limit for re-reading the files.
        trim: Cut flat borders, as the hash does.
        cancel: Stops checking; the pairs not checked yet are then left out.

    Returns:
        ``(pairs, checks)``: the kept pairs, complete to their ``threshold`` (between
        ``wanted`` and ``pairs.threshold``), all with Transform codes (a window pair
        becomes IDENTITY), and the verdicts by ``(a, b)`` of the kept pairs that
        needed one.
    """
    need = needs_check(pairs)
    known = _load_verdicts(catalog, pairs, need, records)
    pending_by_threshold = np.zeros(pairs.threshold + 2, np.int64)
    for k in np.flatnonzero(need).tolist():
        if (int(pairs.a[k]), int(pairs.b[k])) not in known:
            pending_by_threshold[int(pairs.distance[k])] += 1
    reach = min(wanted, pairs.threshold)
    budget = EXTRA_BUDGET
    while reach < pairs.threshold and pending_by_threshold[reach + 1] <= budget:
        reach += 1
        budget -= int(pending_by_threshold[reach])
    todo = [
        k
        for k in np.flatnonzero(need & (pairs.distance <= reach)).tolist()
        if (int(pairs.a[k]), int(pairs.b[k])) not in known
    ]
    if todo:
        log.info("Checking %d pairs geometrically (up to distance %d)", len(todo), reach)
        fresh = _check_pairs(pairs, todo, records, max_pixels, trim, cancel)
        _store_verdicts(catalog, pairs, fresh, records)
        known.update(fresh)
    keep = (pairs.distance <= reach) & ~need
    checks: Checks = {}
    for k in np.flatnonzero(need & (pairs.distance <= reach)).tolist():
        key = (int(pairs.a[k]), int(pairs.b[k]))
        verdict = known.get(key)
        if verdict is not None and verdict.confirmed:
            keep[k] = True
            checks[key] = verdict
    transform = np.where(pairs.transform >= WINDOW_BASE, 0, pairs.transform).astype(np.uint8)
    kept = PairSet(pairs.a[keep], pairs.b[keep], pairs.distance[keep], transform[keep], int(reach))
    return kept, checks


def _pair_transform(code: int) -> int:
    """The Transform a pair's first photo is turned by before the check."""
    return 0 if code >= WINDOW_BASE else code


def _check_pairs(
    pairs: PairSet,
    todo: list[int],
    records: Mapping[int, ImageRecord],
    max_pixels: int,
    trim: bool,
    cancel: threading.Event | None,
) -> Checks:
    pictures: dict[int, Image.Image | None] = {}
    points: dict[tuple[int, int], geometry.Keypoints | None] = {}

    def keypoints_of(image_id: int, transform: int) -> geometry.Keypoints | None:
        key = (image_id, transform)
        if key not in points:
            if image_id not in pictures:
                pictures[image_id] = _picture(records.get(image_id), max_pixels, trim)
            picture = pictures[image_id]
            points[key] = (
                None
                if picture is None
                else geometry.keypoints(geometry.prepare(picture, Transform(transform)))
            )
        return points[key]

    out: Checks = {}
    for k in todo:
        if cancel is not None and cancel.is_set():
            break
        a, b, code = int(pairs.a[k]), int(pairs.b[k]), int(pairs.transform[k])
        transform = _pair_transform(code)
        first, second = keypoints_of(a, transform), keypoints_of(b, 0)
        if first is None or second is None:
            continue  # unreadable now: decided next time, never cached
        out[(a, b)] = geometry.compare(first, second, turned=Transform(transform))
    return out


def load_picture(path: str, max_pixels: int, trim: bool = True) -> Image.Image:
    """The upright greyscale picture the check works on, reduced, borders cut.

    Raises:
        UnreadableImage: The file cannot be read or decoded.
        OSError: The file is gone or unreadable.
    """
    with open(path, "rb") as file:
        data = file.read()
    opened = open_image(data, path, max_pixels)
    image = opened.image
    if image.format in ("JPEG", "MPO"):
        image.draft("L", (_DECODE_SIDE, _DECODE_SIDE))
    image.load()
    grey = apply_orientation(to_grey(image), opened.exif.orientation)
    while min(grey.size) >= 4 * _DECODE_SIDE:
        grey = grey.reduce(2)
    if trim:
        box = find_content_box(np.asarray(grey))
        if box != (0, 0, grey.width, grey.height):
            grey = grey.crop(box)
    return grey


def _picture(record: ImageRecord | None, max_pixels: int, trim: bool) -> Image.Image | None:
    if record is None:
        return None
    try:
        return load_picture(record.path, max_pixels, trim)
    except (OSError, UnreadableImage) as error:
        log.warning("Cannot re-read %s for the geometric check: %s", record.path, error)
        return None


def _digests(
    pairs: PairSet, k: int, records: Mapping[int, ImageRecord]
) -> tuple[bytes, bytes] | None:
    first = records.get(int(pairs.a[k]))
    second = records.get(int(pairs.b[k]))
    if first is None or second is None or first.digest is None or second.digest is None:
        return None
    return first.digest, second.digest


def _load_verdicts(
    catalog: Catalog,
    pairs: PairSet,
    need: npt.NDArray[np.bool_],
    records: Mapping[int, ImageRecord],
) -> Checks:
    """Verdicts already in the catalog for the pairs that need one."""
    wanted: dict[tuple[bytes, bytes, int], tuple[int, int]] = {}
    for k in np.flatnonzero(need).tolist():
        digests = _digests(pairs, k, records)
        if digests is not None:
            code = _pair_transform(int(pairs.transform[k]))
            wanted[(digests[0], digests[1], code)] = (int(pairs.a[k]), int(pairs.b[k]))
    if not wanted:
        return {}
    out: Checks = {}
    rows = catalog.execute(
        "SELECT first, second, transform, confirmed, evidence, cropped, frame FROM geometry_checks"
    ).fetchall()
    for first, second, code, confirmed, evidence, cropped, frame in rows:
        key = wanted.get((bytes(first), bytes(second), int(code)))
        if key is None:
            continue
        out[key] = GeometryCheck(
            bool(confirmed),
            tuple(json.loads(evidence)),
            cropped,
            None if frame is None else tuple(json.loads(frame)),
        )
    return out


def _store_verdicts(
    catalog: Catalog, pairs: PairSet, fresh: Checks, records: Mapping[int, ImageRecord]
) -> None:
    index = {(int(a), int(b)): k for k, (a, b) in enumerate(zip(pairs.a, pairs.b, strict=True))}
    rows = []
    for key, verdict in fresh.items():
        k = index[key]
        digests = _digests(pairs, k, records)
        if digests is None:
            continue
        rows.append(
            (
                digests[0],
                digests[1],
                _pair_transform(int(pairs.transform[k])),
                int(verdict.confirmed),
                json.dumps(list(verdict.evidence)),
                verdict.cropped,
                None if verdict.frame is None else json.dumps(list(verdict.frame)),
            )
        )
    with catalog.transaction() as db:
        db.executemany(
            "INSERT OR REPLACE INTO geometry_checks(first, second, transform, confirmed,"
            " evidence, cropped, frame) VALUES(?, ?, ?, ?, ?, ?, ?)",
            rows,
        )


def stored_checks(catalog: Catalog, records: Mapping[int, ImageRecord]) -> Checks:
    """Every confirmed verdict in the catalog, by the ``(a, b)`` ids of the records whose
    files it was reached on (for a Library that did not run :func:`confirm` itself)."""
    by_digest: dict[bytes, list[int]] = {}
    for record in records.values():
        if record.digest is not None:
            by_digest.setdefault(record.digest, []).append(record.id)
    out: Checks = {}
    rows = catalog.execute(
        "SELECT first, second, evidence, cropped, frame FROM geometry_checks WHERE confirmed = 1"
    ).fetchall()
    for first, second, evidence, cropped, frame in rows:
        check = GeometryCheck(
            True,
            tuple(json.loads(evidence)),
            cropped,
            None if frame is None else tuple(json.loads(frame)),
        )
        swapped = GeometryCheck(
            True, check.evidence, {"a": "b", "b": "a"}.get(cropped, ""), check.frame
        )
        for a in by_digest.get(bytes(first), ()):
            for b in by_digest.get(bytes(second), ()):
                if a != b:
                    out[(min(a, b), max(a, b))] = check if a < b else swapped
    return out
