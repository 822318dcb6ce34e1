"""A whole group of copies in a dialog of its own, for groups too large for one row."""

from __future__ import annotations

import logging
from collections.abc import Callable, Sequence

from PySide6.QtCore import QEvent, QObject, Qt, Signal
from PySide6.QtGui import QHelpEvent, QKeyEvent, QMouseEvent
from PySide6.QtWidgets import (
    QDialog,
    QDialogButtonBox,
    QLabel,
    QToolTip,
    QVBoxLayout,
    QWidget,
)

from desktop_app.engine.cleanup import Decision, GroupPlan
from desktop_app.engine.types import Group, ImageRecord, Match
from desktop_app.gui.common import text
from desktop_app.gui.groups.cards import CardInfo, card_grid, item_card_rect, mark_target
from desktop_app.gui.groups.models import MatchModel, MatchRole, ThumbnailsRole, display_order
from desktop_app.gui.groups.thumbnails import ThumbnailLoader

log = logging.getLogger(__name__)


class GroupDialog(QDialog):
    """Every photo of one group, as cards, for groups too large for one row.

    With ``plan``, the cards show their marks as in the cluster view, and a click on a
    card's box (or Space) asks for its mark to be toggled.

    Args:
        group: The group.
        loader: Thumbnails.
        roots: Library folders (cards show folders relative to them).
        parent: Owner window.
        plan: Returns the group's current plan (None: no marks shown).

    Signals:
        photo_activated(ImageRecord): A photo was double-clicked.
        compare_requested(list): Compare was pressed with two photos selected.
        mark_toggled(ImageRecord): The user clicked a card's box or pressed Space on it.
    """

    photo_activated = Signal(object)
    compare_requested = Signal(list)
    mark_toggled = Signal(object)

    def __init__(
        self,
        group: Group,
        loader: ThumbnailLoader | None,
        roots: Sequence[str] = (),
        parent: QWidget | None = None,
        plan: Callable[[], GroupPlan | None] | None = None,
    ) -> None:
        super().__init__(parent)
        self._plan = plan
        self.setAttribute(Qt.WidgetAttribute.WA_DeleteOnClose)
        self.setWindowTitle(f"Group {group.index + 1}: {text.plural(len(group.members), 'photo')}")
        reference = group.reference.image.id
        self.model = MatchModel(loader, self)
        members = [group.members[k] for k in display_order(group, plan() if plan else None)]
        self.model.set_matches(  # the keeper first, then the marked copies, as in the row
            [Match(m.image, m.distance, m.identical, m.transform, m.verdict) for m in members],
            threshold=255,
        )

        def to_info(match: Match) -> CardInfo:
            return CardInfo(
                match.image,
                match.distance,
                match.identical,
                match.transform,
                reference=match.image.id == reference,
                folder=text.relative_folder(match.image.path, roots),
                decision=self.decision(match.image.id),
                verdict=match.verdict,
            )

        self.list = card_grid(self.model, to_info, MatchRole, ThumbnailsRole)
        self.list.doubleClicked.connect(
            lambda index: self.photo_activated.emit(self.model.match_at(index.row()).image)
        )
        info = QLabel(
            f"{text.human_size(group.extra_bytes)} in extra copies. Select two photos "
            "(Ctrl+click) to compare them, or double-click one to preview it."
        )
        info.setWordWrap(True)
        buttons = QDialogButtonBox(QDialogButtonBox.StandardButton.Close)
        buttons.rejected.connect(self.reject)
        self.compare = buttons.addButton("Compare", QDialogButtonBox.ButtonRole.ActionRole)
        self.compare.setEnabled(False)
        self.compare.clicked.connect(lambda: self.compare_requested.emit(self.selected_photos()))
        self.list.selectionModel().selectionChanged.connect(
            lambda *_: self.compare.setEnabled(len(self.selected_photos()) == 2)
        )
        layout = QVBoxLayout(self)
        layout.addWidget(info)
        layout.addWidget(self.list, 1)
        layout.addWidget(buttons)
        self.resize(980, 640)
        self.list.viewport().installEventFilter(self)
        self.list.installEventFilter(self)

    def decision(self, image_id: int) -> Decision | None:
        """The plan's decision on one photo of the group, if marks are shown."""
        found = self._plan() if self._plan is not None else None
        if found is None:
            return None
        return next((d for d in found.decisions if d.image.id == image_id), None)

    def card_tooltip(self, row: int) -> str:
        """The tooltip of the card at ``row``: the photo's path, and why it is kept,
        marked or left alone (as in the main window)."""
        image = self.model.match_at(row).image
        lines = [image.path]
        decision = self.decision(image.id)
        if decision is not None:
            lines.append(decision.note)
            if not decision.reference:
                lines.append("Click the box, or press Space, to mark or unmark it.")
        return "\n".join(lines)

    def refresh_marks(self, *_: object) -> None:
        """Repaint the cards after the marks changed."""
        self.list.viewport().update()

    def eventFilter(self, watched: QObject, event: QEvent) -> bool:
        if (
            watched is self.list.viewport()
            and event.type() == QEvent.Type.ToolTip
            and isinstance(event, QHelpEvent)
        ):
            index = self.list.indexAt(event.pos())
            if index.isValid():
                QToolTip.showText(event.globalPos(), self.card_tooltip(index.row()), watched)
            else:
                QToolTip.hideText()
            return True
        if self._plan is None:
            return super().eventFilter(watched, event)
        if (
            watched is self.list.viewport()
            and event.type() == QEvent.Type.MouseButtonPress
            and isinstance(event, QMouseEvent)
            and event.button() == Qt.MouseButton.LeftButton
        ):
            pos = event.position().toPoint()
            index = self.list.indexAt(pos)
            if index.isValid():
                card = item_card_rect(self.list.visualRect(index), self.list.font())
                if mark_target(card).contains(pos):
                    self.list.setCurrentIndex(index)
                    self.mark_toggled.emit(self.model.match_at(index.row()).image)
                    return True
        if (
            watched is self.list
            and event.type() == QEvent.Type.KeyPress
            and isinstance(event, QKeyEvent)
            and event.key() == Qt.Key.Key_Space
            and not event.modifiers()
            and self.list.currentIndex().isValid()
        ):
            self.mark_toggled.emit(self.model.match_at(self.list.currentIndex().row()).image)
            return True
        return super().eventFilter(watched, event)

    def selected_photos(self) -> list[ImageRecord]:
        """The selected photos."""
        rows = sorted(i.row() for i in self.list.selectionModel().selectedIndexes())
        return [self.model.match_at(r).image for r in rows]
