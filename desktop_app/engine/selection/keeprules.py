"""Keep-the-best rules: the criteria that decide which copy of a photo to keep.

A :class:`KeepRules` is an ordered list of :class:`Criterion` with their preferences
(the format order, the preferred folders); :func:`choose` applies it to the members of
a group, narrowing the candidates criterion by criterion, and says which criterion
decided and on what values, for the window's tooltip: "kept: largest pixel count
(6000x4000 vs 3000x2000)". Rules are saved by name as presets (``presets.py``);
``plans.py`` turns the choices into marks.
"""

from __future__ import annotations

import enum
import os
import re
from collections.abc import Sequence
from dataclasses import dataclass
from typing import Any

from desktop_app.engine.errors import UsageError
from desktop_app.engine.paths import is_within
from desktop_app.engine.selection import lineage, original
from desktop_app.engine.selection.format_families import FAMILIES as FAMILIES
from desktop_app.engine.selection.format_families import format_family as format_family
from desktop_app.engine.types import ImageRecord, Member
from desktop_app.engine.units import human_size


class Criterion(enum.StrEnum):
    """One way to compare copies; the names are what presets and ``--keep`` use."""

    ORIGINAL = "original"
    PIXELS = "pixels"
    FORMAT = "format"
    SIZE = "size"
    DATE = "date"
    PATH = "path"
    FOLDER = "folder"
    #: Lineage from XMP (``lineage.py``): the file others were exported from...
    SOURCE = "source"
    #: ... or the edited export made from it.
    EDITED = "edited"

    @property
    def label(self) -> str:
        """How the user sees it ("largest pixel count")."""
        return _LABELS[self]


#: Relative differences below which two copies count as equal on a numeric criterion.
#: Pixels: the picture's size is measured at reduced scale (see ``hashing.py``), so a
#: framed copy's picture comes out a few pixels off the original's; real resizes differ
#: by far more. File size: re-encoding the same pixels moves the size by a few percent
#: either way (a brightened or re-saved copy is not a better photo for being 2 % larger),
#: so smaller differences are left to the next criterion, such as the date taken.
TOLERANCE = {"pixels": 0.02, "size": 0.05}

_LABELS = {
    Criterion.ORIGINAL: "the camera original",
    Criterion.PIXELS: "largest pixel count",
    Criterion.FORMAT: "preferred format",
    Criterion.SIZE: "larger file",
    Criterion.DATE: "earliest date taken",
    Criterion.PATH: "path without a copy suffix, then shortest path",
    Criterion.FOLDER: "preferred folder",
    Criterion.SOURCE: "the original, not an export",
    Criterion.EDITED: "the edited export, not its original",
}

#: The criteria of the default rules, in order (lineage is asked for by a preset).
DEFAULT_CRITERIA: tuple[Criterion, ...] = (
    Criterion.ORIGINAL,
    Criterion.PIXELS,
    Criterion.FORMAT,
    Criterion.SIZE,
    Criterion.DATE,
    Criterion.PATH,
    Criterion.FOLDER,
)

#: Formats from most to least preferred, by family (see :func:`format_family`).
DEFAULT_FORMATS: tuple[str, ...] = ("RAW", "TIFF", "PNG", "HEIC", "JPEG", "WEBP")

#: Words that file managers add to a copied file's name, in a few languages
#: (Windows " - Copy", macOS " copy", German "Kopie", French "copie", ...).
_COPY_WORDS = "copy|kopie|copie|copia|kopia|kopio|kopya|másolat"
_COPY_MARKS = (
    re.compile(rf"(?:^|[\s_-])(?:{_COPY_WORDS})(?:[\s_-]*\d+)?$", re.IGNORECASE),
    re.compile(r"\s*\(\d+\)$"),
    re.compile(rf"^(?:{_COPY_WORDS})(?:\s*\(\d+\))?\s+of\s+", re.IGNORECASE),
)


def copy_marks(path: str) -> int:
    """How many parts of ``path`` carry a copy suffix ("IMG (1)", "IMG - Copy", ...)."""
    parts = [p for p in path.split(os.sep) if p]
    if parts:
        parts[-1] = os.path.splitext(parts[-1])[0]
    return sum(any(mark.search(part) for mark in _COPY_MARKS) for part in parts)


@dataclass(frozen=True, slots=True)
class KeepRules:
    """How to choose the keeper: criteria in order, and their preferences.

    Attributes:
        criteria: Applied in order; each one narrows the candidates to those best by it,
            until one is left.
        formats: Format families (or format names) from most to least preferred;
            formats not listed come after all listed ones.
        folders: Preferred folders, most preferred first.
    """

    criteria: tuple[Criterion, ...] = DEFAULT_CRITERIA
    formats: tuple[str, ...] = DEFAULT_FORMATS
    folders: tuple[str, ...] = ()

    def __post_init__(self) -> None:
        if len(set(self.criteria)) != len(self.criteria):
            raise UsageError("A criterion is listed twice.")
        object.__setattr__(self, "formats", tuple(f.strip().upper() for f in self.formats))
        object.__setattr__(
            self, "folders", tuple(os.path.abspath(os.path.expanduser(f)) for f in self.folders)
        )

    @classmethod
    def parse(
        cls, text: str, *, formats: Sequence[str] | None = None, folders: Sequence[str] = ()
    ) -> KeepRules:
        """Rules from a comma-separated criteria list ("pixels,format,size").

        Raises:
            UsageError: An unknown or repeated criterion.
        """
        names = [n.strip().lower() for n in text.split(",") if n.strip()]
        try:
            criteria = tuple(Criterion(n) for n in names)
        except ValueError:
            known = ", ".join(c.value for c in Criterion)
            raise UsageError(f"Unknown criterion in {text!r}; choose from {known}.") from None
        return cls(criteria, tuple(formats) if formats else DEFAULT_FORMATS, tuple(folders))

    def to_json(self) -> dict[str, Any]:
        """Plain data for storage (presets) and for the JSON output."""
        return {
            "criteria": [c.value for c in self.criteria],
            "formats": list(self.formats),
            "folders": list(self.folders),
        }

    @classmethod
    def from_json(cls, data: dict[str, Any]) -> KeepRules:
        """Inverse of :meth:`to_json`; unknown criteria are dropped (a newer preset)."""
        criteria = tuple(Criterion(c) for c in data.get("criteria", []) if c in set(Criterion))
        return cls(
            criteria,
            tuple(data.get("formats") or DEFAULT_FORMATS),
            tuple(data.get("folders") or ()),
        )


# --------------------------------------------------------------------- comparing copies


def _format_rank(rules: KeepRules, record: ImageRecord) -> int:
    family = format_family(record)
    name = (record.format or "").upper()
    for rank, wanted in enumerate(rules.formats):
        if wanted in (family, name):
            return rank
    return len(rules.formats)


def _folder_rank(rules: KeepRules, record: ImageRecord) -> int:
    for rank, folder in enumerate(rules.folders):
        if is_within(record.path, folder):
            return rank
    return len(rules.folders)


def _key(criterion: Criterion, rules: KeepRules, r: ImageRecord) -> tuple[Any, ...]:
    """Sort key of a photo for one criterion: smaller is better."""
    if criterion is Criterion.PIXELS:
        return (-r.picture_pixels,)
    if criterion is Criterion.FORMAT:
        return (_format_rank(rules, r),)
    if criterion is Criterion.SIZE:
        return (-r.size,)
    if criterion is Criterion.DATE:
        return (r.taken is None, r.taken or "")
    if criterion is Criterion.PATH:
        return (copy_marks(r.path), len(r.path))
    if criterion is Criterion.SOURCE:
        return (lineage.is_derived(r.path),)
    if criterion is Criterion.EDITED:
        return (not lineage.is_derived(r.path),)
    return (_folder_rank(rules, r),)


def _show(criterion: Criterion, rules: KeepRules, r: ImageRecord, other: ImageRecord) -> str:
    """How ``r`` looks on the criterion that separated it from ``other``."""
    if criterion is Criterion.PIXELS:
        width, height = r.picture_size
        framed = "" if (width, height) == (r.width, r.height) else " inside its border"
        return f"{width}x{height}{framed}"
    if criterion is Criterion.FORMAT:
        family = format_family(r)
        return r.format or family if family == "RAW" else family
    if criterion is Criterion.SIZE:
        return human_size(r.size)
    if criterion is Criterion.DATE:
        return (r.taken or "no date").replace("T", " ")
    if criterion is Criterion.PATH:
        if copy_marks(r.path) != copy_marks(other.path):
            return _distinct_part(r.path, other.path)
        return f"{len(r.path)} characters"
    if criterion in (Criterion.SOURCE, Criterion.EDITED):
        said = lineage.describe([r.path, other.path]).get(r.path)
        return said or "an original"
    rank = _folder_rank(rules, r)
    return rules.folders[rank] if rank < len(rules.folders) else "another folder"


def _distinct_part(path: str, other: str) -> str:
    """The end of ``path`` that tells it from ``other``: its name, or, when both have the
    same name, the folder where they part ("2023/…/IMG_1.jpg" vs "backup copy/…/IMG_1.jpg")."""
    mine, theirs = path.split(os.sep), other.split(os.sep)
    same = 0
    while same < min(len(mine), len(theirs)) - 1 and mine[-1 - same] == theirs[-1 - same]:
        same += 1
    if same == 0:
        return mine[-1]
    head = mine[-1 - same]
    return f"{head}/{mine[-1]}" if same == 1 else f"{head}/…/{mine[-1]}"


def _why(criterion: Criterion, rules: KeepRules, r: ImageRecord, other: ImageRecord) -> str:
    """The criterion's label, adjusted to what actually differed (for the path one)."""
    if criterion is Criterion.PATH:
        if copy_marks(r.path) != copy_marks(other.path):
            return "path without a copy suffix"
        return "shortest path"
    return criterion.label


@dataclass(frozen=True, slots=True)
class Choice:
    """The keeper among some candidates, and why.

    Attributes:
        keeper: Index of the keeper in the member list.
        reason: "kept: <criterion> (<keeper's value> vs <runner-up's value>)".
        losses: For each other candidate, the criterion it lost on.
    """

    keeper: int
    reason: str
    losses: dict[int, str]


def choose(
    members: Sequence[Member],
    rules: KeepRules,
    candidates: Sequence[int],
    *,
    explain_losses: bool = True,
) -> Choice:
    """Apply the criteria in order to ``candidates`` (indexes into ``members``).

    Ties left after every criterion go to the first candidate by path, so that the
    choice never depends on the order the groups came in.

    Args:
        members: The group's members.
        rules: The criteria and their preferences.
        candidates: Indexes of the members that may be kept.
        explain_losses: Say why each other candidate lost (``Choice.losses``); without
            it only the keeper's reason is written, which is what showing a keeper
            needs, and a fifth of the time on groups of thousands.
    """
    alive = sorted(candidates, key=lambda i: members[i].image.path)
    if not alive:
        raise ValueError("no candidate")
    losses: dict[int, str] = {}
    reason = "kept: the only candidate"
    first: str | None = None  # the camera-original evidence, named even when not last
    for criterion in rules.criteria:
        if len(alive) == 1:
            break
        if criterion is Criterion.ORIGINAL:
            alive, why = original.narrow(members, alive, losses if explain_losses else None)
            reason = why or reason
            first = why
            continue
        keys = {i: _key(criterion, rules, members[i].image) for i in alive}
        best = min(keys.values())
        tolerance = TOLERANCE.get(criterion.value)
        if tolerance is None:
            survivors = [i for i in alive if keys[i] == best]
        else:  # keys are (-value,): keep everything within the tolerance of the best
            survivors = [i for i in alive if -keys[i][0] >= -best[0] * (1 - tolerance)]
        if len(survivors) == len(alive):
            continue
        winner = members[survivors[0]].image
        kept = set(survivors)
        dropped = sorted((i for i in alive if i not in kept), key=lambda i: keys[i])
        for i in dropped if explain_losses else ():
            loser = members[i].image
            losses[i] = (
                f"not kept: {_why(criterion, rules, winner, loser)} "
                f"({_show(criterion, rules, loser, winner)} vs "
                f"{_show(criterion, rules, winner, loser)})"
            )
        runner_up = members[dropped[0]].image
        reason = (
            f"kept: {_why(criterion, rules, winner, runner_up)} "
            f"({_show(criterion, rules, winner, runner_up)} vs "
            f"{_show(criterion, rules, runner_up, winner)})"
        )
        alive = survivors
    if len(alive) > 1:
        for i in alive[1:] if explain_losses else ():
            losses[i] = "not kept: equal on every criterion; the first by path is kept"
        reason = "kept: equal on every criterion, first by path"
    if first is not None and reason != first:
        reason = f"{first}; then {reason.removeprefix('kept: ')}"
    return Choice(alive[0], reason, losses)
