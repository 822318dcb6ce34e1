"""What a scan hands between its parts: a found file, a hasher and its result."""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass

from desktop_app.engine.config import EngineConfig
from desktop_app.engine.types import FileFailure, ImageFeatures

#: Hashes one file: features, or the reason it could not be read.
Hasher = Callable[[str, EngineConfig], ImageFeatures | FileFailure]
Result = ImageFeatures | FileFailure


@dataclass(frozen=True, slots=True)
class FoundFile:
    """A file the walk found, with the ``stat`` it was found with."""

    path: str
    size: int
    mtime_ns: int
