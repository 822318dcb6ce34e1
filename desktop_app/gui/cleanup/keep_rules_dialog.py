"""Edit › Keep Rules: how "Select duplicates" chooses the copy to keep.

The criteria are applied in order, each narrowing the candidates to the best by it
(``keeprules.choose``): the user reorders them by dragging or with Up and Down, turns
some off, edits the preferred formats and the preferred folders, and saves the result as
a named preset in the catalog (``Cleanup.save_preset``) or loads one. Accepting the dialog runs
"Select duplicates" with the rules shown.
"""

from __future__ import annotations

import logging
from collections.abc import Callable, Sequence

from PySide6.QtCore import Qt
from PySide6.QtWidgets import (
    QAbstractItemView,
    QCheckBox,
    QComboBox,
    QDialog,
    QDialogButtonBox,
    QFileDialog,
    QHBoxLayout,
    QInputDialog,
    QLabel,
    QLineEdit,
    QListWidget,
    QListWidgetItem,
    QPushButton,
    QVBoxLayout,
    QWidget,
)

from desktop_app.engine.cleanup import DEFAULT_PRESET, Cleanup, Criterion, KeepRules
from desktop_app.engine.errors import UsageError
from desktop_app.gui.common import desktop

log = logging.getLogger(__name__)

_CriterionRole = Qt.ItemDataRole.UserRole + 1


def _move(widget: QListWidget, step: int) -> None:
    """Move the current row of ``widget`` up (-1) or down (+1)."""
    row = widget.currentRow()
    target = row + step
    if row < 0 or not 0 <= target < widget.count():
        return
    item = widget.takeItem(row)
    widget.insertItem(target, item)
    widget.setCurrentRow(target)


def _column(*buttons: QPushButton) -> QVBoxLayout:
    column = QVBoxLayout()
    for button in buttons:
        column.addWidget(button)
    column.addStretch(1)
    return column


class KeepRulesDialog(QDialog):
    """The keep-the-best rules, their presets, and a "Select Duplicates" button.

    Args:
        cleanup: Returns the open library's cleanup front door (where presets are kept).
        rules: The rules to show first.
        preset: The name of the preset they came from.
        within: With reference folders, also select in groups without a reference photo.
        parent: Owner window.
    """

    def __init__(
        self,
        cleanup: Callable[[], Cleanup | None],
        rules: KeepRules,
        preset: str = DEFAULT_PRESET,
        within: bool = False,
        parent: QWidget | None = None,
        *,
        roots: Sequence[str] = (),
    ) -> None:
        super().__init__(parent)
        self.setWindowTitle("Keep Rules")
        self._roots = tuple(roots)
        self._cleanup = cleanup
        self.preset = QComboBox()
        self.preset.setMinimumWidth(220)
        save = QPushButton("Save As…")
        save.clicked.connect(self._on_save_clicked)
        self.remove_preset = QPushButton("Delete")
        self.remove_preset.clicked.connect(self._on_remove_preset_clicked)
        preset_row = QHBoxLayout()
        preset_row.addWidget(self.preset, 1)
        preset_row.addWidget(save)
        preset_row.addWidget(self.remove_preset)

        self.criteria = QListWidget()
        self.criteria.setMinimumWidth(380)
        self.criteria.setDragDropMode(QAbstractItemView.DragDropMode.InternalMove)
        self.criteria.setDefaultDropAction(Qt.DropAction.MoveAction)
        self.criteria.setToolTip("Drag to reorder; uncheck a criterion to leave it out")
        up, down = QPushButton("Up"), QPushButton("Down")
        up.clicked.connect(lambda: _move(self.criteria, -1))
        down.clicked.connect(lambda: _move(self.criteria, +1))
        criteria_row = QHBoxLayout()
        criteria_row.addWidget(self.criteria, 1)
        criteria_row.addLayout(_column(up, down))

        self.formats = QLineEdit()
        self.formats.setToolTip(
            "Format families or names, best first: RAW, TIFF, PNG, HEIC, JPEG, WEBP, or a "
            "format name such as CR2"
        )
        self.folders = QListWidget()
        self.folders.setFixedHeight(4 * 24 + 6)
        add, remove = QPushButton("Add…"), QPushButton("Remove")
        folder_up, folder_down = QPushButton("Up"), QPushButton("Down")
        add.clicked.connect(self._on_add_folder_clicked)
        remove.clicked.connect(lambda: self.folders.takeItem(self.folders.currentRow()))
        folder_up.clicked.connect(lambda: _move(self.folders, -1))
        folder_down.clicked.connect(lambda: _move(self.folders, +1))
        folder_row = QHBoxLayout()
        folder_row.addWidget(self.folders, 1)
        folder_row.addLayout(_column(add, remove, folder_up, folder_down))

        self.within = QCheckBox(
            "With reference folders, also mark copies in groups that have no reference photo"
        )
        self.within.setChecked(within)
        buttons = QDialogButtonBox(QDialogButtonBox.StandardButton.Cancel)
        self.select = buttons.addButton("Select Duplicates", QDialogButtonBox.ButtonRole.AcceptRole)
        self.select.setDefault(True)
        buttons.accepted.connect(self.accept)
        buttons.rejected.connect(self.reject)
        formats_row = QHBoxLayout()
        formats_row.addWidget(QLabel("Preferred formats, best first:"))
        formats_row.addWidget(self.formats, 1)
        preset_line = QHBoxLayout()
        preset_line.addWidget(QLabel("Preset:"))
        preset_line.addLayout(preset_row, 1)
        layout = QVBoxLayout(self)
        layout.addLayout(preset_line)
        layout.addSpacing(6)
        layout.addWidget(QLabel("<b>Keep the copy that is best by</b>, in this order:"))
        layout.addLayout(criteria_row)
        layout.addLayout(formats_row)
        layout.addSpacing(6)
        layout.addWidget(QLabel("Preferred folders, best first (for “preferred folder”):"))
        layout.addLayout(folder_row)
        layout.addSpacing(6)
        layout.addWidget(self.within)
        layout.addWidget(QLabel("Every other copy within the threshold of the kept one is marked."))
        layout.addWidget(buttons)
        layout.setSizeConstraint(QVBoxLayout.SizeConstraint.SetFixedSize)
        self._fill_presets(preset)
        self.set_rules(rules)
        self.preset.activated.connect(self._on_preset_activated)

    # ----------------------------------------------------------------- rules

    def set_rules(self, rules: KeepRules) -> None:
        """Show ``rules``: its criteria checked and in order, the unused ones after."""
        self.criteria.clear()
        unused = [c for c in Criterion if c not in rules.criteria]
        for criterion in (*rules.criteria, *unused):
            item = QListWidgetItem(criterion.label[:1].upper() + criterion.label[1:])
            item.setData(_CriterionRole, criterion.value)
            item.setFlags(
                Qt.ItemFlag.ItemIsEnabled
                | Qt.ItemFlag.ItemIsSelectable
                | Qt.ItemFlag.ItemIsUserCheckable
                | Qt.ItemFlag.ItemIsDragEnabled
            )
            used = criterion in rules.criteria
            item.setCheckState(Qt.CheckState.Checked if used else Qt.CheckState.Unchecked)
            self.criteria.addItem(item)
        rows = self.criteria.count()
        frame = 2 * self.criteria.frameWidth()
        self.criteria.setFixedHeight(rows * self.criteria.sizeHintForRow(0) + frame + 4)
        self.formats.setText(", ".join(rules.formats))
        self.folders.clear()
        for folder in rules.folders:
            self.folders.addItem(folder)

    def rules(self) -> KeepRules:
        """The rules as the dialog shows them."""
        criteria = []
        for row in range(self.criteria.count()):
            item = self.criteria.item(row)
            if item.checkState() == Qt.CheckState.Checked:
                criteria.append(Criterion(item.data(_CriterionRole)))
        formats = tuple(
            f.strip().upper() for f in self.formats.text().replace(";", ",").split(",") if f.strip()
        )
        folders = tuple(self.folders.item(r).text() for r in range(self.folders.count()))
        return KeepRules(tuple(criteria), formats or KeepRules().formats, folders)

    def preset_name(self) -> str:
        """The preset chosen, if the rules shown are still exactly that preset ("" if not)."""
        name = self.preset.currentText()
        cleanup = self._cleanup()
        found = cleanup.presets().get(name) if cleanup is not None else None
        return name if found is not None and found == self.rules() else ""

    # ----------------------------------------------------------------- presets

    def _fill_presets(self, current: str) -> None:
        cleanup = self._cleanup()
        names = list(cleanup.presets()) if cleanup is not None else [DEFAULT_PRESET]
        self.preset.clear()
        self.preset.addItems(names)
        if current in names:
            self.preset.setCurrentText(current)
        self.remove_preset.setEnabled(cleanup is not None)

    def load_preset(self, name: str) -> None:
        """Show the rules of the preset ``name``."""
        cleanup = self._cleanup()
        if cleanup is None:
            return
        self.set_rules(cleanup.preset(name))
        self.preset.setCurrentText(name)

    def save_preset(self, name: str) -> bool:
        """Save the rules shown as the preset ``name``; False (and said) if refused."""
        cleanup = self._cleanup()
        if cleanup is None:
            return False
        try:
            cleanup.save_preset(name, self.rules())
        except UsageError as error:
            self.setToolTip(str(error))
            return False
        self._fill_presets(name.strip())
        return True

    def delete_preset(self) -> bool:
        """Forget the chosen preset (a built-in one comes back as it was)."""
        cleanup = self._cleanup()
        name = self.preset.currentText()
        if cleanup is None or not cleanup.delete_preset(name):
            return False
        self._fill_presets(name if Cleanup.builtin_preset(name) else DEFAULT_PRESET)
        self.load_preset(self.preset.currentText())
        return True

    # ----------------------------------------------------------------- slots

    def _on_preset_activated(self, _index: int) -> None:
        self.load_preset(self.preset.currentText())

    def _on_save_clicked(self) -> None:
        name, ok = QInputDialog.getText(
            self, "Save Keep Rules", "Preset name:", text=self.preset.currentText()
        )
        if ok and name.strip():
            self.save_preset(name)

    def _on_remove_preset_clicked(self) -> None:
        self.delete_preset()

    def _on_add_folder_clicked(self) -> None:
        start = desktop.start_folder(self._roots)
        folder = QFileDialog.getExistingDirectory(self, "Preferred Folder", start)
        if folder:
            self.folders.addItem(folder)
