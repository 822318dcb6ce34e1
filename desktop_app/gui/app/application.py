"""Starting the window: the QApplication, logging, the exception hook, the icon.

:func:`run` is what ``doppel``, ``doppel gui FOLDER...`` and ``make run`` call (through
``desktop_app.cli``). Logging goes to the terminal as the command line set it up and to
a rotating file in the per-user log folder, since a desktop app usually has no console.
One :data:`sys.excepthook` logs anything unexpected and shows it in a dialog instead of
letting the window vanish (dupeGuru's error report dialog, in spirit).
"""

from __future__ import annotations

import logging
import logging.handlers
import signal
import sys
import traceback
from collections.abc import Sequence
from pathlib import Path
from types import TracebackType

from PySide6.QtCore import QTimer, QtMsgType, qInstallMessageHandler
from PySide6.QtGui import QIcon
from PySide6.QtWidgets import QApplication

import desktop_app
from desktop_app.gui.common import dialogs
from desktop_app.gui.common.compat import binding_problem
from desktop_app.gui.common.settings import APPLICATION, ORGANIZATION, Settings

log = logging.getLogger(__name__)
qt_log = logging.getLogger("qt")

#: Sizes of the PNG icons in ``resources/``.
ICON_SIZES = (16, 24, 32, 48, 64, 128, 256, 512)


def resources_dir() -> Path:
    """The ``resources/`` folder next to the package (a source checkout or an editable install)."""
    return Path(__file__).resolve().parents[3] / "resources"


def app_icon() -> QIcon:
    """The application icon, from the PNGs (and the SVG) in ``resources/``."""
    icon = QIcon()
    folder = resources_dir()
    for size in ICON_SIZES:
        path = folder / f"doppel-{size}.png"
        if path.exists():
            icon.addFile(str(path))
    if icon.isNull() and (folder / "doppel.svg").exists():
        icon.addFile(str(folder / "doppel.svg"))
    if icon.isNull():
        log.debug("No application icon found in %s", folder)
    return icon


def log_file() -> Path:
    """Where the window writes its log."""
    import platformdirs

    return platformdirs.user_log_path(APPLICATION, appauthor=False) / "doppel.log"


def install_logging(path: Path | None = None) -> None:
    """Log to the terminal (as configured already, else warnings) and to a rotating file.

    Args:
        path: The log file; :func:`log_file` when None.
    """
    root = logging.getLogger()
    if not root.handlers:
        stream = logging.StreamHandler(sys.stderr)
        stream.setFormatter(logging.Formatter("doppel: %(levelname)s: %(message)s"))
        root.addHandler(stream)
        root.setLevel(logging.WARNING)
    for handler in root.handlers:  # keep the terminal as quiet as the user asked
        if handler.level == logging.NOTSET:
            handler.setLevel(root.level)
    path = path or log_file()
    try:
        path.parent.mkdir(parents=True, exist_ok=True)
        file_handler = logging.handlers.RotatingFileHandler(
            path, maxBytes=2_000_000, backupCount=3, encoding="utf-8"
        )
    except OSError as error:
        log.warning("Cannot write the log file %s: %s", path, error)
        return
    file_handler.setFormatter(logging.Formatter("%(asctime)s %(levelname)s %(name)s: %(message)s"))
    file_handler.setLevel(logging.INFO)
    root.addHandler(file_handler)
    root.setLevel(min(root.level, logging.INFO))


def _on_qt_message(kind: QtMsgType, context: object, message: str) -> None:
    level = {
        QtMsgType.QtDebugMsg: logging.DEBUG,
        QtMsgType.QtInfoMsg: logging.INFO,
        QtMsgType.QtWarningMsg: logging.WARNING,
        QtMsgType.QtCriticalMsg: logging.ERROR,
        QtMsgType.QtFatalMsg: logging.CRITICAL,
    }.get(kind, logging.WARNING)
    qt_log.log(level, "%s", message)


class ExceptionHook:
    """The :data:`sys.excepthook`: log the error, then show it (one dialog at a time)."""

    def __init__(self) -> None:
        self._showing = False

    def __call__(
        self,
        kind: type[BaseException],
        error: BaseException,
        tb: TracebackType | None,
    ) -> None:
        if issubclass(kind, KeyboardInterrupt):
            sys.__excepthook__(kind, error, tb)
            return
        log.critical("Unexpected error", exc_info=(kind, error, tb))
        if self._showing or QApplication.instance() is None:
            return
        self._showing = True
        try:
            details = "".join(traceback.format_exception(kind, error, tb))
            dialogs.show_crash(QApplication.activeWindow(), f"{kind.__name__}: {error}", details)
        finally:
            self._showing = False


def install_excepthook() -> ExceptionHook:
    """Install and return the exception hook."""
    hook = ExceptionHook()
    sys.excepthook = hook
    return hook


def create_application() -> QApplication:
    """The QApplication, named so that QSettings and the desktop know it."""
    app = QApplication.instance()
    if not isinstance(app, QApplication):
        app = QApplication(sys.argv[:1])  # our own arguments are not Qt's
    app.setOrganizationName(ORGANIZATION)
    app.setApplicationName(APPLICATION)
    app.setApplicationDisplayName("Doppel")
    app.setApplicationVersion(desktop_app.__version__)
    app.setDesktopFileName("doppel")
    return app


def run(folders: Sequence[str], catalog: str | None = None) -> int:
    """Open the window, with ``folders`` as the library if any, and run until it closes.

    Args:
        folders: Library folders to open at start (may be empty).
        catalog: The catalog file; the default location when None.

    Returns:
        The exit code.
    """
    from desktop_app.gui.app.main_window import MainWindow  # after logging is in place

    app = create_application()
    install_logging()
    problem = binding_problem()
    if problem is not None:
        log.critical("%s", problem)
        dialogs.show_error(None, "Doppel cannot start", problem)
        return 3
    qInstallMessageHandler(_on_qt_message)
    install_excepthook()
    icon = app_icon()
    app.setWindowIcon(icon)
    window = MainWindow(Settings(), catalog, icon)
    window.show()
    if folders:
        QTimer.singleShot(0, lambda: window.open_folders(list(folders)))
    # Let Ctrl+C in the terminal close the window: Python handles signals only when it
    # runs, so wake it up now and then.
    signal.signal(signal.SIGINT, lambda *_: window.close())
    waker = QTimer()
    waker.timeout.connect(lambda: None)
    waker.start(250)
    log.info("Doppel %s started; catalog %s", desktop_app.__version__, window.session.catalog_path)
    code = app.exec()
    waker.stop()
    window.shutdown()
    return int(code)
