"""Painting one group of the cluster view: a header line, then a card per photo.

:class:`GroupDelegate` draws a row of :class:`~desktop_app.gui.groups.cluster_view.ClusterView`:
"Group 12 · 3 photos · 4.8 MB in extra copies" (and how many are marked), then the cards
that fit, with their marks from the model's ``PlanRole``, and a "+N more" tile for the
photos that do not fit.
"""

from __future__ import annotations

import logging
from collections.abc import Sequence
from typing import Protocol

from PySide6.QtCore import QModelIndex, QObject, QPersistentModelIndex, QRect, QSize, Qt
from PySide6.QtGui import QFont, QFontMetrics, QPainter, QPalette
from PySide6.QtWidgets import QStyle, QStyledItemDelegate, QStyleOptionViewItem

from desktop_app.engine.cleanup import Decision, GroupPlan
from desktop_app.engine.types import Group
from desktop_app.gui.common import text
from desktop_app.gui.groups.cards import (
    GAP,
    MARKED_COLOR,
    CardInfo,
    card_size,
    line_height,
    paint_card,
)
from desktop_app.gui.groups.models import GroupModel, GroupRole, PlanRole, ThumbnailsRole

log = logging.getLogger(__name__)


class CardLayout(Protocol):
    """What the delegate asks of the view it paints for (``ClusterView``)."""

    roots: tuple[str, ...]

    def layout_cards(self, count: int) -> tuple[int, int]:
        """(cards shown, photos hidden behind the "+N more" tile) for ``count`` photos."""
        ...

    def card_rect(self, row_rect: QRect, slot: int, font: QFont | None = None) -> QRect:
        """Where card ``slot`` of a row goes."""
        ...

    def tile_rect(self, row_rect: QRect, shown: int, font: QFont | None = None) -> QRect:
        """Where the "+N more" tile goes after ``shown`` cards."""
        ...

    def group_model(self) -> GroupModel:
        """The model of groups the view shows (its display order of each row)."""
        ...

    def is_selected(self, image_id: int) -> bool:
        """Whether that photo is selected."""
        ...

    def current_card(self) -> tuple[int, int] | None:
        """The (row, slot) of the current card."""
        ...


def header_height(font: QFont) -> int:
    """Height of the line above a group's cards."""
    return line_height(font) + 6


def _decisions(group: Group, plan: GroupPlan | None) -> Sequence[Decision | None]:
    if plan is None or len(plan.decisions) != len(group.members):
        return [None] * len(group.members)
    if plan.decisions[0].image.id != group.members[0].image.id:
        return [None] * len(group.members)  # a plan of another grouping; not drawn
    return plan.decisions


def card_infos(
    group: Group,
    roots: Sequence[str] = (),
    plan: GroupPlan | None = None,
    limit: int | None = None,
    order: Sequence[int] | None = None,
) -> list[CardInfo]:
    """The cards of a group in ``order`` (member indexes; the group's order when None,
    its reference first); folders shown relative to ``roots``, marks from ``plan``; only
    the first ``limit`` (a group can have thousands of photos)."""
    shown = list(order if order is not None else range(len(group.members)))[:limit]
    decisions = _decisions(group, plan)
    cards = []
    for k in shown:
        m = group.members[k]
        cards.append(
            CardInfo(
                m.image,
                m.distance,
                m.identical,
                m.transform,
                reference=k == 0,
                folder=text.relative_folder(m.image.path, roots),
                decision=decisions[k],
                verdict=m.verdict,
            )
        )
    return cards


def header_texts(font: QFont, width: int, title: str, detail: str, marked: str) -> list[str]:
    """The parts of a group's header line, each elided to the room left for it (the
    title is bold; an empty part takes no room)."""
    bold = QFont(font)
    bold.setBold(True)
    metrics, bold_metrics = QFontMetrics(font), QFontMetrics(bold)
    out: list[str] = []
    room = width
    for part, fm, gap in (
        (title, bold_metrics, "   "),
        (detail, metrics, "  ·  "),
        (marked, metrics, ""),
    ):
        shown = fm.elidedText(part, Qt.TextElideMode.ElideRight, max(room, 0)) if part else ""
        out.append(shown)
        room -= fm.horizontalAdvance(shown + gap) if shown else 0
    return out


class GroupDelegate(QStyledItemDelegate):
    """Paints one group: a header line, then a card per photo that fits."""

    def __init__(self, view: CardLayout, parent: QObject | None = None) -> None:
        super().__init__(parent)
        self._view = view

    def sizeHint(
        self, option: QStyleOptionViewItem, index: QModelIndex | QPersistentModelIndex
    ) -> QSize:
        card = card_size(option.font)
        return QSize(card.width() + 2 * GAP, header_height(option.font) + card.height() + GAP)

    def paint(
        self,
        painter: QPainter,
        option: QStyleOptionViewItem,
        index: QModelIndex | QPersistentModelIndex,
    ) -> None:
        group: Group | None = index.data(GroupRole)
        if group is None:
            return
        thumbs = index.data(ThumbnailsRole) or []
        plan: GroupPlan | None = index.data(PlanRole)
        palette = option.palette
        font = option.font
        rect = option.rect
        painter.save()
        painter.setFont(font)
        if index.row() % 2:
            painter.fillRect(rect, palette.color(QPalette.ColorRole.AlternateBase))

        # Header: "Group 12 · 3 photos · 4.8 MB in extra copies", elided to the width.
        head = QRect(rect.x() + GAP, rect.y() + 3, rect.width() - 2 * GAP, line_height(font))
        marked = plan.marked if plan is not None else []
        title, detail, marks = header_texts(
            font,
            head.width(),
            f"Group {index.row() + 1}",
            f"{text.plural(len(group.members), 'photo')} · "
            f"{text.human_size(group.extra_bytes)} in extra copies",
            f"{len(marked)} marked ({text.human_size(sum(d.image.size for d in marked))})"
            if marked
            else "",
        )
        bold = QFont(font)
        bold.setBold(True)
        middle = Qt.AlignmentFlag.AlignLeft | Qt.AlignmentFlag.AlignVCenter
        x = 0
        for part, part_font, color, gap in (
            (title, bold, palette.color(QPalette.ColorRole.Text), "   "),
            (detail, font, palette.color(QPalette.ColorRole.PlaceholderText), "  ·  "),
            (marks, font, MARKED_COLOR, ""),
        ):
            if not part:
                continue
            painter.setFont(part_font)
            painter.setPen(color)
            painter.drawText(head.adjusted(x, 0, 0, 0), middle, part)
            x += QFontMetrics(part_font).horizontalAdvance(part + gap)
        painter.setFont(font)

        view = self._view
        shown, more = view.layout_cards(len(group.members))
        order = view.group_model().order(index.row())
        cards = card_infos(group, view.roots, plan, limit=shown, order=order)
        for slot in range(shown):
            info = cards[slot]
            paint_card(
                painter,
                view.card_rect(rect, slot, font),
                info,
                thumbs[slot] if slot < len(thumbs) else None,
                palette,
                selected=view.is_selected(info.image.id),
                current=view.current_card() == (index.row(), slot)
                and bool(option.state & QStyle.StateFlag.State_HasFocus),
            )
        if more:
            box = view.tile_rect(rect, shown, font)
            painter.setPen(palette.color(QPalette.ColorRole.Mid))
            painter.setBrush(palette.color(QPalette.ColorRole.Button))
            painter.drawRoundedRect(box.adjusted(0, 0, -1, -1), 6, 6)
            painter.setPen(palette.color(QPalette.ColorRole.ButtonText))
            painter.drawText(box, Qt.AlignmentFlag.AlignCenter, f"+{more}\nmore")
        painter.restore()
