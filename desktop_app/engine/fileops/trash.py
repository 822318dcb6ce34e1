"""Trash locations: the system trash, or a folder of the user's (and of the tests).

On Linux and the BSDs the system trash is the freedesktop.org one
(https://specifications.freedesktop.org/trash-spec/latest/): a ``files/`` folder holding
the trashed files and an ``info/`` folder holding one ``NAME.trashinfo`` per file with
its original path. We write it ourselves rather than through Send2Trash, because the
journal must know *before* the move exactly where each file will land (Send2Trash
returns nothing), and because the spec's reservation (create the ``.trashinfo`` with
``O_EXCL`` first, then move the file under the same name) is what makes the name choice
safe against other programs trashing at the same moment. Files appear in the desktop's
trash as usual, and the desktop's "Restore" works on them as well as our undo.

A :class:`FreedesktopTrash` given a folder keeps the same layout in that folder: that is
the "trash location" setting, and what every test uses so that the real trash is never
touched.

On macOS and Windows the system trash is reached through Send2Trash
(:class:`SystemTrash`): the file goes to the Trash or the Recycle Bin, but those APIs do
not say under which name, so our undo cannot bring it back. The user restores it with
Finder's "Put Back" or the Recycle Bin's "Restore"; the journal says so.
"""

from __future__ import annotations

import abc
import datetime as dt
import logging
import os
import stat
import sys
from dataclasses import dataclass
from urllib.parse import quote

from desktop_app.engine.errors import EngineError

log = logging.getLogger(__name__)


class TrashUnavailable(EngineError):
    """No trash folder can be used for a file (e.g. a read-only or foreign drive)."""


@dataclass(frozen=True, slots=True)
class TrashDir:
    """Where a given file would be trashed.

    Attributes:
        files: The folder the file is moved into.
        info: The folder of its ``.trashinfo``, or None for a trash without one.
        topdir: The volume's top folder for a per-volume trash (``Path=`` is then
            relative to it), None for the home trash (``Path=`` is absolute).
    """

    files: str
    info: str | None
    topdir: str | None = None


class Trash(abc.ABC):
    """A place trashed files go to."""

    #: Whether undo can bring files back from here.
    restorable: bool = True

    @property
    @abc.abstractmethod
    def label(self) -> str:
        """Where the files go, for messages ("the trash", "/backup/Trash")."""

    @abc.abstractmethod
    def location(self, source: str, *, create: bool = True) -> TrashDir:
        """The trash folders for ``source``, created if needed and ``create`` is set.

        Raises:
            TrashUnavailable: No usable trash folder for that file.
        """

    def info_text(self, source: str, where: TrashDir, when: dt.datetime) -> str:
        """The ``.trashinfo`` content for ``source`` trashed at ``when`` into ``where``."""
        path = source
        if where.topdir is not None:
            path = os.path.relpath(source, where.topdir)
        return (
            "[Trash Info]\n"
            f"Path={quote(os.fsencode(path), safe='/')}\n"
            f"DeletionDate={when.strftime('%Y-%m-%dT%H:%M:%S')}\n"
        )

    def send(self, source: str) -> None:
        """Trash ``source`` by other means (trashes that are not :attr:`restorable`)."""
        raise NotImplementedError


def _make_private_dir(path: str) -> None:
    os.makedirs(path, mode=0o700, exist_ok=True)


def _device(path: str) -> int:
    """Device of ``path``, or of its nearest existing ancestor."""
    probe = os.path.abspath(path)
    while True:
        try:
            return os.stat(probe).st_dev
        except FileNotFoundError:
            parent = os.path.dirname(probe)
            if parent == probe:
                raise
            probe = parent


def _mount_point(path: str) -> str:
    probe = os.path.realpath(path)
    while not os.path.ismount(probe):
        parent = os.path.dirname(probe)
        if parent == probe:
            break
        probe = parent
    return probe


def home_trash() -> str:
    """``$XDG_DATA_HOME/Trash``, read now (not at import) so tests can redirect it."""
    base = os.environ.get("XDG_DATA_HOME") or os.path.join(
        os.path.expanduser("~"), ".local", "share"
    )
    return os.path.join(base, "Trash")


class FreedesktopTrash(Trash):
    """The freedesktop.org trash, or the same layout inside a folder of our choice.

    Args:
        folder: A trash folder used for every file (the "trash location" setting, and
            the tests); None for the user's system trash (``$XDG_DATA_HOME/Trash``, and
            per-volume ``.Trash/$uid`` or ``.Trash-$uid`` folders on other drives).
    """

    def __init__(self, folder: str | os.PathLike[str] | None = None) -> None:
        self.folder = None if folder is None else os.path.abspath(os.fspath(folder))

    @property
    def label(self) -> str:
        return "the trash" if self.folder is None else self.folder

    def location(self, source: str, *, create: bool = True) -> TrashDir:
        home = self.folder or home_trash()
        if self.folder is not None or _device(source) == _device(home):
            where = TrashDir(os.path.join(home, "files"), os.path.join(home, "info"))
        else:
            where = self._volume_trash(source, create)
        if not create:
            return where
        try:
            _make_private_dir(where.files)
            if where.info is not None:
                _make_private_dir(where.info)
        except OSError as error:
            raise TrashUnavailable(
                f"The trash folder {where.files} cannot be created: {error.strerror or error}"
            ) from error
        return where

    @staticmethod
    def _volume_trash(source: str, create: bool) -> TrashDir:
        """The spec's per-volume trash: ``$top/.Trash/$uid``, else ``$top/.Trash-$uid``."""
        top = _mount_point(os.path.dirname(source))
        uid = str(os.getuid()) if hasattr(os, "getuid") else "0"
        shared = os.path.join(top, ".Trash")
        try:
            info = os.lstat(shared)
            usable = stat.S_ISDIR(info.st_mode) and bool(info.st_mode & stat.S_ISVTX)
        except OSError:
            usable = False
        base = os.path.join(shared, uid) if usable else os.path.join(top, f".Trash-{uid}")
        if create and not os.path.isdir(base):
            try:
                _make_private_dir(base)
            except OSError as error:
                raise TrashUnavailable(
                    f"The drive of {source} has no trash folder that can be used "
                    f"({error.strerror or error}); move the files to a folder instead."
                ) from error
        return TrashDir(os.path.join(base, "files"), os.path.join(base, "info"), top)


class SystemTrash(Trash):
    """The macOS Trash or the Windows Recycle Bin, through Send2Trash (no undo)."""

    restorable = False

    @property
    def label(self) -> str:
        return "the Recycle Bin" if sys.platform == "win32" else "the Trash"

    def location(self, source: str, *, create: bool = True) -> TrashDir:
        raise TrashUnavailable("The system trash does not tell where files go.")

    def send(self, source: str) -> None:
        from send2trash import send2trash

        send2trash(source)

    @staticmethod
    def restore_hint() -> str:
        """How the user brings a file back by hand."""
        if sys.platform == "win32":
            return "open the Recycle Bin and choose Restore"
        return "open the Trash in Finder and choose Put Back"


def default_trash() -> Trash:
    """The system trash of this platform."""
    if os.name == "posix" and sys.platform != "darwin":
        return FreedesktopTrash()
    return SystemTrash()
