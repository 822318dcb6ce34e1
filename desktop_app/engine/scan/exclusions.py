"""Which folders and files a scan leaves out: other applications' libraries, the user's.

Photo applications keep their own derivatives next to the photos: Lightroom's smart
previews are DNGs inside ``*.lrdata``, Apple Photos keeps originals and renders inside
its ``*.photoslibrary`` bundle, Capture One and darktable keep caches. Cataloguing them
would group them as copies, and trashing them would damage those libraries, so a walk
never enters them (:data:`~desktop_app.engine.config.KNOWN_BUNDLES`) nor anything the
user excluded, and reports what it left out.
"""

from __future__ import annotations

import fnmatch
import os
from collections.abc import Sequence

from desktop_app.engine.config import KNOWN_BUNDLES, EngineConfig


class Exclusions:
    """Which folders and files a walk leaves out (:data:`KNOWN_BUNDLES`, the user's).

    Patterns are shell wildcards matched without regard to case against a name, or,
    when they contain a "/", against the end of the path (``*.cocatalog/Cache``).
    """

    def __init__(self, patterns: Sequence[str]) -> None:
        self._names: set[str] = set()
        self._globs: list[str] = []
        self._paths: list[str] = []
        for pattern in patterns:
            folded = pattern.strip().replace("\\", "/").rstrip("/").casefold()
            if not folded:
                continue
            if "/" in folded:
                absolute = folded.startswith(("/", "*")) or folded[1:2] == ":"  # C:/...
                self._paths.append(folded if absolute else "*/" + folded)
            elif any(c in folded for c in "*?["):
                self._globs.append(folded)
            else:
                self._names.add(folded)

    @classmethod
    def of(cls, config: EngineConfig) -> Exclusions:
        """The exclusions a scan with ``config`` applies."""
        return cls((*KNOWN_BUNDLES, *config.excluded, *config.exclude))

    def match(self, path: str) -> bool:
        """Whether ``path`` (a folder or file) is left out."""
        name = os.path.basename(path).casefold()
        if name in self._names or any(fnmatch.fnmatchcase(name, g) for g in self._globs):
            return True
        if self._paths:
            folded = path.replace(os.sep, "/").casefold()
            return any(fnmatch.fnmatchcase(folded, p) for p in self._paths)
        return False
