"""The work behind the marks that runs on worker threads, and what the marks say.

Plain functions over the engine (``selection``, ``Library.resolve_group``), called by
:class:`~desktop_app.gui.groups.marking.Marks`: they take everything they need as arguments
(the grouping, a records mapping, the rules), so that they can run on any thread.
"""

from __future__ import annotations

from collections.abc import Iterable, Mapping

import numpy as np

from desktop_app.engine.cleanup import GroupPlan, KeepRules, Plan, select, unmarked
from desktop_app.engine.library import resolve_group
from desktop_app.engine.types import Grouping, ImageRecord
from desktop_app.gui.common import text

Records = Mapping[int, ImageRecord]


def select_all(
    grouping: Grouping,
    records: Records,
    rules: KeepRules,
    references: tuple[str, ...],
    not_copies: frozenset[tuple[bytes, bytes]],
    within: bool,
) -> Plan:
    """``selection.select`` over every group of ``grouping`` (any thread)."""
    groups = [resolve_group(grouping, i, records) for i in range(len(grouping))]
    return select(
        groups,
        rules,
        threshold=grouping.threshold,
        references=references,
        reference_groups_only=False if within else None,
        not_copies=not_copies,
    )


def keeper_plans(
    grouping: Grouping,
    rows: list[int],
    records: Records,
    rules: KeepRules,
    references: tuple[str, ...],
) -> dict[int, GroupPlan]:
    """``selection.unmarked`` for some groups of ``grouping`` (any thread)."""
    groups = [resolve_group(grouping, row, records) for row in rows]
    plan = unmarked(groups, rules, threshold=grouping.threshold, references=references)
    return dict(zip(rows, plan.groups, strict=True))


def all_plans(
    grouping: Grouping | None,
    records: Records,
    plans: Mapping[int, GroupPlan],
    rules: KeepRules,
    references: tuple[str, ...],
) -> Plan:
    """The plan of every group: ``plans`` where given, the keeper alone elsewhere."""
    if grouping is None:
        return Plan((), rules, 0, references)
    missing = [row for row in range(len(grouping)) if row not in plans]
    made = {**keeper_plans(grouping, missing, records, rules, references), **plans}
    return Plan(tuple(made[r] for r in range(len(grouping))), rules, grouping.threshold, references)


def rows_of(grouping: Grouping, ids: Iterable[int]) -> dict[int, int]:
    """The group (row) of each of these photos that is in one."""
    wanted = np.fromiter(ids, np.int64)
    positions = np.flatnonzero(np.isin(grouping.members, wanted))
    rows = np.searchsorted(grouping.offsets, positions, side="right") - 1
    members = grouping.members[positions].tolist()
    return dict(zip(members, rows.tolist(), strict=True))


def selected_text(plan: Plan, rules: KeepRules, count: int, size: int, only_refs: bool) -> str:
    """What "Select duplicates" did, for the status bar."""
    groups = sum(1 for g in plan.groups if g.marked)
    criteria = ", then ".join(c.label for c in rules.criteria) or "path order"
    said = (
        f"Marked {text.plural(count, 'copy', 'copies')} in {text.plural(groups, 'group')} "
        f"({text.human_size(size)}), keeping the best photo of each by {criteria}."
    )
    if only_refs:
        said += " Only photos with a copy in a reference folder are marked."
    return said


def dropped_text(lost: int, refused: int) -> str:
    """Why some of the user's marks were dropped after a regroup."""
    parts = []
    if lost:
        parts.append(
            f"{text.plural(lost, 'marked photo is', 'marked photos are')} in no group at "
            "this threshold and no longer marked"
        )
    if refused:
        parts.append(f"{text.plural(refused, 'mark')} no longer allowed by the rules")
    said = "; ".join(parts)
    return said[:1].upper() + said[1:] + "."


def regroup_text(
    before: tuple[int, int], after: tuple[int, int], threshold: int, *, auto: bool
) -> str | None:
    """What a regroup did to the marks, for the status bar (None: nothing changed).

    Args:
        before: (marked, hidden) before the regroup: photos marked in the groups shown,
            and the user's marks of photos in no group.
        after: The same after it.
        threshold: The new threshold.
        auto: "Select duplicates" chose the marks (it ran again on the new groups).
    """
    (marked_before, hidden_before), (marked, hidden) = before, after
    parts = []
    if marked != marked_before:
        by = " by Select Duplicates" if auto else ""
        parts.append(
            f"At distance {threshold}: {text.plural(marked, 'photo')} marked{by} "
            f"({marked_before:,} before)"
        )
    if hidden > hidden_before:
        gone = hidden - hidden_before
        one = gone == 1
        parts.append(
            f"{text.plural(gone, 'mark')} hidden, {'its photo is' if one else 'their photos are'}"
            f" in no group at this threshold (widen it to bring {'it' if one else 'them'} back)"
        )
    elif hidden < hidden_before:
        parts.append(f"{text.plural(hidden_before - hidden, 'hidden mark')} came back")
    elif auto and marked < marked_before:
        parts.append("the others come back when you widen the threshold")
    if not parts:
        return None
    said = "; ".join(parts)
    return said[:1].upper() + said[1:] + "."
