"""The window's cleanup: marks, Select duplicates, reference folders, not-copies, export.

:class:`Cleanup` connects the cleanup actions (``actions.py``) to the marks
(:class:`~desktop_app.gui.groups.marking.Marks`, shown on the cards through the group model's
``PlanRole``), to the dialogs, and to :class:`~desktop_app.gui.cleanup.apply_flow.ApplyFlow`,
which alone changes files. At start-up it settles what an interrupted operation left
open (``fileops.recover``) and tells the user what it found.

The main window makes one and otherwise leaves the cleanup alone.
"""

from __future__ import annotations

import logging
import os
from collections.abc import Callable

from PySide6.QtCore import QObject, QTimer
from PySide6.QtWidgets import QFileDialog, QMainWindow, QMenu, QToolBar

from desktop_app.engine.cleanup import DEFAULT_PRESET, Action, GroupPlan, Settled
from desktop_app.engine.cleanup import Cleanup as EngineCleanup
from desktop_app.engine.errors import EngineError, UsageError
from desktop_app.engine.library import normalise_root
from desktop_app.engine.types import Group, Grouping, ImageRecord
from desktop_app.gui.cleanup.actions import (
    CleanupActions,
    add_to_menus,
    add_to_photo_menu,
    add_to_toolbar,
)
from desktop_app.gui.cleanup.apply_flow import ApplyFlow
from desktop_app.gui.cleanup.folder_dialogs import FoldersDialog, IgnoreListDialog
from desktop_app.gui.cleanup.history import HistoryDialog
from desktop_app.gui.cleanup.io_jobs import export_job, import_problem, recover_at_start
from desktop_app.gui.cleanup.keep_rules_dialog import KeepRulesDialog
from desktop_app.gui.common import desktop, dialogs, text
from desktop_app.gui.common import settings as keys
from desktop_app.gui.common.settings import Settings
from desktop_app.gui.common.workers import TaskRunner, describe_error
from desktop_app.gui.groups.group_dialog import GroupDialog
from desktop_app.gui.groups.marking import Marks
from desktop_app.gui.library.page import GroupsPage
from desktop_app.gui.library.session import LibrarySession

log = logging.getLogger(__name__)

_UNDO_LABELS = {Action.TRASH: "Move to Trash", Action.MOVE: "Move to Folder"}


class Cleanup(QObject):
    """Everything the window does to clean up copies, safely.

    Args:
        window: The main window.
        session: Its library session.
        settings: Its settings.
        groups: Its groups page (model, view, marks line).
        menus: Its menus by name (``actions.build_menus``).
        toolbar: Its main toolbar.
        photo_menu: The context menu of a photo.
    """

    def __init__(
        self,
        window: QMainWindow,
        session: LibrarySession,
        settings: Settings,
        groups: GroupsPage,
        menus: dict[str, QMenu],
        toolbar: QToolBar,
        photo_menu: QMenu,
    ) -> None:
        super().__init__(window)
        self.window = window
        self.session = session
        self.settings = settings
        self.groups = groups
        self.view = groups.view
        self.marks = Marks(self)
        self.flow = ApplyFlow(window, session, settings, self.marks)
        self.actions = CleanupActions(window, self.view)
        self._tasks = TaskRunner(name="doppel-export", parent=self)
        self._check_import = False
        self._undoable = False
        self.history: HistoryDialog | None = None
        add_to_menus(window, menus, self.actions)
        add_to_toolbar(toolbar, self.actions)
        add_to_photo_menu(photo_menu, self.actions)
        groups.model.plan_source = self.marks.plan_for
        self.marks.resolve = self._resolve
        self._connect()
        self.recovered = self.recover()
        self._update_actions()

    def _connect(self) -> None:
        a, marks, flow = self.actions, self.marks, self.flow
        a.undo.triggered.connect(flow.undo_last)
        a.history.triggered.connect(self.show_history)
        a.select_duplicates.triggered.connect(marks.select_duplicates)
        a.keep_rules.triggered.connect(self.show_keep_rules)
        a.toggle_mark.triggered.connect(lambda: self._with_card(marks.toggle))
        a.keep_only.triggered.connect(lambda: self._with_card(marks.keep_only))
        a.clear_group.triggered.connect(lambda: self._with_card(lambda row, _: marks.clear(row)))
        a.clear_all.triggered.connect(marks.clear_all)
        a.apply.triggered.connect(flow.open_dialog)
        a.not_copies.triggered.connect(self.not_copies)
        a.folders.triggered.connect(self.show_folders)
        a.check_import.triggered.connect(lambda: self.check_import())
        a.ignore_list.triggered.connect(self.show_ignore_list)
        a.export.triggered.connect(lambda: self.export())
        a.allow_delete.setChecked(self.settings.get(keys.ALLOW_DELETE))
        a.allow_delete.toggled.connect(lambda on: self.settings.set(keys.ALLOW_DELETE, on))
        a.trash_folder.triggered.connect(self.choose_trash)

        self.view.mark_toggled.connect(lambda row, record: marks.toggle(row, record.id))
        marks.changed.connect(self._on_marks_changed)
        marks.busy_changed.connect(lambda _: self._on_marks_changed([]))
        marks.message.connect(self._say)
        flow.message.connect(self._say)
        flow.finished.connect(self._on_flow_finished)
        flow.operations.running_changed.connect(lambda _: self._update_actions())
        s = self.session
        s.opened.connect(self._on_session_opened)
        s.closing.connect(self._on_session_closing)
        s.grouping_changed.connect(self._on_session_grouping_changed)
        s.index.running_changed.connect(lambda _: self._update_actions())

    def _say(self, message: str) -> None:
        self.window.statusBar().showMessage(message, 10000)

    def _resolve(self, grouping: Grouping, row: int) -> Group:
        model = self.groups.model
        if model.grouping is grouping:
            return model.group(row)  # resolved already for painting, most of the time
        return self.session.resolve(grouping, row)

    def _cleanup(self) -> EngineCleanup | None:
        library = self.session.library
        return EngineCleanup(library) if library is not None else None

    # ----------------------------------------------------------------- state

    def _on_session_opened(self, _roots: tuple[str, ...]) -> None:
        cleanup = self._cleanup()
        assert cleanup is not None
        try:
            rules = cleanup.preset(self.settings.get(keys.KEEP_PRESET))
        except UsageError:
            rules = cleanup.preset()
        self.marks.rules = rules
        self.marks.references = cleanup.references()
        self.marks.not_copies = cleanup.not_copies()
        self.marks.within = self.settings.get(keys.SELECT_WITHIN) and not self._check_import
        self._restore_marks()
        self._update_undo()

    def _restore_marks(self) -> None:
        """Lay the marks left unapplied last time over the groups to come."""
        library = self.session.library
        if library is None or self._check_import:
            return
        try:
            saved = library.saved_marks()
        except EngineError as error:
            log.warning("Could not read the marks kept from last time: %s", error)
            return
        if not saved.auto and not saved.marks:
            return
        ids = {r.path: r.id for r in library.records().values()}
        overrides = {ids[p]: marked for p, marked in saved.marks.items() if p in ids}
        self.marks.restore(saved.auto, overrides)

    def _on_session_closing(self) -> None:
        """Keep the marks not applied in the catalog, for the next opening."""
        library = self.session.library
        if library is None:
            return
        records = library.records()
        saved = self.marks.saved(lambda i: r.path if (r := records.get(i)) else None)
        try:
            library.save_marks(saved)
        except EngineError as error:
            log.warning("Could not keep the marks for next time: %s", error)

    def _on_session_grouping_changed(self, grouping: Grouping | None) -> None:
        library = self.session.library
        self.marks.set_grouping(grouping, library.records() if library is not None else {})
        if self._check_import and grouping is not None and not self.session.index.is_running():
            self._check_import = False
            self.marks.select_duplicates()

    def _on_marks_changed(self, rows: list[int]) -> None:
        self.groups.model.plans_changed(rows)
        marks = self.marks
        self.groups.set_marks(
            marks.marked_count(),
            marks.marked_bytes(),
            busy=marks.is_busy(),
            hidden=marks.hidden_count(),
        )
        self._update_actions()

    def _update_undo(self) -> None:
        found = self.flow.undoable()
        self._undoable = bool(found)
        if found:
            op = found[0]
            label = _UNDO_LABELS.get(op.action, "Operation")
            self.actions.undo.setText(f"&Undo {label} ({text.plural(op.restorable, 'photo')})")
        else:
            self.actions.undo.setText("&Undo")
        self._update_actions()

    def _update_actions(self) -> None:
        a = self.actions
        ready = self.session.library is not None and not self.flow.is_busy()
        for action in a.library_actions():
            action.setEnabled(ready)
        marked = self.marks.marked_count() > 0
        a.apply.setEnabled(ready and marked)
        a.clear_all.setEnabled(marked or self.marks.auto)
        a.undo.setEnabled(ready and self._undoable)
        has_groups = self.groups.model.rowCount() > 0
        for action in a.card_actions():
            action.setEnabled(has_groups)
        for action in (a.select_duplicates, a.not_copies, a.export):  # nothing to act on
            action.setEnabled(ready and has_groups)

    def _on_flow_finished(self, _result: object) -> None:
        self._update_undo()
        if self.history is not None:
            self.history.refresh()

    def _with_card(self, use: Callable[[int, int], object]) -> None:
        found = self.view.current_photo()
        if found is None:
            self._say("Click a photo first.")
            return
        row, record = found
        use(row, record.id)

    # ----------------------------------------------------------------- dialogs

    def plan_source(self, row: int) -> Callable[[], GroupPlan | None]:
        """The current plan of group ``row`` of the grouping shown now (None after a
        regroup): for a dialog showing that group."""
        grouping, marks = self.marks.grouping, self.marks
        return lambda: marks.plan_for(grouping, row)

    def attach(self, dialog: GroupDialog, row: int) -> None:
        """Let a whole-group dialog show and toggle the marks of group ``row``."""
        grouping, marks = self.marks.grouping, self.marks

        def toggle(record: ImageRecord) -> None:
            if marks.grouping is grouping:  # not once the slider regrouped
                marks.toggle(row, record.id)

        dialog.mark_toggled.connect(toggle)
        marks.changed.connect(dialog.refresh_marks)

    def show_keep_rules(self) -> KeepRulesDialog:
        """The keep rules; accepting runs Select duplicates with them."""
        dialog = KeepRulesDialog(
            self._cleanup,
            self.marks.rules,
            self.settings.get(keys.KEEP_PRESET),
            self.marks.within,
            self.window,
            roots=self.session.roots,
        )
        dialog.accepted.connect(lambda: self._on_keep_rules_accepted(dialog))
        dialog.open()
        return dialog

    def _on_keep_rules_accepted(self, dialog: KeepRulesDialog) -> None:
        self.settings.set(keys.KEEP_PRESET, dialog.preset_name() or DEFAULT_PRESET)
        self.settings.set(keys.SELECT_WITHIN, dialog.within.isChecked())
        self.marks.rules = dialog.rules()
        self.marks.within = dialog.within.isChecked()
        self.marks.select_duplicates()

    def show_history(self) -> HistoryDialog:
        """Edit › History."""
        if self.history is None:
            self.history = HistoryDialog(self._cleanup, self.window)
            self.history.undo_requested.connect(self.flow.undo_through)
        self.history.refresh()
        self.history.show()
        return self.history

    def show_folders(self) -> FoldersDialog:
        """Library › Folders: choose the reference folders."""
        dialog = FoldersDialog(self._cleanup, self.session.roots, self.window)
        dialog.references_changed.connect(
            lambda refs: self.marks.set_context(references=tuple(refs))
        )
        dialog.open()
        return dialog

    def show_ignore_list(self) -> IgnoreListDialog:
        """Library › Not Copies List."""
        dialog = IgnoreListDialog(self._cleanup, self.window)
        dialog.forgotten.connect(self._on_ignore_list_forgotten)
        dialog.open()
        return dialog

    def _on_ignore_list_forgotten(self, count: int) -> None:
        cleanup = self._cleanup()
        if cleanup is not None:
            self.marks.not_copies = cleanup.not_copies()
        self._say(f"Forgot {text.plural(count, 'pair')}; their groups come back.")
        self.session.load_pairs()

    # ----------------------------------------------------------------- not copies

    def not_copies(self) -> bool:
        """Remember that the selected photos, or the current card's group, are not copies.

        Returns:
            Whether something was remembered.
        """
        cleanup = self._cleanup()
        if cleanup is None:
            return False
        photos = self.view.selected_photos()
        if len(photos) < 2:
            found = self.view.current_photo()
            if found is None:
                self._say("Click a photo of the group first, or select two photos.")
                return False
            photos = [m.image for m in self.groups.model.group(found[0]).members]
        try:
            cleanup.ignore(photos)
        except UsageError as error:
            self._say(str(error))
            return False
        self.marks.not_copies = cleanup.not_copies()
        self._say(
            f"Remembered: these {text.plural(len(photos), 'photo')} are not copies. "
            "Library › Not Copies List can undo it."
        )
        self.session.load_pairs()
        return True

    # ----------------------------------------------------------------- import

    def check_import(self, folder: str | None = None) -> bool:
        """Check a new import against the library: the library becomes reference, the
        import is scanned with it, and only its photos the library already has are marked.

        Returns:
            Whether the import is being checked.
        """
        cleanup = self._cleanup()
        if cleanup is None:
            self._say("Open your library first, then check an import against it.")
            return False
        if folder is None:
            folder = QFileDialog.getExistingDirectory(
                self.window,
                "Check a New Import Against the Library",
                desktop.start_folder(self.session.roots, beside=True),
            )
            if not folder:
                return False
        try:
            target = normalise_root(folder)
        except UsageError as error:
            self._say(str(error))
            return False
        roots = self.session.roots
        problem = import_problem(target, roots)
        if problem is not None:
            self._say(problem)
            return False
        for root in roots:
            cleanup.set_reference(root, True)
        self._check_import = True
        if not self.window.open_folders([*roots, target]):  # type: ignore[attr-defined]
            self._check_import = False
            return False
        self._say(
            f"Checking {os.path.basename(target)} against your library, which is now a "
            "reference folder (Library › Folders to change that): only the import's photos "
            "that the library already has will be marked."
        )
        return True

    # ----------------------------------------------------------------- export, trash

    def export(self, path: str | None = None) -> bool:
        """Save every group with its keeper and marks, as CSV or JSON (by the name)."""
        if self.session.library is None:
            return False
        if path is None:
            path, chosen = QFileDialog.getSaveFileName(
                self.window,
                "Export Groups and Marks",
                os.path.join(
                    desktop.start_folder(self.session.roots, beside=True), "doppel-groups.csv"
                ),
                "CSV (*.csv);;JSON (*.json)",
            )
            if not path:
                return False
            if not os.path.splitext(path)[1]:
                path += ".json" if "json" in chosen else ".csv"
        target = path
        work = export_job(
            self.marks.full_plan_job(), path, self.session.roots, str(self.session.catalog_path)
        )

        def done(result: tuple[str, int, int]) -> None:
            kind, groups, marked = result
            self._say(
                f"Exported {text.plural(groups, 'group')} ({marked} marked) as "
                f"{kind.upper()} to {target}."
            )

        def failed(error: BaseException) -> None:
            self._say(f"Could not export: {describe_error(error)}")

        self._tasks.submit(work, done, failed)
        return True

    def choose_trash(self) -> None:
        """Settings › Trash Folder: a folder of the user's, or the system trash."""
        choice = dialogs.ask_trash_location(self.window, self.settings.get(keys.TRASH_FOLDER))
        if choice is not None:
            self.settings.set(keys.TRASH_FOLDER, choice)
            self._say(f"Trashed photos now go to {self.settings.trash().label}.")

    # ----------------------------------------------------------------- start and end

    def recover(self) -> list[Settled]:
        """Settle what an interrupted operation left open, and say what was done."""
        settled, lines = recover_at_start(self.session.catalog_path)
        if settled:
            self._say(
                f"An interrupted operation was settled: {text.plural(len(settled), 'file')} "
                "(Edit › History)."
            )
            QTimer.singleShot(0, lambda: dialogs.show_recovery(self.window, lines))
        return settled

    def shutdown(self) -> None:
        """Stop the cleanup's threads (the running operation stops after its file)."""
        self._tasks.shutdown()
        self.marks.shutdown()
        self.flow.shutdown()
