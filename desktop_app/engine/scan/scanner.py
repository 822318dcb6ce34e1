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

The walk runs in a thread of its own and hashing starts on the first new file it finds
(``pool.py``: worker processes, one per core, of which one reads at a time on a spinning
disk or a network share); a cancelled walk keeps what was hashed and removes nothing.
Camera RAW files are read only as far as their preview; the files that share their size
with another are digested at the end (:func:`digest_same_sizes`), as only they can be
byte-identical.
"""

from __future__ import annotations

import dataclasses
import logging
import os
import queue
import stat
import threading
import time
from collections.abc import Generator, Iterator, Sequence
from dataclasses import dataclass, field

import xxhash

from desktop_app.engine.catalog import sidecar_table
from desktop_app.engine.catalog.store import Catalog, KnownFile
from desktop_app.engine.config import EngineConfig
from desktop_app.engine.errors import UsageError
from desktop_app.engine.imaging import hashing, loading, sidecar_files
from desktop_app.engine.imaging.reading import Reader, readers_for
from desktop_app.engine.scan.exclusions import Exclusions
from desktop_app.engine.scan.files import FoundFile, Hasher, Result
from desktop_app.engine.scan.pool import hash_all as _hash_all
from desktop_app.engine.types import (
    FileFailure,
    Phase,
    Progress,
    ScanSummary,
)

log = logging.getLogger(__name__)

#: Seconds between progress reports while walking (hashing reports every result).
_WALK_REPORT_EVERY = 0.1
#: Longest a batch of results waits before it is written to the catalog.
_FLUSH_EVERY = 2.0


@dataclass(slots=True)
class _Walk:
    """What walking one root produced besides the files."""

    failures: list[FileFailure] = field(default_factory=list)
    unreadable: list[str] = field(default_factory=list)
    seen_folders: set[tuple[int, int]] = field(default_factory=set)
    seen_files: set[tuple[int, int]] = field(default_factory=set)
    skipped: list[str] = field(default_factory=list)


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
    exclusions = Exclusions.of(config)
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
            if exclusions.match(entry.path):  # another application's library, or the user's
                log.debug("Skipping %s: excluded", entry.path)
                state.skipped.append(entry.path)
                continue
            found = _examine(entry, config, state)
            if isinstance(found, FoundFile):
                yield found
            elif found:
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
        self.skipped: list[str] = []
        self.paths: list[str] = []  # every file found, for its sidecars
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
                    self.paths.append(file.path)
                    if self._needs_hashing(file):
                        self._queue.put(file)
                    if self._cancel.is_set() or self._stop.is_set():
                        break
                self.failures += state.failures
                self.unreadable += state.unreadable
                self.skipped += state.skipped
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
    hasher: Hasher | None = None,
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
            :func:`hashing.hash_file` when None, looked up at each call (so that a test
            replacing it sees every file the scan reads).

    Yields:
        Progress reports: while the walk runs, a few per second (WALKING) and one per
        file hashed (HASHING, with no total until the walk ends); then one per file.

    Returns:
        What changed in the catalog, and the files that could not be read.
    """
    cancel = cancel or threading.Event()
    hasher = hashing.hash_file if hasher is None else hasher
    started = time.monotonic()
    known: dict[str, KnownFile] = {}
    stale: set[str] = set()
    offline: list[str] = []
    forgotten: list[str] = []
    for root in roots:
        catalog.add_root(root)
        known_here = catalog.known_files(root)
        if known_here and is_offline(root):
            if not config.forget_missing:  # an unplugged drive: keep what it had
                log.warning(
                    "%s is missing or empty: its %d catalogued files are kept as offline",
                    root, len(known_here),
                )  # fmt: skip
                offline.append(root)
                continue
            log.info("%s is missing or empty: forgetting its %d files", root, len(known_here))
            known.update(known_here)  # not walked: the plan removes every one of them
            forgotten.append(root)
            continue
        known.update(known_here)
        if config.rotations:  # hashed while the setting was off: hash again, with variants
            stale |= catalog.lacking_variants([root])
    online = [r for r in roots if r not in offline and r not in forgotten]
    feed = _Feed(online, config, cancel, known, stale)
    try:
        summary = yield from _run(catalog, online, config, cancel, hasher, feed, started)
    finally:
        feed.close()
    return dataclasses.replace(
        summary, roots=tuple(roots), skipped=tuple(feed.skipped), offline=tuple(offline)
    )


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
    readers = readers_for(list(roots), config.workers, config.readers)
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
        _record_sidecars(catalog, feed.paths)
        yield from digest_same_sizes(catalog, config, cancel)
    catalog.index.sync()
    cancelled = cancelled or cancel.is_set()
    if not cancelled:
        finished = time.time_ns()
        for root in roots:
            catalog.mark_scanned(root, finished)
    return _summary(roots, plan, failures, cancelled, started, hashed=done)


def is_offline(root: str) -> bool:
    """Whether the library folder ``root`` is missing, unreadable or empty.

    An unplugged drive or an unmounted share leaves exactly that: no folder, or an
    empty mount point. A folder that holds anything at all is online.
    """
    try:
        with os.scandir(root) as listing:
            return next(iter(listing), None) is None
    except OSError:
        return True


def _record_sidecars(catalog: Catalog, photos: Sequence[str]) -> None:
    """Remember the sidecars beside each photo found (one listing per folder)."""
    sidecar_table.record(catalog, photos, sidecar_files.with_kinds(photos))


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
    reader = Reader(disk=config.simulated_disk)
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
