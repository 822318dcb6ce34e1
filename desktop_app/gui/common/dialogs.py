"""Dialogs: About, errors, catalog trouble, deletion, recovery, the trash, a crash.

Every modal question goes through a function of this module, so the tests can answer
it by monkeypatching the function instead of clicking a real message box.
"""

from __future__ import annotations

import logging
from collections.abc import Sequence

from PySide6.QtWidgets import (
    QFileDialog,
    QInputDialog,
    QMessageBox,
    QWidget,
)

import desktop_app
from desktop_app.engine.errors import CatalogCorrupt, CatalogError, CatalogLocked, CatalogTooNew
from desktop_app.gui.common import text

log = logging.getLogger(__name__)

ABOUT_TEXT = """<h3>Doppel {version}</h3>
<p>Finds duplicate and near-duplicate photos in your library: re-saved, resized,
re-encoded, bordered, rotated or mirrored copies, and byte-identical files.</p>
<p>Each photo gets a 64-bit perceptual hash; two photos are copies when few of their
bits differ (the Hamming distance). An exact segment index in SQLite finds every such
pair, and the slider regroups them as you move it.</p>
<p>Doppel never changes or deletes your photos.</p>
<p>Catalog: <code>{catalog}</code></p>"""


def show_about(parent: QWidget | None, catalog: str) -> None:
    """The About box."""
    QMessageBox.about(
        parent,
        "About Doppel",
        ABOUT_TEXT.format(version=desktop_app.__version__, catalog=catalog),
    )


def show_error(parent: QWidget | None, title: str, message: str, details: str = "") -> None:
    """A warning box with ``message`` (and a "Show Details" part if given)."""
    box = QMessageBox(
        QMessageBox.Icon.Warning, title, message, QMessageBox.StandardButton.Ok, parent
    )
    if details:
        box.setDetailedText(details)
    box.exec()


def ask_catalog_action(parent: QWidget | None, error: CatalogError) -> str:
    """Ask what to do about a catalog that cannot be used.

    Returns:
        "rebuild" (set the damaged file aside and start a new one), "retry" (it was
        locked; try again) or "cancel".
    """
    box = QMessageBox(parent)
    box.setIcon(QMessageBox.Icon.Warning)
    box.setWindowTitle("The catalog cannot be used")
    box.setText(str(error))
    actions: dict[object, str] = {}
    if isinstance(error, (CatalogCorrupt, CatalogTooNew)):
        box.setInformativeText(
            "Doppel can rebuild it: the old file is kept next to it under a dated name, your "
            "library folders are carried over, and the photos are indexed again. Your photos "
            "are not touched."
        )
        actions[box.addButton("Rebuild Catalog", QMessageBox.ButtonRole.AcceptRole)] = "rebuild"
    elif isinstance(error, CatalogLocked):
        box.setInformativeText("Close the other program that uses it (another Doppel?) and retry.")
        actions[box.addButton("Retry", QMessageBox.ButtonRole.AcceptRole)] = "retry"
    box.addButton(QMessageBox.StandardButton.Cancel)
    box.exec()
    return actions.get(box.clickedButton(), "cancel")


def confirm_delete(parent: QWidget | None, count: int, size: int) -> bool:
    """Ask before a permanent deletion, naming the number of photos and their size.

    Returns:
        Whether the user confirmed (the default button is Cancel).
    """
    box = QMessageBox(parent)
    box.setIcon(QMessageBox.Icon.Warning)
    box.setWindowTitle("Delete permanently?")
    box.setText(f"Delete {text.plural(count, 'photo')} ({text.human_size(size)}) permanently?")
    box.setInformativeText(
        "They do not go to the trash and cannot be put back. Moving them to the trash "
        "instead can be undone."
    )
    delete = box.addButton(
        f"Delete {text.plural(count, 'Photo')}", QMessageBox.ButtonRole.DestructiveRole
    )
    cancel = box.addButton(QMessageBox.StandardButton.Cancel)
    box.setDefaultButton(cancel)
    box.exec()
    return box.clickedButton() is delete


def ask_exclusions(parent: QWidget | None, current: Sequence[str]) -> list[str] | None:
    """Ask for the user's patterns of folders and files to leave out of scans.

    Returns:
        The patterns (one a line, blanks dropped), or None when cancelled.
    """
    answer, ok = QInputDialog.getMultiLineText(
        parent,
        "Excluded Folders and Files",
        "Folders and files the scan leaves out, one pattern a line: a name like "
        "Exports, a wildcard like *.tmp, or the end of a path like Clients/*/Raw.\n"
        "Other applications' libraries and caches (Lightroom previews, Apple Photos and "
        "Capture One libraries, thumbnail caches) are always left out.",
        "\n".join(current),
    )
    if not ok:
        return None
    return [line.strip() for line in answer.splitlines() if line.strip()]


def confirm_forget_offline(parent: QWidget | None, folders: Sequence[str]) -> bool:
    """Ask before forgetting the photos of library folders that are missing or empty.

    Returns:
        Whether the user confirmed (the default button is Cancel).
    """
    box = QMessageBox(parent)
    box.setIcon(QMessageBox.Icon.Question)
    box.setWindowTitle("Forget offline photos?")
    if folders:
        box.setText(
            f"Forget the photos of {text.plural(len(folders), 'folder')} that "
            "cannot be found or are empty?"
        )
        box.setInformativeText(
            "If a drive is just unplugged, plug it in and rescan instead: forgotten "
            "photos are hashed again when they come back. No file is touched."
        )
        box.setDetailedText("\n".join(folders))
    else:
        box.setText("Every folder of the library is online: there is nothing to forget.")
        box.addButton(QMessageBox.StandardButton.Ok)
        box.exec()
        return False
    forget = box.addButton("Forget Their Photos", QMessageBox.ButtonRole.DestructiveRole)
    cancel = box.addButton(QMessageBox.StandardButton.Cancel)
    box.setDefaultButton(cancel)
    box.exec()
    return box.clickedButton() is forget


def show_recovery(parent: QWidget | None, lines: Sequence[str]) -> None:
    """Say what was put in order after an operation was interrupted (a crash, a power cut)."""
    box = QMessageBox(parent)
    box.setIcon(QMessageBox.Icon.Information)
    box.setWindowTitle("An interrupted operation was completed")
    box.setText(
        "Doppel stopped in the middle of moving files last time. It has checked each of "
        f"them: {text.plural(len(lines), 'file')} settled, none lost."
    )
    box.setInformativeText("Edit › History lists every operation and where each file is.")
    box.setDetailedText("\n".join(lines))
    box.exec()


def ask_trash_location(parent: QWidget | None, current: str) -> str | None:
    """Ask where trashed photos go: a folder of the user's, or the system trash.

    Returns:
        The folder, "" for the system trash, or None if the user cancelled.
    """
    box = QMessageBox(parent)
    box.setIcon(QMessageBox.Icon.Question)
    box.setWindowTitle("Trash Folder")
    box.setText(f"Trashed photos go to {current or 'the system trash'}.")
    box.setInformativeText(
        "A trash folder of your own keeps the same layout as the desktop's trash; undo "
        "works from both."
    )
    choose = box.addButton("Choose a Folder…", QMessageBox.ButtonRole.AcceptRole)
    system = box.addButton("Use the System Trash", QMessageBox.ButtonRole.ResetRole)
    box.addButton(QMessageBox.StandardButton.Cancel)
    box.exec()
    if box.clickedButton() is system:
        return ""
    if box.clickedButton() is choose:
        folder = QFileDialog.getExistingDirectory(parent, "Trash Folder", current or "")
        return folder or None
    return None


def ask_index_location(parent: QWidget | None, current: str) -> str | None:
    """Ask where the hash index lives: "sqlite" (the catalog) or "milvus:URI".

    Returns:
        The setting, or None if the user cancelled or gave something else (then told so).
    """
    value, ok = QInputDialog.getText(
        parent,
        "Hash Index Location",
        "sqlite: in the catalog (the default, right for up to a few million photos)\n"
        "milvus:http://host:19530 — a Milvus server or cluster\n"
        "milvus:/path/to/index.db — Milvus Lite on this computer\n"
        "(Milvus needs pip install 'doppel[scale]'; see docs/scale-out.md)",
        text=current,
    )
    value = value.strip()
    if not ok:
        return None
    if value == "sqlite" or (value.startswith("milvus:") and value[7:]):
        return value
    QMessageBox.warning(
        parent, "Hash Index Location", f'"{value}" is neither "sqlite" nor "milvus:URI".'
    )
    return None


def show_crash(parent: QWidget | None, summary: str, details: str) -> None:
    """The dialog of the exception hook: something went wrong that we did not expect."""
    box = QMessageBox(parent)
    box.setIcon(QMessageBox.Icon.Critical)
    box.setWindowTitle("Doppel ran into a problem")
    box.setText("Something went wrong that Doppel did not expect. Your photos were not changed.")
    box.setInformativeText(summary)
    box.setDetailedText(details)
    box.exec()
