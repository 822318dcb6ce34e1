"""Run part of a test as an ordinary user, so that permission tests also run as root.

CI runs the suite as root, for whom ``chmod 000`` stops nothing: a test of what happens
to an unreadable file or a read-only folder would only ever skip there. :func:`run_as_user`
runs a function in a forked child that, when the test runs as root, first drops to the
``nobody`` user; without root it simply runs in the child. The function's files must
live in :func:`shared_folder`, which that user can reach.
"""

from __future__ import annotations

import os
import pickle
import pwd
import shutil
import tempfile
import traceback
from collections.abc import Callable, Iterator
from contextlib import contextmanager
from pathlib import Path
from typing import TypeVar

_T = TypeVar("_T")

#: Whether this platform can fork and drop privileges (POSIX).
SUPPORTED = os.name == "posix" and hasattr(os, "fork")


def _user() -> tuple[int, int]:
    if os.geteuid() != 0:
        return os.geteuid(), os.getegid()
    entry = pwd.getpwnam("nobody")
    return entry.pw_uid, entry.pw_gid


@contextmanager
def shared_folder() -> Iterator[Path]:
    """A fresh folder the unprivileged user owns (pytest's tmp_path is root's alone)."""
    folder = Path(tempfile.mkdtemp(prefix="doppel-unprivileged-"))
    uid, gid = _user()
    os.chown(folder, uid, gid)
    try:
        yield folder
    finally:
        shutil.rmtree(folder, ignore_errors=True)


def _preload() -> None:
    """Import what the engine imports lazily: the unprivileged user may not be able to
    read the Python installation (root's home folder), so the child must not import."""
    import concurrent.futures

    from PIL import Image

    _ = (concurrent.futures.ThreadPoolExecutor, concurrent.futures.ProcessPoolExecutor)
    Image.init()


def run_as_user(function: Callable[[], _T]) -> _T:
    """``function()`` in a forked child running as an ordinary user; its return value.

    Raises:
        AssertionError: The function raised in the child (with the child's traceback).
    """
    _preload()
    read, write = os.pipe()
    pid = os.fork()
    if pid == 0:  # the child: never returns into pytest
        code = 0
        try:
            os.close(read)
            uid, gid = _user()
            if os.geteuid() == 0:
                os.setgroups([])
                os.setgid(gid)
                os.setuid(uid)
            assert os.geteuid() != 0, "still root: the test would prove nothing"
            payload = pickle.dumps((True, function()))
        except BaseException:
            payload = pickle.dumps((False, traceback.format_exc()))
            code = 1
        with os.fdopen(write, "wb") as stream:
            stream.write(payload)
        os._exit(code)
    os.close(write)
    with os.fdopen(read, "rb") as stream:
        payload = stream.read()
    os.waitpid(pid, 0)
    ok, value = pickle.loads(payload)
    if not ok:
        raise AssertionError(f"in the unprivileged child:\n{value}")
    return value
