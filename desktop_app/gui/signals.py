"""Emitting Qt signals from Python, safe from a reference leak in some PySide6 builds.

PySide6 6.12.0's ``SignalInstance.emit()`` returns ``True`` without taking a reference
to it, so every emit from Python drops one reference to ``True`` that was never taken.
On Python 3.11, where ``True`` is an ordinary object with a few hundred references at
start-up, a window emits that many signals within seconds and the interpreter aborts
with "bool_dealloc: deallocating True or False". Python 3.12+ makes the bools immortal,
which hides the bug.

:func:`emit` is how the window emits every signal: it emits, then gives the reference
back, but only if a probe at import time saw the leak, so it is a no-op on fixed PySide
releases and on Python 3.12+. ``tests/gui/test_signals.py`` keeps every ``.emit(`` in
``desktop_app/gui`` going through here.
"""

from __future__ import annotations

import ctypes
import logging
import sys
from typing import Any

from PySide6.QtCore import QObject, Signal

log = logging.getLogger(__name__)

_incref = ctypes.pythonapi.Py_IncRef
_incref.argtypes = [ctypes.py_object]
_incref.restype = None

_PROBES = 64


class _Probe(QObject):
    fired = Signal()


def _leaks_bool_reference() -> bool:
    """Whether ``emit()`` steals a reference to the bool it returns (see module doc)."""
    probe = _Probe()
    before = sys.getrefcount(True)
    for _ in range(_PROBES):
        probe.fired.emit()
    lost = before - sys.getrefcount(True)
    for _ in range(max(lost, 0)):  # give back what the probe itself took
        _incref(True)
    return lost >= _PROBES // 2


#: Whether this PySide6 leaks a reference to ``True`` on every emit.
LEAKS_BOOL_REFERENCE = _leaks_bool_reference()
if LEAKS_BOOL_REFERENCE:
    log.debug("This PySide6 leaks a reference to True on emit(); compensating")


def emit(signal: Any, *args: object) -> None:
    """``signal.emit(*args)``, giving back the reference some PySide6 versions drop."""
    result = signal.emit(*args)
    if LEAKS_BOOL_REFERENCE and isinstance(result, bool):
        _incref(result)
