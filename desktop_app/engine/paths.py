"""Whether a path lies in a folder: one definition for the engine and the window.

Paths are compared as the strings the catalog holds (absolute, normalised when the
folder was added), never as name prefixes: ``/photos2/a.jpg`` is not in ``/photos``.
"""

from __future__ import annotations

import os
from collections.abc import Iterable


def is_within(path: str, folder: str) -> bool:
    """Whether ``path`` is ``folder`` itself or anything below it."""
    folder = folder.rstrip(os.sep) or os.sep
    if folder == os.sep:
        return path.startswith(os.sep)
    return path == folder or path.startswith(folder + os.sep)


def within_any(path: str, folders: Iterable[str]) -> bool:
    """Whether ``path`` is one of ``folders`` or below one of them."""
    return any(is_within(path, folder) for folder in folders)
