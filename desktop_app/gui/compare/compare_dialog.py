"""Looking closer: a large preview of one photo, and two photos side by side.

:class:`CompareDialog` shows two photos in :class:`~desktop_app.gui.compare.zoom_view.ZoomView` s
that follow each other's zoom and pan, with their metadata side by side below and the
rows that differ highlighted. :class:`PreviewDialog` is the one-photo version that a
double-click opens. Both show the cached thumbnail at once and swap in a sharper decode
from the preview loader when it arrives; "Open" and "Show in folder" hand the file to the
system (:mod:`desktop_app.gui.common.desktop`).
"""

from __future__ import annotations

import logging
import os
from collections.abc import Sequence

from PySide6.QtCore import QObject, QPointF, QSize, Qt, Slot
from PySide6.QtGui import QBrush, QColor, QFont, QImage, QKeySequence, QShortcut
from PySide6.QtWidgets import (
    QAbstractItemView,
    QDialog,
    QDialogButtonBox,
    QHBoxLayout,
    QHeaderView,
    QLabel,
    QPushButton,
    QSplitter,
    QTableWidget,
    QTableWidgetItem,
    QVBoxLayout,
    QWidget,
)

from desktop_app.engine.library import Library, pair_verdict
from desktop_app.engine.types import (
    GeometryCheck,
    ImageRecord,
    PhotoNotes,
    hash_distance,
    hash_to_hex,
)
from desktop_app.gui.common import desktop, text
from desktop_app.gui.compare.zoom_view import ZoomView
from desktop_app.gui.groups.thumbnails import ThumbnailLoader

log = logging.getLogger(__name__)

#: The metadata table's least height: it scrolls beyond, so that the dialog fits a
#: 768-pixel screen with room for both photos.
TABLE_MIN_HEIGHT = 180

#: Background of metadata rows whose values differ.
DIFFERENT = QColor(255, 224, 130)


def distance(a: ImageRecord, b: ImageRecord) -> int | None:
    """Hamming distance between two photos' hashes (None if one has no hash)."""
    if a.phash is None or b.phash is None:
        return None
    return hash_distance(a.phash, b.phash)


def metadata_rows(record: ImageRecord, notes: PhotoNotes | None = None) -> list[tuple[str, str]]:
    """(label, value) for the metadata table, in display order; with ``notes``, also
    where the photo came from ("exported from IMG_1234.CR3") and its sidecars."""
    extra = []
    if notes is not None:
        extra = [
            ("Made from", notes.lineage or ""),
            ("Sidecars", ", ".join(f"{os.path.basename(p)} ({k})" for p, k in notes.sidecars)),
        ]
    return [
        ("File name", record.name),
        ("Folder", text.folder(record.path)),
        ("Format", record.format or ""),
        ("Pixel size", text.pixel_size(record)),
        ("Megapixels", text.megapixels(record)),
        ("File size", text.human_size(record.size)),
        ("Date taken", text.taken(record)),
        ("Camera", record.camera or ""),
        ("Modified", text.modified(record)),
        ("Perceptual hash", hash_to_hex(record.phash) if record.phash is not None else ""),
        *extra,
        *capture_rows(record),
    ]


def capture_rows(record: ImageRecord) -> list[tuple[str, str]]:
    """The capture identity (issue 9): what tells one exposure from another."""
    c = record.capture
    return [
        ("Capture time", (c.when or "") if c else ""),
        ("Time zone", (c.offset or "") if c else ""),
        ("Camera body", (c.serial or "") if c else ""),
        ("Exposure", (c.exposure or "") if c else ""),
        ("Image unique id", (c.unique_id or "") if c else ""),
        ("Document id", (c.document_id or "") if c else ""),
        ("Original document", (c.original_document_id or "") if c else ""),
        ("Derived from", (c.derived_from or "") if c else ""),
        ("Pixel digest", record.pixel_digest.hex()[:16] if record.pixel_digest else ""),
        ("Sharpness", f"{record.sharpness:.0f}" if record.sharpness is not None else ""),
    ]


class _PhotoPane(QWidget):
    """A photo with its name above it and Open / Show in folder below it."""

    def __init__(self, record: ImageRecord, parent: QWidget | None = None) -> None:
        super().__init__(parent)
        self.record = record
        self.view = ZoomView()
        self.view.setMinimumSize(240, 200)
        title = QLabel(record.name)
        bold = QFont(title.font())
        bold.setBold(True)
        title.setFont(bold)
        title.setToolTip(record.path)
        title.setTextInteractionFlags(Qt.TextInteractionFlag.TextSelectableByMouse)
        open_button = QPushButton("Open")
        open_button.setToolTip("Open in the default viewer")
        open_button.clicked.connect(lambda: desktop.open_file(record.path))
        reveal = QPushButton("Show in folder")
        reveal.clicked.connect(lambda: desktop.show_in_folder(record.path))
        buttons = QHBoxLayout()
        buttons.addWidget(open_button)
        buttons.addWidget(reveal)
        buttons.addStretch(1)
        layout = QVBoxLayout(self)
        layout.setContentsMargins(0, 0, 0, 0)
        layout.addWidget(title)
        layout.addWidget(self.view, 1)
        layout.addLayout(buttons)


class _ImageFeeder(QObject):
    """Puts a thumbnail in each pane at once, then the sharper preview when it loads.

    A QObject child of the dialog, so that its connections to the long-lived loader
    go away with the dialog.
    """

    def __init__(
        self,
        panes: Sequence[_PhotoPane],
        previews: ThumbnailLoader | None,
        thumbnails: ThumbnailLoader | None,
        parent: QObject,
    ) -> None:
        super().__init__(parent)
        self._panes = list(panes)
        self._previews = previews
        for pane in self._panes:
            path = pane.record.path
            sharp = previews.pixmap(path) if previews is not None else None
            if sharp is not None:
                pane.view.set_image(sharp)
                continue
            error = previews.error(path) if previews is not None else None
            quick = thumbnails.pixmap(path) if thumbnails is not None else None
            pane.view.set_image(quick, error or "Loading…")
        if previews is not None:
            previews.loaded.connect(self._on_loaded)
            previews.failed.connect(self._on_failed)

    @Slot(str, QImage)
    def _on_loaded(self, key: str, image: QImage) -> None:
        for pane in self._panes:
            if pane.record.path == key:
                pane.view.set_image(image)

    @Slot(str, str)
    def _on_failed(self, key: str, reason: str) -> None:
        for pane in self._panes:
            if pane.record.path == key and not pane.view.has_image():
                pane.view.set_image(None, f"Cannot show this photo: {reason}")


class CompareDialog(QDialog):
    """Two photos side by side, zoom and pan in step, metadata compared.

    Args:
        left: The first photo.
        right: The second photo.
        previews: Loader of large images (None: thumbnails only).
        thumbnails: Loader whose cached thumbnails are shown while previews load.
        parent: Owner window.
        geometry: The geometric check of (left, right), if the pair had one: its
            evidence is shown, and when one photo is a crop of the other, the crop's
            frame is outlined on the other.
    """

    def __init__(
        self,
        left: ImageRecord,
        right: ImageRecord,
        previews: ThumbnailLoader | None = None,
        thumbnails: ThumbnailLoader | None = None,
        parent: QWidget | None = None,
        *,
        geometry: GeometryCheck | None = None,
    ) -> None:
        super().__init__(parent)
        self.setWindowTitle(f"Compare {left.name} and {right.name}")
        self.setAttribute(Qt.WidgetAttribute.WA_DeleteOnClose)
        self.records = (left, right)
        self.panes = (_PhotoPane(left), _PhotoPane(right))
        self._following = False
        for pane, other in (self.panes, self.panes[::-1]):
            pane.view.view_changed.connect(
                lambda zoom, center, other=other: self._on_view_changed(other, zoom, center)
            )
        self._feeder = _ImageFeeder(self.panes, previews, thumbnails, self)

        split = QSplitter(Qt.Orientation.Horizontal)
        for pane in self.panes:
            split.addWidget(pane)
        self.table = self._metadata_table(left, right)
        gap = distance(left, right)
        same_bytes = left.digest is not None and left.digest == right.digest
        verdict = (
            "Byte-identical files."
            if same_bytes
            else f"Hamming distance between them: {gap}."
            if gap is not None
            else "One of them has no hash."
        )
        judged = pair_verdict(left, right, gap)
        evidence = ", ".join(judged.evidence)
        verdict += f"  {judged.kind.label}: {evidence}." if evidence else ""
        if geometry is not None and geometry.confirmed:
            verdict += "  " + "; ".join(geometry.evidence).capitalize() + "."
            # The crop's frame, outlined on the photo it was cut from.
            if geometry.frame is not None and geometry.cropped in ("a", "b"):
                original = self.panes[1] if geometry.cropped == "a" else self.panes[0]
                original.view.set_frame(geometry.frame)
        self.verdict = QLabel(verdict + "  Wheel zooms both photos; drag pans both; 0 fits.")
        self.verdict.setWordWrap(True)
        buttons = QDialogButtonBox(QDialogButtonBox.StandardButton.Close)
        buttons.rejected.connect(self.reject)
        fit = buttons.addButton("Fit both", QDialogButtonBox.ButtonRole.ActionRole)
        fit.clicked.connect(self.panes[0].view.fit)

        vertical = QSplitter(Qt.Orientation.Vertical)
        vertical.addWidget(split)
        vertical.addWidget(self.table)
        vertical.setStretchFactor(0, 4)
        vertical.setStretchFactor(1, 1)
        layout = QVBoxLayout(self)
        layout.addWidget(vertical, 1)
        layout.addWidget(self.verdict)
        layout.addWidget(buttons)
        QShortcut(QKeySequence(Qt.Key.Key_0), self, self.panes[0].view.fit)
        desktop.fit_to_screen(self, QSize(1100, 690))  # a 768-pixel screen, less its panels

    def _metadata_table(self, left: ImageRecord, right: ImageRecord) -> QTableWidget:
        notes = Library.photo_notes([left.path, right.path])
        rows = list(
            zip(
                metadata_rows(left, notes[left.path]),
                metadata_rows(right, notes[right.path]),
                strict=True,
            )
        )
        table = QTableWidget(len(rows), 2)
        table.setHorizontalHeaderLabels([left.name, right.name])
        table.setVerticalHeaderLabels([label for (label, _), _ in rows])
        table.setEditTriggers(QAbstractItemView.EditTrigger.NoEditTriggers)
        table.horizontalHeader().setSectionResizeMode(QHeaderView.ResizeMode.Stretch)
        table.setSelectionMode(QAbstractItemView.SelectionMode.ContiguousSelection)
        for row, ((_, a), (_, b)) in enumerate(rows):
            for column, value in enumerate((a, b)):
                item = QTableWidgetItem(value)
                item.setToolTip(value)
                if a != b:
                    item.setBackground(QBrush(DIFFERENT))
                    item.setForeground(QBrush(QColor("black")))
                    font = item.font()
                    font.setBold(True)
                    item.setFont(font)
                table.setItem(row, column, item)
        table.setAccessibleName("Metadata of both photos; differences highlighted")
        table.resizeRowsToContents()
        height = table.horizontalHeader().height() + sum(
            table.rowHeight(r) for r in range(table.rowCount())
        )
        table.setMinimumHeight(min(height + 4, TABLE_MIN_HEIGHT))
        return table

    def _on_view_changed(self, other: _PhotoPane, zoom: float, center: QPointF) -> None:
        if self._following:
            return
        self._following = True
        try:
            other.view.set_view(zoom, center)
        finally:
            self._following = False


class PreviewDialog(QDialog):
    """One photo, large, zoomable, with Open and Show in folder."""

    def __init__(
        self,
        record: ImageRecord,
        previews: ThumbnailLoader | None = None,
        thumbnails: ThumbnailLoader | None = None,
        parent: QWidget | None = None,
    ) -> None:
        super().__init__(parent)
        self.setWindowTitle(record.name)
        self.setAttribute(Qt.WidgetAttribute.WA_DeleteOnClose)
        self.pane = _PhotoPane(record)
        self._feeder = _ImageFeeder([self.pane], previews, thumbnails, self)
        facts = " · ".join(
            v
            for v in (
                text.pixel_size(record),
                text.human_size(record.size),
                record.format or "",
                text.taken(record),
                record.camera or "",
            )
            if v
        )
        info = QLabel(f"{text.folder(record.path)}\n{facts}")
        info.setTextInteractionFlags(Qt.TextInteractionFlag.TextSelectableByMouse)
        buttons = QDialogButtonBox(QDialogButtonBox.StandardButton.Close)
        buttons.rejected.connect(self.reject)
        layout = QVBoxLayout(self)
        layout.addWidget(self.pane, 1)
        layout.addWidget(info)
        layout.addWidget(buttons)
        desktop.fit_to_screen(self, QSize(900, 720))
