"""Edit › History: every file operation in the journal, its files, and undo.

The upper table lists the operations, most recent first (``operations.history``); the
lower one the files of the selected operation, where each was and where it is now
(``journal.entries``). "Undo" puts back the selected operation's files, and first those
of every later operation that still has files to put back, most recent first, as
``doppel undo N`` does: undoing never jumps over a later operation.
"""

from __future__ import annotations

import logging
from collections.abc import Callable

from PySide6.QtCore import QAbstractTableModel, QItemSelection, Qt, Signal
from PySide6.QtWidgets import (
    QAbstractItemView,
    QDialog,
    QDialogButtonBox,
    QHeaderView,
    QLabel,
    QSplitter,
    QTableView,
    QVBoxLayout,
    QWidget,
)

from desktop_app.engine.cleanup import Cleanup
from desktop_app.gui.cleanup.row_models import EntryModel, OperationModel
from desktop_app.gui.common import text
from desktop_app.gui.common.tables import row_table

log = logging.getLogger(__name__)


def _table(model: QAbstractTableModel) -> QTableView:
    table = row_table(model, QAbstractItemView.SelectionMode.SingleSelection)
    table.horizontalHeader().setSectionResizeMode(QHeaderView.ResizeMode.ResizeToContents)
    table.horizontalHeader().setStretchLastSection(True)
    return table


class HistoryDialog(QDialog):
    """The journal of file operations, with undo.

    Args:
        cleanup: Returns the cleanup front door of the open library (None when no library
            is open); asked again at each refresh, since the session reopens it after an
            operation.
        parent: Owner window.

    Signals:
        undo_requested(int): Undo this operation (and every later one first).
    """

    undo_requested = Signal(int)

    def __init__(
        self, cleanup: Callable[[], Cleanup | None], parent: QWidget | None = None
    ) -> None:
        super().__init__(parent)
        self.setWindowTitle("History")
        self._cleanup = cleanup
        self._undoable: list[int] = []
        self.operations = OperationModel(self)
        self.entries = EntryModel(self)
        self.operation_table = _table(self.operations)
        self.entry_table = _table(self.entries)
        self.operation_table.selectionModel().selectionChanged.connect(
            self._on_operation_selection_changed
        )
        self.note = QLabel("")
        self.note.setWordWrap(True)
        split = QSplitter(Qt.Orientation.Vertical)
        split.addWidget(self.operation_table)
        split.addWidget(self.entry_table)
        split.setSizes([220, 280])
        buttons = QDialogButtonBox(QDialogButtonBox.StandardButton.Close)
        buttons.rejected.connect(self.reject)
        self.undo = buttons.addButton("Undo", QDialogButtonBox.ButtonRole.ActionRole)
        self.undo.setEnabled(False)
        self.undo.clicked.connect(self._on_undo_clicked)
        layout = QVBoxLayout(self)
        layout.addWidget(
            QLabel(
                "Every trash, move and deletion Doppel made, most recent first. Select one "
                "to see its files."
            )
        )
        layout.addWidget(split, 1)
        layout.addWidget(self.note)
        layout.addWidget(buttons)
        self.resize(920, 600)
        self.refresh()

    def refresh(self) -> None:
        """Read the journal again (after an operation or an undo)."""
        cleanup = self._cleanup()
        selected = self.selected_operation()
        ops = cleanup.history() if cleanup is not None else []
        self._undoable = [op.id for op in cleanup.undoable()] if cleanup is not None else []
        self.operations.set_operations(ops)
        self.entries.set_entries([])
        rows = [r for r, op in enumerate(ops) if op.id == selected] or [0]
        if ops:
            self.operation_table.selectRow(rows[0])
        else:
            self.note.setText("No operation yet: nothing was ever moved or deleted.")
            self.undo.setEnabled(False)

    def selected_operation(self) -> int | None:
        """The id of the selected operation, if any."""
        rows = self.operation_table.selectionModel().selectedRows()
        return self.operations.row_at(rows[0].row()).id if rows else None

    def _on_operation_selection_changed(self, *_: QItemSelection) -> None:
        cleanup = self._cleanup()
        selected = self.selected_operation()
        if cleanup is None or selected is None:
            self.entries.set_entries([])
            self.undo.setEnabled(False)
            return
        self.entries.set_entries(cleanup.entries(selected))
        later = [op for op in self._undoable if op > selected]
        can = selected in self._undoable
        self.undo.setEnabled(can)
        if can and later:
            self.undo.setText(f"Undo This and {text.plural(len(later), 'Later Operation')}")
            self.note.setText(
                "Undo puts back the files of the later operations first, most recent first."
            )
        elif can:
            self.undo.setText("Undo")
            self.note.setText("Undo puts the files back where they were; nothing is overwritten.")
        else:
            self.undo.setText("Undo")
            self.note.setText("This operation has no files that undo can put back.")

    def _on_undo_clicked(self) -> None:
        selected = self.selected_operation()
        if selected is not None:
            self.undo.setEnabled(False)
            self.undo_requested.emit(selected)
