"""The main window: the cluster view, the threshold slider, the query and failure panels.

The window arranges widgets and turns user gestures into calls on the
:class:`~desktop_app.gui.library.session.LibrarySession`; the session does the work. Photos
(folders or image files) can be dropped anywhere on the window: folders open as a
library, a file or image data becomes a query, anything else is reported in the
status bar.
"""

from __future__ import annotations

import dataclasses
import logging
import os
from collections.abc import Callable, Mapping
from typing import Any

from PySide6.QtCore import QPoint, Qt
from PySide6.QtGui import (
    QCloseEvent,
    QDragEnterEvent,
    QDragMoveEvent,
    QDropEvent,
    QGuiApplication,
    QIcon,
)
from PySide6.QtWidgets import (
    QApplication,
    QDockWidget,
    QFileDialog,
    QMainWindow,
    QStackedWidget,
)

from desktop_app.engine.config import EngineConfig
from desktop_app.engine.errors import CatalogError, EngineError
from desktop_app.engine.library import rebuild_catalog
from desktop_app.engine.types import FileFailure, ImageRecord, ScanSummary
from desktop_app.gui.app.status import StatusBar
from desktop_app.gui.cleanup.controller import Cleanup
from desktop_app.gui.common import desktop, dialogs
from desktop_app.gui.common import settings as keys
from desktop_app.gui.common.menus import Actions, build_menus, build_toolbar, photo_menu
from desktop_app.gui.common.settings import Settings
from desktop_app.gui.compare.compare_dialog import CompareDialog, PreviewDialog
from desktop_app.gui.groups.cards import THUMB_H, THUMB_W
from desktop_app.gui.groups.group_dialog import GroupDialog
from desktop_app.gui.groups.thumbnails import ThumbnailLoader
from desktop_app.gui.library.page import GroupsPage
from desktop_app.gui.library.panels import (
    EmptyState,
    FailurePanel,
    ScanProgress,
    scan_finished_text,
)
from desktop_app.gui.library.session import LibrarySession
from desktop_app.gui.query import dropping
from desktop_app.gui.query.panel import QueryDock
from desktop_app.gui.shots.panel import ShotsDock

log = logging.getLogger(__name__)


class MainWindow(QMainWindow):
    """Doppel's window.

    Args:
        settings: Where preferences and window state are kept.
        catalog: The catalog file (None: the default location).
        icon: The application icon (for the empty state).
        overrides: Engine settings that win over the user's (tests and benchmarks hash
            in-process with ``{"workers": 0}``).
    """

    def __init__(
        self,
        settings: Settings,
        catalog: str | os.PathLike[str] | None = None,
        icon: QIcon | None = None,
        overrides: Mapping[str, Any] | None = None,
    ) -> None:
        super().__init__()
        self.settings = settings
        self.setWindowTitle("Doppel")
        self.setAcceptDrops(True)
        self.setStatusBar(StatusBar(self))
        ratio = self.devicePixelRatioF()
        box = (round(THUMB_W * ratio), round(THUMB_H * ratio))
        self.thumbnails = ThumbnailLoader(max(box), box=box, pixel_ratio=ratio, parent=self)
        self.previews = ThumbnailLoader(
            max_side=4096, cache_bytes=256 * 1024 * 1024, threads=1, parent=self
        )
        self._overrides = dict(overrides or {})
        self.session = LibrarySession(catalog, self._engine_config(), self)
        self._selection_source: Callable[[], list[ImageRecord]] = list

        # Central area: the empty state, or the summary, the slider and the groups.
        self.empty = EmptyState(icon)
        self.groups = GroupsPage(self.session, self.thumbnails)
        self.view = self.groups.view
        self.pages = QStackedWidget()
        self.pages.addWidget(self.empty)
        self.pages.addWidget(self.groups)
        self.setCentralWidget(self.pages)

        # Docks: the query results and the unreadable files.
        self.query_dock = QueryDock(self.session, self.thumbnails, self)
        self.query_panel = self.query_dock.panel
        self.addDockWidget(Qt.DockWidgetArea.RightDockWidgetArea, self.query_dock)
        self.query_dock.hide()
        self.failure_panel = FailurePanel()
        self.failure_dock = QDockWidget("Unreadable Files", self)
        self.failure_dock.setObjectName("failure-dock")
        self.failure_dock.setWidget(self.failure_panel)
        self.addDockWidget(Qt.DockWidgetArea.BottomDockWidgetArea, self.failure_dock)
        self.failure_dock.hide()
        # The second view (issue 9): similar shots for culling.
        self.shots_dock = ShotsDock(self.session, self)
        self.shots_panel = self.shots_dock.panel
        self.addDockWidget(Qt.DockWidgetArea.BottomDockWidgetArea, self.shots_dock)
        self.shots_dock.hide()
        self.scan_progress = ScanProgress()
        self.scan_progress.hide()
        self.statusBar().addPermanentWidget(self.scan_progress, 1)

        self.window_actions = Actions(self)
        menus = build_menus(
            self,
            self.window_actions,
            [
                self.query_dock.toggleViewAction(),
                self.failure_dock.toggleViewAction(),
                self.shots_dock.toggleViewAction(),
            ],
        )
        toolbar = build_toolbar(self, self.window_actions)
        self._photo_menu = photo_menu(self, self.window_actions)
        # Marks, Select duplicates, apply and undo, reference folders, not-copies, export.
        self.cleanup = Cleanup(
            self, self.session, settings, self.groups, menus, toolbar, self._photo_menu
        )
        self._connect()
        self._restore()
        self._update_actions()

    def _connect(self) -> None:
        a, s = self.window_actions, self.session
        a.open_folder.triggered.connect(self.choose_folder)
        a.add_folder.triggered.connect(self.add_folder)
        a.clear_recent.triggered.connect(self._on_clear_recent_triggered)
        a.find_photo.triggered.connect(self.query_dock.choose_file)
        a.paste.triggered.connect(self.paste)
        a.close_library.triggered.connect(self.close_library)
        a.quit.triggered.connect(self.close)
        a.rescan.triggered.connect(s.scan)
        a.stop_scan.triggered.connect(s.cancel_scan)
        a.exclusions.triggered.connect(self.edit_exclusions)
        a.forget_offline.triggered.connect(self.forget_offline)
        a.stricter.triggered.connect(lambda: self.groups.step_threshold(-1))
        a.looser.triggered.connect(lambda: self.groups.step_threshold(+1))
        a.preview.triggered.connect(lambda: self._with_photo(self.preview))
        a.compare.triggered.connect(self.compare_selected)
        a.open_file.triggered.connect(lambda: self._with_photo(lambda r: desktop.open_file(r.path)))
        a.show_in_folder.triggered.connect(
            lambda: self._with_photo(lambda r: desktop.show_in_folder(r.path))
        )
        a.find_similar.triggered.connect(
            lambda: self._with_photo(lambda r: self.query_dock.ask_file(r.path))
        )
        a.copy_path.triggered.connect(
            lambda: self._with_photo(lambda r: QGuiApplication.clipboard().setText(r.path))
        )
        for action, key in (
            (a.rotations, keys.ROTATIONS),
            (a.skip_hidden, keys.SKIP_HIDDEN),
            (a.rescan_on_open, keys.RESCAN_ON_OPEN),
        ):
            action.setChecked(self.settings.get(key))
            action.toggled.connect(lambda on, key=key: self._on_setting_toggled(key, on))
        a.index_location.triggered.connect(self.choose_index_location)
        a.about.triggered.connect(lambda: dialogs.show_about(self, str(self.session.catalog_path)))
        a.about_qt.triggered.connect(QApplication.aboutQt)

        self.empty.open_requested.connect(self.choose_folder)
        self.empty.recent_requested.connect(self.open_folders)
        self.groups.threshold.value_changed.connect(self._on_threshold_value_changed)
        self.view.photo_activated.connect(self.preview)
        self.view.more_requested.connect(self._on_view_more_requested)
        self.view.selection_changed.connect(
            lambda: self._on_selection_changed(self.view.selected_photos)
        )
        self.view.photo_menu_requested.connect(self._on_photo_menu_requested)
        self.query_panel.photo_activated.connect(self.preview)
        self.query_panel.selection_changed.connect(
            lambda: self._on_selection_changed(self.query_panel.selected_photos)
        )
        self.scan_progress.cancel_requested.connect(s.cancel_scan)
        self.shots_panel.keep_requested.connect(self.cleanup.flow.open_dialog)
        self.shots_panel.photo_activated.connect(self.preview)
        self.shots_panel.message.connect(lambda m: self.statusBar().showMessage(m, 8000))

        s.opened.connect(self._on_session_opened)
        s.grouping_changed.connect(lambda _: self._update_actions())
        s.failures_changed.connect(self._on_session_failures_changed)
        s.status.connect(lambda message: self.statusBar().showMessage(message, 5000))
        s.error.connect(self._on_session_error)
        self.query_dock.message.connect(lambda m: self.statusBar().showMessage(m, 8000))
        s.index.running_changed.connect(self._on_index_running_changed)
        s.index.progress.connect(self.scan_progress.update_progress)
        s.index.finished.connect(self._on_index_finished)

    # ----------------------------------------------------------------- libraries

    def open_folders(self, folders: list[str]) -> bool:
        """Open ``folders`` as one library (and scan it in the background).

        Returns:
            Whether the library was opened.
        """
        try:
            self.session.open(folders, rescan=self.settings.get(keys.RESCAN_ON_OPEN))
        except CatalogError as error:
            return self._on_catalog_error(error, lambda: self.open_folders(folders))
        except EngineError as error:
            self.statusBar().showMessage(str(error), 8000)
            dialogs.show_error(self, "Cannot open the library", str(error))
            return False
        return True

    def choose_folder(self) -> None:
        """Ask for a folder and open it as the library."""
        folder = self._ask_folder("Open a Folder of Photos")
        if folder:
            self.open_folders([folder])

    def add_folder(self) -> None:
        """Ask for a folder and add it to the open library."""
        folder = self._ask_folder("Add a Folder to the Library")
        if folder:
            self.open_folders([*self.session.roots, folder])

    def _ask_folder(self, title: str) -> str:
        start = desktop.start_folder(self.session.roots, beside=True)
        return QFileDialog.getExistingDirectory(self, title, start)

    def close_library(self) -> None:
        """Close the library and show the empty state."""
        self.session.close()
        self.setWindowTitle("Doppel")
        self.empty.set_recent(self.settings.recent_libraries())
        self.pages.setCurrentWidget(self.empty)
        self._update_actions()

    def _on_catalog_error(self, error: CatalogError, retry: Callable[[], bool]) -> bool:
        log.warning("Catalog problem: %s", error)
        choice = dialogs.ask_catalog_action(self, error)
        if choice == "rebuild":
            try:
                aside = rebuild_catalog(error.path)
            except CatalogError as refused:  # open in another Doppel process
                log.warning("Catalog not rebuilt: %s", refused)
                self.statusBar().showMessage(str(refused), 10000)
                return False
            self.statusBar().showMessage(f"Catalog rebuilt; the old file is kept as {aside}", 10000)
            return retry()
        if choice == "retry":
            return retry()
        return False

    def _on_session_opened(self, roots: tuple[str, ...]) -> None:
        self.query_panel.roots = roots
        self.settings.add_recent_library(list(roots))
        self._fill_recent_menu()
        names = ", ".join(os.path.basename(r) or r for r in roots)
        self.setWindowTitle(f"{names} — Doppel")
        self.pages.setCurrentWidget(self.groups)
        self._update_actions()

    def _fill_recent_menu(self) -> None:
        recent = self.settings.recent_libraries()
        self.window_actions.fill_recent_menu(recent, self.open_folders)
        self.empty.set_recent(recent)

    def _on_clear_recent_triggered(self) -> None:
        self.settings.clear_recent_libraries()
        self._fill_recent_menu()

    # ----------------------------------------------------------------- groups

    def _on_threshold_value_changed(self, value: int) -> None:
        self.settings.set(keys.THRESHOLD, value)

    def _on_view_more_requested(self, row: int) -> None:
        dialog = GroupDialog(
            self.groups.model.group(row),
            self.thumbnails,
            self.session.roots,
            self,
            plan=self.cleanup.plan_source(row),
        )
        dialog.photo_activated.connect(self.preview)
        dialog.compare_requested.connect(lambda photos: self.compare(*photos[:2]))
        self.cleanup.attach(dialog, row)
        dialog.show()

    # ----------------------------------------------------------------- scanning

    def _on_index_running_changed(self, running: bool) -> None:
        self.scan_progress.setVisible(running)
        if running:
            self.scan_progress.start()
        self._update_actions()

    def _on_index_finished(self, summary: ScanSummary) -> None:
        if self.shots_dock.isVisible():
            self.shots_panel.refresh()
        if summary.hashed or summary.removed:
            self.thumbnails.clear_cache()
            self.previews.clear_cache()
        self.statusBar().showMessage(scan_finished_text(summary), 15000)

    def _on_session_failures_changed(self, failures: list[FileFailure]) -> None:
        self.failure_panel.set_failures(failures)
        if failures and not self.failure_dock.isVisible():
            self.statusBar().showMessage(
                f"{len(failures)} files could not be read: see View › Unreadable Files", 8000
            )

    def _on_session_error(self, message: str, error: object) -> None:
        if isinstance(error, CatalogError):
            self._on_catalog_error(error, lambda: self.open_folders(list(self.session.roots)))
            return
        self.statusBar().showMessage(message, 10000)
        dialogs.show_error(self, "Doppel", message)

    # ----------------------------------------------------------------- queries

    def paste(self) -> None:
        """Ask about the photo on the clipboard (image data, or a copied file)."""
        found = dropping.classify(QGuiApplication.clipboard().mimeData())
        if found.is_empty():
            self.statusBar().showMessage("The clipboard holds no photo.", 6000)
            return
        self._use(found)

    # ----------------------------------------------------------------- drag and drop

    def dragEnterEvent(self, event: QDragEnterEvent) -> None:
        mime = event.mimeData()
        if mime is not None and (mime.hasUrls() or mime.hasImage()):
            event.acceptProposedAction()
        else:
            event.ignore()

    def dragMoveEvent(self, event: QDragMoveEvent) -> None:
        event.acceptProposedAction()

    def dropEvent(self, event: QDropEvent) -> None:
        found = dropping.classify(event.mimeData())
        event.acceptProposedAction()
        self._use(found)

    def _use(self, found: dropping.Dropped) -> None:
        if found.folders:
            self.open_folders(found.folders)
        elif found.files:
            self.query_dock.ask_files(found.files)
        elif found.image is not None:
            self.query_dock.ask_image(found.image)
        else:
            what = ", ".join(found.rejected) or "that"
            self.statusBar().showMessage(f"Cannot use {what}: drop a folder or a photo file.", 8000)

    # ----------------------------------------------------------------- looking closer

    def preview(self, record: ImageRecord) -> PreviewDialog:
        """Show one photo large."""
        dialog = PreviewDialog(record, self.previews, self.thumbnails, self)
        dialog.show()
        return dialog

    def compare(self, left: ImageRecord, right: ImageRecord) -> CompareDialog:
        """Show two photos side by side."""
        library = self.session.library
        geometry = library.geometry(left.id, right.id) if library is not None else None
        if geometry is not None and left.id > right.id:  # checks are kept as (smaller, larger)
            geometry = dataclasses.replace(
                geometry, cropped={"a": "b", "b": "a"}.get(geometry.cropped, "")
            )
        dialog = CompareDialog(left, right, self.previews, self.thumbnails, self, geometry=geometry)
        dialog.show()
        return dialog

    def compare_selected(self) -> CompareDialog | None:
        """Compare the two selected photos."""
        photos = self._selection_source()
        if len(photos) != 2:
            self.statusBar().showMessage(
                "Select two photos to compare (Ctrl+click the second).", 6000
            )
            return None
        return self.compare(*photos)

    def _with_photo(self, use: Callable[[ImageRecord], object]) -> None:
        photos = self._selection_source()
        if photos:
            use(photos[-1])

    def _on_selection_changed(self, source: Callable[[], list[ImageRecord]]) -> None:
        self._selection_source = source
        self._update_actions()

    def _on_photo_menu_requested(self, record: ImageRecord, where: QPoint) -> None:
        self._photo_menu.popup(where)

    # ----------------------------------------------------------------- state

    def _update_actions(self) -> None:
        photos = self._selection_source()
        for action in self.window_actions.photo_actions():
            action.setEnabled(bool(photos))
        self.window_actions.compare.setEnabled(len(photos) == 2)
        is_open = self.session.library is not None
        for action in self.window_actions.library_actions():
            action.setEnabled(is_open)
        has_photos = is_open and self.session.summary().photos > 0
        for action in (self.window_actions.stricter, self.window_actions.looser):
            action.setEnabled(has_photos)
        running = self.session.index.is_running()
        self.window_actions.rescan.setEnabled(is_open and not running)
        self.window_actions.stop_scan.setEnabled(running)

    def edit_exclusions(self) -> None:
        """Ask for the user's patterns of folders and files that scans leave out."""
        patterns = dialogs.ask_exclusions(self, self.settings.exclusions())
        if patterns is None:
            return
        self.settings.set(keys.EXCLUDE, "\n".join(patterns))
        self.session.config = self._engine_config()
        if self.session.library is not None:
            self.statusBar().showMessage("Exclusions saved: they apply from the next scan", 8000)

    def forget_offline(self) -> None:
        """Forget the photos of the library's missing or empty folders, once confirmed."""
        if self.session.library is None:
            return
        if dialogs.confirm_forget_offline(self, self.session.library.offline()):
            self.session.forget_offline()

    def _on_setting_toggled(self, key: keys.Key[bool], on: bool) -> None:
        self.settings.set(key, on)
        self.session.config = self._engine_config()

    def choose_index_location(self) -> None:
        """Ask where the hash index lives; used from the next search on."""
        chosen = dialogs.ask_index_location(self, self.settings.get(keys.INDEX))
        if chosen is None:
            return
        self.settings.set(keys.INDEX, chosen)
        self.session.config = self._engine_config()
        self.statusBar().showMessage(f"Hash index: {chosen} (from the next search on)", 8000)

    def _engine_config(self) -> EngineConfig:
        return dataclasses.replace(self.settings.engine_config(), **self._overrides)

    def _restore(self) -> None:
        geometry = self.settings.get(keys.GEOMETRY)
        if geometry.isEmpty() or not self.restoreGeometry(geometry):
            self.resize(1280, 820)
        state = self.settings.get(keys.WINDOW_STATE)
        if not state.isEmpty():
            self.restoreState(state)
        self._fill_recent_menu()

    def closeEvent(self, event: QCloseEvent) -> None:
        self.settings.set(keys.GEOMETRY, self.saveGeometry())
        self.settings.set(keys.WINDOW_STATE, self.saveState())
        self.settings.sync()
        self.shutdown()
        super().closeEvent(event)

    def shutdown(self) -> None:
        """Stop every background thread (file operation, scan, queries, thumbnails).

        The scan is cancelled first: the file operations share its thread, and waiting for
        them must not mean waiting for the whole scan (what it hashed so far is kept).
        """
        self.session.cancel_scan()
        self.cleanup.shutdown()
        self.session.shutdown()
        self.thumbnails.shutdown()
        self.previews.shutdown()
