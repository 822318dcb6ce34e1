"""Smaller pieces of the main window: scan progress, unreadable files, the empty state.

* :class:`ScanProgress` lives in the status bar while a scan runs: phase, files done of
  total, rate, time left, the current file, and a Cancel button.
* :class:`FailurePanel` lists the files that could not be read, with the reason.
* :class:`EmptyState` is what a window with no library shows: where to start.
"""

from __future__ import annotations

import logging
import os

from PySide6.QtCore import QModelIndex, QSize, Qt, Signal
from PySide6.QtGui import QFont, QIcon
from PySide6.QtWidgets import (
    QAbstractItemView,
    QHBoxLayout,
    QHeaderView,
    QLabel,
    QListWidget,
    QListWidgetItem,
    QProgressBar,
    QPushButton,
    QSizePolicy,
    QVBoxLayout,
    QWidget,
)

from desktop_app.engine.types import FileFailure, Phase, Progress, ScanSummary, describe_progress
from desktop_app.gui.common import desktop
from desktop_app.gui.common.tables import row_table
from desktop_app.gui.groups.models import FailureModel, PathRole

log = logging.getLogger(__name__)


def scan_finished_text(summary: ScanSummary) -> str:
    """The status bar's line about a scan that ended."""
    parts = [f"{summary.added} new", f"{summary.updated} changed", f"{summary.removed} gone"]
    verb = "Scan stopped" if summary.cancelled else "Scan finished"
    message = f"{verb}: {', '.join(parts)}, {summary.unchanged} unchanged"
    if summary.failures:
        message += f"; {len(summary.failures)} unreadable (View › Unreadable Files)"
    if summary.offline:
        message += f"; offline (missing or empty), photos kept: {', '.join(summary.offline)}"
    if summary.skipped:
        names = ", ".join(os.path.basename(p) for p in summary.skipped[:3])
        more = f" and {len(summary.skipped) - 3} more" if len(summary.skipped) > 3 else ""
        message += f"; left out (other applications' files, exclusions): {names}{more}"
    if summary.cancelled:
        message += ". Rescan (F5) to resume."
    return message


class ScanProgress(QWidget):
    """Progress of the running scan, with a Cancel button.

    Signals:
        cancel_requested(): The user pressed Cancel.
    """

    cancel_requested = Signal()

    def __init__(self, parent: QWidget | None = None) -> None:
        super().__init__(parent)
        self.label = QLabel("")
        self.current = QLabel("")
        self.current.setMinimumWidth(120)
        self.current.setMaximumWidth(360)
        self.bar = QProgressBar()
        self.bar.setMaximumWidth(220)
        self.bar.setTextVisible(True)
        self.cancel = QPushButton("Cancel")
        self.cancel.setSizePolicy(QSizePolicy.Policy.Fixed, QSizePolicy.Policy.Fixed)
        self.cancel.setToolTip("Stop the scan; what was done is kept and the next scan resumes")
        self.cancel.clicked.connect(self._on_cancel_clicked)
        layout = QHBoxLayout(self)
        layout.setContentsMargins(0, 0, 0, 0)
        layout.addWidget(self.label)
        layout.addWidget(self.bar)
        layout.addWidget(self.current, 1)
        layout.addWidget(self.cancel)

    def start(self) -> None:
        """Show an indeterminate bar for a scan that just started."""
        self.label.setText("Starting the scan…")
        self.current.setText("")
        self.bar.setRange(0, 0)
        self.cancel.setEnabled(True)
        self.cancel.setText("Cancel")

    def update_progress(self, report: Progress) -> None:
        """Show a progress report."""
        self.label.setText(describe_progress(report))
        if report.total is None or report.total == 0:
            self.bar.setRange(0, 0)
        else:
            self.bar.setRange(0, report.total)
            self.bar.setValue(min(report.done, report.total))
            self.bar.setFormat("%p%")
        path = report.current or ""
        name = path.rsplit("/", 1)[-1]
        metrics = self.current.fontMetrics()
        self.current.setText(
            metrics.elidedText(name, Qt.TextElideMode.ElideMiddle, self.current.maximumWidth())
        )
        self.current.setToolTip(path)
        if report.phase == Phase.PAIRING:
            self.current.setText("comparing hashes")

    def _on_cancel_clicked(self) -> None:
        self.cancel.setEnabled(False)
        self.cancel.setText("Stopping…")
        self.cancel_requested.emit()


class FailurePanel(QWidget):
    """The files of the library that could not be read, and why."""

    def __init__(self, parent: QWidget | None = None) -> None:
        super().__init__(parent)
        self.model = FailureModel(self)
        self.table = row_table(self.model, QAbstractItemView.SelectionMode.SingleSelection)
        header = self.table.horizontalHeader()
        header.setSectionResizeMode(0, QHeaderView.ResizeMode.ResizeToContents)
        header.setSectionResizeMode(1, QHeaderView.ResizeMode.Interactive)
        header.resizeSection(1, 320)
        header.setSectionResizeMode(2, QHeaderView.ResizeMode.Stretch)
        self.table.doubleClicked.connect(self._on_table_double_clicked)
        self.summary = QLabel("")
        reveal = QPushButton("Show in folder")
        reveal.clicked.connect(self._on_reveal_clicked)
        row = QHBoxLayout()
        row.addWidget(self.summary, 1)
        row.addWidget(reveal)
        layout = QVBoxLayout(self)
        layout.setContentsMargins(4, 4, 4, 4)
        layout.addLayout(row)
        layout.addWidget(self.table, 1)

    def set_failures(self, failures: list[FileFailure]) -> None:
        """Show ``failures``."""
        self.model.set_failures(failures)
        if failures:
            self.summary.setText(
                f"{len(failures):,} file{'s' if len(failures) != 1 else ''} could not be read. "
                "They are left alone; fix or remove them and rescan."
            )
        else:
            self.summary.setText("No unreadable files.")

    def _selected_path(self) -> str | None:
        rows = self.table.selectionModel().selectedRows()
        return rows[0].data(PathRole) if rows else None

    def _on_reveal_clicked(self) -> None:
        path = self._selected_path()
        if path:
            desktop.show_in_folder(path)

    def _on_table_double_clicked(self, index: QModelIndex) -> None:
        desktop.show_in_folder(index.data(PathRole))


class EmptyState(QWidget):
    """What the window shows with no library open.

    Signals:
        open_requested(): The user wants to choose a folder.
        recent_requested(list): The user picked a recent library (its folders).
    """

    open_requested = Signal()
    recent_requested = Signal(list)

    def __init__(self, icon: QIcon | None = None, parent: QWidget | None = None) -> None:
        super().__init__(parent)
        picture = QLabel()
        if icon is not None and not icon.isNull():
            picture.setPixmap(icon.pixmap(QSize(96, 96)))
        picture.setAlignment(Qt.AlignmentFlag.AlignCenter)
        headline = QLabel("Drop a folder here to start")
        font = QFont(headline.font())
        font.setPointSizeF(font.pointSizeF() * 1.6)
        font.setBold(True)
        headline.setFont(font)
        headline.setAlignment(Qt.AlignmentFlag.AlignCenter)
        explain = QLabel(
            "Doppel indexes the photos in the folder and shows every group of copies:\n"
            "re-saved, resized, re-encoded, bordered or rotated. Your photos are never changed."
        )
        explain.setAlignment(Qt.AlignmentFlag.AlignCenter)
        explain.setWordWrap(True)
        button = QPushButton("Open Folder…")
        button.setDefault(True)
        button.clicked.connect(self.open_requested)
        self.recent_title = QLabel("Recent libraries")
        self.recent = QListWidget()
        self.recent.setMinimumWidth(460)
        self.recent.setMaximumWidth(640)
        self.recent.setTextElideMode(Qt.TextElideMode.ElideMiddle)
        self.recent.setHorizontalScrollBarPolicy(Qt.ScrollBarPolicy.ScrollBarAlwaysOff)
        self.recent.itemActivated.connect(self._on_recent_item_activated)
        self.recent.itemClicked.connect(self._on_recent_item_activated)

        layout = QVBoxLayout(self)
        layout.addStretch(2)
        layout.addWidget(picture)
        layout.addWidget(headline)
        layout.addWidget(explain)
        buttons = QHBoxLayout()
        buttons.addStretch(1)
        buttons.addWidget(button)
        buttons.addStretch(1)
        layout.addLayout(buttons)
        layout.addSpacing(16)
        layout.addWidget(self.recent_title, 0, Qt.AlignmentFlag.AlignHCenter)
        layout.addWidget(self.recent, 0, Qt.AlignmentFlag.AlignHCenter)
        layout.addStretch(3)

    def set_recent(self, libraries: list[list[str]]) -> None:
        """List recent libraries (each a list of folders)."""
        self.recent.clear()
        for folders in libraries:
            item = QListWidgetItem(" + ".join(folders))
            item.setData(Qt.ItemDataRole.UserRole, folders)
            item.setToolTip("\n".join(folders))
            self.recent.addItem(item)
        self.recent.setVisible(bool(libraries))
        self.recent_title.setVisible(bool(libraries))
        rows = max(1, min(len(libraries), 6))
        frame = 2 * self.recent.frameWidth()
        self.recent.setFixedHeight(rows * self.recent.sizeHintForRow(0) + frame + 2)

    def _on_recent_item_activated(self, item: QListWidgetItem) -> None:
        self.recent_requested.emit(list(item.data(Qt.ItemDataRole.UserRole)))
