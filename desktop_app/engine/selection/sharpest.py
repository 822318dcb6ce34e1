"""Keep the sharpest of each group of similar shots: an explicit culling action.

Nothing in a group of similar shots is marked until the user asks. :func:`keep_sharpest`
then gives a :class:`~plans.Plan` like "Select duplicates" does, so that it goes through
the same dry run, journal and undo (``Plan.request``): in each chosen group the member
with the highest sharpness score stays and the others are marked, except photos in a
reference folder, which are never marked.
"""

from __future__ import annotations

import os
from collections.abc import Sequence

from desktop_app.engine.paths import within_any
from desktop_app.engine.selection.keeprules import KeepRules
from desktop_app.engine.selection.plans import Decision, GroupPlan, Plan
from desktop_app.engine.types import Group, Member, ShotGroup


def _score(value: float | None) -> str:
    return "unknown" if value is None else f"{value:.0f}"


def keep_sharpest(
    groups: Sequence[ShotGroup],
    which: Sequence[int] | None = None,
    *,
    references: Sequence[str] = (),
) -> Plan:
    """A plan that keeps the sharpest frame of each group and marks the others.

    Args:
        groups: Groups of similar shots (``Library.shots``).
        which: Indexes of the groups to act on (all when None).
        references: Reference folders: their photos are never marked.

    Returns:
        The plan; groups not chosen are left out of it.
    """
    folders = tuple(os.path.abspath(f).rstrip(os.sep) for f in references)
    chosen = range(len(groups)) if which is None else which
    plans = []
    for index in chosen:
        shots = groups[index]
        members = tuple(Member(r, 0, False) for r in shots.members)
        sharpest = shots.sharpest
        ranked = sorted(shots.members, key=lambda r: -(r.sharpness or 0.0))
        runner_up = next(r for r in ranked if r.id != sharpest.id)
        reason = (
            f"kept: the sharpest ({_score(sharpest.sharpness)} vs {_score(runner_up.sharpness)})"
        )
        decisions = []
        for record in shots.members:
            reference = within_any(record.path, folders)
            keeper = record.id == sharpest.id
            if keeper:
                note = reason
            elif reference:
                note = "in a reference folder: never marked"
            else:
                note = (
                    f"marked: less sharp than {sharpest.name} "
                    f"({_score(record.sharpness)} vs {_score(sharpest.sharpness)})"
                )
            decisions.append(
                Decision(record, not keeper and not reference, keeper, reference, note, None)
            )
        plans.append(GroupPlan(Group(shots.index, members), tuple(decisions), reason))
    return Plan(tuple(plans), KeepRules(), 0, folders)
