"""The cleanup's actions and where they go in the menus, the toolbar and the photo menu.

Marking, "Select duplicates", applying the marks, undo and the history (Edit); the
reference folders, checking an import, the ignore list (Library); Export (File); the
trash folder and permanent deletion (Settings). :class:`CleanupActions` makes them;
:func:`add_to_menus` places them next to the window's own. Nothing here knows what they
do: ``cleanup.py`` connects them.
"""

from __future__ import annotations

import functools

from PySide6.QtCore import Qt
from PySide6.QtGui import QAction, QKeySequence
from PySide6.QtWidgets import QMainWindow, QMenu, QStyle, QToolBar, QWidget

from desktop_app.gui.common.menus import add_actions, make_action

Key = QKeySequence.StandardKey


class CleanupActions:
    """Every action of the cleanup.

    Args:
        window: The window that owns the actions.
        view: The cluster view: Space marks the current card only while it has focus.
    """

    def __init__(self, window: QMainWindow, view: QWidget) -> None:
        make = functools.partial(make_action, window)
        pix = QStyle.StandardPixmap

        self.undo = make("&Undo", Key.Undo, "Put back the files of the last operation")
        self.history = make(
            "&History…", "Ctrl+Shift+H", "Every file operation, its files, and undo"
        )
        self.select_duplicates = make(
            "&Select Duplicates",
            "Ctrl+Shift+D",
            "Keep the best photo of every group by the keep rules and mark its copies",
            pix.SP_DialogApplyButton,
        )
        self.keep_rules = make(
            "&Keep Rules…", "Ctrl+Shift+K", "Choose how the copy to keep is chosen, then select"
        )
        self.toggle_mark = make(
            "&Mark or Unmark", "Space", "Mark the current photo for removal, or unmark it"
        )
        self.toggle_mark.setShortcutContext(Qt.ShortcutContext.WidgetWithChildrenShortcut)
        view.addAction(self.toggle_mark)
        self.keep_only = make(
            "&Keep Only This One", "Ctrl+K", "Keep this photo and mark the others of its group"
        )
        self.clear_group = make("C&lear Marks in Group", tip="Unmark every photo of this group")
        self.clear_all = make("Clear &All Marks", tip="Unmark every photo")
        self.apply = make(
            "&Apply Marks…",
            Key.Delete,
            "Move the marked photos to the trash or a folder, after a dry run",
            pix.SP_TrashIcon,
        )
        self.not_copies = make(
            "These Are &Not Copies",
            "Ctrl+Shift+N",
            "Remember that the selected photos (or the whole group) are not copies",
        )
        self.folders = make(
            "Library &Folders…", tip="Choose reference folders: never marked, always kept"
        )
        self.check_import = make(
            "&Check a New Import…",
            "Ctrl+Shift+I",
            "Mark the photos of an import folder that your library already has",
        )
        self.ignore_list = make("&Not Copies List…", tip="Photos remembered as not copies")
        self.export = make(
            "&Export Groups and Marks…", "Ctrl+E", "Save the groups and marks as CSV or JSON"
        )
        self.allow_delete = make(
            "Allow &Permanent Deletion",
            tip="Offer to delete marked photos for good (off by default; always confirmed)",
            checkable=True,
        )
        self.trash_folder = make(
            "&Trash Folder…", tip="Move trashed photos to a folder of yours, or the system trash"
        )

    def library_actions(self) -> list[QAction]:
        """Actions that need an open library and no running scan or operation."""
        return [
            self.select_duplicates,
            self.keep_rules,
            self.apply,
            self.not_copies,
            self.folders,
            self.check_import,
            self.ignore_list,
            self.export,
            self.undo,
            self.history,
        ]

    def card_actions(self) -> list[QAction]:
        """Actions on the current card or its group."""
        return [self.toggle_mark, self.keep_only, self.clear_group]


def add_to_menus(window: QMainWindow, menus: dict[str, QMenu], actions: CleanupActions) -> QMenu:
    """Place the cleanup actions: an Edit and a Library menu, and entries in the others.

    Returns:
        The Edit menu.
    """
    bar = window.menuBar()
    file = menus["file"]
    quit_first = file.actions()[-2]  # Close Library, Quit come last
    file.insertAction(quit_first, actions.export)
    file.insertSeparator(quit_first)

    edit = QMenu("&Edit", window)
    add_actions(
        edit,
        (
            actions.undo,
            actions.history,
            None,
            actions.select_duplicates,
            actions.keep_rules,
            None,
            actions.toggle_mark,
            actions.keep_only,
            actions.clear_group,
            actions.clear_all,
            None,
            actions.not_copies,
            None,
            actions.apply,
        ),
    )
    bar.insertMenu(menus["view"].menuAction(), edit)

    library = QMenu("&Library", window)
    library.addAction(actions.folders)
    library.addAction(actions.check_import)
    library.addSeparator()
    library.addAction(actions.ignore_list)
    bar.insertMenu(menus["photo"].menuAction(), library)

    settings = menus["settings"]
    settings.addSeparator()
    settings.addAction(actions.trash_folder)
    settings.addAction(actions.allow_delete)
    return edit


def add_to_toolbar(bar: QToolBar, actions: CleanupActions) -> None:
    """Select Duplicates and Apply Marks on the main toolbar (Undo is Ctrl+Z, in Edit)."""
    bar.addSeparator()
    bar.addAction(actions.select_duplicates)
    bar.addAction(actions.apply)


def add_to_photo_menu(menu: QMenu, actions: CleanupActions) -> None:
    """The marking actions in a photo's context menu."""
    add_actions(
        menu,
        (
            None,
            actions.toggle_mark,
            actions.keep_only,
            actions.clear_group,
            None,
            actions.not_copies,
        ),
    )
