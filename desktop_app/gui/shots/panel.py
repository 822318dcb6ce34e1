"""Similar shots for culling: bursts and brackets, each frame with its sharpness.

The second view of the window, in a dock beside the groups of copies. It lists the
library's groups of similar shots (``Library.shots``): frames of a burst or a bracket,
different exposures and never copies, in capture-time order, each with its capture time,
its exposure and a sharpness score, the sharpest starred. Nothing here is marked by
itself: "Keep the Sharpest" (for the selected group, or for all) makes a plan
(``Library.sharpest_plan``) that :signal:`ShotsPanel.keep_requested` hands to the apply
flow, with its dry run, journal and undo like every other operation.
"""

from __future__ import annotations

import logging

from PySide6.QtCore import Qt, Signal
from PySide6.QtGui import QBrush, QColor, QFont
from PySide6.QtWidgets import (
    QDockWidget,
    QHBoxLayout,
    QHeaderView,
    QLabel,
    QPushButton,
    QTreeWidget,
    QTreeWidgetItem,
    QVBoxLayout,
    QWidget,
)

from desktop_app.engine.errors import EngineError
from desktop_app.engine.types import ImageRecord, ShotGroup
from desktop_app.gui.common import text
from desktop_app.gui.library.session import LibrarySession

log = logging.getLogger(__name__)

#: Colour of the sharpest frame's row.
SHARPEST_COLOR = QColor("#2e7d32")
COLUMNS = ("Photo", "Captured", "Exposure", "Sharpness", "Folder")
#: Item data role holding a row's ImageRecord (frames) or group index (groups).
RecordRole = Qt.ItemDataRole.UserRole + 1
GroupIndexRole = Qt.ItemDataRole.UserRole + 2


def frame_cells(record: ImageRecord, sharpest: bool) -> list[str]:
    """The cells of one frame's row."""
    capture = record.capture
    score = "" if record.sharpness is None else f"{record.sharpness:,.0f}"
    return [
        ("★ " if sharpest else "") + record.name,
        (capture.when or "") if capture is not None else "",
        (capture.exposure or "") if capture is not None else "",
        score + ("  (sharpest)" if sharpest and score else ""),
        text.folder(record.path),
    ]


class ShotsPanel(QWidget):
    """The groups of similar shots of the open library.

    Signals:
        keep_requested(object): A "keep the sharpest" :class:`Plan` to dry-run and apply.
        photo_activated(ImageRecord): A frame was double-clicked.
        message(str): A line for the status bar.
    """

    keep_requested = Signal(object)
    photo_activated = Signal(object)
    message = Signal(str)

    def __init__(self, session: LibrarySession, parent: QWidget | None = None) -> None:
        super().__init__(parent)
        self.session = session
        self.groups: list[ShotGroup] = []
        self.summary = QLabel("Open a library to see its bursts and brackets.")
        self.summary.setWordWrap(True)
        self.tree = QTreeWidget()
        self.tree.setColumnCount(len(COLUMNS))
        self.tree.setHeaderLabels(list(COLUMNS))
        self.tree.setAccessibleName("Similar shots: bursts and brackets")
        for column in range(len(COLUMNS) - 1):  # the folder takes what is left
            self.tree.header().setSectionResizeMode(column, QHeaderView.ResizeMode.ResizeToContents)
        self.tree.setAlternatingRowColors(True)
        self.tree.itemDoubleClicked.connect(self._on_tree_item_double_clicked)
        self.tree.currentItemChanged.connect(lambda *_: self._update_buttons())
        self.refresh_button = QPushButton("Refresh")
        self.refresh_button.clicked.connect(self.refresh)
        self.keep_one = QPushButton("Keep the Sharpest in This Group…")
        self.keep_one.setToolTip("Mark every other frame of the selected group; a dry run first")
        self.keep_one.clicked.connect(self.keep_sharpest_in_current)
        self.keep_all = QPushButton("Keep the Sharpest in All…")
        self.keep_all.setToolTip(
            "In every group, mark all frames but the sharpest; a dry run first"
        )
        self.keep_all.clicked.connect(self.keep_sharpest_in_all)
        buttons = QHBoxLayout()
        buttons.addWidget(self.refresh_button)
        buttons.addStretch(1)
        buttons.addWidget(self.keep_one)
        buttons.addWidget(self.keep_all)
        layout = QVBoxLayout(self)
        layout.addWidget(self.summary)
        layout.addWidget(self.tree, 1)
        layout.addLayout(buttons)
        self._update_buttons()

    def refresh(self) -> None:
        """Read the groups of similar shots from the open library again."""
        library = self.session.library
        if library is None:
            self.set_groups([])
            self.summary.setText("Open a library to see its bursts and brackets.")
            return
        try:
            groups = library.shots(self.session.threshold)
        except EngineError as error:
            self.message.emit(f"Similar shots could not be read: {error}")
            return
        self.set_groups(groups)

    def set_groups(self, groups: list[ShotGroup]) -> None:
        """Show ``groups`` (from ``Library.shots``)."""
        self.groups = groups
        self.tree.clear()
        bold = QFont(self.tree.font())
        bold.setBold(True)
        for group in groups:
            first = group.members[0]
            camera = first.capture.model if first.capture is not None else None
            when = first.capture.when if first.capture is not None else None
            label = f"{text.plural(len(group.members), 'frame')}"
            item = QTreeWidgetItem([label, when or "", camera or "", "", ""])
            item.setData(0, GroupIndexRole, group.index)
            item.setFont(0, bold)
            sharpest = group.sharpest.id
            for record in group.members:
                child = QTreeWidgetItem(frame_cells(record, record.id == sharpest))
                child.setData(0, RecordRole, record)
                child.setData(0, GroupIndexRole, group.index)
                child.setToolTip(0, record.path)
                if record.id == sharpest:
                    for column in range(len(COLUMNS)):
                        child.setForeground(column, QBrush(SHARPEST_COLOR))
                item.addChild(child)
            self.tree.addTopLevelItem(item)
            item.setExpanded(True)
        frames = sum(len(g.members) for g in groups)
        self.summary.setText(
            f"{text.plural(len(groups), 'group')} of similar shots ({frames} frames): bursts "
            "and brackets, different exposures, never copies. Nothing is marked until you "
            "ask to keep the sharpest."
            if groups
            else "No bursts or brackets: no photos of one camera within a few seconds."
        )
        self._update_buttons()

    def current_group(self) -> int | None:
        """Index of the group of the selected row, if any."""
        item = self.tree.currentItem()
        if item is None:
            return None
        value = item.data(0, GroupIndexRole)
        return int(value) if value is not None else None

    def keep_sharpest_in_current(self) -> None:
        """Ask to keep the sharpest frame of the selected group (a dry run comes first)."""
        index = self.current_group()
        if index is not None:
            self._request([index])

    def keep_sharpest_in_all(self) -> None:
        """Ask to keep the sharpest frame of every group (a dry run comes first)."""
        if self.groups:
            self._request(None)

    def _request(self, which: list[int] | None) -> None:
        library = self.session.library
        if library is None:
            return
        from desktop_app.engine.cleanup import keep_sharpest

        references = [r.path for r in library.catalog.roots() if r.reference]
        self.keep_requested.emit(keep_sharpest(self.groups, which, references=references))

    def _update_buttons(self) -> None:
        self.keep_one.setEnabled(self.current_group() is not None)
        self.keep_all.setEnabled(bool(self.groups))

    def _on_tree_item_double_clicked(self, item: QTreeWidgetItem, _column: int) -> None:
        record = item.data(0, RecordRole)
        if record is not None:
            self.photo_activated.emit(record)


class ShotsDock(QDockWidget):
    """The similar-shots view in a dock; it reads the groups when shown."""

    def __init__(self, session: LibrarySession, parent: QWidget | None = None) -> None:
        super().__init__("Similar Shots", parent)
        self.setObjectName("shots-dock")
        self.panel = ShotsPanel(session, self)
        self.setWidget(self.panel)
        self.visibilityChanged.connect(self._on_visibility_changed)

    def _on_visibility_changed(self, visible: bool) -> None:
        if visible:
            self.panel.refresh()
