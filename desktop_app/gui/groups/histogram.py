"""The threshold slider and the histogram of pair distances above it.

The histogram shows how many pairs of photos in the library lie at each Hamming
distance, so the user can see where copies end (a heap at small distances) and
unrelated photos begin (a slope rising towards the maximum). Counts span orders of
magnitude, so bar heights are logarithmic. It is drawn with QPainter; no plotting
library is needed for seventeen bars. Clicking a bar moves the slider there.
"""

from __future__ import annotations

import math
from collections.abc import Sequence

from PySide6.QtCore import QRectF, QSize, Qt, Signal
from PySide6.QtGui import QMouseEvent, QPainter, QPaintEvent, QPalette, QPen
from PySide6.QtWidgets import QHBoxLayout, QLabel, QSlider, QVBoxLayout, QWidget

from desktop_app.engine.config import MAX_THRESHOLD


class DistanceHistogram(QWidget):
    """Bars of pair counts by distance 0..maximum, the current threshold marked.

    Signals:
        picked(int): The user clicked the bar of this distance.
    """

    picked = Signal(int)

    def __init__(self, maximum: int = MAX_THRESHOLD, parent: QWidget | None = None) -> None:
        super().__init__(parent)
        self._maximum = maximum
        self._counts: list[int] = [0] * (maximum + 1)
        self._threshold = 0
        self._reach = maximum
        self.setMinimumSize(120, 40)
        self.setMouseTracking(True)
        self.setCursor(Qt.CursorShape.PointingHandCursor)
        self.setAccessibleName("Pair distance histogram")

    def sizeHint(self) -> QSize:
        return QSize(240, 52)

    def counts(self) -> list[int]:
        """Pairs at each distance."""
        return list(self._counts)

    def set_counts(self, counts: Sequence[int], reach: int | None = None) -> None:
        """Show ``counts[d]`` pairs at distance ``d``.

        Args:
            counts: Pair counts by distance; missing distances count as 0.
            reach: Largest distance the counts are complete up to (bars beyond it are
                drawn hatched: unknown, not zero).
        """
        padded = [int(c) for c in counts[: self._maximum + 1]]
        self._counts = padded + [0] * (self._maximum + 1 - len(padded))
        self._reach = self._maximum if reach is None else reach
        self._update_tooltip()
        self.update()

    def set_threshold(self, threshold: int) -> None:
        """Mark ``threshold``."""
        self._threshold = threshold
        self._update_tooltip()
        self.update()

    def _bar_rect(self, distance: int, plot: QRectF) -> QRectF:
        width = plot.width() / (self._maximum + 1)
        return QRectF(plot.left() + distance * width, plot.top(), width, plot.height())

    def _plot_rect(self) -> QRectF:
        return QRectF(self.rect()).adjusted(1, 2, -1, -1)

    def paintEvent(self, event: QPaintEvent) -> None:
        painter = QPainter(self)
        palette = self.palette()
        plot = self._plot_rect()
        painter.fillRect(plot, palette.color(QPalette.ColorRole.Base))
        top = max(self._counts) if any(self._counts) else 0
        scale = math.log1p(top) or 1.0
        inside = palette.color(QPalette.ColorRole.Highlight)
        outside = palette.color(QPalette.ColorRole.Mid)
        for distance, count in enumerate(self._counts):
            slot = self._bar_rect(distance, plot)
            if distance > self._reach:
                painter.fillRect(
                    slot.adjusted(1, 0, -1, 0),
                    palette.brush(QPalette.ColorRole.Mid).color().lighter(130),
                )
                continue
            if not count:
                continue
            height = max(2.0, slot.height() * math.log1p(count) / scale)
            bar = QRectF(slot.left() + 1, slot.bottom() - height, slot.width() - 2, height)
            painter.fillRect(bar, inside if distance <= self._threshold else outside)
        # The threshold: a line after its bar.
        marker = self._bar_rect(self._threshold, plot).right()
        painter.setPen(QPen(palette.color(QPalette.ColorRole.Text), 1.5, Qt.PenStyle.DashLine))
        painter.drawLine(round(marker), round(plot.top()), round(marker), round(plot.bottom()))
        painter.setPen(palette.color(QPalette.ColorRole.Mid))
        painter.drawRect(plot.adjusted(0, 0, -0.5, -0.5))
        painter.end()

    def distance_at(self, x: float) -> int:
        """The distance whose bar is at horizontal position ``x``."""
        plot = self._plot_rect()
        width = plot.width() / (self._maximum + 1)
        return min(max(int((x - plot.left()) // width), 0), self._maximum)

    def mousePressEvent(self, event: QMouseEvent) -> None:
        if event.button() == Qt.MouseButton.LeftButton:
            self.picked.emit(self.distance_at(event.position().x()))

    def mouseMoveEvent(self, event: QMouseEvent) -> None:
        distance = self.distance_at(event.position().x())
        if distance > self._reach:
            self.setToolTip(f"Distance {distance}: not searched yet")
        else:
            count = self._counts[distance]
            self.setToolTip(f"Distance {distance}: {count:,} pair{'s' if count != 1 else ''}")

    def _update_tooltip(self) -> None:
        within = sum(self._counts[: self._threshold + 1])
        self.setToolTip(
            f"{within:,} pairs within distance {self._threshold}; "
            "bar heights are logarithmic. Click a bar to set the threshold."
        )


class ThresholdControl(QWidget):
    """A labelled distance slider, optionally with the histogram above it.

    Signals:
        value_changed(int): The slider moved (every step, not debounced).
    """

    value_changed = Signal(int)

    def __init__(
        self,
        title: str,
        *,
        histogram: bool = True,
        maximum: int = MAX_THRESHOLD,
        parent: QWidget | None = None,
    ) -> None:
        super().__init__(parent)
        self.slider = QSlider(Qt.Orientation.Horizontal)
        self.slider.setRange(0, maximum)
        self.slider.setPageStep(2)
        self.slider.setTickPosition(QSlider.TickPosition.TicksBelow)
        self.slider.setTickInterval(4)
        self.slider.setAccessibleName(title)
        self.slider.setToolTip(
            "Hamming distance: how many of the 64 bits of two photos' hashes may differ "
            "for them to count as copies. Lower is stricter."
        )
        self.value_label = QLabel()
        self.value_label.setMinimumWidth(
            self.value_label.fontMetrics().horizontalAdvance("≤ 16 ") + 4
        )
        title_label = QLabel(title)
        title_label.setBuddy(self.slider)
        self.histogram = DistanceHistogram(maximum) if histogram else None

        row = QHBoxLayout()
        row.setContentsMargins(0, 0, 0, 0)
        row.addWidget(self.slider, 1)
        row.addWidget(self.value_label)
        column = QVBoxLayout(self)
        column.setContentsMargins(0, 0, 0, 0)
        column.setSpacing(2)
        column.addWidget(title_label)
        if self.histogram is not None:
            hist_row = QHBoxLayout()
            hist_row.setContentsMargins(0, 0, 0, 0)
            hist_row.addWidget(self.histogram, 1)
            hist_row.addSpacing(self.value_label.minimumWidth() + row.spacing())
            column.addLayout(hist_row)
            self.histogram.picked.connect(self.slider.setValue)
        column.addLayout(row)
        self.slider.valueChanged.connect(self._on_value_changed)
        self._on_value_changed(self.slider.value())

    def value(self) -> int:
        """The slider's value."""
        return self.slider.value()

    def set_value(self, value: int) -> None:
        """Move the slider (emits ``value_changed`` if it changes)."""
        self.slider.setValue(value)

    def _on_value_changed(self, value: int) -> None:
        self.value_label.setText(f"≤ {value}")
        if self.histogram is not None:
            self.histogram.set_threshold(value)
        self.value_changed.emit(value)
