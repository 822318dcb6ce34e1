"""The keep rule "original": among copies, the file the camera wrote.

A photographer keeps the camera original, not the largest or the best-named file: a
watermarked proof, a brightened edit saved at q95, a PNG or greyscale TIFF conversion or
a copy with a white frame added may all be larger, yet none is the original. The rule
narrows the candidates by these steps, in order, each a piece of evidence:

1. **capture metadata**: the file carries the camera's record of the exposure (a
   capture time); conversions and web exports usually lost it; then the capture that
   agrees with more of the other copies' (a rewritten EXIF agrees with none);
2. **the camera's format**: RAW, then the camera's JPEG or HEIC, over a conversion (a
   PNG or TIFF made from a JPEG), as long as it has the largest picture (a half-size
   JPEG is not the original of a full-size PNG);
3. **colour** over greyscale;
4. **no added frame**: flat bands on both axes (``borders.py``'s trimmed size) mean a
   frame was added; a single flat edge (sky, a backdrop) is left alone;
5. **closest to the group**: a watermark or an edit moves a copy away from the others;
   members more than :data:`CONSENSUS_MARGIN` bits further from the rest (on average)
   than the closest one drop out (groups of three or more);
6. among **byte-identical** copies only: a folder organised by date or named like an
   archive over an import, download or "copy" folder.

A step that does not separate the candidates passes them all on; the next criterion
of the keep rules (pixels, format, ...) then decides. The keeper's reason names the
step that decided: "kept: the camera original, capture metadata (2024-05-01 14:22:48
vs none)".
"""

from __future__ import annotations

import os
import re
from collections.abc import Callable, Sequence

from desktop_app.engine.selection.format_families import format_family
from desktop_app.engine.types import ImageRecord, Member, Transform

#: A copy that is this many bits further from the others, on average, than the member
#: closest to them deviates (a watermark, an edit); smaller spreads are noise.
CONSENSUS_MARGIN = 2.0

#: Share of the width and of the height that flat bands must take for a frame.
FRAME_SHARE = 0.02

_ARCHIVE = re.compile(
    r"^(?:(?:19|20)\d\d(?:[-_. ]?\d\d){0,2}(?:\b.*)?|archive[sd]?|archiv|originals?|masters?"
    r"|library|photos|pictures|fotos|bilder)$",
    re.IGNORECASE,
)
_TRANSIENT = re.compile(
    r"(?:^|[\s_-])(?:imports?|downloads?|incoming|inbox|te?mp|copy|copies|kopie|copie|dcim"
    r"|desktop|unsorted|to[\s_-]?sort)(?:$|[\s_-])",
    re.IGNORECASE,
)


def _format_class(record: ImageRecord) -> int:
    family = format_family(record)
    return 0 if family == "RAW" else 1 if family in ("JPEG", "HEIC") else 2


def framed(record: ImageRecord) -> bool:
    """Whether flat bands were found on both axes: an added frame, not a flat edge."""
    if record.content_width is None or record.content_height is None:
        return False
    return record.content_width < record.width * (
        1 - FRAME_SHARE
    ) and record.content_height < record.height * (1 - FRAME_SHARE)


def folder_score(path: str) -> int:
    """-1 for a dated or archive folder, 1 for an import, download or copy folder, else 0
    (the nearest folder that says either decides)."""
    parts = [p for p in os.path.dirname(path).split(os.sep) if p]
    for part in reversed(parts):
        if _TRANSIENT.search(part):
            return 1
        if _ARCHIVE.match(part):
            return -1
    return 0


def _distance(members: Sequence[Member], i: int, j: int) -> int | None:
    a, b = members[i], members[j]
    if i == 0:
        return b.distance
    if j == 0:
        return a.distance
    plain = a.transform is Transform.IDENTITY and b.transform is Transform.IDENTITY
    if plain and a.image.phash is not None and b.image.phash is not None:
        return (a.image.phash ^ b.image.phash).bit_count()
    return None


def _consensus(members: Sequence[Member]) -> dict[int, float]:
    """Each member's mean distance to the others (where known)."""
    out = {}
    for i in range(len(members)):
        known = [
            d for j in range(len(members)) if j != i and (d := _distance(members, i, j)) is not None
        ]
        if known:
            out[i] = sum(known) / len(known)
    return out


_FORMAT = "the camera's format"


def _agreeing(members: Sequence[Member]) -> dict[int, int]:
    """For each member: how many other members' captures say the same exposure (a
    rewritten EXIF, with another date or camera, agrees with none of its copies)."""
    from desktop_app.engine.search.verdicts import same_exposure

    captures = [m.image.capture for m in members]
    out = {}
    for i, c in enumerate(captures):
        out[i] = sum(
            1
            for j, d in enumerate(captures)
            if j != i
            and c is not None
            and d is not None
            and c.shot
            and d.shot
            and same_exposure(c, d)
        )
    return out


def _has_largest(members: Sequence[Member], survivors: list[int], alive: list[int]) -> bool:
    """Whether a survivor has (within 2 %) the largest picture of the candidates."""
    largest = max(members[i].image.picture_pixels for i in alive)
    return any(members[i].image.picture_pixels >= 0.98 * largest for i in survivors)


_Step = tuple[str, Callable[[int], float], Callable[[int], str]]


def _steps(members: Sequence[Member], alive: list[int]) -> list[_Step]:
    def record(i: int) -> ImageRecord:
        return members[i].image

    def capture_text(i: int) -> str:
        c = record(i).capture
        return (c.when if c is not None and c.when else None) or "none"

    def format_text(i: int) -> str:
        return format_family(record(i))

    agreeing = _agreeing(members)
    steps: list[_Step] = [
        (
            "capture metadata",
            lambda i: 0.0 if (c := record(i).capture) is not None and c.shot else 1.0,
            capture_text,
        ),
        (
            "capture agrees with the other copies",
            lambda i: -float(agreeing[i]),
            lambda i: f"agrees with {agreeing[i]}",
        ),
        (_FORMAT, lambda i: float(_format_class(record(i))), format_text),
        (
            "colour",
            lambda i: float(record(i).greyscale),
            lambda i: "greyscale" if record(i).greyscale else "colour",
        ),
        (
            "no added frame",
            lambda i: float(framed(record(i))),
            lambda i: "added frame" if framed(record(i)) else "no frame",
        ),
    ]
    if len(members) >= 3:
        spread = _consensus(members)
        if all(i in spread for i in alive):
            best = min(spread[i] for i in alive)
            steps.append(
                (
                    "closest to the other copies",
                    lambda i: 0.0 if spread[i] <= best + CONSENSUS_MARGIN else 1.0,
                    lambda i: f"{spread[i]:.1f} bits from them on average",
                )
            )
    digests = {record(i).digest for i in alive}
    if len(digests) == 1 and None not in digests:
        steps.append(
            (
                "dated or archive folder over an import or copy folder",
                lambda i: float(folder_score(record(i).path)),
                lambda i: os.path.basename(os.path.dirname(record(i).path)) or "/",
            )
        )
    return steps


def narrow(
    members: Sequence[Member], alive: list[int], losses: dict[int, str] | None
) -> tuple[list[int], str | None]:
    """Apply the steps of the rule to the candidates ``alive`` (indexes into ``members``).

    Args:
        members: The group's members.
        alive: The candidates still in the running, in path order.
        losses: Filled with why each dropped candidate lost, if given.

    Returns:
        The candidates left, and the keeper's reason if a step separated them.
    """
    reason = None
    for label, key, show in _steps(members, alive):
        if len(alive) == 1:
            break
        keys = {i: key(i) for i in alive}
        best = min(keys.values())
        survivors = [i for i in alive if keys[i] == best]
        if len(survivors) == len(alive):
            continue
        if label == _FORMAT and not _has_largest(members, survivors, alive):
            continue  # a half-size JPEG is not the original of a full-size PNG
        dropped = [i for i in alive if keys[i] != best]
        winner = survivors[0]
        if losses is not None:
            for i in dropped:
                losses[i] = (
                    f"not kept: not the camera original, {label} ({show(i)} vs {show(winner)})"
                )
        reason = f"kept: the camera original, {label} ({show(winner)} vs {show(dropped[0])})"
        alive = survivors
    return alive, reason
