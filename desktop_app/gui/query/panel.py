"""The query panel: "where else do I have this photo?".

Shows the photo that was dropped, opened or pasted, and the library photos like it as
cards, nearest first, filtered by the panel's own distance slider. The query is asked
once at the engine's largest distance, so moving this slider only filters the known
matches and never waits on the engine.
"""

from __future__ import annotations

import logging
import os
from collections.abc import Sequence

from PySide6.QtCore import QModelIndex, QSize, Qt, Signal
from PySide6.QtGui import QFont, QImage, QPixmap
from PySide6.QtWidgets import (
    QAbstractItemView,
    QDockWidget,
    QFileDialog,
    QHBoxLayout,
    QLabel,
    QPushButton,
    QStackedWidget,
    QVBoxLayout,
    QWidget,
)

from desktop_app.engine.config import DEFAULT_THRESHOLD
from desktop_app.engine.types import ImageRecord, Match, QueryResult
from desktop_app.gui.common import desktop, text
from desktop_app.gui.groups.cards import CardInfo, card_grid
from desktop_app.gui.groups.histogram import ThresholdControl
from desktop_app.gui.groups.models import MatchModel, MatchRole, ThumbnailsRole
from desktop_app.gui.groups.thumbnails import ThumbnailLoader
from desktop_app.gui.library.session import LibrarySession
from desktop_app.gui.query.dropping import image_bytes

log = logging.getLogger(__name__)

#: Side of the query photo's picture at the top of the panel.
QUERY_PICTURE_SIDE = 112
#: Image files the "Find Photo" dialog offers (the engine recognises more by content).
IMAGE_FILTER = (
    "Photos (*.jpg *.jpeg *.png *.webp *.tif *.tiff *.bmp *.gif *.heic *.heif *.avif "
    "*.JPG *.JPEG *.PNG *.HEIC);;All files (*)"
)


def match_card(match: Match, roots: Sequence[str] = ()) -> CardInfo:
    """A query match as a card; its folder is shown relative to ``roots``."""
    return CardInfo(
        match.image,
        match.distance,
        match.identical,
        match.transform,
        reference=False,
        folder=text.relative_folder(match.image.path, roots),
        verdict=match.verdict,
    )


class QueryPanel(QWidget):
    """The query photo, its distance slider and the ranked matches.

    Signals:
        threshold_changed(int): The query slider moved.
        photo_activated(ImageRecord): A match was double-clicked.
        selection_changed(): The selected matches changed.
    """

    threshold_changed = Signal(int)
    photo_activated = Signal(object)
    selection_changed = Signal()

    def __init__(
        self, loader: ThumbnailLoader | None = None, parent: QWidget | None = None
    ) -> None:
        super().__init__(parent)
        self._loader = loader
        #: Library folders; cards show each photo's folder relative to them.
        self.roots: tuple[str, ...] = ()
        self.result: QueryResult | None = None
        self.model = MatchModel(loader, self)
        self._picture_key: str | None = None
        if loader is not None:
            loader.loaded.connect(self._on_loader_loaded)

        self.picture = QLabel()
        self.picture.setFixedSize(QUERY_PICTURE_SIDE, QUERY_PICTURE_SIDE)
        self.picture.setAlignment(Qt.AlignmentFlag.AlignCenter)
        self.picture.setFrameShape(QLabel.Shape.StyledPanel)
        self.title = QLabel("No photo asked about yet")
        bold = QFont(self.title.font())
        bold.setBold(True)
        self.title.setFont(bold)
        self.title.setWordWrap(True)
        self.details = QLabel("")
        self.details.setWordWrap(True)
        self.count = QLabel("")
        self.count.setWordWrap(True)  # a long count must not widen the panel
        #: "Next Photo (2 of 3)": the next of several photos dropped at once.
        self.next_button = QPushButton("Next Photo")
        self.next_button.hide()
        self.slider = ThresholdControl("Query distance", histogram=False)
        self.slider.set_value(DEFAULT_THRESHOLD)
        self.slider.value_changed.connect(self._on_slider_value_changed)

        facts = QVBoxLayout()
        facts.addWidget(self.title)
        facts.addWidget(self.details)
        facts.addWidget(self.count)
        facts.addStretch(1)
        facts.addWidget(self.next_button, 0, Qt.AlignmentFlag.AlignLeft)
        header = QHBoxLayout()
        header.addWidget(self.picture)
        header.addLayout(facts, 1)

        self.list = card_grid(
            self.model, lambda m: match_card(m, self.roots), MatchRole, ThumbnailsRole
        )
        self.list.setWrapping(True)
        self.list.setSpacing(0)
        self.list.setVerticalScrollMode(QAbstractItemView.ScrollMode.ScrollPerPixel)
        self.list.doubleClicked.connect(self._on_list_double_clicked)
        self.list.selectionModel().selectionChanged.connect(self.selection_changed)
        self.list.setAccessibleName("Photos like the query, nearest first")

        self.empty = QLabel(
            "Drop a photo on the window, paste one (Ctrl+V) or use File › Find Photo…\n"
            "to see where else the library has it."
        )
        self.empty.setAlignment(Qt.AlignmentFlag.AlignCenter)
        self.empty.setWordWrap(True)
        self.none_found = QLabel(
            "No photo of the library is this close.\nMove the slider right to widen the search."
        )
        self.none_found.setAlignment(Qt.AlignmentFlag.AlignCenter)
        self.stack = QStackedWidget()
        for page in (self.empty, self.list, self.none_found):
            self.stack.addWidget(page)

        layout = QVBoxLayout(self)
        layout.addLayout(header)
        layout.addWidget(self.slider)
        layout.addWidget(self.stack, 1)

    def sizeHint(self) -> QSize:
        return QSize(440, 600)

    def set_threshold(self, threshold: int) -> None:
        """Move the query slider."""
        self.slider.set_value(threshold)

    def threshold(self) -> int:
        """The query slider's value."""
        return self.slider.value()

    def reset_threshold(self) -> None:
        """Start a new query at the default distance, whatever the last one was set to."""
        self.slider.set_value(DEFAULT_THRESHOLD)

    def show_pending(
        self, label: str, picture: QImage | None = None, path: str | None = None
    ) -> None:
        """Show that a query about ``label`` (the file ``path``, or ``picture``) is running."""
        self.title.setText(f"Looking for {label}…")
        self.details.setText("")
        self.count.setText("")
        self._set_picture(picture, path)

    def show_result(self, result: QueryResult, label: str, picture: QImage | None = None) -> None:
        """Show the matches of a query.

        Args:
            result: The engine's answer (asked at the largest distance).
            label: What the query photo is called (its file name, or "pasted image").
            picture: The query photo to show; looked up by path when None.
        """
        self.result = result
        query = result.query
        self.title.setText(f"Photos like {label}")
        facts = [f"{query.width} × {query.height}", query.format, text.human_size(query.size)]
        self.details.setText(" · ".join(f for f in facts if f))
        self.details.setToolTip(query.path)
        self._set_picture(picture, None if picture is not None else query.path)
        self.model.set_matches(result.matches, self.threshold())
        self._update_count()

    def show_message(self, title: str, message: str) -> None:
        """Show why there is no result (not an image, no library open...)."""
        self.result = None
        self.model.set_matches((), self.threshold())
        self.title.setText(title)
        self.details.setText(message)
        self.count.setText("")
        self.picture.clear()
        self.stack.setCurrentWidget(self.empty)

    def selected_photos(self) -> list[ImageRecord]:
        """The selected matches' photos."""
        rows = sorted(i.row() for i in self.list.selectionModel().selectedIndexes())
        return [self.model.match_at(r).image for r in rows]

    def _set_picture(self, picture: QImage | None, path: str | None = None) -> None:
        """Show ``picture``, or the thumbnail of ``path`` (now, or when it is decoded)."""
        self._picture_key = None
        if picture is None and path is not None and self._loader is not None:
            pixmap = self._loader.pixmap(path)
            if pixmap is None:
                self._picture_key = path
            else:
                picture = pixmap.toImage()
        if picture is None or picture.isNull():
            self.picture.setText("…")
            return
        pixmap = QPixmap.fromImage(picture).scaled(
            QUERY_PICTURE_SIDE - 4,
            QUERY_PICTURE_SIDE - 4,
            Qt.AspectRatioMode.KeepAspectRatio,
            Qt.TransformationMode.SmoothTransformation,
        )
        self.picture.setPixmap(pixmap)

    def _on_loader_loaded(self, key: str, image: QImage) -> None:
        if key == self._picture_key:
            self._set_picture(image)

    def _on_slider_value_changed(self, value: int) -> None:
        self.model.set_threshold(value)
        self._update_count()
        self.threshold_changed.emit(value)

    def _update_count(self) -> None:
        if self.result is None:
            self.stack.setCurrentWidget(self.empty)
            return
        shown, total = self.model.rowCount(), self.model.total()
        identical = sum(
            1 for m in self.result.matches if m.identical and m.distance <= self.threshold()
        )
        line = f"{text.plural(shown, 'match', 'matches')} within distance {self.threshold()}"
        if identical:
            line += f", {identical} byte-identical"
        if total > shown:
            line += f" ({total} within {self.result.threshold})"
        self.count.setText(line)
        self.stack.setCurrentWidget(self.list if shown else self.none_found)

    def _on_list_double_clicked(self, index: QModelIndex) -> None:
        self.photo_activated.emit(self.model.match_at(index.row()).image)


class QueryDock(QDockWidget):
    """The query panel in a dock, asking the session and showing its answers.

    Args:
        session: The open library's session, which runs the queries.
        loader: Thumbnails for the cards and the query photo.
        parent: The main window.

    Signals:
        message(str): A line for the status bar.
    """

    message = Signal(str)

    def __init__(
        self, session: LibrarySession, loader: ThumbnailLoader | None, parent: QWidget | None = None
    ) -> None:
        super().__init__("Find Photo", parent)
        self.setObjectName("query-dock")
        self.session = session
        self.panel = QueryPanel(loader)
        self.setWidget(self.panel)
        self._label = ""
        self._picture: QImage | None = None
        self._queue: list[str] = []  # several photos asked about at once
        self._position = 0
        self.panel.next_button.clicked.connect(self.ask_next)
        session.query_ready.connect(self._on_session_query_ready)
        session.query_failed.connect(self._on_session_query_failed)

    def choose_file(self) -> None:
        """Ask for photo files (File › Find Photo) and look for each in the library."""
        paths, _ = QFileDialog.getOpenFileNames(
            self.parentWidget(),
            "Find a Photo in the Library",
            desktop.start_folder(self.session.roots),
            IMAGE_FILTER,
        )
        if paths:
            self.ask_files(paths)

    def ask_files(self, paths: Sequence[str]) -> None:
        """Ask about each photo of ``paths`` in turn: the first now, the next ones with
        the panel's Next Photo button."""
        self._queue = list(paths)
        self._position = 0
        if len(paths) > 1:
            self.message.emit(
                f"{len(paths)} photos to find: showing the first; Next Photo (in the Find "
                "Photo panel) shows the next one."
            )
        self._ask_queued()

    def ask_next(self) -> None:
        """Ask about the next of several photos dropped or chosen at once."""
        if self._position + 1 < len(self._queue):
            self._position += 1
            self._ask_queued()

    def _ask_queued(self) -> None:
        path = self._queue[self._position]
        self._ask(path, os.path.basename(path), None, keep_queue=True)
        self._update_next()

    def _update_next(self) -> None:
        left = len(self._queue) - self._position - 1
        button = self.panel.next_button
        button.setVisible(len(self._queue) > 1)
        button.setEnabled(left > 0)
        button.setText(
            f"Next Photo ({self._position + 2} of {len(self._queue)})"
            if left > 0
            else f"Last of {len(self._queue)} photos"
        )

    def ask_file(self, path: str) -> None:
        """Ask which library photos look like the photo at ``path``."""
        self._ask(path, os.path.basename(path), None)

    def ask_image(self, image: QImage) -> None:
        """Ask which library photos look like ``image`` (pasted or dragged image data)."""
        self._ask(image_bytes(image), "the pasted image", image)

    def _ask(
        self, source: str | bytes, label: str, picture: QImage | None, *, keep_queue: bool = False
    ) -> None:
        self.show()
        self.raise_()
        if not keep_queue:
            self._queue, self._position = [], 0
            self.panel.next_button.hide()
        self.panel.reset_threshold()
        if not self.session.query(source):
            self.panel.show_message(
                "No library is open", "Open a folder first, then drop a photo to find its copies."
            )
            self.message.emit("Open a library first, then ask about a photo.")
            return
        self._label, self._picture = label, picture
        self.panel.show_pending(label, picture, source if isinstance(source, str) else None)

    def _on_session_query_ready(self, result: QueryResult) -> None:
        self.panel.show_result(result, self._label, self._picture)
        self.message.emit(f"{self._label}: {self.panel.count.text()}")

    def _on_session_query_failed(self, message: str, error: object) -> None:
        self.panel.show_message(f"Cannot look for {self._label}", message)
        self.message.emit(message)
