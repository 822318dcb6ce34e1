"""Scanning library folders into the catalog: walk, compare, hash, index.

:func:`scan` is a generator of :class:`Progress` reports whose return value is a
:class:`ScanSummary`, so that the command line prints a bar and the GUI runs it in a
worker thread, both without knowing how it works. It checks ``cancel`` between files
and writes results in batched transactions, so that cancelling at any moment leaves a
consistent catalog and the next scan picks up where this one stopped (the unhashed files
are simply still "new").

The walk recognises images by extension and, for files with an unknown extension, by
their first bytes. It never follows a folder twice (symbolic-link loops, bind mounts),
skips hidden folders unless asked not to, and reports unreadable folders without
forgetting what the catalog knew about their contents. A file is re-hashed only when its
size or modification time changed, when the hashing algorithm did (``HASH_VERSION``), or
when rotation matching is on and the file was hashed without its rotation variants
(their ``variants`` column is NULL: it was scanned while the setting was off).

Hashing runs in a pool of worker processes, one per core: decoding is CPU-bound and
Pillow holds the GIL for much of it. The pool uses the ``forkserver`` method where the
platform has it, preloaded with the hashing module, so that workers start in
milliseconds and never inherit the threads of a running GUI.
"""

from __future__ import annotations

import concurrent.futures as cf
import itertools
import logging
import multiprocessing
import os
import queue
import stat
import threading
import time
from collections import deque
from collections.abc import Callable, Generator, Iterator, Sequence
from concurrent.futures.process import BrokenProcessPool
from dataclasses import dataclass, field

import xxhash

from desktop_app.engine.catalog.store import Catalog, KnownFile, encode_path
from desktop_app.engine.config import EngineConfig
from desktop_app.engine.errors import UsageError
from desktop_app.engine.imaging import budget, hashing, loading, reading
from desktop_app.engine.types import (
    FileFailure,
    ImageFeatures,
    Phase,
    Progress,
    ScanSummary,
)

log = logging.getLogger(__name__)

Hasher = Callable[[str, EngineConfig], ImageFeatures | FileFailure]
Result = ImageFeatures | FileFailure

#: Seconds between progress reports while walking (hashing reports every result).
_WALK_REPORT_EVERY = 0.1
#: Longest a batch of results waits before it is written to the catalog.
_FLUSH_EVERY = 2.0
#: Fewer files than this are hashed in-process: a pool costs more than it saves.
_POOL_MINIMUM = 8


@dataclass(frozen=True, slots=True)
class FoundFile:
    """A file the walk found, with the ``stat`` it was found with."""

    path: str
    size: int
    mtime_ns: int


@dataclass(slots=True)
class _Walk:
    """What walking one root produced besides the files."""

    failures: list[FileFailure] = field(default_factory=list)
    unreadable: list[str] = field(default_factory=list)
    seen_folders: set[tuple[int, int]] = field(default_factory=set)
    seen_files: set[tuple[int, int]] = field(default_factory=set)


def normalise_root(path: str | os.PathLike[str]) -> str:
    """The absolute, symlink-free form of a library folder, as the catalog keys it.

    Raises:
        UsageError: The folder does not exist or is not a folder.
    """
    text = os.path.realpath(os.path.expanduser(os.fspath(path)))
    if not os.path.exists(text):
        raise UsageError(f"No such folder: {os.fspath(path)}")
    if not os.path.isdir(text):
        raise UsageError(f"Not a folder: {os.fspath(path)}")
    return text


def walk(root: str, config: EngineConfig, state: _Walk | None = None) -> Iterator[FoundFile]:
    """Every image file below ``root``, depth first in name order.

    Args:
        root: An absolute folder path.
        config: Which folders to skip and whether to follow symbolic links.
        state: Collects unreadable folders and failures; a fresh one when None.

    Yields:
        The image files found, each once even if reachable through several links.
    """
    state = _Walk() if state is None else state
    stack = [root]
    while stack:
        folder = stack.pop()
        try:
            info = os.stat(folder)
            key = (info.st_dev, info.st_ino)
            if key in state.seen_folders:
                log.debug("Skipping %s: already visited (link loop or duplicate mount)", folder)
                continue
            state.seen_folders.add(key)
            with os.scandir(folder) as listing:
                entries = sorted(listing, key=lambda e: e.name)
        except OSError as error:
            reason = f"folder cannot be read: {error.strerror or error}"
            log.warning("%s: %s", folder, reason)
            state.unreadable.append(folder)
            state.failures.append(FileFailure(folder, 0, 0, reason))
            continue
        subfolders = []
        for entry in entries:
            if config.skip_hidden and entry.name.startswith("."):
                continue
            found = _examine(entry, config, state)
            if isinstance(found, FoundFile):
                yield found
            elif found and entry.name not in config.excluded:
                subfolders.append(entry.path)
        stack.extend(reversed(subfolders))


def _examine(
    entry: os.DirEntry[str], config: EngineConfig, state: _Walk
) -> FoundFile | bool | None:
    """A found image file, True for a folder to descend into, None for anything else."""
    follow = config.follow_symlinks
    try:
        if entry.is_dir(follow_symlinks=follow):
            return True
        info = entry.stat(follow_symlinks=follow)
    except FileNotFoundError:  # vanished, or a dangling link
        return None
    except OSError as error:  # a path too long to stat, a link loop, an I/O error
        extension = os.path.splitext(entry.name)[1].lower()
        if extension in loading.IMAGE_EXTENSIONS:
            reason = f"cannot be read: {error.strerror or error}"
            log.warning("%s: %s", entry.path, reason)
            state.failures.append(FileFailure(entry.path, 0, 0, reason))
        return None
    if not stat.S_ISREG(info.st_mode):
        return None
    extension = os.path.splitext(entry.name)[1].lower()
    if extension in loading.SKIP_EXTENSIONS:
        return None
    if extension not in loading.IMAGE_EXTENSIONS and not loading.looks_like_image(entry.path):
        return None
    key = (info.st_dev, info.st_ino)
    if key in state.seen_files:  # the same file again, through a hard or symbolic link
        return None
    state.seen_files.add(key)
    return FoundFile(entry.path, info.st_size, info.st_mtime_ns)


@dataclass(slots=True)
class _Plan:
    """Files of one scan sorted into what needs doing."""

    todo: list[FoundFile] = field(default_factory=list)
    replaces: dict[str, int] = field(default_factory=dict)
    removed: list[int] = field(default_factory=list)
    unchanged: int = 0
    added: int = 0


def lacking_variants(catalog: Catalog, root: str, limit: int = -1) -> set[str]:
    """Hashed files under ``root`` that have no rotation variants stored.

    Args:
        catalog: The catalog.
        root: A library folder (absolute).
        limit: At most this many (-1: all).

    Returns:
        Their paths.
    """
    low = encode_path(root).rstrip(b"/") + b"/"
    high = low[:-1] + b"0"  # "0" is the byte after "/": every path inside the folder
    rows = catalog.execute(
        "SELECT path FROM images WHERE phash IS NOT NULL AND variants IS NULL"
        " AND path >= ? AND path < ? LIMIT ?",
        (low, high, limit),
    )
    return {os.fsdecode(row[0]) for row in rows}


class _Feed:
    """The walk of all roots, in a thread of its own, sorted into the plan as it goes.

    Hashing starts on the first new file while the walk goes on: :meth:`todo` yields
    the files to hash as they are found, and None every :data:`_WALK_REPORT_EVERY`
    seconds when it has nothing new (so that the caller can report the walk's progress).
    """

    def __init__(
        self,
        roots: Sequence[str],
        config: EngineConfig,
        cancel: threading.Event,
        known: dict[str, KnownFile],
        stale: set[str],
    ) -> None:
        self.plan = _Plan()
        self.found = 0
        self.current: str | None = None
        self.walked = False  # every root walked to the end
        self.failures: list[FileFailure] = []
        self.unreadable: list[str] = []
        self._roots, self._config, self._cancel = roots, config, cancel
        self._known, self._stale = known, stale
        self._stop = threading.Event()
        self._queue: queue.SimpleQueue[FoundFile | None] = queue.SimpleQueue()
        self._thread = threading.Thread(target=self._walk, name="doppel-walk", daemon=True)
        self._thread.start()

    def _walk(self) -> None:
        try:
            for root in self._roots:
                state = _Walk()
                for file in walk(root, self._config, state):
                    self.found += 1
                    self.current = file.path
                    if self._needs_hashing(file):
                        self._queue.put(file)
                    if self._cancel.is_set() or self._stop.is_set():
                        break
                self.failures += state.failures
                self.unreadable += state.unreadable
                if self._cancel.is_set() or self._stop.is_set():
                    return
            # What the walk did not find is gone, unless it sits in a folder we could not read.
            prefixes = tuple(folder.rstrip("/") + "/" for folder in self.unreadable)
            self.plan.removed = [
                k.id for path, k in self._known.items() if not path.startswith(prefixes)
            ]
            self.walked = True
        finally:
            self._queue.put(None)

    def _needs_hashing(self, file: FoundFile) -> bool:
        """Sort a found file into the plan (in the walk's thread): is it new or changed?"""
        plan = self.plan
        old = self._known.pop(file.path, None)
        if old is None:
            plan.added += 1
        elif (
            old.size == file.size
            and old.mtime_ns == file.mtime_ns
            and old.hash_version == hashing.HASH_VERSION
            and file.path not in self._stale
        ):
            plan.unchanged += 1
            return False
        else:
            plan.replaces[file.path] = old.id
        plan.todo.append(file)
        return True

    def close(self) -> None:
        """Stop the walk (if it still runs) and wait for its thread."""
        self._stop.set()
        self._thread.join()

    def todo(self) -> Iterator[FoundFile | None]:
        """The files to hash, as found; None now and then while there are none."""
        while True:
            try:
                file = self._queue.get(timeout=_WALK_REPORT_EVERY)
            except queue.Empty:
                yield None
                continue
            if file is None:
                break
            yield file
        self._thread.join()


def scan(
    catalog: Catalog,
    roots: Sequence[str],
    config: EngineConfig,
    cancel: threading.Event | None = None,
    *,
    hasher: Hasher = hashing.hash_file,
) -> Generator[Progress, None, ScanSummary]:
    """Bring the catalog up to date with the photos in ``roots``.

    Hashing starts while the walk still runs. Cancelling keeps every file hashed so far,
    and removes nothing from the catalog (the walk did not see everything).

    Args:
        catalog: An open catalog; this generator is its only writer while it runs.
        roots: Library folders (absolute, see :func:`normalise_root`).
        config: Scan and hashing settings.
        cancel: Set it (from any thread) to stop after the files in progress.
        hasher: Hashes one file; a top-level function, as it runs in worker processes.

    Yields:
        Progress reports: while the walk runs, a few per second (WALKING) and one per
        file hashed (HASHING, with no total until the walk ends); then one per file.

    Returns:
        What changed in the catalog, and the files that could not be read.
    """
    cancel = cancel or threading.Event()
    started = time.monotonic()
    known: dict[str, KnownFile] = {}
    stale: set[str] = set()
    for root in roots:
        catalog.add_root(root)
        known.update(catalog.known_files(root))
        if config.rotations:  # hashed while the setting was off: hash again, with variants
            stale |= lacking_variants(catalog, root)
    feed = _Feed(roots, config, cancel, known, stale)
    try:
        return (yield from _run(catalog, roots, config, cancel, hasher, feed, started))
    finally:
        feed.close()


def _run(
    catalog: Catalog,
    roots: Sequence[str],
    config: EngineConfig,
    cancel: threading.Event,
    hasher: Hasher,
    feed: _Feed,
    started: float,
) -> Generator[Progress, None, ScanSummary]:
    """The body of :func:`scan` once the walk has started."""
    plan = feed.plan
    failures: list[FileFailure] = []
    readers = reading.readers_for(list(roots), config.workers, config.readers)
    done = 0
    pending: list[Result] = []
    flushed = time.monotonic()
    hash_started = time.monotonic()
    for result in _hash_all(feed.todo(), config, cancel, hasher, readers):
        now = time.monotonic()
        if result is None:
            if not done:
                yield Progress(Phase.WALKING, feed.found, None, feed.current)
            continue
        done += 1
        if isinstance(result, FileFailure) and not result.gone:
            failures.append(result)
            log.warning("%s: %s", result.path, result.reason)
        pending.append(result)
        if len(pending) >= config.batch_size or now - flushed >= _FLUSH_EVERY:
            _flush(catalog, pending, plan.replaces)
            flushed = now
        total = len(plan.todo) if feed.walked else None
        rate = done / max(now - hash_started, 1e-6)
        eta = (total - done) / rate if total is not None and rate > 0 else None
        yield Progress(
            Phase.HASHING, done, total, result.path, rate, eta,
            failed=len(failures) + len(feed.failures),
        )  # fmt: skip
    _flush(catalog, pending, plan.replaces)
    failures = feed.failures + failures
    cancelled = cancel.is_set() or not feed.walked
    if not cancelled:
        catalog.remove(plan.removed)
        yield from digest_same_sizes(catalog, config, cancel)
    catalog.index.sync()
    cancelled = cancelled or cancel.is_set()
    if not cancelled:
        finished = time.time_ns()
        for root in roots:
            catalog.mark_scanned(root, finished)
    return _summary(roots, plan, failures, cancelled, started, hashed=done)


def digest_same_sizes(
    catalog: Catalog, config: EngineConfig, cancel: threading.Event
) -> Generator[Progress, None, int]:
    """Digest the files hashed without one (camera RAW files, see
    :func:`hashing.reads_whole_file`) that share their size with another file.

    Only these can be byte-identical to another photo; the rest keep no digest and are
    never read whole. Reads one file at a time, the best order for any disk.

    Returns:
        How many files were digested.
    """
    wanted = catalog.undigested_same_size()
    if not wanted:
        return 0
    reader = reading.Reader(disk=config.simulated_disk)
    digests: list[tuple[int, int, bytes]] = []
    for done, (image_id, path, size, mtime_ns) in enumerate(wanted, 1):
        if cancel.is_set():
            break
        try:
            with open(path, "rb", buffering=0) as file:
                data = reader.read_all(file.fileno(), image_id)
                after = os.fstat(file.fileno())
        except OSError as error:
            log.warning("%s: cannot be read for its digest: %s", path, error)
            continue
        if (after.st_size, after.st_mtime_ns) == (size, mtime_ns) == (len(data), mtime_ns):
            digests.append((image_id, mtime_ns, xxhash.xxh3_128(data).digest()))
        yield Progress(Phase.HASHING, done, len(wanted), path)
    catalog.set_digests(digests)
    log.info("Digested %d files that share their size with another", len(digests))
    return len(digests)


def _flush(catalog: Catalog, pending: list[Result], replaces: dict[str, int]) -> None:
    if not pending:
        return
    superseded = [replaces[r.path] for r in pending if r.path in replaces]
    catalog.add_results(pending, hashing.HASH_VERSION, replace=superseded)
    pending.clear()


def _summary(
    roots: Sequence[str],
    plan: _Plan,
    failures: list[FileFailure],
    cancelled: bool,
    started: float,
    hashed: int | None = None,
) -> ScanSummary:
    updated = len(plan.replaces)
    added = plan.added
    if hashed is not None and hashed < len(plan.todo):  # cancelled part-way
        added = min(added, hashed)
        updated = min(updated, hashed - added)
    return ScanSummary(
        roots=tuple(roots),
        added=added,
        updated=updated,
        removed=len(plan.removed),
        unchanged=plan.unchanged,
        failures=tuple(failures),
        cancelled=cancelled,
        seconds=time.monotonic() - started,
    )


def _hash_all(
    files: Iterator[FoundFile | None],
    config: EngineConfig,
    cancel: threading.Event,
    hasher: Hasher,
    readers: int,
) -> Iterator[Result | None]:
    """Hash ``files``, in a process pool when it pays, yielding results as they come
    (and the stream's None ticks, passed through, while it waits for the walk).

    A decoder that crashes its process (a native library meeting a malformed file) must
    cost that one file, not the scan: when the pool breaks, the files it had in hand are
    hashed again one per process, the one that crashes again is recorded as a failure,
    and a fresh pool takes the rest.
    """
    first: list[FoundFile] = []
    for item in files:  # a pool costs more than it saves on a handful of files
        if item is None:
            yield None
            continue
        first.append(item)
        if len(first) >= _POOL_MINIMUM:
            break
    if config.workers == 0 or len(first) < _POOL_MINIMUM:
        previous = reading.current()
        reading.use(reading.Reader(disk=config.simulated_disk))
        try:
            for file in itertools.chain(first, files):
                if cancel.is_set():
                    return
                yield None if file is None else hasher(file.path, config)
        finally:
            reading.use(previous)
        return
    stream: Iterator[FoundFile | None] = itertools.chain(first, files)
    context = _context()
    reader = reading.Reader.shared(readers, config.simulated_disk, context)
    memory = budget.MemoryBudget.shared(config.memory_budget or budget.default_budget(), context)
    resources = (reader.state(), memory.state())
    while not cancel.is_set():
        lost = yield from _pooled(stream, config, cancel, hasher, resources)
        if not lost:
            return
        log.warning("A hashing process crashed; checking its %d files one at a time", len(lost))
        for file in lost:
            if cancel.is_set():
                return
            yield _isolated(file, config, hasher)


def _pooled(
    files: Iterator[FoundFile | None],
    config: EngineConfig,
    cancel: threading.Event,
    hasher: Hasher,
    resources: tuple[object, object],
) -> Generator[Result | None, None, list[FoundFile]]:
    """Hash ``files`` in a pool; return the files lost to a crashed worker (none: done).

    The files lost are those submitted and not reported: they were in the pool's hands
    when a worker died, and their results, if any, are not trusted.
    """
    with cf.ProcessPoolExecutor(
        max_workers=config.workers,
        mp_context=_context(),
        initializer=_start_worker,
        initargs=resources,
    ) as pool:
        # A bounded window of tasks in flight: results stream back in submission order
        # within the window, cancelling drops only what was not started, and memory stays
        # flat however large the library.
        window: deque[tuple[list[FoundFile], cf.Future[list[Result]]]] = deque()
        sizes = _Sizes()
        exhausted = False
        try:
            while True:
                if not exhausted and len(window) < 2 * config.workers:
                    batch, exhausted, ticks = _take(files, sizes.chunk())
                    if ticks:
                        yield None
                    if batch:
                        sizes.add(batch)
                        window.append((batch, pool.submit(
                            _hash_batch, [f.path for f in batch], config, hasher
                        )))  # fmt: skip
                        continue
                    if ticks and not (window and window[0][1].done()):
                        continue
                if not window:
                    break
                batch, oldest = window[0]
                results = oldest.result()
                window.popleft()
                yield from results
                if cancel.is_set():
                    return []
        except BrokenProcessPool:
            return [file for batch, _ in window for file in batch]
        finally:
            for _, pending in window:
                pending.cancel()
    return []


class _Sizes:
    """Files per task from the sizes seen so far: about 4 MB of photos, at most 16."""

    def __init__(self) -> None:
        self.count = 0
        self.total = 0

    def add(self, batch: list[FoundFile]) -> None:
        self.count += len(batch)
        self.total += sum(f.size for f in batch)

    def chunk(self) -> int:
        if not self.count:
            return 1
        mean = self.total / self.count
        return max(1, min(16, int(4_000_000 // max(mean, 1))))


def _take(files: Iterator[FoundFile | None], chunk: int) -> tuple[list[FoundFile], bool, int]:
    """Up to ``chunk`` files from the stream: (files, stream ended, ticks met: 0 or 1).

    Stops early at a tick, so that a slow walk never keeps found files from the workers
    nor results from the caller.
    """
    batch: list[FoundFile] = []
    for item in files:
        if item is None:
            return batch, False, 1
        batch.append(item)
        if len(batch) >= chunk:
            return batch, False, 0
    return batch, True, 0


def _start_worker(reader_state: object, memory_state: object) -> None:
    reading.install(reader_state)  # type: ignore[arg-type]
    budget.install(memory_state)  # type: ignore[arg-type]


def _isolated(file: FoundFile, config: EngineConfig, hasher: Hasher) -> Result:
    """Hash one file in a process of its own; a crash there is this file's failure."""
    with cf.ProcessPoolExecutor(max_workers=1, mp_context=_context()) as pool:
        try:
            return pool.submit(_hash_batch, [file.path], config, hasher).result()[0]
        except BrokenProcessPool:
            return FileFailure(
                file.path, file.size, file.mtime_ns, "the image decoder crashed on this file"
            )


def _hash_batch(paths: list[str], config: EngineConfig, hasher: Hasher) -> list[Result]:
    return [hasher(path, config) for path in paths]


_CONTEXT: multiprocessing.context.BaseContext | None = None


def _context() -> multiprocessing.context.BaseContext:
    global _CONTEXT
    if _CONTEXT is None:
        if "forkserver" in multiprocessing.get_all_start_methods():
            context = multiprocessing.get_context("forkserver")
            context.set_forkserver_preload(["desktop_app.engine.imaging.hashing"])
            _CONTEXT = context
        else:
            _CONTEXT = multiprocessing.get_context("spawn")
    return _CONTEXT
