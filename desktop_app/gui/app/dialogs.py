"""Dialogs: About, errors, catalog trouble, and a whole group of copies.

Every modal question goes through a function of this module, so the tests can answer
it by monkeypatching the function instead of clicking a real message box.
"""

from __future__ import annotations

import logging
from collections.abc import Callable, Sequence

from PySide6.QtCore import QEvent, QObject, Qt, Signal
from PySide6.QtGui import QKeyEvent, QMouseEvent
from PySide6.QtWidgets import (
    QDialog,
    QDialogButtonBox,
    QFileDialog,
    QLabel,
    QMessageBox,
    QVBoxLayout,
    QWidget,
)

import desktop_app
from desktop_app.engine.errors import CatalogCorrupt, CatalogError, CatalogLocked, CatalogTooNew
from desktop_app.engine.selection.plans import Decision, GroupPlan
from desktop_app.engine.types import Group, ImageRecord, Match
from desktop_app.gui.app import text
from desktop_app.gui.groups.cards import CardInfo, card_grid, item_card_rect, mark_target
from desktop_app.gui.groups.models import MatchModel, MatchRole, ThumbnailsRole
from desktop_app.gui.groups.thumbnails import ThumbnailLoader

log = logging.getLogger(__name__)

ABOUT_TEXT = """<h3>Doppel {version}</h3>
<p>Finds duplicate and near-duplicate photos in your library: re-saved, resized,
re-encoded, bordered, rotated or mirrored copies, and byte-identical files.</p>
<p>Each photo gets a 64-bit perceptual hash; two photos are copies when few of their
bits differ (the Hamming distance). An exact segment index in SQLite finds every such
pair, and the slider regroups them as you move it.</p>
<p>Doppel never changes or deletes your photos.</p>
<p>Catalog: <code>{catalog}</code></p>"""


def show_about(parent: QWidget | None, catalog: str) -> None:
    """The About box."""
    QMessageBox.about(
        parent,
        "About Doppel",
        ABOUT_TEXT.format(version=desktop_app.__version__, catalog=catalog),
    )


def show_error(parent: QWidget | None, title: str, message: str, details: str = "") -> None:
    """A warning box with ``message`` (and a "Show Details" part if given)."""
    box = QMessageBox(
        QMessageBox.Icon.Warning, title, message, QMessageBox.StandardButton.Ok, parent
    )
    if details:
        box.setDetailedText(details)
    box.exec()


def ask_catalog_action(parent: QWidget | None, error: CatalogError) -> str:
    """Ask what to do about a catalog that cannot be used.

    Returns:
        "rebuild" (set the damaged file aside and start a new one), "retry" (it was
        locked; try again) or "cancel".
    """
    box = QMessageBox(parent)
    box.setIcon(QMessageBox.Icon.Warning)
    box.setWindowTitle("The catalog cannot be used")
    box.setText(str(error))
    actions: dict[object, str] = {}
    if isinstance(error, (CatalogCorrupt, CatalogTooNew)):
        box.setInformativeText(
            "Doppel can rebuild it: the old file is kept next to it under a dated name, your "
            "library folders are carried over, and the photos are indexed again. Your photos "
            "are not touched."
        )
        actions[box.addButton("Rebuild Catalog", QMessageBox.ButtonRole.AcceptRole)] = "rebuild"
    elif isinstance(error, CatalogLocked):
        box.setInformativeText("Close the other program that uses it (another Doppel?) and retry.")
        actions[box.addButton("Retry", QMessageBox.ButtonRole.AcceptRole)] = "retry"
    box.addButton(QMessageBox.StandardButton.Cancel)
    box.exec()
    return actions.get(box.clickedButton(), "cancel")


def confirm_delete(parent: QWidget | None, count: int, size: int) -> bool:
    """Ask before a permanent deletion, naming the number of photos and their size.

    Returns:
        Whether the user confirmed (the default button is Cancel).
    """
    box = QMessageBox(parent)
    box.setIcon(QMessageBox.Icon.Warning)
    box.setWindowTitle("Delete permanently?")
    box.setText(f"Delete {text.plural(count, 'photo')} ({text.human_size(size)}) permanently?")
    box.setInformativeText(
        "They do not go to the trash and cannot be put back. Moving them to the trash "
        "instead can be undone."
    )
    delete = box.addButton(
        f"Delete {text.plural(count, 'Photo')}", QMessageBox.ButtonRole.DestructiveRole
    )
    cancel = box.addButton(QMessageBox.StandardButton.Cancel)
    box.setDefaultButton(cancel)
    box.exec()
    return box.clickedButton() is delete


def show_recovery(parent: QWidget | None, lines: Sequence[str]) -> None:
    """Say what was put in order after an operation was interrupted (a crash, a power cut)."""
    box = QMessageBox(parent)
    box.setIcon(QMessageBox.Icon.Information)
    box.setWindowTitle("An interrupted operation was completed")
    box.setText(
        "Doppel stopped in the middle of moving files last time. It has checked each of "
        f"them: {text.plural(len(lines), 'file')} settled, none lost."
    )
    box.setInformativeText("Edit › History lists every operation and where each file is.")
    box.setDetailedText("\n".join(lines))
    box.exec()


def ask_trash_location(parent: QWidget | None, current: str) -> str | None:
    """Ask where trashed photos go: a folder of the user's, or the system trash.

    Returns:
        The folder, "" for the system trash, or None if the user cancelled.
    """
    box = QMessageBox(parent)
    box.setIcon(QMessageBox.Icon.Question)
    box.setWindowTitle("Trash Folder")
    box.setText(f"Trashed photos go to {current or 'the system trash'}.")
    box.setInformativeText(
        "A trash folder of your own keeps the same layout as the desktop's trash; undo "
        "works from both."
    )
    choose = box.addButton("Choose a Folder…", QMessageBox.ButtonRole.AcceptRole)
    system = box.addButton("Use the System Trash", QMessageBox.ButtonRole.ResetRole)
    box.addButton(QMessageBox.StandardButton.Cancel)
    box.exec()
    if box.clickedButton() is system:
        return ""
    if box.clickedButton() is choose:
        folder = QFileDialog.getExistingDirectory(parent, "Trash Folder", current or "")
        return folder or None
    return None


def show_crash(parent: QWidget | None, summary: str, details: str) -> None:
    """The dialog of the exception hook: something went wrong that we did not expect."""
    box = QMessageBox(parent)
    box.setIcon(QMessageBox.Icon.Critical)
    box.setWindowTitle("Doppel ran into a problem")
    box.setText("Something went wrong that Doppel did not expect. Your photos were not changed.")
    box.setInformativeText(summary)
    box.setDetailedText(details)
    box.exec()


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
        self.model.set_matches(
            [
                Match(m.image, m.distance, m.identical, m.transform, m.verdict)
                for m in group.members
            ],
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
        if plan is not None:
            self.list.viewport().installEventFilter(self)
            self.list.installEventFilter(self)

    def decision(self, image_id: int) -> Decision | None:
        """The plan's decision on one photo of the group, if marks are shown."""
        found = self._plan() if self._plan is not None else None
        if found is None:
            return None
        return next((d for d in found.decisions if d.image.id == image_id), None)

    def refresh_marks(self, *_: object) -> None:
        """Repaint the cards after the marks changed."""
        self.list.viewport().update()

    def eventFilter(self, watched: QObject, event: QEvent) -> bool:
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
