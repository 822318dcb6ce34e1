"""The window's actions, menus and toolbar, declared in one place.

:class:`Actions` makes every :class:`QAction` with its text, shortcut and tip, and
:func:`build_menus` / :func:`build_toolbar` arrange them. The window connects them to
its slots; nothing here knows what they do. :func:`make_action` and :func:`add_actions`
also serve the cleanup's actions (``cleanup_actions``).
"""

from __future__ import annotations

import functools
from collections.abc import Callable, Iterable

from PySide6.QtCore import Qt
from PySide6.QtGui import QAction, QKeySequence
from PySide6.QtWidgets import QMainWindow, QMenu, QStyle, QToolBar, QWidget

Key = QKeySequence.StandardKey


def make_action(
    window: QWidget,
    label: str,
    shortcut: QKeySequence | Key | str | None = None,
    tip: str = "",
    icon: QStyle.StandardPixmap | None = None,
    checkable: bool = False,
) -> QAction:
    """An action of ``window`` with its shortcut, tip (status bar and tooltip) and icon.

    Args:
        window: The owner; the icon comes from its style.
        label: The text, with its ``&`` mnemonic.
        shortcut: A key sequence, a standard key or a string such as "Ctrl+K".
        tip: The status tip and tooltip.
        icon: A standard icon of the window's style.
        checkable: Whether the action is a toggle.

    Returns:
        The action.
    """
    action = QAction(label, window)
    if shortcut is not None:
        action.setShortcut(QKeySequence(shortcut))
    if tip:
        action.setStatusTip(tip)
        action.setToolTip(tip)
    if icon is not None:
        action.setIcon(window.style().standardIcon(icon))
    action.setCheckable(checkable)
    return action


def add_actions(target: QMenu | QToolBar, actions: Iterable[QAction | None]) -> None:
    """Add ``actions`` to a menu or toolbar in order; None adds a separator."""
    for action in actions:
        if action is None:
            target.addSeparator()
        else:
            target.addAction(action)


class Actions:
    """Every action of the main window.

    Args:
        window: The window that owns the actions.
    """

    def __init__(self, window: QMainWindow) -> None:
        make = functools.partial(make_action, window)
        pix = QStyle.StandardPixmap
        self.open_folder = make(
            "&Open Folder…", Key.Open, "Open a folder as a library", pix.SP_DirOpenIcon
        )
        self.add_folder = make(
            "&Add Folder to Library…", "Ctrl+Shift+O", "Add another folder to the open library"
        )
        self.recent_menu = QMenu("Open &Recent", window)
        self.clear_recent = make("Clear Recent Libraries")
        self.find_photo = make(
            "&Find Photo…",
            Key.Find,
            "Choose a photo and see where else the library has it",
            pix.SP_FileDialogContentsView,
        )
        self.paste = make("&Paste Photo", Key.Paste, "Ask about the photo on the clipboard")
        self.close_library = make("&Close Library", Key.Close, "Close the open library")
        self.quit = make("&Quit", Key.Quit, "Quit Doppel")
        self.quit.setMenuRole(QAction.MenuRole.QuitRole)

        self.rescan = make(
            "&Rescan", Key.Refresh, "Look for new, changed and deleted photos", pix.SP_BrowserReload
        )
        self.stop_scan = make(
            "&Stop Scan", "Ctrl+.", "Stop the scan; the next one resumes", pix.SP_BrowserStop
        )
        self.stricter = make("S&tricter", "Ctrl+[", "Lower the distance threshold by one")
        self.looser = make("&Looser", "Ctrl+]", "Raise the distance threshold by one")

        self.preview = make(
            "&Preview", None, "Show the selected photo large (Enter, or double-click)"
        )
        self.compare = make(
            "&Compare Selected",
            "Ctrl+D",
            "Compare the two selected photos side by side",
            pix.SP_FileDialogDetailedView,
        )
        self.open_file = make(
            "Open in &Viewer", "Ctrl+Return", "Open the photo with the system's viewer"
        )
        self.show_in_folder = make(
            "Show in &Folder", "Ctrl+Shift+R", "Show the photo in the file manager"
        )
        self.find_similar = make(
            "Find &Similar Photos", "Ctrl+Shift+F", "Ask about the selected photo"
        )
        self.copy_path = make("Copy &Path", "Ctrl+Shift+C", "Copy the selected photo's path")

        self.rotations = make(
            "Match &Rotated and Mirrored Copies",
            checkable=True,
            tip="Also find copies turned by quarter turns or mirrored (from the next scan on)",
        )
        self.skip_hidden = make(
            "Skip &Hidden Folders", checkable=True, tip="Do not look inside hidden folders"
        )
        self.rescan_on_open = make(
            "Rescan When &Opening",
            checkable=True,
            tip="Look for changes every time a library is opened",
        )
        self.index_location = make(
            "Hash &Index Location…",
            tip="Keep the hash index in the catalog (the default) or in Milvus, for archives "
            "of millions of photos",
        )

        self.exclusions = make(
            "&Excluded Folders and Files…",
            tip="Patterns of folders and files the scan leaves out",
        )
        self.forget_offline = make(
            "&Forget Photos of Offline Folders…",
            tip="Forget the photos of library folders that are missing or empty "
            "(kept by default: the drive may be unplugged)",
        )

        self.about = make("&About Doppel", tip="Version and how Doppel works")
        self.about.setMenuRole(QAction.MenuRole.AboutRole)
        self.about_qt = make("About &Qt")
        self.about_qt.setMenuRole(QAction.MenuRole.AboutQtRole)

    def fill_recent_menu(
        self, recent: list[list[str]], open_library: Callable[[list[str]], object]
    ) -> None:
        """List ``recent`` libraries in File › Open Recent; picking one calls ``open_library``."""
        menu = self.recent_menu
        menu.clear()
        for folders in recent:
            action = QAction(" + ".join(folders), menu)
            action.triggered.connect(lambda _=False, f=folders: open_library(f))
            menu.addAction(action)
        menu.addSeparator()
        menu.addAction(self.clear_recent)
        menu.setEnabled(bool(recent))

    def photo_actions(self) -> list[QAction]:
        """Actions that need one selected photo."""
        return [
            self.preview,
            self.open_file,
            self.show_in_folder,
            self.find_similar,
            self.copy_path,
        ]

    def library_actions(self) -> list[QAction]:
        """Actions that need an open library."""
        return [
            self.add_folder,
            self.close_library,
            self.rescan,
            self.stricter,
            self.looser,
            self.forget_offline,
        ]


def build_menus(window: QMainWindow, actions: Actions, docks: list[QAction]) -> dict[str, QMenu]:
    """The menu bar: File, View, Photo, Settings, Help.

    Returns:
        The menus by name ("file", "view", "photo", "settings", "help"), for the cleanup
        actions to join (``cleanup_actions.add_to_menus``).
    """
    bar = window.menuBar()
    file = bar.addMenu("&File")
    file.addAction(actions.open_folder)
    file.addAction(actions.add_folder)
    file.addMenu(actions.recent_menu)
    file.addSeparator()
    file.addAction(actions.find_photo)
    file.addAction(actions.paste)
    file.addSeparator()
    file.addAction(actions.close_library)
    file.addAction(actions.quit)

    view = bar.addMenu("&View")
    view.addAction(actions.rescan)
    view.addAction(actions.stop_scan)
    view.addAction(actions.forget_offline)
    view.addSeparator()
    view.addAction(actions.stricter)
    view.addAction(actions.looser)
    view.addSeparator()
    for toggle in docks:
        view.addAction(toggle)

    photo = bar.addMenu("&Photo")
    photo.addAction(actions.preview)
    photo.addAction(actions.compare)
    photo.addSeparator()
    photo.addAction(actions.open_file)
    photo.addAction(actions.show_in_folder)
    photo.addAction(actions.copy_path)
    photo.addSeparator()
    photo.addAction(actions.find_similar)

    settings = bar.addMenu("&Settings")
    settings.addAction(actions.rotations)
    settings.addAction(actions.skip_hidden)
    settings.addAction(actions.rescan_on_open)
    settings.addAction(actions.exclusions)
    settings.addAction(actions.index_location)

    help_menu = bar.addMenu("&Help")
    help_menu.addAction(actions.about)
    help_menu.addAction(actions.about_qt)
    return {"file": file, "view": view, "photo": photo, "settings": settings, "help": help_menu}


def build_toolbar(window: QMainWindow, actions: Actions) -> QToolBar:
    """The main toolbar."""
    bar = window.addToolBar("Main")
    bar.setObjectName("main-toolbar")
    bar.setMovable(False)
    bar.setToolButtonStyle(Qt.ToolButtonStyle.ToolButtonTextBesideIcon)
    add_actions(
        bar,
        (
            actions.open_folder,
            actions.rescan,
            actions.stop_scan,
            None,
            actions.find_photo,
            actions.compare,
        ),
    )
    return bar


def photo_menu(window: QMainWindow, actions: Actions) -> QMenu:
    """The context menu of a photo."""
    menu = QMenu(window)
    add_actions(
        menu,
        (
            actions.preview,
            actions.compare,
            None,
            actions.open_file,
            actions.show_in_folder,
            actions.copy_path,
            None,
            actions.find_similar,
        ),
    )
    return menu
