"""File-system primitives for moving photos without ever overwriting or losing one.

Everything here is written so that a crash between any two system calls leaves a state
that ``operations.py`` can recognise from the journal and settle:

* **Reserving a name** creates the destination with ``O_CREAT | O_EXCL`` and writes a
  random *token* into it. ``O_EXCL`` makes the check-and-create atomic on every local
  file system (and on NFSv3+), so two writers can never pick the same free name, and the
  token lets recovery tell our placeholder from a file someone else put there: a file is
  removed by us only if its content is exactly our token.
* **Moving on one device** replaces our placeholder with ``os.replace``: atomic, and it
  only ever overwrites the placeholder we created. The data never moves, so no digest is
  needed.
* **Moving across devices** copies into a temporary file next to the destination (also
  reserved with ``O_EXCL``), digests the bytes while copying, ``fsync`` s, compares the
  digest with the one recorded before the move, then renames the copy over the
  placeholder and ``fsync`` s the folder. Only then may the caller remove the source.
"""

from __future__ import annotations

import contextlib
import errno
import logging
import os
import re
import shutil
from collections.abc import Iterator

import xxhash

log = logging.getLogger(__name__)

#: Bytes read per system call when digesting or copying.
_BLOCK = 1 << 20

#: Names tried for one destination before giving up (``x.jpg``, ``x (2).jpg``, ...).
MAX_CANDIDATES = 10_000

_NUMBERED = re.compile(r"^(?P<stem>.*) \((?P<n>\d+)\)$")


class NameExhausted(OSError):
    """Every candidate name for a destination is taken."""


def digest_file(path: str) -> bytes:
    """xxh3-128 of a file's bytes, as the catalog stores it (``ImageFeatures.digest``).

    Raises:
        OSError: The file cannot be read.
    """
    hasher = xxhash.xxh3_128()
    with open(path, "rb") as stream:
        while block := stream.read(_BLOCK):
            hasher.update(block)
    return hasher.digest()


def candidates(path: str) -> Iterator[str]:
    """``path`` itself, then ``stem (2).ext``, ``stem (3).ext``, ... in the same folder."""
    yield path
    folder, name = os.path.split(path)
    stem, ext = os.path.splitext(name)
    if name.startswith(".") and not ext:  # ".hidden" has no extension, only a stem
        stem, ext = name, ""
    for n in range(2, MAX_CANDIDATES + 1):
        yield os.path.join(folder, f"{stem} ({n}){ext}")


def create_exclusive(path: str, content: bytes) -> None:
    """Create ``path`` holding ``content``, failing if anything exists there.

    Raises:
        FileExistsError: The name is taken (by a file, folder or dangling link).
        OSError: The folder cannot be written.
    """
    flags = os.O_WRONLY | os.O_CREAT | os.O_EXCL | getattr(os, "O_BINARY", 0)
    fd = os.open(path, flags, 0o600)
    try:
        os.write(fd, content)
    except BaseException:
        os.close(fd)
        with contextlib.suppress(OSError):
            os.unlink(path)
        raise
    os.close(fd)


def holds(path: str, content: bytes) -> bool:
    """Whether the regular file at ``path`` holds exactly ``content`` (False if absent)."""
    try:
        if not os.path.isfile(path) or os.path.islink(path):
            return False
        if os.path.getsize(path) != len(content):
            return False
        with open(path, "rb") as stream:
            return stream.read(len(content) + 1) == content
    except OSError:
        return False


def remove_if_holds(path: str, content: bytes) -> bool:
    """Remove ``path`` only if it holds exactly ``content``; True if removed."""
    if holds(path, content):
        try:
            os.unlink(path)
        except FileNotFoundError:
            return False
        return True
    return False


def reserve(path: str, token: bytes) -> str:
    """Reserve the first free name among :func:`candidates` of ``path``.

    Args:
        path: The wished-for destination; its folder must exist.
        token: The content of the placeholder, unique to this reservation.

    Returns:
        The reserved path, now a placeholder file holding ``token``.

    Raises:
        NameExhausted: :data:`MAX_CANDIDATES` names are all taken.
        OSError: The folder cannot be written (read-only, permission, full disk).
    """
    for candidate in candidates(path):
        try:
            create_exclusive(candidate, token)
        except FileExistsError:
            continue
        return candidate
    raise NameExhausted(errno.EEXIST, "no free name for the destination", path)


def part_path(destination: str, token: bytes) -> str:
    """The temporary file a cross-device copy to ``destination`` is written into."""
    folder, name = os.path.split(destination)
    return os.path.join(folder, f".{name}.{token.hex()[:16]}.doppel-part")


def same_device(source: str, destination: str) -> bool:
    """Whether a rename from ``source`` to ``destination`` (whose folder exists) can work."""
    try:
        return os.stat(source).st_dev == os.stat(os.path.dirname(destination)).st_dev
    except OSError:
        return False


def fsync_dir(folder: str) -> None:
    """Make renames in ``folder`` durable (no-op where folders cannot be opened)."""
    if os.name == "nt":  # Windows cannot open a folder for fsync; NTFS journals renames
        return
    try:
        fd = os.open(folder, os.O_RDONLY)
    except OSError:
        return
    try:
        os.fsync(fd)
    except OSError as error:  # some network file systems refuse; the data is written
        log.debug("fsync of folder %s failed: %s", folder, error)
    finally:
        os.close(fd)


def replace_placeholder(source: str, placeholder: str) -> None:
    """Rename ``source`` onto our ``placeholder`` on the same device (atomic).

    Raises:
        OSError: The rename failed; ``source`` is untouched.
    """
    os.replace(source, placeholder)


def copy_verified(source: str, placeholder: str, token: bytes, expected: bytes | None) -> bytes:
    """Copy ``source`` over our ``placeholder`` on another device, verified by digest.

    The bytes go to :func:`part_path` first, are ``fsync`` ed, and replace the placeholder
    only if their digest equals both the digest of what was read and ``expected``. The
    source is not touched: removing it is the caller's next step.

    Args:
        source: The file to copy.
        placeholder: Our reserved destination.
        token: The reservation's token (names the temporary file).
        expected: The digest recorded before the move, or None to accept what is read.

    Returns:
        The digest of the copied bytes.

    Raises:
        OSError: Reading, writing or verifying failed; the temporary file is removed and
            the placeholder is left in place for the caller to release.
    """
    part = part_path(placeholder, token)
    read_hash = xxhash.xxh3_128()
    create_exclusive(part, b"")
    try:
        with open(source, "rb") as src, open(part, "r+b") as dst:
            while block := src.read(_BLOCK):
                read_hash.update(block)
                dst.write(block)
            dst.flush()
            os.fsync(dst.fileno())
        got = read_hash.digest()
        if expected is not None and got != expected:
            raise OSError(errno.EIO, "the file changed since it was catalogued", source)
        if digest_file(part) != got:
            raise OSError(errno.EIO, "the copy differs from the original", part)
        try:  # the modification time lets recovery and undo recognise the file
            shutil.copystat(source, part)
        except OSError as error:  # FAT and some network shares refuse permission bits
            log.debug("Could not copy the metadata of %s: %s", source, error)
        os.replace(part, placeholder)
    except BaseException:
        with contextlib.suppress(OSError):
            os.unlink(part)
        raise
    fsync_dir(os.path.dirname(placeholder))
    return got
