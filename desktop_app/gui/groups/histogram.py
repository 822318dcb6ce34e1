"""The threshold slider and the histogram of pair distances above it.

The histogram shows how many pairs of photos in the library lie at each Hamming
distance, so the user can see where copies end (a heap at small distances) and
unrelated photos begin (a slope rising towards the maximum). Counts span orders of
magnitude, so bar heights are logarithmic, and each bar has its count written over
it. It is drawn with QPainter; no plotting
library is needed for seventeen bars. Clicking a bar moves the slider there.
"""

from __future__ import annotations

import math
from collections.abc import Sequence

from PySide6.QtCore import QRectF, QSize, Qt, Signal
from PySide6.QtGui import QFont, QFontMetrics, QMouseEvent, QPainter, QPaintEvent, QPalette, QPen
from PySide6.QtWidgets import (
    QGridLayout,
    QHBoxLayout,
    QLabel,
    QSlider,
    QStyle,
    QStyleOptionSlider,
    QVBoxLayout,
    QWidget,
)

from desktop_app.engine.config import MAX_THRESHOLD


def short_count(count: int) -> str:
    """A pair count in at most four characters: ``7``, ``312``, ``4.5k``, ``12k``, ``1.2M``."""
    if count < 1000:
        return str(count)
    for size, unit in ((1_000_000, "M"), (1000, "k")):
        if count >= size:
            value = count / size
            return f"{value:.1f}{unit}" if value < 10 else f"{value:.0f}{unit}"
    return str(count)  # pragma: no cover


def distance_step(counts: Sequence[int], reach: int) -> int:
    """The step between slider positions that can change the groups: 2 when every pair
    found so far is at an even distance (pHash sets 32 of its 64 bits, so two photos'
    hashes always differ in an even number of bits), else 1."""
    known = counts[: reach + 1]
    if any(known) and not any(known[1::2]):
        return 2
    return 1


class DistanceHistogram(QWidget):
    """Bars of pair counts by distance 0..maximum, the current threshold marked.

    Each bar has its count over it and a distance under it (for every other bar when they
    are narrow); with a step of 2 (:func:`distance_step`) the odd distances, which hold no
    pairs, get no bar of their own.

    Signals:
        picked(int): The user clicked the bar of this distance.
        counts_changed(): New counts were set.
    """

    picked = Signal(int)
    counts_changed = Signal()

    def __init__(self, maximum: int = MAX_THRESHOLD, parent: QWidget | None = None) -> None:
        super().__init__(parent)
        self._maximum = maximum
        self._counts: list[int] = [0] * (maximum + 1)
        self._threshold = 0
        self._reach = maximum
        self._step = 1
        self._small = QFont(self.font())
        self._small.setPointSizeF(max(6.0, self.font().pointSizeF() * 0.78))
        self._text_h = QFontMetrics(self._small).height()
        self.setMinimumSize(120, 40 + 2 * self._text_h)
        self.setMouseTracking(True)
        self.setCursor(Qt.CursorShape.PointingHandCursor)
        self.setAccessibleName("Pair distance histogram")

    def sizeHint(self) -> QSize:
        return QSize(240, 44 + 2 * self._text_h)

    def counts(self) -> list[int]:
        """Pairs at each distance."""
        return list(self._counts)

    def step(self) -> int:
        """Distances between two bars (:func:`distance_step`)."""
        return self._step

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
        self._step = distance_step(self._counts, self._reach)
        self._update_tooltip()
        self.update()
        self.counts_changed.emit()

    def set_threshold(self, threshold: int) -> None:
        """Mark ``threshold``."""
        self._threshold = threshold
        self._update_tooltip()
        self.update()

    def bar_count(self, distance: int) -> int | None:
        """Pairs in the bar of ``distance`` (None beyond what was searched)."""
        start = distance - distance % self._step
        if start > self._reach:
            return None
        return sum(self._counts[start : start + self._step])

    def bar_text(self, distance: int) -> str:
        """The count written over the bar of ``distance`` ("" for no pairs or unknown)."""
        count = self.bar_count(distance)
        return short_count(count) if count else ""

    def axis_labels(self) -> list[int]:
        """The distances written under the bars."""
        plot = self._plot_rect()
        stops = list(range(0, self._maximum + 1, self._step))
        room = QFontMetrics(self._small).horizontalAdvance("16") + 4
        every = 1
        while every < len(stops) and plot.width() / len(stops) * every < room:
            every *= 2
        return stops[::every]

    def _bar_rect(self, distance: int, plot: QRectF) -> QRectF:
        width = plot.width() / (self._maximum + 1)
        start = distance - distance % self._step
        end = min(start + self._step, self._maximum + 1)
        return QRectF(plot.left() + start * width, plot.top(), (end - start) * width, plot.height())

    def _plot_rect(self) -> QRectF:
        return QRectF(self.rect()).adjusted(1, 2, -1, -1 - self._text_h)

    def paintEvent(self, event: QPaintEvent) -> None:
        painter = QPainter(self)
        palette = self.palette()
        plot = self._plot_rect()
        painter.fillRect(plot, palette.color(QPalette.ColorRole.Base))
        stops = range(0, self._maximum + 1, self._step)
        bars = {d: self.bar_count(d) for d in stops}
        top = max((c for c in bars.values() if c), default=0)
        scale = math.log1p(top) or 1.0
        inside = palette.color(QPalette.ColorRole.Highlight)
        outside = palette.color(QPalette.ColorRole.Mid)
        room = plot.height() - self._text_h  # the count goes over the bar
        painter.setFont(self._small)
        metrics = QFontMetrics(self._small)
        for distance, count in bars.items():
            slot = self._bar_rect(distance, plot)
            if count is None:
                painter.fillRect(
                    slot.adjusted(1, 0, -1, 0),
                    palette.brush(QPalette.ColorRole.Mid).color().lighter(130),
                )
                continue
            if not count:
                continue
            height = max(2.0, room * math.log1p(count) / scale)
            bar = QRectF(slot.left() + 1, slot.bottom() - height, slot.width() - 2, height)
            painter.fillRect(bar, inside if distance <= self._threshold else outside)
            label = short_count(count)
            if metrics.horizontalAdvance(label) <= slot.width() + 2:
                painter.setPen(palette.color(QPalette.ColorRole.Text))
                above = QRectF(
                    slot.left() - 2, bar.top() - self._text_h, slot.width() + 4, self._text_h
                )
                painter.drawText(above, Qt.AlignmentFlag.AlignCenter, label)
        # The axis: distances under their bars.
        painter.setPen(palette.color(QPalette.ColorRole.PlaceholderText))
        for distance in self.axis_labels():
            slot = self._bar_rect(distance, plot)
            under = QRectF(slot.center().x() - 12, plot.bottom() + 1, 24, self._text_h)
            painter.drawText(under, Qt.AlignmentFlag.AlignCenter, str(distance))
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
        distance = min(max(int((x - plot.left()) // width), 0), self._maximum)
        return distance - distance % self._step

    def mousePressEvent(self, event: QMouseEvent) -> None:
        if event.button() == Qt.MouseButton.LeftButton:
            self.picked.emit(self.distance_at(event.position().x()))

    def bar_tooltip(self, distance: int) -> str:
        """The tooltip of the bar of ``distance``: its pairs."""
        count = self.bar_count(distance)
        start = distance - distance % self._step
        if count is None:
            return f"Distance {start}: not searched yet"
        return f"Distance {start}: {count:,} pair{'s' if count != 1 else ''}"

    def mouseMoveEvent(self, event: QMouseEvent) -> None:
        self.setToolTip(self.bar_tooltip(self.distance_at(event.position().x())))

    def _update_tooltip(self) -> None:
        within = sum(self._counts[: self._threshold + 1])
        self.setToolTip(
            f"{within:,} pairs within distance {self._threshold}; "
            "bar heights are logarithmic. Click a bar to set the threshold."
        )


class TickLabels(QWidget):
    """The distances under a slider's tick marks."""

    def __init__(self, slider: QSlider, parent: QWidget | None = None) -> None:
        super().__init__(parent)
        self._slider = slider
        font = QFont(self.font())
        font.setPointSizeF(max(6.0, font.pointSizeF() * 0.78))
        self.setFont(font)
        self.setFixedHeight(QFontMetrics(font).height())

    def labels(self) -> list[int]:
        """The values labelled: every tick of the slider."""
        slider = self._slider
        return list(range(slider.minimum(), slider.maximum() + 1, slider.tickInterval() or 1))

    def paintEvent(self, event: QPaintEvent) -> None:
        slider = self._slider
        option = QStyleOptionSlider()
        slider.initStyleOption(option)
        style = slider.style()
        handle = style.subControlRect(
            QStyle.ComplexControl.CC_Slider, option, QStyle.SubControl.SC_SliderHandle, slider
        )
        span = slider.width() - handle.width()
        painter = QPainter(self)
        painter.setPen(self.palette().color(QPalette.ColorRole.PlaceholderText))
        for value in self.labels():
            x = QStyle.sliderPositionFromValue(slider.minimum(), slider.maximum(), value, span)
            x += slider.x() - self.x() + handle.width() // 2
            painter.drawText(
                QRectF(x - 12, 0, 24, self.height()), Qt.AlignmentFlag.AlignCenter, str(value)
            )
        painter.end()


class ThresholdControl(QWidget):
    """A labelled distance slider, optionally with the histogram above it.

    The slider stops only where the groups can change: at even distances when the
    histogram found pairs at even distances only (:func:`distance_step`).

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
        self._step = 1
        self._snapping = False
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
        self.ticks = TickLabels(self.slider)
        self.value_label = QLabel()
        self.value_label.setMinimumWidth(
            self.value_label.fontMetrics().horizontalAdvance("≤ 16 ") + 4
        )
        title_label = QLabel(title)
        title_label.setBuddy(self.slider)
        self.histogram = DistanceHistogram(maximum) if histogram else None

        row = QGridLayout()
        row.setContentsMargins(0, 0, 0, 0)
        row.setVerticalSpacing(0)
        row.addWidget(self.slider, 0, 0)
        row.addWidget(self.value_label, 0, 1)
        row.addWidget(self.ticks, 1, 0)
        row.setColumnStretch(0, 1)
        column = QVBoxLayout(self)
        column.setContentsMargins(0, 0, 0, 0)
        column.setSpacing(2)
        column.addWidget(title_label)
        if self.histogram is not None:
            hist_row = QHBoxLayout()
            hist_row.setContentsMargins(0, 0, 0, 0)
            hist_row.addWidget(self.histogram, 1)
            hist_row.addSpacing(self.value_label.minimumWidth() + row.horizontalSpacing())
            column.addLayout(hist_row)
            self.histogram.picked.connect(self.set_value)
            self.histogram.counts_changed.connect(self._on_histogram_counts_changed)
        column.addLayout(row)
        self.slider.valueChanged.connect(self._on_value_changed)
        self._on_value_changed(self.slider.value())

    def value(self) -> int:
        """The slider's value."""
        return self.slider.value()

    def set_value(self, value: int) -> None:
        """Move the slider (emits ``value_changed`` if it changes); between two stops,
        to the lower one, which shows the same groups."""
        self.slider.setValue(self._snap(value))

    def set_step(self, step: int) -> None:
        """Stop only at multiples of ``step`` (1, or 2 for pHash distances)."""
        self._step = max(1, step)
        self.slider.setSingleStep(self._step)
        self.slider.setPageStep(2 * self._step)
        self.set_value(self.slider.value())

    def step(self, direction: int) -> None:
        """Move one stop stricter (-1) or looser (+1)."""
        self.set_value(self.value() + direction * self._step)

    def stops(self) -> list[int]:
        """The values the slider stops at."""
        return list(range(self.slider.minimum(), self.slider.maximum() + 1, self._step))

    def _snap(self, value: int) -> int:
        value = min(max(value, self.slider.minimum()), self.slider.maximum())
        return value - value % self._step

    def _on_histogram_counts_changed(self) -> None:
        assert self.histogram is not None
        self.set_step(self.histogram.step())

    def _on_value_changed(self, value: int) -> None:
        snapped = self._snap(value)
        if snapped != value and not self._snapping:  # dragged between two stops
            self._snapping = True
            try:
                self.slider.setValue(snapped)
            finally:
                self._snapping = False
            return
        self.value_label.setText(f"≤ {value}")
        if self.histogram is not None:
            self.histogram.set_threshold(value)
        self.value_changed.emit(value)
