"""Render doppel.svg to the PNG sizes the application icon uses.

Run from the repository: ``QT_QPA_PLATFORM=offscreen python resources/make_icons.py``.
The PNGs are committed, so nothing renders at run time.
"""

from __future__ import annotations

import sys
from pathlib import Path

from PySide6.QtCore import Qt
from PySide6.QtGui import QGuiApplication, QImage, QPainter
from PySide6.QtSvg import QSvgRenderer

SIZES = (16, 24, 32, 48, 64, 128, 256, 512)


def main() -> int:
    """Write ``doppel-<size>.png`` next to this script."""
    app = QGuiApplication.instance() or QGuiApplication(sys.argv[:1])
    folder = Path(__file__).resolve().parent
    renderer = QSvgRenderer(str(folder / "doppel.svg"))
    if not renderer.isValid():
        raise SystemExit("doppel.svg is not valid SVG")
    for size in SIZES:
        image = QImage(size, size, QImage.Format.Format_ARGB32_Premultiplied)
        image.fill(Qt.GlobalColor.transparent)
        painter = QPainter(image)
        painter.setRenderHint(QPainter.RenderHint.Antialiasing)
        renderer.render(painter)
        painter.end()
        image.save(str(folder / f"doppel-{size}.png"), "PNG", 9)
    del app
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
