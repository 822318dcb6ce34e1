"""Acting on the marks, and undoing it: dry run, confirmation, operation, result.

:class:`ApplyFlow` is the only part of the window that changes files, and only through
``fileops`` after an explicit choice of the user:

1. :meth:`ApplyFlow.open_dialog` shows the `ApplyDialog`
   with a dry run (``Cleanup.preview``, on a worker thread) of what would happen to
   each marked file; nothing moves until its Apply button is pressed.
2. :meth:`ApplyFlow.apply` refuses a permanent deletion unless the setting allows it,
   and asks for a confirmation naming the count and size; then ``Cleanup.apply`` runs
   on the single writer thread, with a progress dialog and Cancel, through the trash
   the settings name (a folder of the user's, or the system trash).
3. The result dialog lists what was done and every file left in place with the reason;
   the marks are cleared and the session reloads, so removed photos leave their groups.

Undo (:meth:`ApplyFlow.undo_last`, :meth:`ApplyFlow.undo_through`) runs ``Cleanup.undo``
the same way, most recent operation first, and restored photos come back to their groups.
"""

from __future__ import annotations

import dataclasses
import logging

from PySide6.QtCore import QObject, QTimer, Signal
from PySide6.QtWidgets import QMainWindow

from desktop_app.engine.cleanup import (
    Action,
    Cleanup,
    FileResult,
    MetadataMerge,
    Operation,
    OpProgress,
    Plan,
    Report,
    Request,
    State,
    SystemTrash,
    Trash,
    confirmation_for,
)
from desktop_app.gui.cleanup.apply_dialogs import (
    ApplyDialog,
    OperationProgress,
    ResultDialog,
    report_text,
)
from desktop_app.gui.cleanup.jobs import OperationController, apply_job, undo_job
from desktop_app.gui.common import dialogs
from desktop_app.gui.common import settings as keys
from desktop_app.gui.common.settings import Settings
from desktop_app.gui.common.workers import TaskRunner, Work, describe_error
from desktop_app.gui.groups.marking import Marks
from desktop_app.gui.library.session import LibrarySession

log = logging.getLogger(__name__)

#: An operation shorter than this shows no progress dialog (no flash on small batches).
PROGRESS_DELAY_MS = 400


class ApplyFlow(QObject):
    """Apply the marks, undo operations, and show what happened.

    Args:
        window: The main window (parent of the dialogs, its status bar for messages).
        session: The open library.
        settings: Where the trash folder and the deletion setting are.
        marks: The marks to act on (cleared after an operation).

    Signals:
        message(str): A line for the status bar.
        finished(object): An operation or undo ended (its Report, or a list of them).
    """

    message = Signal(str)
    finished = Signal(object)

    def __init__(
        self, window: QMainWindow, session: LibrarySession, settings: Settings, marks: Marks
    ) -> None:
        super().__init__(window)
        self.window = window
        self.session = session
        self.settings = settings
        self.marks = marks
        self.operations = OperationController(session.index.pool, self)
        self.operations.progress.connect(self._on_operations_progress)
        self.operations.finished.connect(self._on_operations_finished)
        self.operations.failed.connect(self._on_operations_failed)
        self._previews = TaskRunner(name="doppel-preview", parent=self)
        self.dialog: ApplyDialog | None = None
        self.progress: OperationProgress | None = None
        self.result: ResultDialog | None = None
        self._trash: Trash | None = None
        self._progress_timer = QTimer(self)
        self._progress_timer.setSingleShot(True)
        self._progress_timer.setInterval(PROGRESS_DELAY_MS)
        self._progress_timer.timeout.connect(self._on_progress_timer_timeout)

    def is_busy(self) -> bool:
        """Whether an operation runs (or a scan, which it would have to wait for)."""
        return self.operations.is_running() or self.session.index.is_running()

    # ----------------------------------------------------------------- apply

    def open_dialog(self, plan: Plan | None = None) -> ApplyDialog | None:
        """Show what can be done with the marked photos, with a dry run of it.

        Args:
            plan: Another plan than the marks' (the similar-shots view's "keep the
                sharpest"); it goes through the same dry run, journal and undo.
        """
        plan = plan if plan is not None else self.marks.plan()
        if not plan.marked:
            self.message.emit(
                "Nothing is marked: tick the box on a copy, or use Edit › Select Duplicates."
            )
            return None
        if self.is_busy():
            self.message.emit("Wait for the scan or the running operation to end.")
            return None
        trash = self.settings.trash()
        dialog = ApplyDialog(
            plan,
            self.session.roots,
            trash_label=trash.label,
            allow_delete=self.settings.get(keys.ALLOW_DELETE),
            move_folder=self.settings.get(keys.MOVE_FOLDER),
            parent=self.window,
        )
        dialog.preview_requested.connect(self._on_dialog_preview_requested)
        dialog.accepted.connect(self._on_dialog_accepted)
        dialog.finished.connect(self._on_dialog_finished)
        self.dialog = dialog
        dialog.open()
        dialog.refresh()
        return dialog

    def _on_dialog_preview_requested(self, request: Request) -> None:
        path, trash = self.session.catalog_path, self.settings.trash()
        allow = self.settings.get(keys.ALLOW_DELETE)
        dialog = self.dialog
        checked = request
        if request.action is Action.DELETE:  # the dry run of a deletion, not the deletion
            checked = dataclasses.replace(request, confirmation=confirmation_for(request.items))

        def work() -> tuple[list[FileResult], list[MetadataMerge]]:
            with Cleanup(path) as cleanup:
                results = cleanup.preview(checked, trash=trash, allow_delete=allow)
                merges = cleanup.preview_merge(checked) if checked.merge_metadata else []
                return results, merges

        def done(found: tuple[list[FileResult], list[MetadataMerge]]) -> None:
            if dialog is not None:
                dialog.set_preview(request, found[0])
                dialog.set_merge_preview(request, found[1])

        def failed(error: BaseException) -> None:
            if dialog is not None:
                dialog.set_preview_error(request, describe_error(error))

        self._previews.submit(work, done, failed)

    def _on_dialog_accepted(self) -> None:
        dialog = self.dialog
        if dialog is None or dialog.previewed is None:
            return
        request = dialog.previewed
        if request.action is Action.MOVE and request.destination:
            self.settings.set(keys.MOVE_FOLDER, request.destination)
        if request.action is Action.DELETE:
            # Only the files the dry run said would go: the confirmation names exactly them.
            going = {r.source for r in dialog.results if r.state is State.PLANNED}
            items = tuple(i for i in request.items if i.record.path in going)
            request = dataclasses.replace(request, items=items)
        self.apply(request)

    def _on_dialog_finished(self, _result: int) -> None:
        self._previews.drop_all()
        if self.dialog is not None:
            self.dialog.deleteLater()
        self.dialog = None

    def apply(self, request: Request) -> bool:
        """Carry out ``request``, after the checks and the confirmation a deletion needs.

        Returns:
            Whether the operation started.
        """
        if self.session.library is None or self.is_busy():
            self.message.emit("Wait for the scan or the running operation to end.")
            return False
        allow = self.settings.get(keys.ALLOW_DELETE)
        if request.action is Action.DELETE:
            if not allow:
                self.message.emit(
                    "Permanent deletion is turned off (Settings › Allow Permanent Deletion): "
                    "nothing was deleted."
                )
                return False
            wanted = confirmation_for(request.items)
            if not dialogs.confirm_delete(self.window, wanted.count, wanted.size):
                self.message.emit("Nothing was deleted.")
                return False
            request = dataclasses.replace(request, confirmation=wanted)
        self._trash = self.settings.trash()
        titles = {
            Action.TRASH: "Moving to the trash",
            Action.MOVE: "Moving to the folder",
            Action.DELETE: "Deleting permanently",
        }
        work = apply_job(self.session.catalog_path, request, self._trash, allow)
        return self._start(work, titles[request.action])

    # ----------------------------------------------------------------- undo

    def undoable(self) -> list[Operation]:
        """Operations that undo can act on, most recent first."""
        library = self.session.library
        return Cleanup(library).undoable() if library is not None else []

    def undo_last(self) -> bool:
        """Put back the files of the most recent operation that can be undone."""
        found = self.undoable()
        if not found:
            self.message.emit("There is nothing to undo.")
            return False
        return self.undo_through(found[0].id)

    def undo_through(self, operation: int) -> bool:
        """Undo ``operation`` and every later one, most recent first.

        Returns:
            Whether the undo started.
        """
        if self.session.library is None or self.is_busy():
            self.message.emit("Wait for the scan or the running operation to end.")
            return False
        targets = [op.id for op in self.undoable() if op.id >= operation]
        if not targets:
            self.message.emit(f"Operation {operation} has nothing left to put back.")
            return False
        self._trash = None
        return self._start(undo_job(self.session.catalog_path, targets), "Putting photos back")

    # ----------------------------------------------------------------- running

    def _start(self, work: Work, title: str) -> bool:
        if not self.operations.start(work):
            return False
        self.progress = OperationProgress(title, self.window)
        self.progress.cancel_requested.connect(self.operations.cancel)
        self._progress_timer.start()
        self.message.emit(title + "…")
        return True

    def _on_progress_timer_timeout(self) -> None:
        if self.progress is not None and self.operations.is_running():
            self.progress.show()

    def _on_operations_progress(self, report: OpProgress) -> None:
        if self.progress is not None:
            self.progress.update_progress(report)

    def _close_progress(self) -> None:
        self._progress_timer.stop()
        if self.progress is not None:
            self.progress.close()
            self.progress.deleteLater()
            self.progress = None

    def _on_operations_finished(self, result: object) -> None:
        self._close_progress()
        results: list[object] = result if isinstance(result, list) else [result]
        reports = [r for r in results if isinstance(r, Report)]
        if reports and not reports[0].undo:
            self.marks.clear_all()
        self.session.reload()
        if reports:
            trash = self._trash or self.settings.trash()
            restorable = trash.restorable
            self.result = ResultDialog(
                reports, trash_label=trash.label, restorable=restorable, parent=self.window
            )
            self.result.undo_requested.connect(self.undo_last)
            self.result.show()
            said = " ".join(report_text(r, trash.label, restorable) for r in reports)
            if not restorable and isinstance(trash, SystemTrash):
                said += f" To bring them back, {trash.restore_hint()}."
            self.message.emit(said)
        self.finished.emit(result)

    def _on_operations_failed(self, message: str, error: object) -> None:
        self._close_progress()
        self.session.reload()  # files done before the error have left the catalog
        self.message.emit(message)
        dialogs.show_error(self.window, "The operation stopped", message)
        self.finished.emit(None)

    def shutdown(self) -> None:
        """Stop the running operation after its current file and wait for the thread."""
        self._previews.shutdown()
        self.operations.shutdown()
        self._close_progress()
