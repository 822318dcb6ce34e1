"""Choosing which copy of each group to keep, and marking the others for removal.

:func:`select` turns groups into a :class:`Plan`: in every group one member, the
*keeper*, is chosen by an ordered list of :class:`Criterion` (the user reorders them and
saves the order as a preset, ``presets.py``), and the other members are marked. The
rules that make a plan safe, whatever the criteria:

* Every group keeps at least one unmarked member; :meth:`Plan.mark` refuses to mark the
  last one.
* A photo in a reference folder is never marked. When a group has such photos, the
  keeper is one of them; with ``reference_groups_only`` (the "check a new import against
  my library" case), groups without one are left alone.
* A photo is marked only if it is a copy of something that stays: within the threshold
  of the keeper (or of a reference photo), or byte-identical to it. Groups are formed
  around a reference member, so two members can be up to twice the threshold apart;
  such a member stays unmarked, with a note saying why.

Each member gets a note for a tooltip: why the keeper was kept ("kept: largest pixel
count (6000x4000 vs 3000x2000)"), why another one lost, or why it was not marked.
Plain data in, plain data out: the window renders a :class:`Plan` and asks for a new one
on every click.
"""

from __future__ import annotations

import dataclasses
import enum
import os
import re
from collections.abc import Collection, Sequence
from dataclasses import dataclass
from typing import Any

from desktop_app.engine.errors import UsageError
from desktop_app.engine.journal import Action
from desktop_app.engine.operations import DeleteConfirmation, Removal, Request
from desktop_app.engine.types import Group, ImageRecord, Member, Transform


class Criterion(enum.StrEnum):
    """One way to compare copies; the names are what presets and ``--keep`` use."""

    PIXELS = "pixels"
    FORMAT = "format"
    SIZE = "size"
    DATE = "date"
    PATH = "path"
    FOLDER = "folder"

    @property
    def label(self) -> str:
        """How the user sees it ("largest pixel count")."""
        return _LABELS[self]


_LABELS = {
    Criterion.PIXELS: "largest pixel count",
    Criterion.FORMAT: "preferred format",
    Criterion.SIZE: "larger file",
    Criterion.DATE: "earliest date taken",
    Criterion.PATH: "path without a copy suffix, then shortest path",
    Criterion.FOLDER: "preferred folder",
}

#: Formats from most to least preferred, by family (see :func:`format_family`).
DEFAULT_FORMATS: tuple[str, ...] = ("RAW", "TIFF", "PNG", "HEIC", "JPEG", "WEBP")

#: Extensions of camera RAW formats (the hashing module names a RAW file's format so).
_RAW_NAMES = (
    "3FR ARI ARW CR2 CR3 CRW DCR DNG ERF IIQ K25 KDC MEF MOS MRW NEF NRW ORF PEF RAF "
    "RAW RW2 RWL SR2 SRF SRW X3F"
)

#: Format names (Pillow's, or a RAW file's extension) grouped under one family name.
FAMILIES: dict[str, frozenset[str]] = {
    "RAW": frozenset(_RAW_NAMES.split()),
    "TIFF": frozenset({"TIFF", "TIF"}),
    "PNG": frozenset({"PNG"}),
    "HEIC": frozenset({"HEIC", "HEIF", "HIF"}),
    "JPEG": frozenset({"JPEG", "JPG", "JPE", "MPO"}),
    "WEBP": frozenset({"WEBP"}),
}

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


def format_family(record: ImageRecord) -> str:
    """The family of a photo's format ("RAW" for a CR2), or its own name if in none."""
    name = (record.format or os.path.splitext(record.path)[1].lstrip(".")).upper()
    for family, members in FAMILIES.items():
        if name in members:
            return family
    return name


def human_size(n: int) -> str:
    """``8.1 MB``: sizes as the file managers show them (powers of 1000)."""
    value = float(n)
    for unit in ("bytes", "KB", "MB", "GB"):
        if value < 1000 or unit == "GB":
            return f"{n} bytes" if unit == "bytes" else f"{value:.1f} {unit}"
        value /= 1000
    raise AssertionError("unreachable")


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

    criteria: tuple[Criterion, ...] = tuple(Criterion)
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


def _inside(path: str, folder: str) -> bool:
    return path.startswith(folder.rstrip(os.sep) + os.sep)


def _format_rank(rules: KeepRules, record: ImageRecord) -> int:
    family = format_family(record)
    name = (record.format or "").upper()
    for rank, wanted in enumerate(rules.formats):
        if wanted in (family, name):
            return rank
    return len(rules.formats)


def _folder_rank(rules: KeepRules, record: ImageRecord) -> int:
    for rank, folder in enumerate(rules.folders):
        if _inside(record.path, folder):
            return rank
    return len(rules.folders)


def _key(criterion: Criterion, rules: KeepRules, r: ImageRecord) -> tuple[Any, ...]:
    """Sort key of a photo for one criterion: smaller is better."""
    if criterion is Criterion.PIXELS:
        return (-r.pixels,)
    if criterion is Criterion.FORMAT:
        return (_format_rank(rules, r),)
    if criterion is Criterion.SIZE:
        return (-r.size,)
    if criterion is Criterion.DATE:
        return (r.taken is None, r.taken or "")
    if criterion is Criterion.PATH:
        return (copy_marks(r.path), len(r.path))
    return (_folder_rank(rules, r),)


def _show(criterion: Criterion, rules: KeepRules, r: ImageRecord, other: ImageRecord) -> str:
    """How ``r`` looks on the criterion that separated it from ``other``."""
    if criterion is Criterion.PIXELS:
        return f"{r.width}x{r.height}"
    if criterion is Criterion.FORMAT:
        family = format_family(r)
        return r.format or family if family == "RAW" else family
    if criterion is Criterion.SIZE:
        return human_size(r.size)
    if criterion is Criterion.DATE:
        return (r.taken or "no date").replace("T", " ")
    if criterion is Criterion.PATH:
        if copy_marks(r.path) != copy_marks(other.path):
            return os.path.basename(r.path)
        return f"{len(r.path)} characters"
    rank = _folder_rank(rules, r)
    return rules.folders[rank] if rank < len(rules.folders) else "another folder"


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


def choose(members: Sequence[Member], rules: KeepRules, candidates: Sequence[int]) -> Choice:
    """Apply the criteria in order to ``candidates`` (indexes into ``members``).

    Ties left after every criterion go to the first candidate by path, so that the
    choice never depends on the order the groups came in.
    """
    alive = sorted(candidates, key=lambda i: members[i].image.path)
    if not alive:
        raise ValueError("no candidate")
    losses: dict[int, str] = {}
    reason = "kept: the only candidate"
    for criterion in rules.criteria:
        if len(alive) == 1:
            break
        keys = {i: _key(criterion, rules, members[i].image) for i in alive}
        best = min(keys.values())
        survivors = [i for i in alive if keys[i] == best]
        if len(survivors) == len(alive):
            continue
        winner = members[survivors[0]].image
        dropped = sorted((i for i in alive if keys[i] != best), key=lambda i: keys[i])
        for i in dropped:
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
        for i in alive[1:]:
            losses[i] = "not kept: equal on every criterion; the first by path is kept"
        reason = "kept: equal on every criterion, first by path"
    return Choice(alive[0], reason, losses)


def _distance(group: Group, i: int, j: int) -> int | None:
    """Hamming distance between members ``i`` and ``j``, when it is known exactly."""
    a, b = group.members[i], group.members[j]
    if a.image.digest is not None and a.image.digest == b.image.digest:
        return 0
    if i == 0:
        return b.distance
    if j == 0:
        return a.distance
    plain = a.transform is Transform.IDENTITY and b.transform is Transform.IDENTITY
    if plain and a.image.phash is not None and b.image.phash is not None:
        return (a.image.phash ^ b.image.phash).bit_count()
    return None


# --------------------------------------------------------------------- plans


@dataclass(frozen=True, slots=True)
class Decision:
    """What the plan says about one member of a group.

    Attributes:
        image: The photo.
        marked: Marked for removal.
        keeper: The group's keeper.
        reference: In a reference folder (never marked).
        note: Why, for a tooltip.
        distance: Hamming distance to the keeper, when known.
    """

    image: ImageRecord
    marked: bool
    keeper: bool
    reference: bool
    note: str
    distance: int | None


@dataclass(frozen=True, slots=True)
class GroupPlan:
    """One group and the decision on each of its members (in the group's order)."""

    group: Group
    decisions: tuple[Decision, ...]
    reason: str

    @property
    def keeper(self) -> Decision:
        """The member that stays for sure."""
        return next(d for d in self.decisions if d.keeper)

    @property
    def marked(self) -> list[Decision]:
        """Members marked for removal."""
        return [d for d in self.decisions if d.marked]


class MarkingError(UsageError):
    """A mark that would break a rule (the last copy of a group, a reference photo)."""


@dataclass(frozen=True, slots=True)
class Plan:
    """Marks over a list of groups.

    Attributes:
        groups: One :class:`GroupPlan` per group, in the groups' order.
        rules: The rules the keepers were chosen by.
        threshold: The threshold the groups were formed with.
        references: The reference folders that were honoured.
    """

    groups: tuple[GroupPlan, ...]
    rules: KeepRules
    threshold: int
    references: tuple[str, ...] = ()

    @property
    def marked(self) -> list[Removal]:
        """Every marked photo with its group's keeper, ready for a :class:`Request`."""
        return [Removal(d.image, keeper=g.keeper.image.path) for g in self.groups for d in g.marked]

    @property
    def marked_bytes(self) -> int:
        """Total size of the marked photos."""
        return sum(r.record.size for r in self.marked)

    def request(
        self,
        action: Action = Action.TRASH,
        *,
        destination: str | None = None,
        roots: Sequence[str] = (),
        confirmation: DeleteConfirmation | None = None,
    ) -> Request:
        """The :class:`Request` that removes the marked photos (keepers checked first)."""
        return Request(
            tuple(self.marked),
            action,
            destination,
            tuple(roots),
            self.references,
            confirmation,
        )

    def mark(self, group: int, image_id: int, marked: bool = True) -> Plan:
        """A new plan with one member (un)marked by the user.

        Marking the keeper hands that role to the best unmarked member by the rules.

        Raises:
            MarkingError: The member is in a reference folder, or it is the last unmarked
                member of its group.
            KeyError: No such member in that group.
        """
        plan = self.groups[group]
        index = _index(plan, image_id)
        target = plan.decisions[index]
        if target.marked == marked:
            return self
        if marked:
            if target.reference:
                raise MarkingError(
                    f"{target.image.path} is in a reference folder; it is never marked."
                )
            if sum(not d.marked for d in plan.decisions) <= 1:
                raise MarkingError("One photo of every group stays: it cannot be marked too.")
        marks = {i for i, d in enumerate(plan.decisions) if d.marked}
        marks = marks | {index} if marked else marks - {index}
        return self._replace(group, _rebuild(plan, self.rules, marks, "by you"))

    def keep_only(self, group: int, image_id: int) -> Plan:
        """A new plan where one member is the keeper and every other one is marked
        (reference photos excepted)."""
        plan = self.groups[group]
        keep = _index(plan, image_id)
        marks = {i for i, d in enumerate(plan.decisions) if i != keep and not d.reference}
        return self._replace(group, _rebuild(plan, self.rules, marks, "by you", keep))

    def clear(self, group: int) -> Plan:
        """A new plan with nothing marked in one group."""
        return self._replace(group, _rebuild(self.groups[group], self.rules, set(), "by you"))

    def _replace(self, index: int, plan: GroupPlan) -> Plan:
        groups = list(self.groups)
        groups[index] = plan
        return dataclasses.replace(self, groups=tuple(groups))


def _index(plan: GroupPlan, image_id: int) -> int:
    for i, d in enumerate(plan.decisions):
        if d.image.id == image_id:
            return i
    raise KeyError(image_id)


def _rebuild(
    plan: GroupPlan, rules: KeepRules, marks: set[int], why: str, keeper: int | None = None
) -> GroupPlan:
    """A group's plan after the user changed its marks (``why``: "by you")."""
    members = plan.group.members
    old = plan.keeper
    unmarked = [i for i in range(len(members)) if i not in marks]
    reason = plan.reason
    if keeper is None:
        if not old.marked and _index(plan, old.image.id) in unmarked:
            keeper = _index(plan, old.image.id)
        else:
            refs = [i for i in unmarked if plan.decisions[i].reference]
            choice = choose(members, rules, refs or unmarked)
            keeper, reason = choice.keeper, choice.reason
    else:
        reason = f"kept: chosen {why}"
    decisions = []
    for i, d in enumerate(plan.decisions):
        if i == keeper:
            note = reason
        elif d.reference:
            note = "in a reference folder: never marked"
        elif (i in marks) == d.marked and not d.keeper:
            note = d.note
        else:
            note = f"marked {why}" if i in marks else f"unmarked {why}"
        distance = _distance(plan.group, i, keeper)
        decisions.append(Decision(d.image, i in marks, i == keeper, d.reference, note, distance))
    return GroupPlan(plan.group, tuple(decisions), reason)


def _plan_group(
    group: Group,
    rules: KeepRules,
    threshold: int,
    references: Sequence[str],
    reference_groups_only: bool,
    not_copies: Collection[tuple[bytes, bytes]],
) -> GroupPlan:
    members = group.members
    is_ref = [any(_inside(m.image.path, f) for f in references) for m in members]
    refs = [i for i, r in enumerate(is_ref) if r]
    if not refs and reference_groups_only:
        choice = choose(members, rules, range(len(members)))
        notes = dict.fromkeys(range(len(members)), "not marked: no copy in a reference folder")
        return _finish(group, choice.keeper, set(), is_ref, notes, "kept: no reference copy")
    choice = choose(members, rules, refs or range(len(members)))
    anchors: list[int] = refs or [choice.keeper]
    notes = {}
    marks = set()
    for i in range(len(members)):
        if i == choice.keeper:
            continue
        if is_ref[i]:
            notes[i] = "in a reference folder: never marked"
            continue
        denied = [k for k in anchors if _denied(group, i, k, not_copies)]
        near = [
            (d, k) for k in anchors if k not in denied and (d := _distance(group, i, k)) is not None
        ]
        close = [(d, k) for d, k in near if d <= threshold]
        if close:
            d, k = min(close)
            what = "reference copy" if is_ref[k] and k != choice.keeper else "keeper"
            same = "identical to" if d == 0 and _identical(group, i, k) else f"{d} from"
            marks.add(i)
            notes[i] = f"marked: {same} the {what} {members[k].image.name}"
            if not refs:
                notes[i] += f"; {choice.losses.get(i, 'not kept')}"
        elif denied:
            notes[i] = "not marked: you said it is not a copy of the keeper"
        elif near:
            notes[i] = (
                f"not marked: {min(near)[0]} from the keeper, beyond the threshold "
                f"({threshold}) though in its group"
            )
        else:
            notes[i] = "not marked: its distance to the keeper is not known (rotated copy)"
    return _finish(group, choice.keeper, marks, is_ref, notes, choice.reason)


def _denied(group: Group, i: int, j: int, not_copies: Collection[tuple[bytes, bytes]]) -> bool:
    """Whether the user said members ``i`` and ``j`` are not copies (``ignore.py``)."""
    a, b = group.members[i].image.digest, group.members[j].image.digest
    if not not_copies or a is None or b is None:
        return False
    return ((a, b) if a <= b else (b, a)) in not_copies


def _identical(group: Group, i: int, j: int) -> bool:
    a, b = group.members[i].image, group.members[j].image
    return a.digest is not None and a.digest == b.digest


def _finish(
    group: Group,
    keeper: int,
    marks: set[int],
    is_ref: list[bool],
    notes: dict[int, str],
    reason: str,
) -> GroupPlan:
    decisions = tuple(
        Decision(
            m.image,
            i in marks,
            i == keeper,
            is_ref[i],
            reason if i == keeper else notes.get(i, ""),
            _distance(group, i, keeper),
        )
        for i, m in enumerate(group.members)
    )
    return GroupPlan(group, decisions, reason)


def select(
    groups: Sequence[Group],
    rules: KeepRules | None = None,
    *,
    threshold: int,
    references: Sequence[str] = (),
    reference_groups_only: bool | None = None,
    not_copies: Collection[tuple[bytes, bytes]] = frozenset(),
) -> Plan:
    """Choose the keeper of every group and mark the copies of it ("Select duplicates").

    Args:
        groups: Groups of copies, e.g. from ``Library.groups(threshold)``.
        rules: The keep-the-best rules; the default order when None.
        threshold: The threshold the groups were formed with: a photo is marked only
            within it of a copy that stays.
        references: Reference folders (e.g. the catalog's reference roots): their
            photos are never marked, and are the keepers of the groups they are in.
        reference_groups_only: Leave groups without a reference photo unmarked. Defaults
            to True when ``references`` are given: "check a new import against my
            library" marks only the import's photos that the library already has.
        not_copies: Digest pairs the user said are not copies (``ignore.keys``): such a
            member is not marked as a copy of the keeper even when grouping put both
            together through a third photo.

    Returns:
        The plan, in the groups' order.
    """
    rules = rules or KeepRules()
    folders = tuple(os.path.abspath(f).rstrip(os.sep) for f in references)
    only = bool(folders) if reference_groups_only is None else reference_groups_only
    plans = tuple(_plan_group(g, rules, threshold, folders, only, not_copies) for g in groups)
    return Plan(plans, rules, threshold, folders)
