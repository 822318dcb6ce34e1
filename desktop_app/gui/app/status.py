"""The window's status bar, whose messages wrap onto more lines instead of being cut off.

:class:`QStatusBar` draws a temporary message on one line and cuts it at the window's
edge: "Checking holiday-2024 against your library, which is now a reference folder
(Library › Fo" is all a photographer sees of a long one. :class:`StatusBar` shows the
message in a word-wrapped label that grows to as many lines as it needs (up to
:data:`MAX_LINES`; the whole text is in its tooltip), with the same ``showMessage``,
``currentMessage`` and ``clearMessage`` as Qt's.
"""

from __future__ import annotations

import logging

from PySide6.QtCore import QRect, Qt, QTimer
from PySide6.QtGui import QResizeEvent
from PySide6.QtWidgets import QLabel, QStatusBar, QWidget

log = logging.getLogger(__name__)

#: Lines a message may take before the rest is left to its tooltip.
MAX_LINES = 3


class StatusBar(QStatusBar):
    """A status bar whose messages wrap instead of being cut off."""

    def __init__(self, parent: QWidget | None = None) -> None:
        super().__init__(parent)
        self.label = QLabel()
        self.label.setWordWrap(True)
        self.label.setTextFormat(Qt.TextFormat.PlainText)
        self.label.setTextInteractionFlags(Qt.TextInteractionFlag.TextSelectableByMouse)
        self.addWidget(self.label, 1)
        self._timer = QTimer(self)
        self._timer.setSingleShot(True)
        self._timer.timeout.connect(self.clearMessage)

    def showMessage(self, message: str, timeout: int | None = 0) -> None:
        """Show ``message`` for ``timeout`` milliseconds (0: until the next one)."""
        self.label.setText(message)
        self.label.setToolTip(message)
        self._fit()
        if timeout:
            self._timer.start(timeout)
        else:
            self._timer.stop()
        self.messageChanged.emit(message)

    def currentMessage(self) -> str:
        """The message shown ("" when none)."""
        return self.label.text()

    def clearMessage(self) -> None:
        """Remove the message."""
        self._timer.stop()
        self.label.clear()
        self.label.setToolTip("")
        self._fit()
        self.messageChanged.emit("")

    def lines(self) -> int:
        """How many lines the message takes at the label's width."""
        metrics = self.label.fontMetrics()
        width = max(self.label.width(), 50)
        flags = Qt.TextFlag.TextWordWrap
        needed = metrics.boundingRect(QRect(0, 0, width, 10_000), flags, self.label.text())
        return max(1, -(-needed.height() // metrics.lineSpacing()))

    def _fit(self) -> None:
        lines = min(self.lines(), MAX_LINES)
        self.label.setFixedHeight(lines * self.label.fontMetrics().lineSpacing() + 2)

    def resizeEvent(self, event: QResizeEvent) -> None:
        super().resizeEvent(event)
        self._fit()
