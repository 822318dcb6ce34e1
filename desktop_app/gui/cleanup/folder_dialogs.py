"""Library › Folders (reference folders) and Library › Ignore List.

* :class:`FoldersDialog` lists the library's folders, and the folders inside them made
  reference folders, with a "Reference" check box each. A reference folder's photos are
  never marked and are the keepers of their groups; the choice is kept in the catalog
  (``Cleanup.set_reference``). "Add…" makes a folder inside the library one (an archive
  folder next to the exports and phone backups).
* :class:`IgnoreListDialog` lists the pairs of photos remembered as not copies
  (``Cleanup.ignored``), by the paths they had when the user said so, and forgets the
  selected ones (``Cleanup.unignore``); their groups then come back.

Both read and write through the engine on the catalog the session has open, and say
what changed through a signal so that the window plans or groups again.
"""

from __future__ import annotations

import logging
import os
from collections.abc import Callable, Sequence

from PySide6.QtCore import QAbstractTableModel, Signal
from PySide6.QtWidgets import (
    QAbstractItemView,
    QDialog,
    QDialogButtonBox,
    QFileDialog,
    QHeaderView,
    QLabel,
    QTableView,
    QVBoxLayout,
    QWidget,
)

from desktop_app.engine.cleanup import Cleanup
from desktop_app.engine.errors import UsageError
from desktop_app.engine.library import normalise_root
from desktop_app.engine.paths import within_any
from desktop_app.gui.cleanup.row_models import FolderModel, IgnoredPairModel
from desktop_app.gui.common import text
from desktop_app.gui.common.tables import row_table

log = logging.getLogger(__name__)

CleanupSource = Callable[[], Cleanup | None]


def _table(model: QAbstractTableModel, *, multi: bool) -> QTableView:
    mode = QAbstractItemView.SelectionMode
    table = row_table(model, mode.ExtendedSelection if multi else mode.SingleSelection)
    header = table.horizontalHeader()
    header.setSectionResizeMode(QHeaderView.ResizeMode.Stretch)
    return table


class FoldersDialog(QDialog):
    """The library folders, and which of them are reference folders.

    Args:
        cleanup: Returns the open library's cleanup front door (None: no library).
        roots: The library folders.
        parent: Owner window.

    Signals:
        references_changed(tuple): The reference folders now (after a check box changed).
    """

    references_changed = Signal(tuple)

    def __init__(
        self, cleanup: CleanupSource, roots: Sequence[str], parent: QWidget | None = None
    ) -> None:
        super().__init__(parent)
        self.setWindowTitle("Library Folders")
        self._cleanup = cleanup
        self.roots = tuple(roots)
        self.model = FolderModel(self)
        self.model.reference_toggled.connect(self._on_model_reference_toggled)
        self.table = _table(self.model, multi=False)
        header = self.table.horizontalHeader()
        header.setSectionResizeMode(1, QHeaderView.ResizeMode.ResizeToContents)
        explain = QLabel(
            "Photos in a <b>reference folder</b> are never marked for removal, and are the "
            "copies kept whenever a group has one: your archive stays as it is while copies "
            "elsewhere are cleaned up. Check a folder to make it one."
        )
        explain.setWordWrap(True)
        self.status = QLabel("")
        self.status.setWordWrap(True)
        buttons = QDialogButtonBox(QDialogButtonBox.StandardButton.Close)
        buttons.rejected.connect(self.reject)
        add = buttons.addButton("Add a Reference Folder…", QDialogButtonBox.ButtonRole.ActionRole)
        add.setToolTip("Make a folder inside the library a reference folder")
        add.clicked.connect(self._on_add_clicked)
        layout = QVBoxLayout(self)
        layout.addWidget(explain)
        layout.addWidget(self.table, 1)
        layout.addWidget(self.status)
        layout.addWidget(buttons)
        self.resize(700, 340)
        self.refresh()

    def refresh(self) -> None:
        """Read the folders and their reference flags from the catalog."""
        cleanup = self._cleanup()
        known = cleanup.folders() if cleanup is not None else {}
        inner = sorted(p for p in known if p not in self.roots and within_any(p, self.roots))
        rows = [(p, known.get(p, False)) for p in self.roots]
        self.model.set_folders(rows + [(p, known[p]) for p in inner])

    def references(self) -> tuple[str, ...]:
        """The catalog's reference folders (of every library it holds)."""
        cleanup = self._cleanup()
        if cleanup is None:
            return ()
        return cleanup.references()

    def set_reference(self, folder: str, reference: bool) -> None:
        """Make ``folder`` a reference folder, or an ordinary one."""
        cleanup = self._cleanup()
        if cleanup is None:
            return
        cleanup.set_reference(folder, reference)
        log.info("Reference folder %s: %s", folder, reference)
        self.refresh()
        self.references_changed.emit(self.references())

    def add_reference(self, folder: str) -> bool:
        """Make ``folder``, which must be inside the library, a reference folder."""
        try:
            path = normalise_root(folder)
        except UsageError as error:
            self.status.setText(str(error))
            return False
        if path not in self.roots and not within_any(path, self.roots):
            self.status.setText(
                f"{path} is not in the library: add it to the library first (File › Add "
                "Folder to Library), or use Library › Check a New Import."
            )
            return False
        self.status.setText("")
        self.set_reference(path, True)
        return True

    def _on_model_reference_toggled(self, folder: str, reference: bool) -> None:
        self.set_reference(folder, reference)

    def _on_add_clicked(self) -> None:
        start = self.roots[0] if self.roots else os.path.expanduser("~")
        folder = QFileDialog.getExistingDirectory(self, "Reference Folder", start)
        if folder:
            self.add_reference(folder)


class IgnoreListDialog(QDialog):
    """Pairs remembered as not copies; select some and forget them.

    Args:
        cleanup: Returns the open library's cleanup front door (None: no library).
        parent: Owner window.

    Signals:
        forgotten(int): This many pairs were forgotten (their groups can come back).
    """

    forgotten = Signal(int)

    def __init__(self, cleanup: CleanupSource, parent: QWidget | None = None) -> None:
        super().__init__(parent)
        self.setWindowTitle("Not Copies")
        self._cleanup = cleanup
        self.model = IgnoredPairModel(self)
        self.table = _table(self.model, multi=True)
        self.count = QLabel("")
        buttons = QDialogButtonBox(QDialogButtonBox.StandardButton.Close)
        buttons.rejected.connect(self.reject)
        self.forget = buttons.addButton("Forget Selected", QDialogButtonBox.ButtonRole.ActionRole)
        self.forget.setToolTip("They are shown as copies again when they are within the threshold")
        self.forget.setEnabled(False)
        self.forget.clicked.connect(self._on_forget_clicked)
        self.table.selectionModel().selectionChanged.connect(
            lambda *_: self.forget.setEnabled(bool(self.table.selectionModel().selectedRows()))
        )
        explain = QLabel(
            "Photos you said are not copies of each other. They are remembered by their "
            "content, so this holds after renames and moves; the paths are where they "
            "were at the time."
        )
        explain.setWordWrap(True)
        layout = QVBoxLayout(self)
        layout.addWidget(explain)
        layout.addWidget(self.table, 1)
        layout.addWidget(self.count)
        layout.addWidget(buttons)
        self.resize(860, 420)
        self.refresh()

    def refresh(self) -> None:
        """Read the list again."""
        cleanup = self._cleanup()
        pairs = cleanup.ignored() if cleanup is not None else []
        self.model.set_pairs(pairs)
        self.count.setText(
            f"{text.plural(len(pairs), 'pair')} remembered."
            if pairs
            else "Nothing is remembered: use “These Are Not Copies” on a group or two photos."
        )

    def forget_rows(self, rows: Sequence[int]) -> int:
        """Forget the pairs shown at ``rows``; returns how many were forgotten."""
        cleanup = self._cleanup()
        if cleanup is None or not rows:
            return 0
        keys = [(self.model.row_at(r).a, self.model.row_at(r).b) for r in rows]
        removed = cleanup.unignore(keys)
        self.refresh()
        self.forgotten.emit(removed)
        return removed

    def _on_forget_clicked(self) -> None:
        self.forget_rows(sorted(i.row() for i in self.table.selectionModel().selectedRows()))
