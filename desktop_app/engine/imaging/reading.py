"""Reading photo files: how many at once, how much was read, and a simulated slow disk.

Hashing a photo is reading its bytes, then decoding them. On an SSD both can run on
every core at once. On a spinning disk or a network share, several readers at once make
the head seek between files (or the server juggle streams) and the scan gets slower
with every worker added. So the scan pool shares one :class:`Reader`: its gate lets at
most ``readers`` processes read at a time, while decoding (outside the gate) runs on all
of them. :func:`storage_kind` tells which kind of storage a folder is on.

The reader also counts the bytes it read (``bytes_read``), for the benchmarks, and can
put them through a :class:`SimulatedDisk`: a disk model with a seek time and a transfer
rate, shared by all processes, that sleeps as a real disk would make the reader wait.
``benchmarks/scan.py`` uses it to measure a slow-disk scan on any machine; nothing else
does.

LibRaw reads RAW files itself, from the path (it reads the headers and the embedded
preview, not the sensor data): :meth:`Reader.foreign` measures those reads through the
process's I/O counters (Linux ``/proc/self/io``) to count and throttle them alike.
"""

from __future__ import annotations

import logging
import multiprocessing
import os
import threading
import time
from collections.abc import Iterator
from contextlib import contextmanager
from typing import Any

from desktop_app.engine.config import SimulatedDisk

log = logging.getLogger(__name__)

#: Bytes per read call.
CHUNK = 512 * 1024

#: File-system types that are network shares (``/proc/mounts`` names).
NETWORK_FS = frozenset(
    {"nfs", "nfs4", "cifs", "smb3", "smbfs", "fuse.sshfs", "sshfs", "9p", "afs", "ceph",
     "glusterfs", "fuse.glusterfs", "davfs", "fuse.davfs2", "fuse.rclone", "lustre"}
)  # fmt: skip

#: Readers at once on rotational or network storage.
SLOW_STORAGE_READERS = 1


def storage_kind(path: str) -> str:
    """Whether ``path`` is on "network", "rotational" or "solid" storage (Linux).

    Network file systems are told by their type in ``/proc/mounts``; a local disk is
    rotational when ``/sys/block/<disk>/queue/rotational`` says 1 for the disk holding the
    mount's device (or any disk under a device-mapper or RAID volume). Elsewhere, or when
    nothing can be told, "solid": the scan then behaves as it always did.
    """
    try:
        mount = _mount_of(path)
    except OSError:
        return "solid"
    if mount is None:
        return "solid"
    fstype = mount[1]
    if fstype in NETWORK_FS or fstype.startswith("fuse.sshfs"):
        return "network"
    try:
        device = os.stat(path).st_dev
        major, minor = os.major(device), os.minor(device)
        if major == 0 and mount[2].startswith("/dev/"):
            # btrfs, ZFS, overlay: an anonymous device; ask the mount's own device.
            major, minor = _device_numbers(mount[2])
        return "rotational" if _is_rotational(major, minor) else "solid"
    except OSError:
        return "solid"


def readers_for(paths: list[str], workers: int, setting: int | None) -> int:
    """How many processes may read at once: the setting, or one per worker on solid
    storage and :data:`SLOW_STORAGE_READERS` when any folder is on slow storage."""
    if setting is not None and setting > 0:
        return min(setting, max(workers, 1))
    kinds = {storage_kind(path) for path in paths}
    if kinds - {"solid"}:
        kind = "/".join(sorted(kinds - {"solid"}))
        log.info("Library on %s storage: %d reader(s)", kind, SLOW_STORAGE_READERS)
        return SLOW_STORAGE_READERS
    return max(workers, 1)


def _device_numbers(device: str) -> tuple[int, int]:
    number = os.stat(device).st_rdev
    return os.major(number), os.minor(number)


def _mount_of(path: str) -> tuple[str, str, str] | None:
    """(mount point, fs type, source) of the longest mount point containing ``path``."""
    real = os.path.realpath(path)
    best: tuple[str, str, str] | None = None
    with open("/proc/mounts", encoding="utf-8", errors="replace") as mounts:
        for line in mounts:
            fields = line.split()
            if len(fields) < 3:
                continue
            point = fields[1].replace("\\040", " ")
            inside = real == point or real.startswith(point.rstrip("/") + "/")
            if inside and (best is None or len(point) >= len(best[0])):
                best = (point, fields[2], fields[0])
    return best


def _is_rotational(major: int, minor: int) -> bool:
    base = f"/sys/dev/block/{major}:{minor}"
    if not os.path.exists(base):
        return False
    real = os.path.realpath(base)
    candidates = [real, os.path.dirname(real)]  # a partition's disk is its parent
    slaves = os.path.join(real, "slaves")
    if os.path.isdir(slaves):  # device mapper, RAID: rotational if any member is
        candidates += [os.path.realpath(os.path.join(slaves, s)) for s in os.listdir(slaves)]
    for candidate in candidates:
        for folder in (candidate, os.path.dirname(candidate)):
            flag = os.path.join(folder, "queue", "rotational")
            if os.path.exists(flag):
                with open(flag, encoding="ascii") as stream:
                    if stream.read().strip() == "1":
                        return True
                break
    return False


class Reader:
    """The reading side of a hashing process: a gate shared by the pool, byte counts,
    and optionally a :class:`SimulatedDisk`.

    Created in the scanning process with :meth:`shared` and handed to each worker at its
    start (multiprocessing primitives cross into a process only then); a Reader made
    with no arguments reads freely (in-process hashing, queries, tests).
    """

    def __init__(
        self,
        gate: Any = None,
        disk: SimulatedDisk | None = None,
        disk_lock: Any = None,
        disk_position: Any = None,
    ) -> None:
        self._gate = gate
        self._disk = disk
        self._disk_lock = disk_lock
        self._position = disk_position  # a shared id of where the disk last read
        self._last = -1  # the same, for a reader no other process shares
        self.bytes_read = 0

    @classmethod
    def shared(cls, readers: int, disk: SimulatedDisk | None = None, context: Any = None) -> Reader:
        """A reader for a pool: at most ``readers`` of its processes read at a time."""
        context = context or multiprocessing.get_context()
        lock = position = None
        if disk is not None:
            lock, position = context.Lock(), context.Value("q", 0, lock=False)
        return cls(context.BoundedSemaphore(max(1, readers)), disk, lock, position)

    def state(self) -> tuple[Any, SimulatedDisk | None, Any, Any]:
        """What a worker process needs to rebuild this reader (see :func:`install`)."""
        return self._gate, self._disk, self._disk_lock, self._position

    @contextmanager
    def turn(self) -> Iterator[None]:
        """Hold one of the reading slots (a no-op for a free reader)."""
        if self._gate is None:
            yield
            return
        self._gate.acquire()
        try:
            yield
        finally:
            self._gate.release()

    def read_all(self, fd: int, key: int) -> bytes:
        """Read a whole open file in chunks of :data:`CHUNK`, as a disk serves them.

        Args:
            fd: The open file.
            key: A number telling this file from others (its inode), for the disk model.
        """
        parts = []
        offset = 0
        while True:
            part = os.pread(fd, CHUNK, offset)
            if not part:
                break
            self._charge(key, offset, len(part))
            parts.append(part)
            offset += len(part)
        self.bytes_read += offset
        return b"".join(parts) if len(parts) != 1 else parts[0]

    @contextmanager
    def foreign(self, key: int) -> Iterator[None]:
        """Count (and charge the simulated disk for) reads a native library makes itself."""
        before = _io_read_bytes()
        yield
        after = _io_read_bytes()
        if before is None or after is None:
            return
        used = max(0, after - before)
        self.bytes_read += used
        self._charge(key, 0, used)

    def _charge(self, key: int, offset: int, length: int) -> None:
        """Wait as the simulated disk would to serve ``length`` bytes at ``offset`` of the
        file ``key``, one request at a time (other readers may come in between)."""
        if self._disk is None:
            return
        step = self._disk.request_kb * 1024
        end = offset + length
        while offset < end:
            self._request(key, offset, min(step, end - offset))
            offset += step

    def _request(self, key: int, offset: int, length: int) -> None:
        assert self._disk is not None
        here = hash((os.getpid(), key, offset)) & 0x7FFF_FFFF_FFFF_FFFF
        after = hash((os.getpid(), key, offset + length)) & 0x7FFF_FFFF_FFFF_FFFF
        wait = length / (self._disk.mb_per_s * 1e6)
        lock = self._disk_lock or _LOCAL_LOCK
        with lock:  # the disk serves one request at a time
            last = self._last if self._position is None else self._position.value
            if last != here:
                wait += self._disk.seek_ms / 1000
            if self._position is None:
                self._last = after
            else:
                self._position.value = after
            time.sleep(wait)


_LOCAL_LOCK = threading.Lock()
_CURRENT = Reader()


def current() -> Reader:
    """The reader of this process (a free one unless a pool installed another)."""
    return _CURRENT


def install(state: tuple[Any, SimulatedDisk | None, Any, Any] | None) -> None:
    """Make the reader rebuilt from ``state`` this process's reader (pool initializer)."""
    global _CURRENT
    _CURRENT = Reader(*state) if state is not None else Reader()


def use(reader: Reader) -> None:
    """Make ``reader`` this process's reader (in-process scans)."""
    global _CURRENT
    _CURRENT = reader


def _io_read_bytes() -> int | None:
    """Bytes this process has read through system calls so far (Linux), or None."""
    try:
        with open("/proc/self/io", "rb") as stream:
            for line in stream.read().splitlines():
                if line.startswith(b"rchar:"):
                    return int(line.split()[1])
    except OSError:
        return None
    return None
