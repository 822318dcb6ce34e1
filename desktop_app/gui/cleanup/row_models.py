"""Table models of the cleanup dialogs, over the engine's plain results.

* :class:`FileResultModel`: what a dry run would do, or what an operation or an undo did,
  one file a row (``fileops.FileResult``); files left in place come first.
* :class:`OperationModel`: the journal's operations (``journal.Operation``).
* :class:`EntryModel`: the files of one operation (``journal.Entry``).
* :class:`IgnoredPairModel`: the pairs remembered as not copies (``ignore.IgnoredPair``).
* :class:`FolderModel`: the library folders, with a check box for "reference".

They are :class:`~desktop_app.gui.common.tables.RowTableModel` tables and, like ``models.py``,
adapt data given to them and run no queries; the dialogs ask the engine and hand the
results over.
"""

from __future__ import annotations

import datetime as dt
import logging
from collections.abc import Sequence
from typing import ClassVar

from PySide6.QtCore import Qt, Signal
from PySide6.QtGui import QColor

from desktop_app.engine.cleanup import (
    Action,
    Entry,
    FileResult,
    IgnoredPair,
    Operation,
    OperationState,
    State,
)
from desktop_app.gui.common import text
from desktop_app.gui.common.tables import Index, RowTableModel

log = logging.getLogger(__name__)

#: Colour of the rows of files left in place.
LEFT_COLOR = QColor("#b3261e")

_ACTIONS = {
    Action.TRASH: "Moved to the trash",
    Action.MOVE: "Moved to a folder",
    Action.DELETE: "Deleted permanently",
}


def when(ns: int) -> str:
    """A journal time as ``2024-05-01 13:45:10``."""
    return dt.datetime.fromtimestamp(ns / 1e9).strftime("%Y-%m-%d %H:%M:%S")


def outcome(result: FileResult, action: Action) -> str:
    """What happened (or would happen) to one file, in words."""
    state = result.state
    if state is State.FAILED:
        return f"left in place: {result.error or 'unknown reason'}"
    if state is State.RESTORED:
        back = f"put back at {result.destination}" if result.destination else "put back"
        return f"{back} ({result.error})" if result.error else back
    verb = "will go to" if state is State.PLANNED else "now at"
    if result.destination:
        return f"{verb} {result.destination}"
    if action is Action.DELETE:
        return "will be deleted permanently" if state is State.PLANNED else "deleted"
    return "will go to the trash" if state is State.PLANNED else "in the trash"


class FileResultModel(RowTableModel):
    """One file a row: name, folder, and what happens to it; files left in place first."""

    HEADERS = ("File", "Folder", "Outcome")

    def __init__(self, parent: object = None) -> None:
        super().__init__(parent)
        self.action = Action.TRASH

    def set_results(self, results: Sequence[FileResult], action: Action) -> None:
        """Show ``results`` of an operation (or dry run) that does ``action``."""
        self.action = action
        failed = [r for r in results if r.state is State.FAILED]
        self._reset(failed + [r for r in results if r.state is not State.FAILED])

    def _cell(self, item: FileResult, column: int) -> str:
        if column == 0:
            return item.source.rsplit("/", 1)[-1]
        if column == 1:
            return text.folder(item.source)
        return outcome(item, self.action)

    def _tip(self, item: FileResult) -> str:
        tip = f"{item.source}\n{outcome(item, self.action)}"
        if item.sidecars:
            names = ", ".join(s.source.rsplit("/", 1)[-1] for s in item.sidecars)
            tip += f"\nwith its sidecar{'s' if len(item.sidecars) > 1 else ''} {names}"
        return tip

    def _color(self, item: FileResult) -> QColor | None:
        return LEFT_COLOR if item.state is State.FAILED else None


class OperationModel(RowTableModel):
    """The journal's operations, most recent first."""

    HEADERS = ("#", "Started", "What", "Files", "Done", "Left in place", "Put back", "State")

    def set_operations(self, operations: Sequence[Operation]) -> None:
        """Show ``operations``."""
        self._reset(operations)

    def _cell(self, item: Operation, column: int) -> str:
        values = (
            str(item.id),
            when(item.started_ns),
            _ACTIONS[item.action],
            str(item.files),
            f"{item.done} ({text.human_size(item.bytes_done)})",
            str(item.failed),
            str(item.restored),
            "interrupted" if item.state is OperationState.INTERRUPTED else str(item.state),
        )
        return values[column]

    def _tip(self, item: Operation) -> str:
        lines = [f"{_ACTIONS[item.action]}: {item.target or ''}".rstrip(": ")]
        if item.note:
            lines.append(item.note)
        if item.action is not Action.DELETE and item.done and not item.restorable:
            lines.append("Undo cannot put these files back (the trash does not say where).")
        return "\n".join(lines)


class EntryModel(RowTableModel):
    """The files of one operation: where each was and where it is now."""

    HEADERS = ("File", "State", "Was at", "Now at", "Note")
    _STATES: ClassVar[dict[State, str]] = {
        State.DONE: "done",
        State.FAILED: "left in place",
        State.RESTORED: "put back",
    }

    def set_entries(self, entries: Sequence[Entry]) -> None:
        """Show ``entries``."""
        self._reset(entries)

    @staticmethod
    def now_at(entry: Entry) -> str:
        """Where the file of ``entry`` is now, as the journal knows it."""
        if entry.state is State.RESTORED:
            return entry.restored or entry.source
        if entry.state is State.DONE:
            return entry.destination or "(deleted, or in a trash that does not say where)"
        return entry.source

    def _cell(self, item: Entry, column: int) -> str:
        values = (
            item.source.rsplit("/", 1)[-1],
            self._STATES.get(item.state, str(item.state)),
            item.source,
            self.now_at(item),
            item.error or "",
        )
        return values[column]

    def _tip(self, item: Entry) -> str:
        return f"{item.source}\n→ {self.now_at(item)}"

    def _color(self, item: Entry) -> QColor | None:
        return LEFT_COLOR if item.state is State.FAILED else None


class IgnoredPairModel(RowTableModel):
    """Pairs of photos remembered as not copies, with their paths at the time."""

    HEADERS = ("Photo", "Is not a copy of", "Remembered on")

    def set_pairs(self, pairs: Sequence[IgnoredPair]) -> None:
        """Show ``pairs``."""
        self._reset(pairs)

    def _cell(self, item: IgnoredPair, column: int) -> str:
        values = (
            item.a_path or f"(file {item.a.hex()[:8]}…)",
            item.b_path or f"(file {item.b.hex()[:8]}…)",
            when(item.added_ns),
        )
        return values[column]

    def _tip(self, item: IgnoredPair) -> str:
        return f"{item.a_path}\n{item.b_path}\nPaths as they were when you said so."


class FolderModel(RowTableModel):
    """Library folders, and whether each is a reference folder (a check box).

    Signals:
        reference_toggled(str, bool): The user checked or unchecked a folder.
    """

    HEADERS = ("Folder", "Reference")
    reference_toggled = Signal(str, bool)

    def set_folders(self, folders: Sequence[tuple[str, bool]]) -> None:
        """Show ``(path, is_reference)`` pairs."""
        self._reset(folders)

    def _cell(self, item: tuple[str, bool], column: int) -> str:
        return item[0] if column == 0 else ("never marked" if item[1] else "")

    def _tip(self, item: tuple[str, bool]) -> str:
        return (
            f"{item[0]}\nA reference folder's photos are never marked and are the keepers "
            "of their groups."
        )

    def _other(self, item: tuple[str, bool], column: int, role: int) -> object:
        if role == Qt.ItemDataRole.CheckStateRole and column == 1:
            return Qt.CheckState.Checked if item[1] else Qt.CheckState.Unchecked
        return None

    def flags(self, index: Index) -> Qt.ItemFlag:
        flags = super().flags(index)
        if index.isValid() and index.column() == 1:
            flags |= Qt.ItemFlag.ItemIsUserCheckable
        return flags

    def setData(self, index: Index, value: object, role: int = Qt.ItemDataRole.EditRole) -> bool:
        if role != Qt.ItemDataRole.CheckStateRole or not index.isValid() or index.column() != 1:
            return False
        on = value in (Qt.CheckState.Checked, Qt.CheckState.Checked.value, 2, True)
        path, was = self._rows[index.row()]
        if on == was:
            return True
        self._rows[index.row()] = (path, on)
        self.dataChanged.emit(self.index(index.row(), 0), index)
        self.reference_toggled.emit(path, on)
        return True
