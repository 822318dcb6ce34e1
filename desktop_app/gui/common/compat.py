"""Qt bindings known to crash the window, recognised before they do.

PySide6-Essentials 6.12.0 (the ``abi3`` wheels) loses one reference to ``None`` on
every call of a method that returns nothing (``QPainter.setPen``, ``QWidget.update``...)
and one to ``True`` on every ``Signal.emit``. Python 3.12 and later make those objects
immortal, so nothing happens there; on Python 3.11 they start with a few thousand
references, and the interpreter aborts ("none_dealloc: deallocating None") after a few
seconds of painting. PySide6 6.11.3 does not have the defect.

:func:`binding_problem` measures the defect instead of trusting version numbers, so a
fixed 6.12.x passes and an unknown broken build is still caught. The window refuses to
start with a clear message rather than crash later, and a test keeps the development
environment honest.
"""

from __future__ import annotations

import platform
import sys

import PySide6
from PySide6.QtCore import QObject, Signal

#: Calls made by the probe; a binding that loses a reference on most of them is broken.
_PROBES = 64


class _Probe(QObject):
    fired = Signal()


def binding_problem() -> str | None:
    """Why the installed Qt binding would crash the window, or None if it is sound.

    Returns:
        A message for the user naming the defect and the way out.
    """
    probe = _Probe()
    none_before, true_before = sys.getrefcount(None), sys.getrefcount(True)
    for _ in range(_PROBES):
        probe.setObjectName("probe")
        probe.fired.emit()
    lost = max(none_before - sys.getrefcount(None), true_before - sys.getrefcount(True))
    if lost < _PROBES // 2:
        return None
    return (
        f"PySide6 {PySide6.__version__} on Python {platform.python_version()} loses a "
        "reference to None or True on every call, which makes Python abort after a few "
        'seconds. Install a sound version (pip install "PySide6-Essentials<6.12") or run '
        "Doppel on Python 3.12 or later."
    )
