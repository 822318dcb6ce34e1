"""A zoomable, pannable photo view whose view can be mirrored by another one.

Zoom is kept relative to "fit in the window" and the centre in normalised image
coordinates (0..1 across each side), not in pixels: two copies of one photo at different
sizes (an original and its 50% resize) then show the same part of the picture when one
view follows the other, which is what the compare view needs. The image can be swapped
for a sharper one (thumbnail first, then the full decode) without the view jumping.
"""

from __future__ import annotations

from PySide6.QtCore import QPointF, QRect, QRectF, Qt, Signal
from PySide6.QtGui import (
    QColor,
    QImage,
    QKeyEvent,
    QPainter,
    QPen,
    QPixmap,
    QResizeEvent,
    QTransform,
    QWheelEvent,
)
from PySide6.QtWidgets import QFrame, QGraphicsPixmapItem, QGraphicsScene, QGraphicsView, QWidget

#: Zoom limits, relative to fitting the whole photo in the view.
MIN_ZOOM, MAX_ZOOM = 1.0, 64.0
#: Zoom step of one wheel notch or one key press.
ZOOM_STEP = 1.25


class ZoomView(QGraphicsView):
    """Shows one photo; wheel zooms about the cursor, dragging pans.

    Signals:
        view_changed(float, QPointF): The user zoomed or panned: zoom relative to fit,
            and the centre in normalised image coordinates.
    """

    view_changed = Signal(float, QPointF)

    def __init__(self, parent: QWidget | None = None) -> None:
        super().__init__(parent)
        self.setScene(QGraphicsScene(self))
        self._item = QGraphicsPixmapItem()
        self._item.setTransformationMode(Qt.TransformationMode.SmoothTransformation)
        self.scene().addItem(self._item)
        self._zoom = 1.0
        self._center = QPointF(0.5, 0.5)
        self._applying = False
        self._message = ""
        self._frame: tuple[float, float, float, float] | None = None
        self.setRenderHint(QPainter.RenderHint.SmoothPixmapTransform, True)
        self.setDragMode(QGraphicsView.DragMode.ScrollHandDrag)
        self.setTransformationAnchor(QGraphicsView.ViewportAnchor.NoAnchor)
        self.setResizeAnchor(QGraphicsView.ViewportAnchor.NoAnchor)
        self.setFrameShape(QFrame.Shape.NoFrame)
        # Dragging pans; scroll bars would only differ between the two compared views.
        self.setHorizontalScrollBarPolicy(Qt.ScrollBarPolicy.ScrollBarAlwaysOff)
        self.setVerticalScrollBarPolicy(Qt.ScrollBarPolicy.ScrollBarAlwaysOff)
        self.setBackgroundBrush(self.palette().dark())
        self.setFocusPolicy(Qt.FocusPolicy.StrongFocus)
        self.horizontalScrollBar().valueChanged.connect(self._on_scrolled)
        self.verticalScrollBar().valueChanged.connect(self._on_scrolled)

    # ----------------------------------------------------------------- content

    def set_image(self, image: QImage | QPixmap | None, message: str = "") -> None:
        """Show ``image`` (keeping zoom and centre), or ``message`` when there is none."""
        if image is None or image.isNull():
            self._item.setPixmap(QPixmap())
            self._message = message
        else:
            pixmap = image if isinstance(image, QPixmap) else QPixmap.fromImage(image)
            self._item.setPixmap(pixmap)
            self._message = ""
        self.scene().setSceneRect(self._item.boundingRect())
        self._apply()
        self.viewport().update()

    def set_frame(self, frame: tuple[float, float, float, float] | None) -> None:
        """Outline the part of the photo another one was cropped from, as fractions
        ``(left, top, right, bottom)`` of its width and height; None removes it."""
        self._frame = frame
        self.viewport().update()

    def frame(self) -> tuple[float, float, float, float] | None:
        """The outlined crop, if any."""
        return self._frame

    def has_image(self) -> bool:
        """Whether a photo is shown."""
        return not self._item.pixmap().isNull()

    def image_size(self) -> tuple[int, int]:
        """Size of the pixmap shown, in pixels."""
        pixmap = self._item.pixmap()
        return pixmap.width(), pixmap.height()

    # ----------------------------------------------------------------- view

    def zoom(self) -> float:
        """Zoom relative to fitting the photo in the view."""
        return self._zoom

    def center(self) -> QPointF:
        """Centre of the view in normalised image coordinates."""
        return QPointF(self._center)

    def set_view(self, zoom: float, center: QPointF) -> None:
        """Zoom and pan to this view without emitting ``view_changed``."""
        self._zoom = min(max(zoom, MIN_ZOOM), MAX_ZOOM)
        self._center = QPointF(min(max(center.x(), 0.0), 1.0), min(max(center.y(), 0.0), 1.0))
        self._apply()

    def fit(self) -> None:
        """Show the whole photo."""
        self._user_view(1.0, QPointF(0.5, 0.5))

    def zoom_by(self, factor: float, anchor: QPointF | None = None) -> None:
        """Zoom by ``factor``, keeping the image point under ``anchor`` (viewport) still."""
        width, height = self.image_size()
        if not width or not height:
            return
        new_zoom = min(max(self._zoom * factor, MIN_ZOOM), MAX_ZOOM)
        if anchor is None:
            self._user_view(new_zoom, self._center)
            return
        old_scale = self._scale(self._zoom)
        new_scale = self._scale(new_zoom)
        under = self.mapToScene(anchor.toPoint())
        middle = QPointF(self.viewport().width() / 2, self.viewport().height() / 2)
        offset = (anchor - middle) / new_scale
        center = under - offset if old_scale else under
        self._user_view(new_zoom, QPointF(center.x() / width, center.y() / height))

    def _scale(self, zoom: float) -> float:
        width, height = self.image_size()
        if not width or not height:
            return 1.0
        view = self.viewport()
        return zoom * min(view.width() / width, view.height() / height)

    def _apply(self) -> None:
        width, height = self.image_size()
        if not width or not height:
            return
        self._applying = True
        try:
            scale = self._scale(self._zoom)
            self.setTransform(QTransform.fromScale(scale, scale))
            self.centerOn(self._center.x() * width, self._center.y() * height)
        finally:
            self._applying = False

    def _user_view(self, zoom: float, center: QPointF) -> None:
        self.set_view(zoom, center)
        self._center = self._visible_center()
        self.view_changed.emit(self._zoom, self.center())

    def _visible_center(self) -> QPointF:
        width, height = self.image_size()
        if not width or not height:
            return QPointF(0.5, 0.5)
        point = self.mapToScene(self.viewport().rect().center())
        return QPointF(
            min(max(point.x() / width, 0.0), 1.0), min(max(point.y() / height, 0.0), 1.0)
        )

    # ----------------------------------------------------------------- events

    def _on_scrolled(self, _value: int) -> None:
        if self._applying or not self.has_image():
            return
        self._center = self._visible_center()
        self.view_changed.emit(self._zoom, self.center())

    def wheelEvent(self, event: QWheelEvent) -> None:
        steps = event.angleDelta().y() / 120
        if steps:
            self.zoom_by(ZOOM_STEP**steps, event.position())
        event.accept()

    def keyPressEvent(self, event: QKeyEvent) -> None:
        key = event.key()
        if key in (Qt.Key.Key_Plus, Qt.Key.Key_Equal):
            self.zoom_by(ZOOM_STEP)
        elif key == Qt.Key.Key_Minus:
            self.zoom_by(1 / ZOOM_STEP)
        elif key == Qt.Key.Key_0:
            self.fit()
        else:
            super().keyPressEvent(event)

    def resizeEvent(self, event: QResizeEvent) -> None:
        super().resizeEvent(event)
        self._apply()

    def drawForeground(self, painter: QPainter, rect: QRectF | QRect) -> None:
        if self._frame is not None and self.has_image():
            bounds = self._item.boundingRect()
            left, top, right, bottom = self._frame
            painter.save()
            pen = QPen(QColor(255, 210, 0), 2)
            pen.setCosmetic(True)  # two screen pixels wide at any zoom
            pen.setStyle(Qt.PenStyle.DashLine)
            painter.setPen(pen)
            painter.drawRect(
                QRectF(
                    bounds.left() + left * bounds.width(),
                    bounds.top() + top * bounds.height(),
                    (right - left) * bounds.width(),
                    (bottom - top) * bounds.height(),
                )
            )
            painter.restore()
        if self._message and not self.has_image():
            painter.save()
            painter.resetTransform()
            painter.setPen(self.palette().brightText().color())
            painter.drawText(self.viewport().rect(), Qt.AlignmentFlag.AlignCenter, self._message)
            painter.restore()
