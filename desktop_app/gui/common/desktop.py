"""Handing files to the desktop: open with the default viewer, show in the file manager.

Everything goes through :class:`QDesktopServices` except selecting the file in its
folder, which only macOS (``open -R``) and Windows (``explorer /select,``) offer; other
systems open the folder.
"""

from __future__ import annotations

import logging
import os
import sys

from PySide6.QtCore import QProcess, QUrl
from PySide6.QtGui import QDesktopServices

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
