"""How sizes and durations are written for people, everywhere Doppel shows them.

One definition shared by the engine's explanations ("kept: larger file (2.4 MB vs
310 KB)"), the command line and the window, so that one file reads the same in all
three. Decimal units, as file managers show them.
"""

from __future__ import annotations


def human_size(n: int) -> str:
    """``2.4 MB``: a byte count in decimal units (``1 byte``, ``532 bytes``, ``310 KB``)."""
    value = float(n)
    for unit in ("bytes", "KB", "MB", "GB", "TB"):
        if value < 1000 or unit == "TB":
            if unit == "bytes":
                return "1 byte" if int(value) == 1 else f"{int(value)} bytes"
            return f"{value:.1f} {unit}" if value < 100 else f"{value:.0f} {unit}"
        value /= 1000
    raise AssertionError("unreachable")


def format_duration(seconds: float) -> str:
    """``1:02:03`` or ``2:03``: a countdown as people read it."""
    whole = round(seconds)
    hours, rest = divmod(whole, 3600)
    minutes, secs = divmod(rest, 60)
    return f"{hours}:{minutes:02d}:{secs:02d}" if hours else f"{minutes}:{secs:02d}"
