"""Locks between Doppel processes sharing one catalog, held on files beside it.

SQLite's own locks only cover a transaction; between two transactions a connection holds
nothing, so another process cannot tell that the catalog is open. Two sidecar files do:

* ``CATALOG.open-lock``: every :class:`~desktop_app.engine.catalog.store.Catalog` holds a
  *shared* lock on it while it is open; rebuilding the catalog takes it *exclusively*,
  so a rebuild refuses while a window or a command has the catalog open, and nothing
  opens the catalog while it is being rebuilt.
* ``CATALOG.scan-lock``: a scan holds it exclusively, so two scans never write the same
  files into the catalog at once.

The locks are advisory whole-file locks (``flock`` on POSIX, ``LockFileEx`` on Windows):
the system releases them when the process ends, however it ends, so a crash never leaves
a stale lock behind. Each :class:`FileLock` opens its own descriptor, so two in one
process exclude each other exactly like two in different processes.
"""

from __future__ import annotations

import errno
import logging
import os
import sys
import time

log = logging.getLogger(__name__)

#: Suffixes of the lock files, appended to the catalog's file name.
OPEN_SUFFIX = ".open-lock"
SCAN_SUFFIX = ".scan-lock"

_POLL = 0.05


class FileLock:
    """A shared or exclusive lock on one file, taken by :meth:`acquire`.

    Args:
        path: The lock file, created if missing (its content is never used).
    """

    def __init__(self, path: str) -> None:
        self.path = path
        self._fd: int | None = None

    @property
    def held(self) -> bool:
        """Whether this object holds the lock."""
        return self._fd is not None

    def acquire(self, *, exclusive: bool, timeout: float = 0.0) -> bool:
        """Take the lock, waiting up to ``timeout`` seconds for other holders.

        Returns:
            True when taken; False when others held it for the whole ``timeout``.

        Raises:
            OSError: The lock file cannot be created or opened.
        """
        if self._fd is not None:
            return True
        fd = os.open(self.path, os.O_RDWR | os.O_CREAT | getattr(os, "O_BINARY", 0), 0o644)
        deadline = time.monotonic() + timeout
        try:
            while not _try_lock(fd, exclusive):
                if time.monotonic() >= deadline:
                    os.close(fd)
                    return False
                time.sleep(_POLL)
        except BaseException:
            os.close(fd)
            raise
        self._fd = fd
        return True

    def release(self) -> None:
        """Give the lock back (closing the descriptor releases it)."""
        if self._fd is not None:
            fd, self._fd = self._fd, None
            os.close(fd)

    def __del__(self) -> None:
        self.release()


if sys.platform == "win32":
    import ctypes
    import msvcrt
    from ctypes import wintypes

    class _Overlapped(ctypes.Structure):
        _fields_ = (
            ("Internal", ctypes.c_void_p),
            ("InternalHigh", ctypes.c_void_p),
            ("Offset", wintypes.DWORD),
            ("OffsetHigh", wintypes.DWORD),
            ("hEvent", wintypes.HANDLE),
        )

    _EXCLUSIVE = 0x2  # LOCKFILE_EXCLUSIVE_LOCK
    _FAIL_IMMEDIATELY = 0x1  # LOCKFILE_FAIL_IMMEDIATELY
    _kernel32 = ctypes.WinDLL("kernel32", use_last_error=True)

    def _try_lock(fd: int, exclusive: bool) -> bool:
        handle = msvcrt.get_osfhandle(fd)
        flags = _FAIL_IMMEDIATELY | (_EXCLUSIVE if exclusive else 0)
        overlapped = _Overlapped()
        ok = _kernel32.LockFileEx(wintypes.HANDLE(handle), flags, 0, 1, 0, ctypes.byref(overlapped))
        if ok:
            return True
        code = ctypes.get_last_error()
        if code in (33, 158):  # ERROR_LOCK_VIOLATION, ERROR_NOT_LOCKED
            return False
        raise ctypes.WinError(code)

else:
    import fcntl

    def _try_lock(fd: int, exclusive: bool) -> bool:
        mode = fcntl.LOCK_EX if exclusive else fcntl.LOCK_SH
        try:
            fcntl.flock(fd, mode | fcntl.LOCK_NB)
        except OSError as error:
            if error.errno in (errno.EAGAIN, errno.EACCES, errno.EWOULDBLOCK):
                return False
            if error.errno in (errno.ENOLCK, errno.EOPNOTSUPP, errno.ENOSYS):
                # Some network file systems have no locks: work as before, unguarded.
                log.debug("No file locks on %d: %s", fd, error)
                return True
            raise
        return True
