"""The cluster view: one row of photo cards per group of copies.

A :class:`QListView` over :class:`~desktop_app.gui.groups.models.GroupModel` with uniform item
sizes, so that tens of thousands of groups scroll without measuring rows; the
:class:`~desktop_app.gui.groups.group_delegate.GroupDelegate` paints a header and the group's
cards. Photos (cards), not rows,
are what the user selects: click selects one, Ctrl+click adds or removes one; the view
keeps that selection itself and tells the window through ``selection_changed``. A group
with more photos than fit in the width shows a "+N more" tile that opens the whole group.

When the model gives plans (``PlanRole``), each card shows its mark: a click on the box
in the thumbnail's corner, or Space on the current card, asks for the mark to be toggled
(``mark_toggled``; Ctrl+Space then adds the card to the selection), and the card's
tooltip says why it is kept, marked or left alone.
"""

from __future__ import annotations

import logging
from collections.abc import Sequence

from PySide6.QtCore import QEvent, QModelIndex, QPersistentModelIndex, QPoint, QRect, Qt, Signal
from PySide6.QtGui import QFont, QHelpEvent, QKeyEvent, QMouseEvent, QResizeEvent
from PySide6.QtWidgets import QAbstractItemView, QToolTip, QWidget

from desktop_app.engine.library import Library
from desktop_app.engine.types import Group, ImageRecord
from desktop_app.gui.groups.cards import (
    GAP,
    CardListView,
    card_size,
    mark_target,
    verdict_tooltip,
)
from desktop_app.gui.groups.group_delegate import GroupDelegate, card_infos, header_height
from desktop_app.gui.groups.models import GroupModel, GroupRole, PlanRole, ThumbnailsRole
from desktop_app.gui.groups.thumbnails import ThumbnailLoader

log = logging.getLogger(__name__)

#: Width of the "+N more" tile that stands for the photos of a group that do not fit.
TILE_W = 76
#: Cards every group shows, however narrow the window: the view is never narrower.
MIN_CARDS = 2


class ClusterView(CardListView):
    """Rows of cards, one row per group, with a selection of photos.

    Signals:
        selection_changed(): The selected photos changed (see :meth:`selected_photos`).
        photo_activated(ImageRecord): A photo was double-clicked or Enter was pressed.
        more_requested(int): The "+N more" tile of a row was clicked.
        photo_menu_requested(ImageRecord, QPoint): Right click on a photo (global position).
        mark_toggled(int, ImageRecord): The user clicked a card's mark box, or pressed
            Space on it: toggle the mark of this photo of group ``row``.
    """

    selection_changed = Signal()
    photo_activated = Signal(object)
    more_requested = Signal(int)
    photo_menu_requested = Signal(object, QPoint)
    mark_toggled = Signal(int, object)

    def __init__(
        self, loader: ThumbnailLoader | None = None, parent: QWidget | None = None
    ) -> None:
        super().__init__(parent)
        self._loader = loader
        self.thumbnails_role = ThumbnailsRole
        self.repaint_roles = (PlanRole,)
        #: Library folders; cards show each photo's folder relative to them.
        self.roots: tuple[str, ...] = ()
        self._selected: dict[int, ImageRecord] = {}  # insertion-ordered
        self._current: tuple[int, int] | None = None
        self._current_id: int | None = None  # the photo of the current card
        self.setUniformItemSizes(True)
        self.setVerticalScrollMode(QAbstractItemView.ScrollMode.ScrollPerPixel)
        self.setHorizontalScrollBarPolicy(Qt.ScrollBarPolicy.ScrollBarAlwaysOff)
        self.setSelectionMode(QAbstractItemView.SelectionMode.NoSelection)
        self.setMouseTracking(False)
        self.setItemDelegate(GroupDelegate(self, self))
        self.verticalScrollBar().setSingleStep(24)
        self.verticalScrollBar().valueChanged.connect(self._on_scrolled)
        scrollbar = self.style().pixelMetric(self.style().PixelMetric.PM_ScrollBarExtent)
        card = card_size(self.font()).width() + GAP
        self.setMinimumWidth(
            GAP + MIN_CARDS * card + TILE_W + GAP + scrollbar + 2 * self.frameWidth()
        )

    # ----------------------------------------------------------------- model

    def setModel(self, model: GroupModel) -> None:  # type: ignore[override]
        super().setModel(model)
        model.modelReset.connect(self._on_model_reset)
        self._update_visible_cards()

    def group_model(self) -> GroupModel:
        """The model shown."""
        model = self.model()
        assert isinstance(model, GroupModel)
        return model

    # ----------------------------------------------------------------- geometry

    def slots(self) -> int:
        """How many cards a row shows at most (never fewer than :data:`MIN_CARDS`)."""
        card = card_size(self.font()).width() + GAP
        return max(MIN_CARDS, (self.viewport().width() - GAP) // card)

    def layout_cards(self, count: int) -> tuple[int, int]:
        """(cards shown, photos hidden behind the "+N more" tile) for a group of ``count``:
        at least :data:`MIN_CARDS` cards, however narrow the view."""
        card = card_size(self.font()).width() + GAP
        room = self.viewport().width() - GAP
        if count * card <= room:
            return count, 0
        shown = min(max(MIN_CARDS, (room - TILE_W - GAP) // card), count - 1)
        return shown, count - shown

    def card_rect(self, row_rect: QRect, slot: int, font: QFont | None = None) -> QRect:
        """Where card ``slot`` of a row drawn in ``row_rect`` goes."""
        font = font or self.font()
        size = card_size(font)
        x = row_rect.x() + GAP + slot * (size.width() + GAP)
        return QRect(x, row_rect.y() + header_height(font), size.width(), size.height())

    def tile_rect(self, row_rect: QRect, shown: int, font: QFont | None = None) -> QRect:
        """Where the "+N more" tile goes, after ``shown`` cards."""
        rect = self.card_rect(row_rect, shown, font)
        rect.setWidth(TILE_W)
        return rect

    def card_at(self, pos: QPoint) -> tuple[int, int] | None:
        """(row, slot) of the card or tile under a viewport position."""
        index = self.indexAt(pos)
        if not index.isValid():
            return None
        rect = self.visualRect(index)
        group: Group = index.data(GroupRole)
        shown, more = self.layout_cards(len(group.members))
        for slot in range(shown):
            if self.card_rect(rect, slot).contains(pos):
                return index.row(), slot
        if more and self.tile_rect(rect, shown).contains(pos):
            return index.row(), shown
        return None

    # ----------------------------------------------------------------- selection

    def is_selected(self, image_id: int) -> bool:
        """Whether the photo with this id is selected."""
        return image_id in self._selected

    def selected_photos(self) -> list[ImageRecord]:
        """The selected photos, in the order they were selected."""
        return list(self._selected.values())

    def current_card(self) -> tuple[int, int] | None:
        """(row, slot) of the keyboard's current card."""
        return self._current

    def current_photo(self) -> tuple[int, ImageRecord] | None:
        """(row, photo) of the current card: the one last clicked or moved to."""
        if self._current is None:
            return None
        row, slot = self._current
        members = self.group_model().group(row).members
        return (
            (row, self.group_model().member(row, slot).image) if 0 <= slot < len(members) else None
        )

    def card_tooltip(self, row: int, slot: int) -> str:
        """The tooltip of a card: the photo's path, and why it is kept, marked or left."""
        index = self.model().index(row, 0)
        group: Group = index.data(GroupRole)
        if slot >= self.layout_cards(len(group.members))[0]:
            return "Show every photo of this group"
        order = self.group_model().order(row)
        info = card_infos(group, (), index.data(PlanRole), limit=slot + 1, order=order)[slot]
        lines = [info.image.path]
        if info.verdict is not None:
            lines.append(verdict_tooltip(info.verdict))
        shown = [m.image.path for m in group.members[: self.layout_cards(len(group.members))[0]]]
        if info.image.path not in shown:
            shown.append(info.image.path)
        lines += Library.photo_notes(shown)[info.image.path].lines
        member = group.members[order[slot] if order is not None else slot]
        if member.geometry is not None and member.geometry.evidence:
            # What the geometric check found against the group's first photo (issue 10).
            lines.append("Compared with the first photo: " + "; ".join(member.geometry.evidence))
        decision = info.decision
        if decision is not None:
            lines.append(decision.note)
            if not decision.reference:
                lines.append("Click the box, or press Space, to mark or unmark it.")
        return "\n".join(lines)

    def select_photo(self, row: int, slot: int, *, toggle: bool = False) -> None:
        """Select the photo in ``slot`` of group ``row`` (toggle: add or remove it)."""
        record = self.group_model().member(row, slot).image
        if toggle:
            if self._selected.pop(record.id, None) is None:
                self._selected[record.id] = record
        else:
            self._selected = {record.id: record}
        self._set_current(row, slot)
        self.viewport().update()
        self.selection_changed.emit()

    def clear_photo_selection(self) -> None:
        """Select nothing."""
        if self._selected:
            self._selected.clear()
            self.viewport().update()
            self.selection_changed.emit()

    def _set_current(self, row: int, slot: int) -> None:
        self._current = (row, slot)
        self._current_id = self.group_model().member(row, slot).image.id
        index = self.model().index(row, 0)
        self.setCurrentIndex(index)
        self.scrollTo(index)

    # ----------------------------------------------------------------- events

    def mousePressEvent(self, event: QMouseEvent) -> None:
        pos = event.position().toPoint()
        hit = self.card_at(pos)
        self.setFocus(Qt.FocusReason.MouseFocusReason)
        if hit is None:
            if event.button() == Qt.MouseButton.LeftButton:
                self.clear_photo_selection()
            return
        row, slot = hit
        shown, _ = self.layout_cards(len(self.group_model().group(row).members))
        if slot >= shown:
            if event.button() == Qt.MouseButton.LeftButton:
                self.more_requested.emit(row)
            return
        toggle = bool(
            event.modifiers()
            & (Qt.KeyboardModifier.ControlModifier | Qt.KeyboardModifier.MetaModifier)
        )
        record = self.group_model().member(row, slot).image
        box = mark_target(self.card_rect(self.visualRect(self.model().index(row, 0)), slot))
        if (
            event.button() == Qt.MouseButton.LeftButton
            and not toggle
            and box.contains(pos)
            and self._has_plans(row)
        ):
            self._move(row, slot)
            self.mark_toggled.emit(row, record)
            return
        if event.button() == Qt.MouseButton.RightButton:
            if record.id not in self._selected:
                self.select_photo(row, slot)
            self.photo_menu_requested.emit(record, event.globalPosition().toPoint())
            return
        self.select_photo(row, slot, toggle=toggle)

    def _has_plans(self, row: int) -> bool:
        return self.model().index(row, 0).data(PlanRole) is not None

    def mouseDoubleClickEvent(self, event: QMouseEvent) -> None:
        hit = self.card_at(event.position().toPoint())
        if hit is None:
            return
        row, slot = hit
        model = self.group_model()
        if slot < self.layout_cards(len(model.group(row).members))[0]:
            record = model.member(row, slot).image
            box = mark_target(self.card_rect(self.visualRect(self.model().index(row, 0)), slot))
            if box.contains(event.position().toPoint()) and self._has_plans(row):
                self.mark_toggled.emit(row, record)  # a quick second click
            else:
                self.photo_activated.emit(record)

    def mouseMoveEvent(self, event: QMouseEvent) -> None:
        event.accept()  # no rubber band, no drag selection of rows

    def keyPressEvent(self, event: QKeyEvent) -> None:
        model = self.model()
        if model is None or model.rowCount() == 0:
            super().keyPressEvent(event)
            return
        row, slot = self._current or (0, -1)
        key = event.key()
        count = len(self.group_model().group(row).members)
        shown = self.layout_cards(count)[0]
        if key == Qt.Key.Key_Right:
            self._move(row, min(slot + 1, shown - 1))
        elif key == Qt.Key.Key_Left:
            self._move(row, max(slot - 1, 0))
        elif key in (Qt.Key.Key_Down, Qt.Key.Key_Up, Qt.Key.Key_PageDown, Qt.Key.Key_PageUp):
            steps: dict[int, int] = {Qt.Key.Key_Down: 1, Qt.Key.Key_Up: -1}  # key() is an int
            step = steps.get(key)
            if step is None:
                page = max(1, self.viewport().height() // max(1, self.sizeHintForRow(0)))
                step = page if key == Qt.Key.Key_PageDown else -page
            target = min(max(row + step, 0), model.rowCount() - 1)
            target_count = len(self.group_model().group(target).members)
            self._move(target, min(max(slot, 0), self.layout_cards(target_count)[0] - 1))
        elif key == Qt.Key.Key_Space and self._current is not None:
            if event.modifiers() & Qt.KeyboardModifier.ControlModifier:
                self.select_photo(row, slot, toggle=True)
            else:
                self.mark_toggled.emit(row, self.group_model().member(row, slot).image)
        elif key in (Qt.Key.Key_Return, Qt.Key.Key_Enter) and self._current is not None:
            self.photo_activated.emit(self.group_model().member(row, slot).image)
        elif key == Qt.Key.Key_Escape:
            self.clear_photo_selection()
        else:
            super().keyPressEvent(event)

    def _move(self, row: int, slot: int) -> None:
        """Make the card at ``slot`` of ``row`` current and selected: the keys and the
        selection move together, and what Space marks is what is seen selected."""
        self.select_photo(row, max(slot, 0))

    def dataChanged(
        self,
        top_left: QModelIndex | QPersistentModelIndex,
        bottom_right: QModelIndex | QPersistentModelIndex,
        roles: Sequence[int] = (),
    ) -> None:
        super().dataChanged(top_left, bottom_right, roles)
        self._follow_current()

    def _follow_current(self) -> None:
        """Keep the current card on its photo when a new mark moved it in the row."""
        if self._current is None or self._current_id is None:
            return
        row, slot = self._current
        model = self.group_model()
        if not 0 <= row < model.rowCount():
            return
        members = model.group(row).members
        order = model.order(row)
        if 0 <= slot < len(order) and members[order[slot]].image.id == self._current_id:
            return
        for position, k in enumerate(order):
            if members[k].image.id == self._current_id:
                self._current = (row, position)
                self.viewport().update()
                return

    def viewportEvent(self, event: QEvent) -> bool:
        if event.type() == QEvent.Type.ToolTip and isinstance(event, QHelpEvent):
            hit = self.card_at(event.pos())
            if hit is None:
                QToolTip.hideText()
            else:
                QToolTip.showText(event.globalPos(), self.card_tooltip(*hit), self.viewport())
            return True
        return super().viewportEvent(event)

    def resizeEvent(self, event: QResizeEvent) -> None:
        super().resizeEvent(event)
        self._update_visible_cards()

    def _update_visible_cards(self) -> None:
        model = self.model()
        if isinstance(model, GroupModel):
            model.visible_cards = self.slots()

    def _on_model_reset(self) -> None:
        self._current = None
        self._current_id = None
        self._selected.clear()
        self.selection_changed.emit()

    def _on_scrolled(self, _value: int) -> None:
        # Rows scrolled past need no thumbnails any more; what is visible now asks again
        # when it is painted.
        if self._loader is not None:
            self._loader.drop_queued()
