"""Drawing one photo as a card: thumbnail, then its facts, then its relation.

Cards have one fixed size, so the views above them can use uniform item sizes and
scroll tens of thousands of rows without measuring any. :func:`paint_card` is shared by
the cluster view (a row of cards per group) and the query results (one card per item);
:class:`CardDelegate` is the one-card-per-item delegate, and :func:`card_grid` the grid
of such cards that the query panel and the group dialog show.
"""

from __future__ import annotations

from collections.abc import Callable, Sequence
from dataclasses import dataclass
from typing import Any

from PySide6.QtCore import (
    QAbstractItemModel,
    QModelIndex,
    QObject,
    QPersistentModelIndex,
    QPointF,
    QRect,
    QRectF,
    QSize,
    Qt,
)
from PySide6.QtGui import (
    QColor,
    QFont,
    QFontMetrics,
    QPainter,
    QPainterPath,
    QPalette,
    QPen,
    QPixmap,
)
from PySide6.QtWidgets import (
    QAbstractItemView,
    QListView,
    QStyle,
    QStyledItemDelegate,
    QStyleOptionViewItem,
)

from desktop_app.engine.cleanup import Decision
from desktop_app.engine.types import ImageRecord, PairVerdict, Transform, VerdictKind
from desktop_app.gui.common import text

#: Size of the thumbnail box inside a card, in logical pixels.
THUMB_W, THUMB_H = 176, 132
#: Padding inside a card and gap between cards.
PAD, GAP = 6, 8
#: Text lines under the thumbnail.
LINES = 5

#: Colour of the byte-identical mark and of the reference badge.
IDENTICAL_COLOR = QColor("#2e7d32")
REFERENCE_COLOR = QColor("#1565c0")
#: Colours of a photo marked for removal, of the keeper, of a reference folder's photo.
MARKED_COLOR = QColor("#c62828")
KEEPER_COLOR = QColor("#2e7d32")
PROTECTED_COLOR = QColor("#1565c0")
#: Colours of the verdict badges (a similar shot is no copy: amber, a warning).
VERDICT_COLORS = {
    VerdictKind.IDENTICAL: QColor("#2e7d32"),
    VerdictKind.SAME_PIXELS: QColor("#00796b"),
    VerdictKind.COPY: QColor("#546e7a"),
    VerdictKind.SIMILAR_SHOT: QColor("#ef6c00"),
}
#: Side of the mark box in the thumbnail's corner (the click target is a little larger).
MARK_BOX = 20


@dataclass(frozen=True, slots=True)
class CardInfo:
    """What a card shows about one photo."""

    image: ImageRecord
    distance: int
    identical: bool
    transform: Transform
    reference: bool
    folder: str = ""
    #: The plan's decision on this photo (keeper, marked...), when marks are shown.
    decision: Decision | None = None
    #: Copy or different shot, with the reference or the query (issue 9).
    verdict: PairVerdict | None = None


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


def mark_box(card: QRect) -> QRect:
    """The mark box of a card drawn in ``card``: its top-left corner, over the thumbnail."""
    return QRect(card.x() + PAD + 5, card.y() + PAD + 5, MARK_BOX, MARK_BOX)


def mark_target(card: QRect) -> QRect:
    """Where a click toggles the mark of a card drawn in ``card`` (the box, with a margin)."""
    return mark_box(card).adjusted(-5, -5, 5, 5)


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
    decision = info.decision
    if selected:
        pen = QPen(highlight, 2)
    elif decision is not None and decision.marked:
        pen = QPen(MARKED_COLOR, 2)
    elif decision is not None and decision.keeper:
        pen = QPen(KEEPER_COLOR, 2)
    else:
        pen = QPen(palette.color(QPalette.ColorRole.Mid), 1)
    painter.setPen(pen)
    painter.setBrush(highlight.lighter(185) if selected else base)
    painter.drawRoundedRect(frame, 6, 6)
    if current:
        painter.setPen(QPen(highlight, 1, Qt.PenStyle.DotLine))
        painter.setBrush(Qt.BrushStyle.NoBrush)
        painter.drawRoundedRect(frame.adjusted(2, 2, -2, -2), 5, 5)

    box = QRect(rect.x() + PAD, rect.y() + PAD, THUMB_W, THUMB_H)
    paint_thumbnail(painter, box, thumb, palette)
    fonts = _fonts(painter.font())
    if decision is not None:
        paint_decision(painter, rect, box, decision, fonts)
    if info.verdict is not None and not info.reference:
        paint_verdict(painter, box, info.verdict, fonts)
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


def _pill(
    painter: QPainter, fonts: _Fonts, x: int, y: int, label: str, color: QColor, *, right: bool
) -> None:
    """A small coloured label with its top at ``y``, starting (or ending, ``right``) at ``x``."""
    metrics = fonts.bold_metrics
    width = metrics.horizontalAdvance(label) + 10
    height = metrics.height() + 2
    pill = QRectF(x - width if right else x, y, width, height)
    painter.setPen(Qt.PenStyle.NoPen)
    painter.setBrush(color)
    painter.drawRoundedRect(pill, height / 2, height / 2)
    painter.setPen(QColor("white"))
    painter.setFont(fonts.bold)
    painter.drawText(pill, Qt.AlignmentFlag.AlignCenter, label)


def paint_verdict(painter: QPainter, box: QRect, verdict: PairVerdict, fonts: _Fonts) -> None:
    """The verdict's badge along the thumbnail's bottom right: IDENTICAL, SAME PIXELS,
    COPY, or SIMILAR SHOT (the card's tooltip gives the evidence)."""
    painter.save()
    bottom = box.bottom() - fonts.bold_metrics.height() - 6
    color = VERDICT_COLORS[verdict.kind]
    _pill(painter, fonts, box.right() - 4, bottom, verdict.kind.label, color, right=True)
    painter.restore()


def verdict_tooltip(verdict: PairVerdict | None) -> str:
    """ "COPY: same capture time 14:22:48.120, same camera body" (empty for None)."""
    if verdict is None:
        return ""
    evidence = ", ".join(verdict.evidence)
    return f"{verdict.kind.label}: {evidence}" if evidence else verdict.kind.label


def paint_decision(
    painter: QPainter, rect: QRect, box: QRect, decision: Decision, fonts: _Fonts
) -> None:
    """Draw the plan's decision over a thumbnail: the mark box, KEEP, or a reference badge.

    A marked photo is dimmed and its box checked in red; the keeper gets a green KEEP
    label; a photo of a reference folder gets no box, since it can never be marked, and
    a blue label along the thumbnail's bottom.
    """
    painter.save()
    if decision.marked:
        painter.fillRect(box, QColor(255, 255, 255, 110))
    target = mark_box(rect)
    if decision.reference:  # no box: it can never be marked
        bottom = box.bottom() - fonts.bold_metrics.height() - 6
        _pill(painter, fonts, target.x(), bottom, "REFERENCE FOLDER", PROTECTED_COLOR, right=False)
    else:
        square = QRectF(target).adjusted(0.5, 0.5, -0.5, -0.5)
        if decision.marked:
            painter.setPen(QPen(MARKED_COLOR.darker(120), 1))
            painter.setBrush(MARKED_COLOR)
        else:
            painter.setPen(QPen(QColor(60, 60, 60), 1.2))
            painter.setBrush(QColor(255, 255, 255, 225))
        painter.drawRoundedRect(square, 4, 4)
        if decision.marked:
            tick = QPainterPath(QPointF(square.left() + 4.5, square.center().y() + 0.5))
            tick.lineTo(square.left() + 8.5, square.bottom() - 5)
            tick.lineTo(square.right() - 4, square.top() + 5)
            pen = QPen(QColor("white"), 2.4, Qt.PenStyle.SolidLine, Qt.PenCapStyle.RoundCap)
            painter.setPen(pen)
            painter.setBrush(Qt.BrushStyle.NoBrush)
            painter.drawPath(tick)
    if decision.keeper:
        _pill(painter, fonts, box.right() - 4, target.y(), "KEEP", KEEPER_COLOR, right=True)
    elif decision.marked:
        _pill(painter, fonts, box.right() - 4, target.y(), "MARKED", MARKED_COLOR, right=True)
    painter.restore()


def item_card_rect(item: QRect, font: QFont) -> QRect:
    """Where :class:`CardDelegate` draws the card of an item whose rectangle is ``item``."""
    size = card_size(font)
    return QRect(item.x() + GAP // 2, item.y() + GAP // 2, size.width(), size.height())


class CardDelegate(QStyledItemDelegate):
    """Draws each item as one card; the item's data comes from ``info_role``.

    Args:
        to_info: Turns the model's ``info_role`` value into a :class:`CardInfo`.
        info_role: The role holding the photo (a Match, for the query results).
        thumbnails_role: The role holding a one-element list of thumbnails.
        parent: Owner.
    """

    def __init__(
        self,
        to_info: Callable[[Any], CardInfo],
        info_role: int,
        thumbnails_role: int,
        parent: QObject | None = None,
    ) -> None:
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
        rect = item_card_rect(option.rect, option.font)
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
    :data:`thumbnails_role` (or of :data:`repaint_roles`, the marks) alone cannot move or
    resize anything (items have one fixed size), so it only repaints the rows' rectangles.
    """

    #: The role whose changes only need a repaint; set by the owner.
    thumbnails_role: int = -1
    #: Other roles whose changes only need a repaint (the marks of a group).
    repaint_roles: tuple[int, ...] = ()

    def dataChanged(
        self,
        top_left: QModelIndex | QPersistentModelIndex,
        bottom_right: QModelIndex | QPersistentModelIndex,
        roles: Sequence[int] = (),
    ) -> None:
        quiet = (self.thumbnails_role, *self.repaint_roles)
        if roles and all(role in quiet for role in roles):
            if self.viewMode() == QListView.ViewMode.IconMode:
                # A span of a wrapped grid is no rectangle: the two corners' bounding box
                # misses cards of the rows between them (left half-painted after a scroll).
                self.viewport().update()
                return
            area = self.visualRect(top_left).united(self.visualRect(bottom_right))
            self.viewport().update(area)
            return
        super().dataChanged(top_left, bottom_right, roles)


def card_grid(
    model: QAbstractItemModel,
    to_info: Callable[[Any], CardInfo],
    info_role: int,
    thumbnails_role: int,
) -> CardListView:
    """A grid of one card per item of ``model``, wrapped to the width, several selectable.

    Args:
        model: The items (a ``MatchModel``).
        to_info: Turns the model's ``info_role`` value into a :class:`CardInfo`.
        info_role: The role holding the photo.
        thumbnails_role: The role holding a one-element list of thumbnails.

    Returns:
        The view, with a :class:`CardDelegate` and ``model`` set.
    """
    view = CardListView()
    view.thumbnails_role = thumbnails_role
    view.setViewMode(QListView.ViewMode.IconMode)
    view.setResizeMode(QListView.ResizeMode.Adjust)
    view.setMovement(QListView.Movement.Static)
    view.setUniformItemSizes(True)
    view.setSelectionMode(QAbstractItemView.SelectionMode.ExtendedSelection)
    view.setItemDelegate(CardDelegate(to_info, info_role, thumbnails_role, view))
    view.setModel(model)
    return view
