"""The marks on the groups shown: which copy each group keeps, which ones are marked.

:class:`Marks` holds the engine's plan (``selection.GroupPlan``) of each group of the
grouping on screen, by row, and asks the engine for every change, so that the engine's
rules hold in the window too:

* A group nobody has touched gets its plan when the view first paints it,
  ``selection.unmarked``: the keeper by the keep-the-best rules (a photo of a reference
  folder first), nothing marked. Groups of more than :data:`SYNC_PLAN_MEMBERS` photos
  get it from the worker thread, so that painting never waits for them.
* "Select duplicates" runs ``selection.select`` over every group on a worker thread.
* A click on a card's box goes through ``Plan.mark`` (or ``keep_only``, ``clear``),
  which refuses to mark the last copy of a group or a photo of a reference folder; the
  refusal is said through :attr:`Marks.message`.

The user's own marks and unmarks are remembered by photo. When the slider regroups (or
the rules, the reference folders or the ignore list change), the plans are made again
for the new groups: "Select duplicates" runs again if it was used, then the user's
marks are laid over it wherever the photo is still in a group and the rules allow.
Marks of photos that are in no group at the new threshold are hidden, not forgotten:
they come back when the threshold lets their photos into a group again. After a regroup
``message`` says what changed: marks hidden, marks back, how many are marked now.
Nothing here touches a file: the marks only say what Apply would act on.

:meth:`Marks.saved` and :meth:`Marks.restore` carry the marks from one session to the
next (``Library.save_marks``), by photo.
"""

from __future__ import annotations

import logging
from collections import OrderedDict, defaultdict
from collections.abc import Callable

from PySide6.QtCore import QObject, QTimer, Signal

from desktop_app.engine.cleanup import GroupPlan, KeepRules, MarkingError, Plan, unmarked
from desktop_app.engine.library import resolve_group
from desktop_app.engine.types import Group, Grouping, SavedMarks
from desktop_app.gui.common.workers import TaskRunner
from desktop_app.gui.groups.plan_jobs import (
    Records,
    all_plans,
    dropped_text,
    keeper_plans,
    regroup_text,
    rows_of,
    select_all,
    selected_text,
)

log = logging.getLogger(__name__)

#: Plans of untouched groups kept for painting (a screenful is a dozen groups).
_DEFAULTS_CACHE = 1024
#: Larger untouched groups get their plan on the worker thread, not while painting: the
#: keeper of 5,000 copies takes 50 ms to choose (they are drawn without marks meanwhile).
SYNC_PLAN_MEMBERS = 400
#: How long after painting the plans of large groups are asked of the worker.
DEFER_MS = 30


class Marks(QObject):
    """The plans of the groups on screen, and the user's marks.

    Signals:
        changed(list): The plans of these rows changed (every row when the list is empty).
        message(str): Something to tell the user (a refused mark, a selection done).
        busy_changed(bool): "Select duplicates" started or ended on the worker thread.
    """

    changed = Signal(list)
    message = Signal(str)
    busy_changed = Signal(bool)

    def __init__(self, parent: QObject | None = None) -> None:
        super().__init__(parent)
        #: The keep-the-best rules in use.
        self.rules = KeepRules()
        #: Reference folders (their photos are keepers, never marked).
        self.references: tuple[str, ...] = ()
        #: Digest pairs the user said are not copies (``ignore.keys``).
        self.not_copies: frozenset[tuple[bytes, bytes]] = frozenset()
        #: With reference folders, also select in groups without a reference photo
        #: (otherwise only copies of reference photos are marked, as for an import).
        self.within = False
        #: Whether "Select duplicates" was used: regroups run it again.
        self.auto = False
        #: ``resolve(grouping, row)`` on the GUI thread, to share the groups the model has
        #: resolved already (the records mapping is used when None).
        self.resolve: Callable[[Grouping, int], Group] | None = None
        self._grouping: Grouping | None = None
        self._records: Records = {}
        self._plans: dict[int, GroupPlan] = {}  # made by a selection or the user
        self._defaults: OrderedDict[int, GroupPlan] = OrderedDict()
        self._totals: dict[int, tuple[int, int]] = {}  # row -> (marked, bytes)
        self._overrides: dict[int, bool] = {}  # photo id -> marked, as the user set it
        self._hidden = 0  # marks of photos in no group at this threshold
        self._before: tuple[int, int] | None = None  # (marked, hidden) before a regroup
        self._restored = False  # marks restored from the last session, not yet laid
        self._pending: set[int] = set()  # rows whose plan the worker is making
        self._waiting: list[int] = []  # rows to send to the worker after this paint
        self._defer = QTimer(self)
        self._defer.setSingleShot(True)
        self._defer.setInterval(DEFER_MS)
        self._defer.timeout.connect(self._on_defer_timeout)
        self._runner = TaskRunner(name="doppel-select", parent=self)
        self._token: int | None = None
        self._generation = 0

    # ----------------------------------------------------------------- inputs

    def set_grouping(self, grouping: Grouping | None, records: Records) -> None:
        """Plan the groups of a new grouping, keeping the user's marks that still apply.

        Args:
            grouping: The groups on screen (None: no library).
            records: The library's records by id (``Library.records()``).
        """
        if grouping is None:
            self._before = None
        elif self._grouping is not None and self._before is None and not self.is_busy():
            self._before = (self.marked_count(), self._hidden)  # to say what the regroup did
        self._grouping = grouping
        self._records = records
        if grouping is None:
            self._overrides.clear()
            self.auto = False
            self._hidden = 0
            self._restored = False
        self._replan()

    def set_context(
        self,
        *,
        rules: KeepRules | None = None,
        references: tuple[str, ...] | None = None,
        not_copies: frozenset[tuple[bytes, bytes]] | None = None,
    ) -> None:
        """Change the rules, the reference folders or the ignore list, and plan again."""
        if rules is not None:
            self.rules = rules
        if references is not None:
            self.references = tuple(references)
        if not_copies is not None:
            self.not_copies = not_copies
        self._replan()

    # ----------------------------------------------------------------- reading

    @property
    def grouping(self) -> Grouping | None:
        """The grouping the plans are for."""
        return self._grouping

    def plan_for(self, grouping: Grouping | None, row: int) -> GroupPlan | None:
        """The plan of ``row`` if ``grouping`` is the one planned (the model's PlanRole).

        None also while the worker makes the plan of a large group (``changed`` follows).
        """
        if grouping is None or grouping is not self._grouping or not 0 <= row < len(grouping):
            return None
        found = self._plans.get(row) or self._defaults.get(row)
        if found is not None:
            return found
        size = int(grouping.offsets[row + 1] - grouping.offsets[row])
        if size <= SYNC_PLAN_MEMBERS:
            return self._plan(row)
        if row not in self._pending:
            self._pending.add(row)
            self._waiting.append(row)
            self._defer.start()  # after this paint: the worker would slow it down (GIL)
        return None

    def is_busy(self) -> bool:
        """Whether "Select duplicates" is running on the worker thread."""
        return self._token is not None

    def marked_count(self) -> int:
        """Photos marked in all groups."""
        return sum(count for count, _ in self._totals.values())

    def hidden_count(self) -> int:
        """The user's marks of photos that are in no group at this threshold."""
        return self._hidden

    def saved(self, paths: Callable[[int], str | None]) -> SavedMarks:
        """The marks to keep for the next session: whether "Select duplicates" was used,
        and the user's own marks and unmarks by path (``paths(id)``; None: gone)."""
        marks = {}
        for image_id, marked in self._overrides.items():
            path = paths(image_id)
            if path is not None:
                marks[path] = marked
        return SavedMarks(self.auto, marks)

    def restore(self, auto: bool, overrides: dict[int, bool]) -> None:
        """Take back the marks of the last session (by photo id); they are laid over the
        next grouping, and ``message`` then says how many came back."""
        self.auto = auto
        self._overrides = dict(overrides)
        self._restored = auto or bool(overrides)
        if self._grouping is not None:
            self._replan()

    def marked_bytes(self) -> int:
        """Total size of the marked photos."""
        return sum(size for _, size in self._totals.values())

    def plan(self) -> Plan:
        """The groups that have marks, as one engine plan (what Apply acts on)."""
        threshold = self._grouping.threshold if self._grouping is not None else 0
        rows = sorted(self._totals)
        return Plan(tuple(self._plans[r] for r in rows), self.rules, threshold, self.references)

    def full_plan_job(self) -> Callable[[], Plan]:
        """A function that makes the plan of every group (for Export; any thread)."""
        args = (self._grouping, self._records, dict(self._plans), self.rules, self.references)
        return lambda: all_plans(*args)

    # ----------------------------------------------------------------- the user's marks

    def toggle(self, row: int, image_id: int) -> bool:
        """Mark the photo if it is not marked, unmark it if it is.

        Returns:
            Whether the plan changed (a refused mark is said through ``message``).
        """
        decision = next(d for d in self._plan(row).decisions if d.image.id == image_id)
        return self.mark(row, image_id, not decision.marked)

    def mark(self, row: int, image_id: int, marked: bool = True) -> bool:
        """Mark or unmark one photo of group ``row``; see :meth:`toggle`."""
        try:
            plan = self._wrap(self._plan(row)).mark(0, image_id, marked).groups[0]
        except MarkingError as error:
            self.message.emit(str(error))
            return False
        self._overrides[image_id] = marked
        self._store(row, plan)
        self.changed.emit([row])
        return True

    def keep_only(self, row: int, image_id: int) -> None:
        """Keep this photo of group ``row`` and mark every other one (reference photos
        excepted)."""
        plan = self._wrap(self._plan(row)).keep_only(0, image_id).groups[0]
        self._remember(plan)
        self._store(row, plan)
        self.changed.emit([row])

    def clear(self, row: int) -> None:
        """Unmark every photo of group ``row``."""
        plan = self._wrap(self._plan(row)).clear(0).groups[0]
        self._remember(plan)
        self._store(row, plan)
        self.changed.emit([row])

    def clear_all(self) -> None:
        """Forget every mark, and stop re-running "Select duplicates" on regroups."""
        self.auto = False
        self._overrides.clear()
        self._replan()

    def select_duplicates(self) -> None:
        """Choose the keeper of every group by the rules and mark the copies of it.

        It replaces the user's marks; the result arrives through ``changed``.
        """
        self.auto = True
        self._overrides.clear()
        self._replan(announce=True)

    def shutdown(self) -> None:
        """Drop a running selection and wait for its thread."""
        self._defer.stop()
        self._token = None
        self._runner.shutdown()

    # ----------------------------------------------------------------- planning

    def _replan(self, *, announce: bool = False) -> None:
        self._generation += 1
        self._drop_job()
        self._plans.clear()
        self._defaults.clear()
        self._totals.clear()
        self._pending.clear()
        self._waiting.clear()
        grouping = self._grouping
        if grouping is not None and self.auto and len(grouping):
            args = (
                grouping,
                self._records,
                self.rules,
                self.references,
                self.not_copies,
                self.within,
            )
            generation = self._generation
            self._token = self._runner.submit(
                lambda: select_all(*args),
                lambda plan: self._on_selected(plan, generation, announce),
                self._on_select_failed,
            )
            self.busy_changed.emit(True)
        else:
            self._lay_overrides()
            self._after_replan()
        self.changed.emit([])

    def _after_replan(self) -> None:
        """Say what a regroup (or the return of last session's marks) did to the marks."""
        said = None
        threshold = self._grouping.threshold if self._grouping is not None else 0
        if self._restored:
            self._restored = False
            said = f"Your marks from last time are back: {self.marked_count():,} marked" + (
                f", {self._hidden:,} hidden at this threshold." if self._hidden else "."
            )
        elif self._before is not None:
            said = regroup_text(
                self._before, (self.marked_count(), self._hidden), threshold, auto=self.auto
            )
        self._before = None
        if said:
            self.message.emit(said)

    def _on_defer_timeout(self) -> None:
        rows, self._waiting = self._waiting, []
        if not rows or self._grouping is None:
            return
        args = (self._grouping, rows, self._records, self.rules, self.references)
        generation = self._generation
        self._runner.submit(
            lambda: keeper_plans(*args),
            lambda plans: self._on_defaults_made(plans, generation),
            self._on_select_failed,
        )

    def _on_defaults_made(self, plans: dict[int, GroupPlan], generation: int) -> None:
        if generation != self._generation:
            return
        for row, plan in plans.items():
            self._pending.discard(row)
            if row not in self._plans:
                self._defaults[row] = plan
        self.changed.emit(sorted(plans))

    def _drop_job(self) -> None:
        if self._token is not None:
            self._runner.drop(self._token)
            self._token = None
            self.busy_changed.emit(False)

    def _on_selected(self, plan: Plan, generation: int, announce: bool) -> None:
        if generation != self._generation:
            return
        self._token = None
        self.busy_changed.emit(False)
        for row, found in enumerate(plan.groups):
            self._store(row, found)
        self._lay_overrides()
        if not announce:
            self._after_replan()
        self._before = None
        self._restored = False
        self.changed.emit([])
        if announce:
            self.message.emit(
                selected_text(
                    plan, self.rules, self.marked_count(), self.marked_bytes(), self._only_refs()
                )
            )

    def _on_select_failed(self, error: BaseException) -> None:
        self._token = None
        self.busy_changed.emit(False)
        log.error("Select duplicates failed: %s", error)
        self.message.emit(f"Select duplicates failed: {error}")

    def _only_refs(self) -> bool:
        return bool(self.references) and not self.within

    def _lay_overrides(self) -> None:
        """Apply the user's marks to the current groups; hide those of photos in no
        group (they come back with them), drop those the rules no longer allow."""
        grouping = self._grouping
        self._hidden = 0
        if not self._overrides or grouping is None:
            return
        for image_id in [i for i in self._overrides if i not in self._records]:
            del self._overrides[image_id]  # the photo left the library (applied, deleted)
        where = rows_of(grouping, self._overrides)
        self._hidden = sum(1 for i, m in self._overrides.items() if m and i not in where)
        by_row: dict[int, list[tuple[int, bool]]] = defaultdict(list)
        for image_id, marked in self._overrides.items():
            if image_id in where:
                by_row[where[image_id]].append((image_id, marked))
        refused = 0
        for row, changes in by_row.items():
            plan = self._wrap(self._plan(row))
            for image_id, marked in sorted(changes, key=lambda c: c[1]):  # unmarks first
                try:
                    plan = plan.mark(0, image_id, marked)
                except MarkingError:
                    refused += 1
                    del self._overrides[image_id]
            self._store(row, plan.groups[0])
        if refused:
            self.message.emit(dropped_text(0, refused))

    def _plan(self, row: int) -> GroupPlan:
        found = self._plans.get(row)
        if found is not None:
            return found
        found = self._defaults.get(row)
        if found is None:
            assert self._grouping is not None
            if self.resolve is not None:
                group = self.resolve(self._grouping, row)
            else:
                group = resolve_group(self._grouping, row, self._records)
            found = unmarked(
                [group], self.rules, threshold=self._grouping.threshold, references=self.references
            ).groups[0]
            self._defaults[row] = found
            if len(self._defaults) > _DEFAULTS_CACHE:
                self._defaults.popitem(last=False)
        else:
            self._defaults.move_to_end(row)
        return found

    def _wrap(self, plan: GroupPlan) -> Plan:
        threshold = self._grouping.threshold if self._grouping is not None else 0
        return Plan((plan,), self.rules, threshold, self.references)

    def _store(self, row: int, plan: GroupPlan) -> None:
        self._plans[row] = plan
        self._defaults.pop(row, None)
        marked = plan.marked
        if marked:
            self._totals[row] = (len(marked), sum(d.image.size for d in marked))
        else:
            self._totals.pop(row, None)

    def _remember(self, plan: GroupPlan) -> None:
        for decision in plan.decisions:
            if not decision.reference:
                self._overrides[decision.image.id] = decision.marked
