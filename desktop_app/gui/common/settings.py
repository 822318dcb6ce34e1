"""The only module that touches QSettings.

Every key is declared once, below, with its type and default (Picard's ``options.py``
idea); values are normalised on read, because QSettings hands back strings from INI
files and ``None`` for empty lists on some platforms. Tests point QSettings at a
temporary folder (``QSettings.setPath``) so they never see the user's own settings.
"""

from __future__ import annotations

import json
import logging
from dataclasses import dataclass, replace
from typing import Generic, TypeVar

from PySide6.QtCore import QByteArray, QSettings

from desktop_app.engine.cleanup import FreedesktopTrash, Trash, default_trash
from desktop_app.engine.config import DEFAULT_THRESHOLD, MAX_THRESHOLD, EngineConfig

log = logging.getLogger(__name__)

ORGANIZATION = "Doppel"
APPLICATION = "Doppel"

#: How many libraries File > Open Recent remembers.
MAX_RECENT = 8

_T = TypeVar("_T")


@dataclass(frozen=True)
class Key(Generic[_T]):
    """A settings key with its default; the default's type is the value's type."""

    name: str
    default: _T


GEOMETRY = Key("window/geometry", QByteArray())
WINDOW_STATE = Key("window/state", QByteArray())
RECENT_LIBRARIES = Key("library/recent", "[]")  # JSON: list of lists of folders
THRESHOLD = Key("threshold/groups", DEFAULT_THRESHOLD)
ROTATIONS = Key("scan/rotations", False)
SKIP_HIDDEN = Key("scan/skip_hidden", True)
WORKERS = Key("scan/workers", 0)  # 0: one per core
READERS = Key("scan/readers", 0)  # 0: by the storage (1 on a spinning disk or a share)
RESCAN_ON_OPEN = Key("scan/rescan_on_open", True)
EXCLUDE = Key("scan/exclude", "")  # the user's patterns of folders and files, one a line
ALLOW_DELETE = Key("cleanup/allow_delete", False)  # permanent deletion, off by default
TRASH_FOLDER = Key("cleanup/trash_folder", "")  # "": the system trash
MOVE_FOLDER = Key("cleanup/move_folder", "")  # the last "Move to folder" destination
KEEP_PRESET = Key("cleanup/preset", "default")  # the keep-the-best preset in use
SELECT_WITHIN = Key("cleanup/select_within", False)  # select in groups without a reference
INDEX = Key("scan/index", "sqlite")  # or "milvus:URI" (docs/scale-out.md)


class Settings:
    """Typed access to the application's QSettings.

    Args:
        store: The QSettings to use; the application's default one when None.
    """

    def __init__(self, store: QSettings | None = None) -> None:
        self._store = store if store is not None else QSettings(ORGANIZATION, APPLICATION)

    def get(self, key: Key[_T]) -> _T:
        """The stored value of ``key``, converted to the default's type."""
        raw = self._store.value(key.name, key.default)
        try:
            return _convert(raw, key.default)
        except (TypeError, ValueError):
            log.warning("Ignoring a bad value for setting %s: %r", key.name, raw)
            return key.default

    def set(self, key: Key[_T], value: _T) -> None:
        """Store ``value`` under ``key``."""
        self._store.setValue(key.name, value)

    def sync(self) -> None:
        """Write pending changes to disk."""
        self._store.sync()

    # ----------------------------------------------------------------- derived values

    def threshold(self) -> int:
        """The group slider's threshold, clamped to the engine's range."""
        return _clamp(self.get(THRESHOLD))

    def engine_config(self) -> EngineConfig:
        """The engine settings the user chose."""
        index = self.get(INDEX).strip() or "sqlite"
        if index != "sqlite" and not (index.startswith("milvus:") and index[7:]):
            log.warning("Ignoring a bad index setting %r; using the catalog's index", index)
            index = "sqlite"
        config = EngineConfig(
            threshold=self.threshold(),
            rotations=self.get(ROTATIONS),
            skip_hidden=self.get(SKIP_HIDDEN),
            exclude=self.exclusions(),
            index=index,
        )
        workers = self.get(WORKERS)
        config = replace(config, workers=workers) if workers > 0 else config
        readers = self.get(READERS)
        return replace(config, readers=readers) if readers > 0 else config

    def exclusions(self) -> tuple[str, ...]:
        """The user's patterns of folders and files a scan leaves out."""
        return tuple(p.strip() for p in self.get(EXCLUDE).splitlines() if p.strip())

    def trash(self) -> Trash:
        """Where "Move to Trash" puts files: the user's trash folder, or the system trash."""
        folder = self.get(TRASH_FOLDER).strip()
        return FreedesktopTrash(folder) if folder else default_trash()

    def recent_libraries(self) -> list[list[str]]:
        """Recently opened libraries (each a list of folders), most recent first."""
        try:
            value = json.loads(self.get(RECENT_LIBRARIES))
        except json.JSONDecodeError:
            return []
        if not isinstance(value, list):
            return []
        return [
            [str(f) for f in entry]
            for entry in value
            if isinstance(entry, list) and entry and all(isinstance(f, str) for f in entry)
        ][:MAX_RECENT]

    def add_recent_library(self, folders: list[str]) -> None:
        """Put ``folders`` at the top of the recent libraries."""
        entry = sorted(folders)
        recent = [entry] + [r for r in self.recent_libraries() if sorted(r) != entry]
        self.set(RECENT_LIBRARIES, json.dumps(recent[:MAX_RECENT]))

    def clear_recent_libraries(self) -> None:
        """Forget the recent libraries."""
        self.set(RECENT_LIBRARIES, "[]")


def _clamp(value: int) -> int:
    return min(max(value, 0), MAX_THRESHOLD)


def _convert(raw: object, default: _T) -> _T:
    """``raw`` as the type of ``default`` (INI files store everything as text)."""
    if raw is None:
        return default
    if isinstance(default, bool):
        if isinstance(raw, str):
            return raw.strip().lower() in ("1", "true", "yes", "on")  # type: ignore[return-value]
        return bool(raw)  # type: ignore[return-value]
    if isinstance(default, int):
        # int() of a value it cannot read raises TypeError, which get() reports.
        return int(raw)  # type: ignore[call-overload]
    if isinstance(default, QByteArray):
        return raw if isinstance(raw, QByteArray) else QByteArray()  # type: ignore[return-value]
    if isinstance(default, str):
        return str(raw)  # type: ignore[return-value]
    return raw  # type: ignore[return-value]
