"""Similar shots, for culling: bursts and brackets gathered in capture-time order.

Two photos belong to one shot group when they are a ``similar_shot`` pair (near in
pHash, different exposures, ``verdicts.py``) or when the same camera body took them
within :data:`BURST_SECONDS` of each other. Copies never count: files with the same
capture (one exposure and its copies that kept their metadata) stand as one member,
the first by path, and photos without a capture time take no part.
"""

from __future__ import annotations

import itertools
import logging
from collections.abc import Mapping
from datetime import datetime

from desktop_app.engine.search.verdicts import same_exposure, verdict
from desktop_app.engine.types import Capture, ImageRecord, PairSet, ShotGroup

log = logging.getLogger(__name__)

#: Same camera body, at most this many seconds apart: one burst or bracket.
BURST_SECONDS = 3.0


def capture_seconds(capture: Capture) -> float | None:
    """The capture time in seconds (naive local time), with its sub-second."""
    if capture.taken is None:
        return None
    try:
        seconds = datetime.fromisoformat(capture.taken).timestamp()
    except (ValueError, OverflowError, OSError):
        return None
    if capture.subsec:
        seconds += int(capture.subsec) / 10 ** len(capture.subsec)
    return seconds


def _exposure_key(capture: Capture) -> tuple[object, ...]:
    """Equal for one exposure, its copies and its time-zone fixes (minutes and seconds
    stay when hours move); :func:`verdicts.same_exposure` then confirms."""
    return (
        (capture.taken or "")[14:19],
        (capture.subsec or "").rstrip("0"),
        capture.make,
        capture.model,
        capture.serial,
        capture.exposure_time,
        capture.f_number,
        capture.iso,
        capture.exposure_bias,
    )


def _camera_key(capture: Capture) -> tuple[object, ...]:
    return (capture.make, capture.model, capture.serial)


def shot_groups(
    records: Mapping[int, ImageRecord], similar: PairSet, *, seconds: float = BURST_SECONDS
) -> list[ShotGroup]:
    """Group similar shots, largest group first, members in capture-time order.

    Args:
        records: The library's records by id.
        similar: Pairs judged ``similar_shot`` (``Library.similar_shot_pairs``).
        seconds: Largest gap between two frames of one burst from one camera.

    Returns:
        The groups of two or more exposures.
    """
    # One member per exposure: copies that kept their capture fold into the first by path.
    representative: dict[int, int] = {}
    first_of: dict[tuple[object, ...], list[int]] = {}
    by_pixels: dict[bytes, int] = {}
    timed: list[tuple[tuple[object, ...], float, int]] = []
    for record in sorted(records.values(), key=lambda r: r.path):
        capture = record.capture
        if capture is None or not capture.shot or record.phash is None:
            continue
        key = _exposure_key(capture)
        same = [
            r
            for r in first_of.get(key, ())
            if same_exposure(capture, records[r].capture or capture)
        ]
        twin = by_pixels.get(record.pixel_digest) if record.pixel_digest else None
        if same or twin is not None:
            representative[record.id] = same[0] if same else twin  # type: ignore[assignment]
            continue
        representative[record.id] = record.id
        first_of.setdefault(key, []).append(record.id)
        if record.pixel_digest:
            by_pixels[record.pixel_digest] = record.id
        when = capture_seconds(capture)
        if when is not None:
            timed.append((_camera_key(capture), when, record.id))
    parent: dict[int, int] = {}

    def find(x: int) -> int:
        parent.setdefault(x, x)
        while parent[x] != x:
            parent[x] = parent[parent[x]]
            x = parent[x]
        return x

    def union(x: int, y: int) -> None:
        rx, ry = find(x), find(y)
        if rx != ry:
            parent[max(rx, ry)] = min(rx, ry)

    for a, b in zip(similar.a.tolist(), similar.b.tolist(), strict=True):
        ra, rb = representative.get(a), representative.get(b)
        if ra is not None and rb is not None and ra != rb:
            union(ra, rb)
    timed.sort(key=lambda t: (repr(t[0]), t[1]))
    for (cam, when, image), (next_cam, next_when, next_image) in itertools.pairwise(timed):
        close = cam == next_cam and next_when - when <= seconds
        if close and not verdict(records[image], records[next_image]).is_copy:
            union(image, next_image)
    members: dict[int, list[int]] = {}
    for image in parent:
        members.setdefault(find(image), []).append(image)
    groups = []
    for ids in members.values():
        if len(ids) < 2:
            continue
        ordered = sorted(
            (records[i] for i in ids),
            key=lambda r: (capture_seconds(r.capture) or 0.0 if r.capture else 0.0, r.path),
        )
        groups.append(ordered)
    groups.sort(key=lambda g: (-len(g), g[0].capture.taken if g[0].capture else "", g[0].path))
    log.debug("%d groups of similar shots", len(groups))
    return [ShotGroup(i, tuple(g)) for i, g in enumerate(groups)]
