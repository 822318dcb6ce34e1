"""Qt item models over the engine's plain results.

* :class:`GroupModel` adapts a :class:`~desktop_app.engine.types.Grouping` (flat numpy
  arrays, possibly tens of thousands of groups). Rows are resolved to records lazily,
  when the view asks for them, and kept in a small LRU, so regrouping 100,000 photos
  costs one model reset and nothing per row.
* :class:`MatchModel` adapts the matches of a query, filtered by the query slider.
* :class:`FailureModel` lists files that could not be read, with the reason.

Thumbnails live under custom roles and come from a
:class:`~desktop_app.gui.groups.thumbnails.ThumbnailLoader`: ``data()`` returns what is cached
and requests the rest; when an image arrives, only the rows waiting for it get a
``dataChanged``. None of these models run queries (STYLE.md section 1).
"""

from __future__ import annotations

import logging
from collections import OrderedDict
from collections.abc import Callable, Sequence

from PySide6.QtCore import QAbstractItemModel, QAbstractListModel, QModelIndex, Qt, QTimer
from PySide6.QtGui import QPixmap

from desktop_app.engine.cleanup import GroupPlan
from desktop_app.engine.types import FileFailure, Group, Grouping, Match, Member
from desktop_app.gui.common import text
from desktop_app.gui.common.tables import Index, RowTableModel, row_flags
from desktop_app.gui.groups.thumbnails import ThumbnailLoader

log = logging.getLogger(__name__)

#: :class:`~desktop_app.engine.types.Group` of a row of :class:`GroupModel`.
GroupRole = Qt.ItemDataRole.UserRole + 1
#: list of ``QPixmap`` (ready), ``str`` (why it failed) or None (loading), one per card.
ThumbnailsRole = Qt.ItemDataRole.UserRole + 2
#: :class:`~desktop_app.engine.types.Match` of a row of :class:`MatchModel`.
MatchRole = Qt.ItemDataRole.UserRole + 3
#: Path of the photo of a row of :class:`MatchModel` or :class:`FailureModel`.
PathRole = Qt.ItemDataRole.UserRole + 4
#: :class:`~desktop_app.engine.selection.plans.GroupPlan` of a row of :class:`GroupModel`: its
#: keeper and marks, or None when the model has no :attr:`GroupModel.plan_source`.
PlanRole = Qt.ItemDataRole.UserRole + 5

Thumbnail = QPixmap | str | None

#: Resolved groups kept by a :class:`GroupModel` (a screenful is a dozen).
_GROUP_CACHE = 512
#: How long arriving thumbnails are collected before their rows are repainted.
_REPAINT_DELAY_MS = 15


def display_order(group: Group, plan: GroupPlan | None) -> list[int]:
    """Member indexes in the order their cards are shown: the keeper first, then the
    marked copies, then the others, each in the group's order (without a plan of this
    group: the group's order, its reference first)."""
    count = len(group.members)
    if plan is None or len(plan.decisions) != count:
        return list(range(count))
    decisions = plan.decisions
    if decisions[0].image.id != group.members[0].image.id:
        return list(range(count))  # a plan of another grouping
    return sorted(range(count), key=lambda k: 0 if decisions[k].keeper else 2 - decisions[k].marked)


def thumbnail(loader: ThumbnailLoader | None, path: str) -> Thumbnail:
    """What to draw for ``path``: its pixmap, the reason it has none, or None (loading)."""
    if loader is None:
        return None
    error = loader.error(path)
    if error is not None:
        return error
    return loader.pixmap(path)


class _ThumbnailRows:
    """Which rows wait for which thumbnail, so that a loaded image repaints only them.

    Thumbnails arrive by the dozen while the view scrolls; the rows they complete are
    collected for :data:`_REPAINT_DELAY_MS` and announced with one ``dataChanged`` over
    their span, instead of one signal (and one pass of the view's bookkeeping) each.
    """

    def __init__(self, model: QAbstractItemModel) -> None:
        self._model = model
        self._rows: dict[str, set[int]] = {}
        self._ready: set[int] = set()
        self._timer = QTimer(model)
        self._timer.setSingleShot(True)
        self._timer.setInterval(_REPAINT_DELAY_MS)
        self._timer.timeout.connect(self._on_timer_timeout)

    def wait(self, key: str, row: int) -> None:
        self._rows.setdefault(key, set()).add(row)

    def arrived(self, key: str) -> None:
        rows = self._rows.pop(key, None)
        if rows:
            self._ready |= rows
            if not self._timer.isActive():
                self._timer.start()

    def clear(self) -> None:
        self._rows.clear()
        self._ready.clear()
        self._timer.stop()

    def _on_timer_timeout(self) -> None:
        count = self._model.rowCount()
        rows = [r for r in self._ready if r < count]
        self._ready.clear()
        if rows:
            top = self._model.index(min(rows), 0)
            bottom = self._model.index(max(rows), 0)
            self._model.dataChanged.emit(top, bottom, [ThumbnailsRole])


class _ThumbnailListModel(QAbstractListModel):
    """A flat list whose rows show thumbnails from a loader, repainted as they arrive.

    Args:
        loader: Where thumbnails come from (None: no thumbnails, for tests).
        parent: Owner.
    """

    def __init__(self, loader: ThumbnailLoader | None = None, parent: object = None) -> None:
        super().__init__(parent)  # type: ignore[arg-type]
        self._waiting = _ThumbnailRows(self)
        self._loader = loader
        if loader is not None:
            loader.loaded.connect(self._on_thumbnail_ready)
            loader.failed.connect(self._on_thumbnail_ready)

    def _thumbnail(self, path: str, row: int) -> Thumbnail:
        """What to draw for ``path``; a row still loading waits for its thumbnail."""
        found = thumbnail(self._loader, path)
        if found is None:
            self._waiting.wait(path, row)
        return found

    def flags(self, index: Index) -> Qt.ItemFlag:
        return row_flags(index)

    def _on_thumbnail_ready(self, key: str, *_: object) -> None:
        self._waiting.arrived(key)


class GroupModel(_ThumbnailListModel):
    """One row per group of copies, largest group first.

    Args:
        loader: Where thumbnails come from (None: no thumbnails, for tests).
        parent: Owner.
    """

    def __init__(self, loader: ThumbnailLoader | None = None, parent: object = None) -> None:
        super().__init__(loader, parent)
        self._grouping: Grouping | None = None
        self._rows = 0
        self._resolve: Callable[[Grouping, int], Group] | None = None
        self._groups: OrderedDict[int, Group] = OrderedDict()
        self._orders: dict[int, tuple[GroupPlan | None, list[int]]] = {}
        #: Cards per row the view can show; thumbnails are requested for these only.
        self.visible_cards = 8
        #: ``plan_source(grouping, row)``: the marks of a row (``marking.Marks.plan_for``).
        self.plan_source: Callable[[Grouping, int], GroupPlan | None] | None = None

    @property
    def grouping(self) -> Grouping | None:
        """The grouping shown, if any."""
        return self._grouping

    def set_grouping(
        self, grouping: Grouping | None, resolve: Callable[[Grouping, int], Group] | None
    ) -> None:
        """Show ``grouping``; ``resolve(grouping, row)`` turns a row into a Group."""
        self.beginResetModel()
        self._grouping = grouping
        self._rows = 0 if grouping is None else len(grouping)
        self._resolve = resolve
        self._groups.clear()
        self._orders.clear()
        self._waiting.clear()
        self.endResetModel()

    def plan(self, row: int) -> GroupPlan | None:
        """The marks of ``row`` (None without a :attr:`plan_source`)."""
        if self.plan_source is None or self._grouping is None:
            return None
        return self.plan_source(self._grouping, row)

    def order(self, row: int) -> list[int]:
        """Member indexes of ``row`` in the order of its cards (:func:`display_order`)."""
        plan = self.plan(row)
        found = self._orders.get(row)
        if found is None or found[0] is not plan:
            found = (plan, display_order(self.group(row), plan))
            self._orders[row] = found
            if len(self._orders) > _GROUP_CACHE:
                self._orders.pop(next(iter(self._orders)))
        return found[1]

    def member(self, row: int, slot: int) -> Member:
        """The member whose card is in ``slot`` of ``row``."""
        return self.group(row).members[self.order(row)[slot]]

    def group(self, row: int) -> Group:
        """The resolved group at ``row``."""
        found = self._groups.get(row)
        if found is None:
            assert self._grouping is not None and self._resolve is not None
            found = self._resolve(self._grouping, row)
            self._groups[row] = found
            if len(self._groups) > _GROUP_CACHE:
                self._groups.popitem(last=False)
        else:
            self._groups.move_to_end(row)
        return found

    def plans_changed(self, rows: Sequence[int] = ()) -> None:
        """The marks of ``rows`` changed (of every row when empty): repaint them."""
        if not self._rows:
            return
        rows = [r for r in rows if 0 <= r < self._rows] if rows else [0, self._rows - 1]
        if rows:
            top, bottom = self.index(min(rows), 0), self.index(max(rows), 0)
            self.dataChanged.emit(top, bottom, [PlanRole])

    def rowCount(self, parent: Index = QModelIndex()) -> int:  # noqa: B008
        return 0 if parent.isValid() else self._rows

    def data(self, index: Index, role: int = Qt.ItemDataRole.DisplayRole) -> object:
        if not index.isValid() or self._grouping is None:
            return None
        row = index.row()
        if role == GroupRole:
            return self.group(row)
        if role == PlanRole:
            return self.plan(row)
        if role == ThumbnailsRole:
            members = self.group(row).members
            shown = self.order(row)[: self.visible_cards]
            return [self._thumbnail(members[k].image.path, row) for k in shown]
        if role in (Qt.ItemDataRole.DisplayRole, Qt.ItemDataRole.AccessibleTextRole):
            group = self.group(row)
            return f"{text.plural(len(group.members), 'photo')}: {group.reference.image.name}"
        if role == Qt.ItemDataRole.ToolTipRole:
            group = self.group(row)
            lines = [
                f"{m.image.path} ({text.relation(m.distance, m.identical, k == 0)})"
                for k, m in enumerate(group.members)
            ]
            return "\n".join(lines)
        return None


class MatchModel(_ThumbnailListModel):
    """The matches of a query within the query slider's threshold, nearest first."""

    def __init__(self, loader: ThumbnailLoader | None = None, parent: object = None) -> None:
        super().__init__(loader, parent)
        self._all: tuple[Match, ...] = ()
        self._shown: list[Match] = []
        self._threshold = 0

    def set_matches(self, matches: Sequence[Match], threshold: int) -> None:
        """Show ``matches`` (sorted nearest first) up to ``threshold``."""
        self.beginResetModel()
        self._all = tuple(matches)
        self._threshold = threshold
        self._shown = [m for m in self._all if m.distance <= threshold]
        self._waiting.clear()
        self.endResetModel()

    def set_threshold(self, threshold: int) -> None:
        """Filter the matches by a new threshold."""
        self.set_matches(self._all, threshold)

    def total(self) -> int:
        """Matches known, whatever the threshold."""
        return len(self._all)

    def match_at(self, row: int) -> Match:
        """The match at ``row``."""
        return self._shown[row]

    def rowCount(self, parent: Index = QModelIndex()) -> int:  # noqa: B008
        return 0 if parent.isValid() else len(self._shown)

    def data(self, index: Index, role: int = Qt.ItemDataRole.DisplayRole) -> object:
        if not index.isValid() or not 0 <= index.row() < len(self._shown):
            return None
        found = self._shown[index.row()]
        if role == MatchRole:
            return found
        if role == PathRole:
            return found.image.path
        if role == ThumbnailsRole:
            return [self._thumbnail(found.image.path, index.row())]
        if role in (Qt.ItemDataRole.DisplayRole, Qt.ItemDataRole.AccessibleTextRole):
            return f"{found.image.name} ({text.relation(found.distance, found.identical, False)})"
        if role == Qt.ItemDataRole.ToolTipRole:
            if found.verdict is None:
                return found.image.path
            evidence = ", ".join(found.verdict.evidence)
            return f"{found.image.path}\n{found.verdict.kind.label}: {evidence}".rstrip(": ")
        return None


class FailureModel(RowTableModel):
    """Files that could not be read: name, folder and reason."""

    HEADERS = ("File", "Reason", "Folder")

    def set_failures(self, failures: Sequence[FileFailure]) -> None:
        """Show ``failures``."""
        self._reset(failures)

    def failure(self, row: int) -> FileFailure:
        """The failure at ``row``."""
        failure: FileFailure = self.row_at(row)
        return failure

    def _cell(self, item: FileFailure, column: int) -> str:
        if column == 0:
            return item.path.rsplit("/", 1)[-1]
        if column == 1:
            return item.reason
        return text.folder(item.path)

    def _tip(self, item: FileFailure) -> str:
        return f"{item.path}\n{item.reason}"

    def _other(self, item: FileFailure, column: int, role: int) -> object:
        return item.path if role == PathRole else None
