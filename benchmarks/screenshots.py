"""Screenshots of the window for the README, made from a generated demo library.

Builds a small library with ``desktop_app.demo.build_demo_library`` (originals with
resized, re-encoded, bordered, watermarked... copies), opens it in the real window on
the offscreen platform with a catalog and settings in a temporary folder, and saves:

- ``docs/screenshots/main-window.png``: the groups with their thumbnails, the summary,
  the threshold slider and the histogram of pair distances;
- ``docs/screenshots/query.png``: the window after a photo from outside the library
  was dropped on it, with the ranked matches in the query panel;
- ``docs/screenshots/compare.png``: an original and one of its copies side by side,
  zoomed in step, with their metadata compared;
- ``docs/screenshots/marked.png``: the groups after Edit > Select Duplicates (date taken
  first), the keeper of each group and its marked copies;
- ``docs/screenshots/apply.png``: the Apply dialog with its dry run of the marks.

The PNGs are reduced to 256 colours (Pillow, with dithering) to stay small.

    make screenshots
    QT_QPA_PLATFORM=offscreen python benchmarks/screenshots.py --out docs/screenshots
"""

from __future__ import annotations

import argparse
import os
import sys
import tempfile
import time
from pathlib import Path

os.environ.setdefault("QT_QPA_PLATFORM", "offscreen")
sys.path.insert(0, str(Path(__file__).resolve().parents[1]))

#: Window size of the screenshots, in logical pixels.
WINDOW = (1100, 700)


def pump(app, seconds: float) -> None:
    """Run the event loop for ``seconds``."""
    end = time.perf_counter() + seconds
    while time.perf_counter() < end:
        app.processEvents()
        time.sleep(0.005)


def wait_for(app, condition, timeout: float = 60.0) -> None:
    """Run the event loop until ``condition()`` holds."""
    end = time.perf_counter() + timeout
    while not condition():
        if time.perf_counter() > end:
            raise TimeoutError("the window did not get there in time")
        app.processEvents()
        time.sleep(0.005)


def thumbnails_settled(window) -> bool:
    """Whether the visible cards all have their thumbnails (or a reason for none)."""
    view = window.groups.view
    model = window.groups.model
    first = view.indexAt(view.viewport().rect().topLeft()).row()
    last = view.indexAt(view.viewport().rect().bottomLeft()).row()
    last = model.rowCount() - 1 if last < 0 else last
    for row in range(max(first, 0), last + 1):
        members = model.group(row).members
        for k in model.order(row)[: view.slots()]:  # the cards shown: the keeper first
            path = members[k].image.path
            if window.thumbnails.pixmap(path) is None and window.thumbnails.error(path) is None:
                return False
    return True


def save(widget, path: Path) -> None:
    """Grab ``widget`` and save it as a 256-colour, optimised PNG."""
    from PIL import Image
    from PySide6.QtGui import QImage

    image = widget.grab().toImage().convertToFormat(QImage.Format.Format_RGB888)
    width, height = image.width(), image.height()
    raw = bytes(image.constBits())[: image.bytesPerLine() * height]
    picture = Image.frombuffer("RGB", (width, height), raw, "raw", "RGB", image.bytesPerLine(), 1)
    dither = Image.Dither.FLOYDSTEINBERG
    reduced = picture.quantize(256, method=Image.Quantize.MEDIANCUT, dither=dither)
    reduced.save(path, "PNG", optimize=True)
    print(f"{path}: {width} x {height}, {path.stat().st_size // 1024} KB")


def main() -> int:
    """Make the screenshots."""
    parser = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    parser.add_argument("--out", type=Path, default=Path("docs/screenshots"))
    parser.add_argument("--photos", type=int, default=24)
    parser.add_argument(
        "--size",
        default=f"{WINDOW[0]}x{WINDOW[1]}",
        help="window size, WIDTHxHEIGHT (800x500 shows how a small window looks)",
    )
    args = parser.parse_args()
    size = tuple(int(v) for v in args.size.lower().split("x"))

    from PIL import Image
    from PySide6.QtCore import QMimeData, QPointF, QSettings, Qt, QUrl
    from PySide6.QtGui import QDropEvent
    from PySide6.QtWidgets import QApplication

    from desktop_app.demo import build_demo_library
    from desktop_app.engine.selection.keeprules import KeepRules
    from desktop_app.gui.app.application import app_icon
    from desktop_app.gui.app.main_window import MainWindow
    from desktop_app.gui.common import settings as keys

    app = QApplication(sys.argv[:1])
    app.setApplicationName("Doppel")
    icon = app_icon()
    app.setWindowIcon(icon)
    args.out.mkdir(parents=True, exist_ok=True)
    with tempfile.TemporaryDirectory(prefix="doppel-shots-") as tmp:
        os.environ["HOME"] = tmp  # folders then read "~/Pictures/...", as on a real machine
        root = Path(tmp) / "Pictures"
        manifest = build_demo_library(root, photos=args.photos, seed=3)
        settings = keys.Settings(QSettings(str(Path(tmp) / "s.ini"), QSettings.Format.IniFormat))
        settings.set(keys.TRASH_FOLDER, str(Path(tmp) / "Trash"))  # never the real trash
        window = MainWindow(settings, Path(tmp) / "catalog.sqlite", icon, {"workers": 0})
        window.resize(*size)
        window.show()
        window.open_folders([str(root)])
        session = window.session
        wait_for(app, lambda: session.grouping is not None and not session.index.is_running())
        wait_for(app, lambda: thumbnails_settled(window))
        pump(app, 0.3)
        save(window, args.out / "main-window.png")

        # A photo from elsewhere: a smaller, re-saved copy of one of the originals.
        original = manifest["originals"][0]
        query = Path(tmp) / "Downloads" / "holiday-share.jpg"
        query.parent.mkdir()
        with Image.open(original) as picture:
            picture.resize((picture.width // 3, picture.height // 3)).save(query, quality=70)
        window.query_panel.set_threshold(12)
        mime = QMimeData()
        mime.setUrls([QUrl.fromLocalFile(str(query))])
        drop = QDropEvent(
            QPointF(400, 300),
            Qt.DropAction.CopyAction,
            mime,
            Qt.MouseButton.LeftButton,
            Qt.KeyboardModifier.NoModifier,
        )
        window.dropEvent(drop)
        panel = window.query_panel
        wait_for(app, lambda: panel.result is not None)
        room = size[0] - window.centralWidget().minimumSizeHint().width() - 8
        window.resizeDocks([window.query_dock], [min(430, room)], Qt.Orientation.Horizontal)
        wait_for(
            app,
            lambda: all(
                window.thumbnails.pixmap(panel.model.match_at(r).image.path) is not None
                for r in range(panel.model.rowCount())
            ),
        )
        pump(app, 0.3)
        save(window, args.out / "query.png")

        # The largest group's reference next to a copy of another size, if it has one.
        group = window.groups.model.group(0)
        reference = group.members[0].image
        copy = max(
            group.members[1:],
            key=lambda m: (m.image.pixels != reference.pixels, m.distance),
        ).image
        dialog = window.compare(reference, copy)
        dialog.resize(*size)
        wait_for(app, lambda: all(p.view.image_size()[0] > 400 for p in dialog.panes))
        pump(app, 0.2)
        view = dialog.panes[0].view
        view.zoom_by(2.0, QPointF(view.viewport().width() * 0.3, view.viewport().height() * 0.6))
        pump(app, 0.2)
        save(dialog, args.out / "compare.png")
        dialog.close()

        # Select Duplicates: the keeper of every group, its copies marked. The demo's
        # edited copies (brightened, letterboxed) are larger files with more pixels than
        # their camera originals, so the rules put the date taken first, as a
        # photographer keeping camera originals would (Edit > Keep Rules).
        window.query_dock.hide()
        marks = window.cleanup.marks
        marks.rules = KeepRules.parse("date,pixels,format,size,path,folder")
        window.cleanup.actions.select_duplicates.trigger()
        wait_for(app, lambda: not marks.is_busy() and marks.marked_count() > 0)
        window.groups.view.scrollToTop()
        wait_for(app, lambda: thumbnails_settled(window))
        pump(app, 0.3)
        save(window, args.out / "marked.png")

        # Apply: what would happen to each marked photo, before anything moves.
        apply = window.cleanup.flow.open_dialog()
        wait_for(app, apply.go.isEnabled)
        pump(app, 0.2)
        save(apply, args.out / "apply.png")
        apply.reject()
        window.close()
        pump(app, 0.1)
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
