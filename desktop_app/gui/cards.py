"""Drawing one photo as a card: thumbnail, then its facts, then its relation.

Cards have one fixed size, so the views above them can use uniform item sizes and
scroll tens of thousands of rows without measuring any. :func:`paint_card` is shared by
the cluster view (a row of cards per group) and the query results (one card per item);
:class:`CardDelegate` is the one-card-per-item delegate.
"""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass

from PySide6.QtCore import QModelIndex, QPersistentModelIndex, QRect, QRectF, QSize, Qt
from PySide6.QtGui import QColor, QFont, QFontMetrics, QPainter, QPalette, QPen, QPixmap
from PySide6.QtWidgets import QListView, QStyle, QStyledItemDelegate, QStyleOptionViewItem

from desktop_app.engine.types import ImageRecord, Transform
from desktop_app.gui import text

#: Size of the thumbnail box inside a card, in logical pixels.
THUMB_W, THUMB_H = 176, 132
#: Padding inside a card and gap between cards.
PAD, GAP = 6, 8
#: Text lines under the thumbnail.
LINES = 5

#: Colour of the byte-identical mark and of the reference badge.
IDENTICAL_COLOR = QColor("#2e7d32")
REFERENCE_COLOR = QColor("#1565c0")


@dataclass(frozen=True, slots=True)
class CardInfo:
    """What a card shows about one photo."""

    image: ImageRecord
    distance: int
    identical: bool
    transform: Transform
    reference: bool
    folder: str = ""


@dataclass(frozen=True)
class _Fonts:
    """The regular and bold fonts of a card, with their metrics (made once per font)."""

    regular: QFont
    bold: QFont
    regular_metrics: QFontMetrics
    bold_metrics: QFontMetrics
    step: int


_FONTS: dict[str, _Fonts] = {}


def _fonts(font: QFont) -> _Fonts:
    key = font.key()
    found = _FONTS.get(key)
    if found is None:
        bold = QFont(font)
        bold.setBold(True)
        metrics = QFontMetrics(font)
        found = _Fonts(QFont(font), bold, metrics, QFontMetrics(bold), metrics.height() + 1)
        _FONTS[key] = found
    return found


def line_height(font: QFont) -> int:
    """Height of one text line of a card."""
    return _fonts(font).step


def card_size(font: QFont) -> QSize:
    """The fixed size of a card for ``font``."""
    return QSize(THUMB_W + 2 * PAD, THUMB_H + 3 * PAD + LINES * line_height(font))


def fit(pixmap: QPixmap, box: QRect) -> QRect:
    """Where ``pixmap`` goes to fill as much of ``box`` as it can without distortion."""
    ratio = pixmap.devicePixelRatio() or 1.0
    width, height = pixmap.width() / ratio, pixmap.height() / ratio
    if width <= 0 or height <= 0:
        return box
    scale = min(box.width() / width, box.height() / height)
    w, h = round(width * scale), round(height * scale)
    return QRect(box.x() + (box.width() - w) // 2, box.y() + (box.height() - h) // 2, w, h)


def paint_thumbnail(
    painter: QPainter, box: QRect, thumb: QPixmap | str | None, palette: QPalette
) -> None:
    """Draw a thumbnail, or its placeholder while loading, or why there is none."""
    if isinstance(thumb, QPixmap) and not thumb.isNull():
        painter.drawPixmap(fit(thumb, box), thumb)
        return
    painter.fillRect(box, palette.color(QPalette.ColorRole.Midlight))
    painter.setPen(palette.color(QPalette.ColorRole.PlaceholderText))
    label = "loading…" if thumb is None else "no preview"
    painter.drawText(box, Qt.AlignmentFlag.AlignCenter, label)


def paint_card(
    painter: QPainter,
    rect: QRect,
    info: CardInfo,
    thumb: QPixmap | str | None,
    palette: QPalette,
    *,
    selected: bool = False,
    current: bool = False,
) -> None:
    """Draw one card in ``rect`` (of :func:`card_size`)."""
    painter.save()
    painter.setRenderHint(QPainter.RenderHint.Antialiasing, True)
    base = palette.color(QPalette.ColorRole.Base)
    highlight = palette.color(QPalette.ColorRole.Highlight)
    frame = QRectF(rect).adjusted(0.5, 0.5, -0.5, -0.5)
    painter.setPen(
        QPen(highlight if selected else palette.color(QPalette.ColorRole.Mid), 2 if selected else 1)
    )
    painter.setBrush(highlight.lighter(185) if selected else base)
    painter.drawRoundedRect(frame, 6, 6)
    if current:
        painter.setPen(QPen(highlight, 1, Qt.PenStyle.DotLine))
        painter.setBrush(Qt.BrushStyle.NoBrush)
        painter.drawRoundedRect(frame.adjusted(2, 2, -2, -2), 5, 5)

    box = QRect(rect.x() + PAD, rect.y() + PAD, THUMB_W, THUMB_H)
    paint_thumbnail(painter, box, thumb, palette)

    fonts = _fonts(painter.font())
    step = fonts.step
    width = THUMB_W
    y = box.bottom() + PAD + 1
    image = info.image
    text_color = palette.color(QPalette.ColorRole.Text)
    dim = palette.color(QPalette.ColorRole.PlaceholderText)
    left = Qt.AlignmentFlag.AlignLeft

    def line(value: str, color: QColor, *, bold: bool = False) -> None:
        nonlocal y
        painter.setFont(fonts.bold if bold else fonts.regular)
        painter.setPen(color)
        metrics = fonts.bold_metrics if bold else fonts.regular_metrics
        shown = metrics.elidedText(value, Qt.TextElideMode.ElideMiddle, width)
        painter.drawText(QRect(box.x(), y, width, step), left, shown)
        y += step

    line(image.name, text_color, bold=True)
    line(info.folder or text.short_folder(image.path), dim)
    facts = " · ".join(v for v in (text.pixel_size(image), text.human_size(image.size)) if v)
    line(facts, text_color)
    line(text.taken(image) or "no date taken", text_color if image.taken else dim)

    # The relation: a coloured badge for the reference and identical copies.
    painter.setFont(fonts.regular)
    metrics = fonts.regular_metrics
    relation = text.relation(info.distance, info.identical, info.reference)
    turned = text.transform_name(info.transform)
    if turned and not info.reference:
        relation += f", {turned}"
    color = REFERENCE_COLOR if info.reference else IDENTICAL_COLOR if info.identical else text_color
    if info.identical or info.reference:
        mark = "★ " if info.reference else "= "
        relation = mark + relation
        painter.setFont(fonts.bold)
        metrics = fonts.bold_metrics
    painter.setPen(color)
    shown = metrics.elidedText(relation, Qt.TextElideMode.ElideRight, width)
    painter.drawText(QRect(box.x(), y, width, step), Qt.AlignmentFlag.AlignLeft, shown)
    painter.restore()


class CardDelegate(QStyledItemDelegate):
    """Draws each item as one card; the item's data comes from ``info_role``.

    Args:
        to_info: Turns the model's ``info_role`` value into a :class:`CardInfo`.
        info_role: The role holding the photo (a Match, for the query results).
        thumbnails_role: The role holding a one-element list of thumbnails.
        parent: Owner.
    """

    def __init__(self, to_info, info_role: int, thumbnails_role: int, parent=None) -> None:
        super().__init__(parent)
        self._to_info = to_info
        self._info_role = info_role
        self._thumbnails_role = thumbnails_role

    def sizeHint(
        self, option: QStyleOptionViewItem, index: QModelIndex | QPersistentModelIndex
    ) -> QSize:
        return card_size(option.font) + QSize(GAP, GAP)

    def paint(
        self,
        painter: QPainter,
        option: QStyleOptionViewItem,
        index: QModelIndex | QPersistentModelIndex,
    ) -> None:
        value = index.data(self._info_role)
        if value is None:
            return
        thumbs = index.data(self._thumbnails_role) or [None]
        size = card_size(option.font)
        rect = QRect(
            option.rect.x() + GAP // 2, option.rect.y() + GAP // 2, size.width(), size.height()
        )
        selected = bool(option.state & QStyle.StateFlag.State_Selected)
        current = bool(option.state & QStyle.StateFlag.State_HasFocus)
        paint_card(
            painter,
            rect,
            self._to_info(value),
            thumbs[0],
            option.palette,
            selected=selected,
            current=current,
        )


class CardListView(QListView):
    """A list view that repaints rows whose thumbnails arrived without re-laying them out.

    ``QListView.dataChanged`` lays out every row again, calling ``rowCount`` twice per
    row: about 30 ms for 20,000 groups, for each batch of thumbnails. A change of
    :data:`thumbnails_role` alone cannot move or resize anything (items have one fixed
    size), so it only repaints the rows' rectangles.
    """

    #: The role whose changes only need a repaint; set by the owner.
    thumbnails_role: int = -1

    def dataChanged(
        self,
        top_left: QModelIndex | QPersistentModelIndex,
        bottom_right: QModelIndex | QPersistentModelIndex,
        roles: Sequence[int] = (),
    ) -> None:
        if roles and all(role == self.thumbnails_role for role in roles):
            area = self.visualRect(top_left).united(self.visualRect(bottom_right))
            self.viewport().update(area)
            return
        super().dataChanged(top_left, bottom_right, roles)
