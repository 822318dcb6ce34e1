"""Painting one group of the cluster view: a header line, then a card per photo.

:class:`GroupDelegate` draws a row of :class:`~desktop_app.gui.groups.cluster_view.ClusterView`:
"Group 12 · 3 photos · 4.8 MB in extra copies" (and how many are marked), then the cards
that fit, with their marks from the model's ``PlanRole``, and a "+N more" tile for the
photos that do not fit.
"""

from __future__ import annotations

import logging
from collections.abc import Sequence
from typing import TYPE_CHECKING

from PySide6.QtCore import QModelIndex, QPersistentModelIndex, QRect, QSize, Qt
from PySide6.QtGui import QFont, QFontMetrics, QPainter, QPalette
from PySide6.QtWidgets import QStyle, QStyledItemDelegate, QStyleOptionViewItem

from desktop_app.engine.selection.plans import Decision, GroupPlan
from desktop_app.engine.types import Group
from desktop_app.gui.app import text
from desktop_app.gui.groups.cards import (
    GAP,
    MARKED_COLOR,
    CardInfo,
    card_size,
    line_height,
    paint_card,
)
from desktop_app.gui.groups.models import GroupRole, PlanRole, ThumbnailsRole

if TYPE_CHECKING:
    from desktop_app.gui.groups.cluster_view import ClusterView

log = logging.getLogger(__name__)


def header_height(font: QFont) -> int:
    """Height of the line above a group's cards."""
    return line_height(font) + 6


def _decisions(group: Group, plan: GroupPlan | None, count: int) -> list[Decision | None]:
    if plan is None or len(plan.decisions) != len(group.members):
        return [None] * count
    pairs = zip(plan.decisions[:count], group.members[:count], strict=True)
    if any(d.image.id != m.image.id for d, m in pairs):
        return [None] * count  # a plan of another grouping; not drawn
    return list(plan.decisions[:count])


def card_infos(
    group: Group,
    roots: Sequence[str] = (),
    plan: GroupPlan | None = None,
    limit: int | None = None,
) -> list[CardInfo]:
    """The cards of a group, reference first; folders shown relative to ``roots``, marks
    from ``plan``; only the first ``limit`` (a group can have thousands of photos)."""
    members = group.members[:limit]
    return [
        CardInfo(
            m.image,
            m.distance,
            m.identical,
            m.transform,
            reference=k == 0,
            folder=text.relative_folder(m.image.path, roots),
            decision=decision,
            verdict=m.verdict,
        )
        for k, (m, decision) in enumerate(
            zip(members, _decisions(group, plan, len(members)), strict=True)
        )
    ]


class GroupDelegate(QStyledItemDelegate):
    """Paints one group: a header line, then a card per photo that fits."""

    def __init__(self, view: ClusterView) -> None:
        super().__init__(view)
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

        # Header: "Group 12 · 3 photos · 4.8 MB in extra copies".
        head = QRect(rect.x() + GAP, rect.y() + 3, rect.width() - 2 * GAP, line_height(font))
        bold = QFont(font)
        bold.setBold(True)
        painter.setFont(bold)
        painter.setPen(palette.color(QPalette.ColorRole.Text))
        title = f"Group {index.row() + 1}"
        painter.drawText(head, Qt.AlignmentFlag.AlignLeft | Qt.AlignmentFlag.AlignVCenter, title)
        painter.setFont(font)
        painter.setPen(palette.color(QPalette.ColorRole.PlaceholderText))
        detail = (
            f"{text.plural(len(group.members), 'photo')} · "
            f"{text.human_size(group.extra_bytes)} in extra copies"
        )
        offset = QFontMetrics(bold).horizontalAdvance(title + "   ")
        painter.drawText(
            head.adjusted(offset, 0, 0, 0),
            Qt.AlignmentFlag.AlignLeft | Qt.AlignmentFlag.AlignVCenter,
            detail,
        )
        marked = plan.marked if plan is not None else []
        if marked:
            offset += QFontMetrics(font).horizontalAdvance(detail + "  ·  ")
            painter.setPen(MARKED_COLOR)
            painter.drawText(
                head.adjusted(offset, 0, 0, 0),
                Qt.AlignmentFlag.AlignLeft | Qt.AlignmentFlag.AlignVCenter,
                f"{len(marked)} marked ({text.human_size(sum(d.image.size for d in marked))})",
            )

        view = self._view
        shown, more = view.layout_cards(len(group.members))
        cards = card_infos(group, view.roots, plan, limit=shown)
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
            box = view.card_rect(rect, shown, font)
            painter.setPen(palette.color(QPalette.ColorRole.Mid))
            painter.setBrush(palette.color(QPalette.ColorRole.Button))
            painter.drawRoundedRect(box.adjusted(0, 0, -1, -1), 6, 6)
            painter.setPen(palette.color(QPalette.ColorRole.ButtonText))
            painter.drawText(box, Qt.AlignmentFlag.AlignCenter, f"+{more} more\n(show all)")
        painter.restore()
