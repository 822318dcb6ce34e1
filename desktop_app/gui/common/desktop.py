"""Handing files to the desktop: open with the default viewer, show in the file manager,
where file dialogs start (:func:`start_folder`: near the library, not in the home
folder), and how large a dialog can be on this screen (:func:`fit_to_screen`).

Everything goes through :class:`QDesktopServices` except selecting the file in its
folder, which only macOS (``open -R``) and Windows (``explorer /select,``) offer; other
systems open the folder.
"""

from __future__ import annotations

import logging
import os
import sys
from collections.abc import Sequence

from PySide6.QtCore import QProcess, QSize, QUrl
from PySide6.QtGui import QDesktopServices, QGuiApplication
from PySide6.QtWidgets import QWidget

log = logging.getLogger(__name__)


def open_file(path: str) -> bool:
    """Open ``path`` with the system's default application.

    Returns:
        Whether the system accepted the request.
    """
    log.info("Opening %s", path)
    return bool(QDesktopServices.openUrl(QUrl.fromLocalFile(path)))


def show_in_folder(path: str) -> bool:
    """Show ``path`` in the file manager, selected where the platform allows it.

    Returns:
        Whether the system accepted the request.
    """
    log.info("Showing %s in its folder", path)
    if sys.platform == "darwin":
        return bool(QProcess.startDetached("open", ["-R", path]))
    if sys.platform == "win32":
        return bool(QProcess.startDetached("explorer", ["/select,", os.path.normpath(path)]))
    return bool(QDesktopServices.openUrl(QUrl.fromLocalFile(os.path.dirname(path) or path)))


def start_folder(roots: Sequence[str], *, beside: bool = False) -> str:
    """Where a file dialog opens: near the open library, else in the home folder.

    Args:
        roots: The open library's folders (empty: none is open).
        beside: Open in the folder that holds the library's first folder (to choose
            another folder next to it) rather than in that folder itself.
    """
    for root in roots:
        if os.path.isdir(root):
            parent = os.path.dirname(root.rstrip(os.sep))
            return parent if beside and parent and os.path.isdir(parent) else root
    return os.path.expanduser("~")


def fit_to_screen(widget: QWidget, wanted: QSize) -> QSize:
    """Resize ``widget`` to ``wanted``, or less where its screen is smaller (a window
    taller than a 768-pixel laptop screen cannot be moved or resized by its title bar).

    Returns:
        The size given.
    """
    screen = widget.screen() or QGuiApplication.primaryScreen()
    size = QSize(wanted)
    if screen is not None:
        room = screen.availableGeometry().size() * 0.92
        size = size.boundedTo(room).expandedTo(widget.minimumSizeHint())
    widget.resize(size)
    return size
