"""Read-only tables of rows: the model base and the view set-up they share.

:class:`RowTableModel` adapts a list of plain rows (an engine dataclass each) with fixed
headers; a subclass says what each cell, tooltip and colour is. :func:`row_table` makes
the view they are shown in: whole rows selected, one line each, long paths elided in
the middle. The failure list (``models.FailureModel``) and the cleanup dialogs' tables
(``cleanup_models``) are built on both.
"""

from __future__ import annotations

from collections.abc import Sequence
from typing import Any

from PySide6.QtCore import QAbstractTableModel, QModelIndex, QPersistentModelIndex, Qt
from PySide6.QtGui import QColor
from PySide6.QtWidgets import QAbstractItemView, QTableView

Index = QModelIndex | QPersistentModelIndex

#: Flags of a valid item of a read-only, flat model.
ROW_FLAGS = (
    Qt.ItemFlag.ItemIsEnabled | Qt.ItemFlag.ItemIsSelectable | Qt.ItemFlag.ItemNeverHasChildren
)


def row_flags(index: Index) -> Qt.ItemFlag:
    """The flags of ``index`` in a read-only, flat model: :data:`ROW_FLAGS` if valid."""
    return ROW_FLAGS if index.isValid() else Qt.ItemFlag.NoItemFlags


class RowTableModel(QAbstractTableModel):
    """A read-only table of rows of one type, with fixed headers.

    Subclasses set :attr:`HEADERS`, show rows with :meth:`_reset` and say what a cell is
    (:meth:`_cell`); tooltips, colours and other roles are optional.
    """

    HEADERS: tuple[str, ...] = ()

    def __init__(self, parent: object = None) -> None:
        super().__init__(parent)  # type: ignore[arg-type]
        self._rows: list[Any] = []

    def _reset(self, rows: Sequence[Any]) -> None:
        self.beginResetModel()
        self._rows = list(rows)
        self.endResetModel()

    def row_at(self, row: int) -> Any:
        """The item shown at ``row``."""
        return self._rows[row]

    def rowCount(self, parent: Index = QModelIndex()) -> int:  # noqa: B008
        return 0 if parent.isValid() else len(self._rows)

    def columnCount(self, parent: Index = QModelIndex()) -> int:  # noqa: B008
        return 0 if parent.isValid() else len(self.HEADERS)

    def headerData(
        self, section: int, orientation: Qt.Orientation, role: int = Qt.ItemDataRole.DisplayRole
    ) -> object:
        if (
            role == Qt.ItemDataRole.DisplayRole
            and orientation == Qt.Orientation.Horizontal
            and 0 <= section < len(self.HEADERS)
        ):
            return self.HEADERS[section]
        return None

    def flags(self, index: Index) -> Qt.ItemFlag:
        return row_flags(index)

    def data(self, index: Index, role: int = Qt.ItemDataRole.DisplayRole) -> object:
        if not index.isValid() or not 0 <= index.row() < len(self._rows):
            return None
        item = self._rows[index.row()]
        if role == Qt.ItemDataRole.DisplayRole:
            return self._cell(item, index.column())
        if role == Qt.ItemDataRole.ToolTipRole:
            return self._tip(item)
        if role == Qt.ItemDataRole.ForegroundRole:
            return self._color(item)
        return self._other(item, index.column(), role)

    def _cell(self, item: Any, column: int) -> str:
        raise NotImplementedError

    def _tip(self, item: Any) -> str | None:
        return None

    def _color(self, item: Any) -> QColor | None:
        return None

    def _other(self, item: Any, column: int, role: int) -> object:
        """The value of a role other than display, tooltip and foreground."""
        return None


def row_table(
    model: QAbstractTableModel, selection: QAbstractItemView.SelectionMode | None = None
) -> QTableView:
    """A view of ``model`` that selects whole rows, one line each, elided in the middle.

    Args:
        model: The table to show.
        selection: How many rows can be selected; None keeps the view's default.

    Returns:
        The view; the caller sizes its columns.
    """
    table = QTableView()
    table.setModel(model)
    table.setSelectionBehavior(QAbstractItemView.SelectionBehavior.SelectRows)
    if selection is not None:
        table.setSelectionMode(selection)
    table.verticalHeader().hide()
    table.setWordWrap(False)
    table.setTextElideMode(Qt.TextElideMode.ElideMiddle)
    return table
