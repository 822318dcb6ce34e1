"""Choosing which copy of each group to keep, and marking the others for removal.

:func:`select` turns groups into a :class:`Plan`: in every group one member, the
*keeper*, is chosen by an ordered list of criteria (the user reorders them and saves
the order as a preset, ``presets.py``), and the other members are marked.
Which copy is best is decided by ``keeprules.py``. The rules that make a plan safe:

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
import os
from collections.abc import Collection, Sequence
from dataclasses import dataclass

from desktop_app.engine.errors import UsageError
from desktop_app.engine.fileops.journal import Action
from desktop_app.engine.fileops.requests import DeleteConfirmation, Removal, Request
from desktop_app.engine.paths import within_any
from desktop_app.engine.search.verdicts import verdict_among
from desktop_app.engine.selection.keeprules import (
    DEFAULT_FORMATS,
    Choice,
    Criterion,
    KeepRules,
    choose,
    copy_marks,
    format_family,
)
from desktop_app.engine.types import Group, ImageRecord, PairVerdict, Transform

__all__ = [
    "DEFAULT_FORMATS",
    "Choice",
    "Criterion",
    "Decision",
    "GroupPlan",
    "KeepRules",
    "MarkingError",
    "Plan",
    "choose",
    "copy_marks",
    "format_family",
    "select",
    "unmarked",
]


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
    is_ref = [within_any(m.image.path, references) for m in members]
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
        shots = {k: v for k in anchors if not (v := _verdict(group, i, k)).is_copy}
        denied += [k for k in shots if k not in denied]
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
        elif shots:
            evidence = "; ".join(next(iter(shots.values())).evidence)
            notes[i] = f"not marked: a different shot from the keeper ({evidence})"
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
    """Whether the user said members ``i`` and ``j`` are not copies (``not_copies.py``):
    remembered by their pixel digests, or by their file digests (older entries)."""
    if not not_copies:
        return False
    x, y = group.members[i].image, group.members[j].image
    for a, b in ((x.pixel_digest, y.pixel_digest), (x.digest, y.digest)):
        if a is not None and b is not None and ((a, b) if a <= b else (b, a)) in not_copies:
            return True
    return False


def _verdict(group: Group, i: int, j: int) -> PairVerdict:
    """Copy or different shot, for members ``i`` and ``j`` (``search/verdicts.py``).

    Grouping keeps similar shots out of a group's pairs with its reference, but two
    members can still be different shots of each other (two burst frames, each near a
    stripped copy that is the reference): neither is ever marked as a copy of the other.
    """
    records = {k: m.image for k, m in enumerate(group.members)}
    return verdict_among(records, i, j, _distance(group, i, j))


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
        not_copies: Digest pairs the user said are not copies (``not_copies.keys``): such a
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


def unmarked(
    groups: Sequence[Group],
    rules: KeepRules | None = None,
    *,
    threshold: int,
    references: Sequence[str] = (),
) -> Plan:
    """The keeper of every group by ``rules``, with nothing marked.

    How the window shows a group before "Select duplicates" or a mark of the user: which
    copy would stay (a reference photo if the group has one), and why. The user's marks
    then go through :meth:`Plan.mark`, which keeps the rules of a plan.

    Args:
        groups: Groups of copies.
        rules: The keep-the-best rules; the default order when None.
        threshold: The threshold the groups were formed with.
        references: Reference folders: their photos are keepers and never marked.
    """
    rules = rules or KeepRules()
    folders = tuple(os.path.abspath(f).rstrip(os.sep) for f in references)
    plans = []
    for group in groups:
        is_ref = [within_any(m.image.path, folders) for m in group.members]
        refs = [i for i, r in enumerate(is_ref) if r]
        candidates = refs or range(len(group.members))
        choice = choose(group.members, rules, candidates, explain_losses=False)
        notes = {
            i: "in a reference folder: never marked" if r else "not marked"
            for i, r in enumerate(is_ref)
        }
        plans.append(_finish(group, choice.keeper, set(), is_ref, notes, choice.reason))
    return Plan(tuple(plans), rules, threshold, folders)
