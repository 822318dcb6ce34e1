"""The dialogs of acting on the marks: choose and preview, progress, result.

* :class:`ApplyDialog`: what to do with the marked photos (the trash by default, a
  folder, or, only when the setting allows it, permanent deletion) and a dry run that
  lists exactly what will happen to each file before anything moves.
* :class:`OperationProgress`: files done of total, the current file and Cancel.
* :class:`ResultDialog`: what was done, and every file left in place with the reason.

They show what they are given and say what the user chose through signals; the
:mod:`~desktop_app.gui.cleanup.apply_flow` runs the dry run and the operation.
"""

from __future__ import annotations

import dataclasses
import logging
import os
from collections.abc import Sequence

from PySide6.QtCore import Qt, Signal
from PySide6.QtWidgets import (
    QButtonGroup,
    QCheckBox,
    QDialog,
    QDialogButtonBox,
    QFileDialog,
    QHBoxLayout,
    QHeaderView,
    QLabel,
    QLineEdit,
    QProgressBar,
    QPushButton,
    QRadioButton,
    QTableView,
    QVBoxLayout,
    QWidget,
)

from desktop_app.engine.cleanup import (
    Action,
    FileResult,
    MetadataMerge,
    OpProgress,
    Plan,
    Report,
    Request,
    State,
)
from desktop_app.engine.paths import within_any
from desktop_app.gui.cleanup.row_models import FileResultModel
from desktop_app.gui.common import desktop, text
from desktop_app.gui.common.tables import row_table

log = logging.getLogger(__name__)


def _table(model: FileResultModel) -> QTableView:
    table = row_table(model)
    header = table.horizontalHeader()
    header.setSectionResizeMode(0, QHeaderView.ResizeMode.Interactive)
    header.resizeSection(0, 200)
    header.setSectionResizeMode(1, QHeaderView.ResizeMode.Interactive)
    header.resizeSection(1, 220)
    header.setSectionResizeMode(2, QHeaderView.ResizeMode.Stretch)
    return table


class ApplyDialog(QDialog):
    """Choose what to do with the marked photos, see what will happen, then confirm.

    Args:
        plan: The groups with marks.
        roots: The library folders (a move keeps each photo's path inside its folder).
        trash_label: Where the trash is, for the text ("the trash" or a folder).
        allow_delete: The "Allow Permanent Deletion" setting.
        move_folder: The folder chosen last time for a move.
        parent: Owner window.

    Signals:
        preview_requested(Request): Dry-run this request and call :meth:`set_preview`.
    """

    preview_requested = Signal(object)

    def __init__(
        self,
        plan: Plan,
        roots: Sequence[str],
        *,
        trash_label: str,
        allow_delete: bool,
        move_folder: str = "",
        parent: QWidget | None = None,
    ) -> None:
        super().__init__(parent)
        self.setWindowTitle("Apply the Marks")
        self.plan = plan
        self.roots = tuple(roots)
        self._pending: Request | None = None
        self.results: list[FileResult] = []
        marked = plan.marked
        groups = sum(1 for g in plan.groups if g.marked)
        intro = QLabel(
            f"<b>{text.plural(len(marked), 'photo')} marked</b> in "
            f"{text.plural(groups, 'group')}, {text.human_size(plan.marked_bytes)}. "
            "Nothing has been changed yet."
        )
        where = "the trash" if trash_label == "the trash" else f"the trash folder {trash_label}"
        self.trash = QRadioButton(f"Move them to {where} (you can undo it)")
        self.move_to_folder = QRadioButton(
            "Move them to a folder, keeping their paths inside the library:"
        )
        self.delete = QRadioButton("Delete them permanently (no undo)")
        if not allow_delete:
            self.delete.setEnabled(False)
            self.delete.setText(
                "Delete them permanently: turned off (Settings › Allow Permanent Deletion)"
            )
        self.choices = QButtonGroup(self)
        for button, action in (
            (self.trash, Action.TRASH),
            (self.move_to_folder, Action.MOVE),
            (self.delete, Action.DELETE),
        ):
            self.choices.addButton(button, list(Action).index(action))
        self.trash.setChecked(True)
        self.folder = QLineEdit(move_folder)
        self.folder.setPlaceholderText("Choose a folder…")
        choose = QPushButton("Choose…")
        choose.clicked.connect(self._on_choose_clicked)
        folder_row = QHBoxLayout()
        folder_row.setContentsMargins(24, 0, 0, 0)
        folder_row.addWidget(self.folder, 1)
        folder_row.addWidget(choose)
        self.merge = QCheckBox(
            "Give each kept photo what its removed copies carry and it lacks: the highest "
            "rating, colour label, keywords, title, caption, GPS"
        )
        self.merge.setToolTip(
            "Written into the kept photo's XMP sidecar (created if needed), never into the "
            "photo itself; undone with the rest."
        )
        self.merge_summary = QLabel("")
        self.merge_summary.setWordWrap(True)
        self.merge_summary.setVisible(False)

        self.model = FileResultModel(self)
        self.table = _table(self.model)
        self.summary = QLabel("Checking the files…")
        self.summary.setWordWrap(True)
        self.buttons = QDialogButtonBox(QDialogButtonBox.StandardButton.Cancel)
        self.go = self.buttons.addButton("Apply", QDialogButtonBox.ButtonRole.AcceptRole)
        self.go.setEnabled(False)
        self.go.setDefault(True)
        self.buttons.accepted.connect(self.accept)
        self.buttons.rejected.connect(self.reject)

        layout = QVBoxLayout(self)
        layout.addWidget(intro)
        layout.addSpacing(4)
        layout.addWidget(self.trash)
        layout.addWidget(self.move_to_folder)
        layout.addLayout(folder_row)
        layout.addWidget(self.delete)
        layout.addSpacing(4)
        layout.addWidget(self.merge)
        layout.addWidget(self.merge_summary)
        layout.addSpacing(6)
        layout.addWidget(QLabel("What will happen to each file (a dry run):"))
        layout.addWidget(self.table, 1)
        layout.addWidget(self.summary)
        layout.addWidget(self.buttons)
        self.resize(880, 560)

        self.choices.idToggled.connect(self._on_choices_id_toggled)
        self.folder.textEdited.connect(self._on_folder_text_edited)
        self.folder.editingFinished.connect(self.refresh)
        self.merge.toggled.connect(self._on_merge_toggled)

    # ----------------------------------------------------------------- state

    def action(self) -> Action:
        """The action chosen."""
        return list(Action)[self.choices.checkedId()]

    def request(self) -> Request | None:
        """The request the choices make (None: a move with no folder chosen yet)."""
        action = self.action()
        folder = self.folder.text().strip()
        if action is Action.MOVE and not folder:
            return None
        destination = os.path.abspath(os.path.expanduser(folder)) if folder else None
        request = self.plan.request(
            action, destination=destination if action is Action.MOVE else None, roots=self.roots
        )
        return dataclasses.replace(request, merge_metadata=self.merge.isChecked())

    @property
    def previewed(self) -> Request | None:
        """The request whose dry run is shown and can be applied, if any."""
        return self._pending if self.go.isEnabled() else None

    def refresh(self) -> None:
        """Ask for a dry run of the current choices."""
        self.go.setEnabled(False)
        self.results = []
        self.model.set_results([], self.action())
        self.merge_summary.setVisible(False)
        request = self.request()
        self._pending = request
        if request is None:
            self.summary.setText("Choose the folder to move the photos to.")
            return
        self.summary.setText("Checking the files…")
        self.preview_requested.emit(request)

    def set_preview(self, request: Request, results: Sequence[FileResult]) -> None:
        """Show the dry run of ``request`` (ignored if the choices changed since)."""
        if request is not self._pending:
            return
        self.results = list(results)
        self.model.set_results(self.results, request.action)
        acted = [r for r in results if r.state is State.PLANNED]
        left = len(results) - len(acted)
        size = text.human_size(sum(r.size for r in acted))
        verb = {
            Action.TRASH: "will be moved to the trash",
            Action.MOVE: f"will be moved to {request.destination}",
            Action.DELETE: "will be deleted permanently, with no undo",
        }[request.action]
        lines = [f"{text.plural(len(acted), 'photo')} ({size}) {verb}."]
        sidecars = sum(len(r.sidecars) for r in acted)
        if sidecars:
            lines.append(
                f"{text.plural(sidecars, 'sidecar file')} (.xmp, .aae, Live Photo .mov…) "
                f"{'goes' if sidecars == 1 else 'go'} with them."
            )
        if left:
            lines.append(f"{text.plural(left, 'photo')} will be left in place (why: above).")
        if request.action is Action.MOVE and within_any(
            os.path.abspath(request.destination or ""), self.roots
        ):
            lines.append(
                "That folder is inside the library: the next scan would find the moved "
                "photos there again."
            )
        self.summary.setText(" ".join(lines))
        labels = {
            Action.TRASH: "Move {} to the Trash",
            Action.MOVE: "Move {} to the Folder",
            Action.DELETE: "Delete {} Permanently…",
        }
        self.go.setText(labels[request.action].format(text.plural(len(acted), "Photo")))
        self.go.setEnabled(bool(acted))

    def set_merge_preview(self, request: Request, merges: Sequence[MetadataMerge]) -> None:
        """Show what the kept photos would inherit (the dry run of the merge)."""
        if request is not self._pending or not request.merge_metadata:
            return
        if not merges:
            said = "The kept photos already have everything their copies carry."
        else:
            shown = [
                f"{os.path.basename(m.keeper)}: {m.summary}"
                + (" (new sidecar)" if m.created else "")
                for m in merges[:3]
            ]
            more = f"; and {len(merges) - 3} more" if len(merges) > 3 else ""
            said = (
                f"{text.plural(len(merges), 'kept photo')} will inherit: " + "; ".join(shown) + more
            )
        self.merge_summary.setText(said)
        self.merge_summary.setVisible(True)

    def set_preview_error(self, request: Request, message: str) -> None:
        """The dry run of ``request`` was refused: say why."""
        if request is self._pending:
            self.summary.setText(f"Cannot do that: {message}")
            self.go.setEnabled(False)

    # ----------------------------------------------------------------- slots

    def _on_choices_id_toggled(self, _id: int, checked: bool) -> None:
        if checked:
            self.refresh()

    def _on_merge_toggled(self, _checked: bool) -> None:
        self.refresh()

    def _on_folder_text_edited(self, _text: str) -> None:
        self.go.setEnabled(False)  # until the new folder's dry run arrives
        self.move_to_folder.setChecked(True)

    def _on_choose_clicked(self) -> None:
        folder = QFileDialog.getExistingDirectory(
            self,
            "Move the Marked Photos to",
            self.folder.text() or desktop.start_folder(self.roots, beside=True),
        )
        if folder:
            self.folder.setText(folder)
            self.move_to_folder.setChecked(True)
            self.refresh()


class OperationProgress(QDialog):
    """Progress of a running file operation, with Cancel.

    Signals:
        cancel_requested(): The user pressed Cancel.
    """

    cancel_requested = Signal()

    def __init__(self, title: str, parent: QWidget | None = None) -> None:
        super().__init__(parent)
        self.setWindowTitle(title)
        self.setModal(True)
        self.label = QLabel(title + "…")
        self.current = QLabel("")
        self.current.setTextFormat(Qt.TextFormat.PlainText)
        self.bar = QProgressBar()
        self.bar.setRange(0, 0)
        self.cancel = QPushButton("Cancel")
        self.cancel.setToolTip("Stop after the current file; what was done can be undone")
        self.cancel.clicked.connect(self._on_cancel_clicked)
        row = QHBoxLayout()
        row.addStretch(1)
        row.addWidget(self.cancel)
        layout = QVBoxLayout(self)
        layout.addWidget(self.label)
        layout.addWidget(self.bar)
        layout.addWidget(self.current)
        layout.addLayout(row)
        self.setMinimumWidth(460)

    def update_progress(self, report: OpProgress) -> None:
        """Show a progress report."""
        self.bar.setRange(0, max(report.total, 1))
        self.bar.setValue(report.done)
        self.label.setText(f"{report.done:,} of {text.plural(report.total, 'photo')} handled")
        name = (report.current or "").rsplit("/", 1)[-1]
        metrics = self.current.fontMetrics()
        self.current.setText(metrics.elidedText(name, Qt.TextElideMode.ElideMiddle, 420))

    def _on_cancel_clicked(self) -> None:
        self.cancel.setEnabled(False)
        self.cancel.setText("Stopping…")
        self.cancel_requested.emit()


def report_text(report: Report, trash_label: str, restorable: bool) -> str:
    """One paragraph saying what an operation or an undo did."""
    size = text.human_size(report.bytes_done)
    done = text.plural(len(report.done), "photo")
    if report.undo:
        said = f"Put back {done} ({size}) from operation {report.operation}."
    elif report.action is Action.DELETE:
        said = f"Deleted {done} ({size}) permanently."
    elif report.action is Action.MOVE:
        said = f"Moved {done} ({size}) to the chosen folder."
    else:
        said = f"Moved {done} ({size}) to {trash_label}."
    merged = [m for m in report.merges if m.state == ("undone" if report.undo else "done")]
    if merged and report.undo:
        said += f" {text.plural(len(merged), 'sidecar')} of kept photos put back as they were."
    elif merged:
        said += (
            f" {text.plural(len(merged), 'kept photo')} inherited what their copies carried "
            "(in their XMP sidecars)."
        )
    if report.cancelled:
        said += " Stopped before the end, as you asked."
    if report.failed:
        said += f" {text.plural(len(report.failed), 'photo')} left where they are (listed first)."
    if report.done and not report.undo and report.action is not Action.DELETE:
        if restorable:
            said += " Edit › Undo (Ctrl+Z) puts them back."
        else:
            said += " Doppel cannot put them back from this trash; restore them from the trash."
    return said


class ResultDialog(QDialog):
    """What an operation (or undo) did, every file listed, those left in place first.

    Signals:
        undo_requested(): The user pressed Undo.
    """

    undo_requested = Signal()

    def __init__(
        self,
        reports: Sequence[Report],
        *,
        trash_label: str,
        restorable: bool,
        parent: QWidget | None = None,
    ) -> None:
        super().__init__(parent)
        self.setAttribute(Qt.WidgetAttribute.WA_DeleteOnClose)
        first = reports[0]
        self.setWindowTitle("Undone" if first.undo else "Done")
        self.summary = QLabel(" ".join(report_text(r, trash_label, restorable) for r in reports))
        self.summary.setWordWrap(True)
        self.model = FileResultModel(self)
        self.model.set_results([r for report in reports for r in report.results], first.action)
        buttons = QDialogButtonBox(QDialogButtonBox.StandardButton.Close)
        buttons.rejected.connect(self.reject)
        self.undo = None
        if not first.undo and first.done and first.action is not Action.DELETE and restorable:
            self.undo = buttons.addButton("Undo", QDialogButtonBox.ButtonRole.ActionRole)
            self.undo.clicked.connect(self._on_undo_clicked)
        layout = QVBoxLayout(self)
        layout.addWidget(self.summary)
        layout.addWidget(_table(self.model), 1)
        layout.addWidget(buttons)
        self.resize(820, 460)

    def _on_undo_clicked(self) -> None:
        self.undo_requested.emit()
        self.accept()
