"""What was dropped or pasted: folders to open, a photo to ask about, or nothing usable.

Pure classification of a :class:`QMimeData`, without touching the disk beyond telling
folders from files, so that the window's drop and paste handlers stay short and the
rules are tested on their own.
"""

from __future__ import annotations

import os
from dataclasses import dataclass, field

from PySide6.QtCore import QBuffer, QByteArray, QIODevice, QMimeData
from PySide6.QtGui import QImage


@dataclass
class Dropped:
    """The usable parts of a drop or a paste.

    Attributes:
        folders: Local folders (to open as a library).
        files: Local files that are not folders (to ask about; the engine decides
            whether they are images).
        image: Image data without a file (dragged from a browser, copied in an editor).
        rejected: What could not be used (remote URLs, missing paths), for a message.
    """

    folders: list[str] = field(default_factory=list)
    files: list[str] = field(default_factory=list)
    image: QImage | None = None
    rejected: list[str] = field(default_factory=list)

    def is_empty(self) -> bool:
        """Whether nothing usable came."""
        return not (self.folders or self.files or self.image is not None)


def classify(mime: QMimeData | None) -> Dropped:
    """Sort the contents of ``mime`` into folders, files and image data."""
    out = Dropped()
    if mime is None:
        return out
    if mime.hasUrls():
        for url in mime.urls():
            if not url.isLocalFile():
                out.rejected.append(url.toString())
                continue
            _add_path(out, url.toLocalFile())
    elif mime.hasText() and not mime.hasImage():
        candidate = mime.text().strip()
        if candidate.startswith("file://"):
            candidate = candidate[len("file://") :]
        if candidate and "\n" not in candidate and os.path.isabs(os.path.expanduser(candidate)):
            _add_path(out, os.path.expanduser(candidate))
    if not out.folders and not out.files and mime.hasImage():
        image = mime.imageData()
        if isinstance(image, QImage) and not image.isNull():
            out.image = image
    return out


def _add_path(out: Dropped, path: str) -> None:
    if os.path.isdir(path):
        out.folders.append(path)
    elif os.path.exists(path):
        out.files.append(path)
    else:
        out.rejected.append(path)


def image_bytes(image: QImage) -> bytes:
    """``image`` encoded as PNG, for a query by bytes."""
    data = QByteArray()
    buffer = QBuffer(data)
    buffer.open(QIODevice.OpenModeFlag.WriteOnly)
    # PySide6 6.11's stub types format as bytes, but the binding takes only str here:
    # b"PNG" raises ValueError ("called with wrong argument values").
    image.save(buffer, "PNG")  # type: ignore[call-overload]
    buffer.close()
    return bytes(data.data())
