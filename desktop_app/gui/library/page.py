"""The page of the open library: the summary line, the threshold slider and histogram, the groups.

It shows what a :class:`~desktop_app.gui.library.session.LibrarySession` reports (groupings,
summaries, pair histograms) and the marks line the cleanup keeps up to date, and tells
the session when the slider moves; a notice takes the place of the groups while there
are none to show (indexing, loading, nothing found).
"""

from __future__ import annotations

import logging

from PySide6.QtCore import Qt
from PySide6.QtWidgets import QHBoxLayout, QLabel, QStackedWidget, QVBoxLayout, QWidget

from desktop_app.engine.types import Grouping
from desktop_app.gui.common import text
from desktop_app.gui.groups.cluster_view import ClusterView
from desktop_app.gui.groups.histogram import ThresholdControl
from desktop_app.gui.groups.models import GroupModel
from desktop_app.gui.groups.thumbnails import ThumbnailLoader
from desktop_app.gui.library.session import LibrarySession, Summary

log = logging.getLogger(__name__)


#: What the groups page says about a library without a photo (the one thing it says).
EMPTY_LIBRARY = (
    "No photos in this library yet.\n"
    "Put photos in its folders and choose Library › Rescan, or open another folder."
)


def summary_text(summary: Summary) -> str:
    """The summary line, as rich text ("" for a library without a photo: the notice
    where the groups go says it)."""
    if not summary.photos:
        return ""
    return (
        f"<b>{text.plural(summary.groups, 'group')}</b> of copies among "
        f"{text.plural(summary.photos, 'photo')} · "
        f"<b>{text.plural(summary.extra_copies, 'extra copy', 'extra copies')}</b> "
        f"taking <b>{text.human_size(summary.extra_bytes)}</b>"
    )


def marks_text(count: int, size: int, *, busy: bool = False, hidden: int = 0) -> str:
    """The marks line, as rich text: what is marked (and hidden), or how to mark."""
    if busy:
        return "Selecting duplicates…"
    hidden_text = (
        f" · {text.plural(hidden, 'mark')} hidden at this threshold (in no group; widen it "
        "to see them)"
        if hidden
        else ""
    )
    if count:
        return (
            f"<span style='color:#c62828'><b>{text.plural(count, 'photo')} marked</b></span>"
            f" ({text.human_size(size)}) · nothing happens to them until you apply the marks "
            f"(Edit › Apply Marks…){hidden_text}"
        )
    if hidden:
        return f"Nothing marked in the groups shown{hidden_text}"
    return (
        "Nothing marked · <b>Select Duplicates</b> (Ctrl+Shift+D) marks the copies of the "
        "best photo of each group, or tick the box on a photo"
    )


class GroupsPage(QWidget):
    """Summary, slider and histogram above the cluster view.

    Args:
        session: The session whose groups are shown.
        loader: Thumbnails for the cards.
        parent: Owner.
    """

    def __init__(
        self, session: LibrarySession, loader: ThumbnailLoader, parent: QWidget | None = None
    ) -> None:
        super().__init__(parent)
        self.session = session
        self._loader = loader
        self.summary = QLabel("")
        self.summary.setWordWrap(True)
        font = self.summary.font()
        font.setPointSizeF(font.pointSizeF() * 1.15)
        self.summary.setFont(font)
        self.threshold = ThresholdControl("Similarity threshold (Hamming distance)")
        self.threshold.setMaximumWidth(380)
        self.threshold.set_value(session.threshold)
        self.model = GroupModel(loader, self)
        self.view = ClusterView(loader)
        self.view.setModel(self.model)
        self.notice = QLabel("")
        self.notice.setAlignment(Qt.AlignmentFlag.AlignCenter)
        self.notice.setWordWrap(True)
        self.stack = QStackedWidget()
        self.stack.addWidget(self.view)
        self.stack.addWidget(self.notice)
        #: The marks line: how many photos are marked, or how to mark them.
        self.marks = QLabel("")
        self.marks.setWordWrap(True)
        lines = QVBoxLayout()
        lines.addWidget(self.summary)
        lines.addWidget(self.marks)
        lines.addStretch(1)
        top = QHBoxLayout()
        top.addLayout(lines, 1)
        top.addWidget(self.threshold)
        column = QVBoxLayout(self)
        column.setContentsMargins(8, 8, 8, 0)
        column.addLayout(top)
        column.addWidget(self.stack, 1)

        self.threshold.value_changed.connect(session.set_threshold)
        session.opened.connect(self._on_session_opened)
        session.grouping_changed.connect(self._on_session_grouping_changed)
        session.summary_changed.connect(self._on_session_summary_changed)
        session.histogram_changed.connect(self._on_session_histogram_changed)
        session.busy_changed.connect(self._on_session_busy_changed)
        session.index.running_changed.connect(self._on_index_running_changed)

    def set_marks(self, count: int, size: int, *, busy: bool = False, hidden: int = 0) -> None:
        """Say how many photos are marked (``count``, ``size`` bytes; ``hidden`` more in no
        group), or how to mark."""
        self.marks.setText(marks_text(count, size, busy=busy, hidden=hidden))

    def show_notice(self, message: str) -> None:
        """Show ``message`` where the groups go."""
        self.notice.setText(message)
        self.stack.setCurrentWidget(self.notice)

    def step_threshold(self, step: int) -> None:
        """Move the slider ``step`` stops (-1: stricter, +1: looser)."""
        self.threshold.step(step)

    def _on_session_opened(self, roots: tuple[str, ...]) -> None:
        self.view.roots = roots
        self.summary.setText("Opening…")
        self.show_notice("Loading the groups…")

    def _on_session_grouping_changed(self, grouping: Grouping | None) -> None:
        self._loader.drop_queued()
        self.model.set_grouping(grouping, self.session.resolve if grouping is not None else None)
        empty = grouping is not None and not self.session.summary().photos
        self.threshold.setEnabled(not empty)
        self.marks.setVisible(not empty)
        if grouping is not None and len(grouping):
            self.stack.setCurrentWidget(self.view)
        elif empty:
            self.show_notice(EMPTY_LIBRARY)
        elif grouping is not None:
            self.show_notice(
                f"No copies within distance {grouping.threshold}.\n"
                "Move the slider right to look for less similar copies."
            )

    def _on_session_summary_changed(self, summary: Summary) -> None:
        self.summary.setText(summary_text(summary))

    def _on_session_histogram_changed(self, counts: list[int], reach: int) -> None:
        if self.threshold.histogram is not None:
            self.threshold.histogram.set_counts(counts, reach)

    def _on_session_busy_changed(self, busy: bool) -> None:
        if busy and self.session.grouping is None:
            self.show_notice("Loading the groups…")

    def _on_index_running_changed(self, running: bool) -> None:
        if running and self.session.grouping is None:
            self.summary.setText("Indexing the library…")
            self.show_notice("Indexing the photos…\nThe groups appear when the scan ends.")
