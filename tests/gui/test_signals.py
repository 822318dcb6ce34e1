"""Every signal the window emits from Python goes through ``signals.emit``.

PySide6 6.12.0 drops a reference to ``True`` on each ``emit()``; on Python 3.11 the
interpreter aborts once a few hundred signals have been emitted (see signals.py).
"""

from __future__ import annotations

import re
import sys
from pathlib import Path

from PySide6.QtCore import QObject, Signal

from desktop_app.gui import signals


class _Thing(QObject):
    changed = Signal(object)


def test_emit_keeps_the_reference_count_of_true():
    thing = _Thing()
    got = []
    thing.changed.connect(got.append)
    before = sys.getrefcount(True)
    for k in range(2000):  # far more than True's references at start-up
        signals.emit(thing.changed, k)
    assert len(got) == 2000
    assert abs(sys.getrefcount(True) - before) < 50


def test_no_bare_emit_in_the_window_code():
    root = Path(signals.__file__).parent
    bare = [
        f"{path.name}:{n}"
        for path in sorted(root.glob("*.py"))
        if path.name != "signals.py"
        for n, line in enumerate(path.read_text().splitlines(), 1)
        if re.search(r"\.emit\(", line)
    ]
    assert not bare, f"use signals.emit(): {bare}"
