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
import dataclasses
import logging
import multiprocessing
import os
import stat
import threading
import time
from collections import deque
from collections.abc import Generator, Iterator, Sequence
from concurrent.futures.process import BrokenProcessPool
from dataclasses import dataclass, field

from desktop_app.engine.catalog import sidecar_table
from desktop_app.engine.catalog.store import Catalog, KnownFile
from desktop_app.engine.config import EngineConfig
from desktop_app.engine.errors import UsageError
from desktop_app.engine.imaging import hashing, loading, sidecar_files
from desktop_app.engine.scan.exclusions import Exclusions
from desktop_app.engine.scan.files import FoundFile, Hasher, Result
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
#: Fewer files than this are hashed in-process: a pool costs more than it saves.
_POOL_MINIMUM = 8


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


def _plan(
    found: Sequence[FoundFile],
    known: dict[str, KnownFile],
    unreadable: Sequence[str],
    hash_version: int,
    stale: set[str] | None = None,
) -> _Plan:
    plan = _Plan()
    stale = stale or set()
    for file in found:
        old = known.pop(file.path, None)
        if old is None:
            plan.todo.append(file)
            plan.added += 1
        elif (
            old.size == file.size
            and old.mtime_ns == file.mtime_ns
            and old.hash_version == hash_version
            and file.path not in stale
        ):
            plan.unchanged += 1
        else:
            plan.todo.append(file)
            plan.replaces[file.path] = old.id
    # What the walk did not find is gone, unless it sits in a folder we could not read.
    prefixes = tuple(folder.rstrip("/") + "/" for folder in unreadable)
    plan.removed = [k.id for path, k in known.items() if not path.startswith(prefixes)]
    return plan


def scan(
    catalog: Catalog,
    roots: Sequence[str],
    config: EngineConfig,
    cancel: threading.Event | None = None,
    *,
    hasher: Hasher | None = None,
) -> Generator[Progress, None, ScanSummary]:
    """Bring the catalog up to date with the photos in ``roots``.

    Args:
        catalog: An open catalog; this generator is its only writer while it runs.
        roots: Library folders (absolute, see :func:`normalise_root`).
        config: Scan and hashing settings.
        cancel: Set it (from any thread) to stop after the files in progress.
        hasher: Hashes one file; a top-level function, as it runs in worker processes.
            :func:`hashing.hash_file` when None, looked up at each call (so that a test
            replacing it sees every file the scan reads).

    Yields:
        Progress reports, a few per second at most while walking and one per file
        while hashing.

    Returns:
        What changed in the catalog, and the files that could not be read.
    """
    cancel = cancel or threading.Event()
    hasher = hashing.hash_file if hasher is None else hasher
    started = time.monotonic()
    failures: list[FileFailure] = []
    found: list[FoundFile] = []
    known: dict[str, KnownFile] = {}
    unreadable: list[str] = []
    stale: set[str] = set()
    skipped: list[str] = []
    offline: list[str] = []
    last = 0.0
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
            known.update(known_here)
            continue
        known.update(known_here)
        if config.rotations:  # hashed while the setting was off: hash again, with variants
            stale |= catalog.lacking_variants([root])
        state = _Walk()
        for file in walk(root, config, state):
            found.append(file)
            if cancel.is_set():
                break
            now = time.monotonic()
            if now - last >= _WALK_REPORT_EVERY:
                last = now
                yield Progress(Phase.WALKING, len(found), None, file.path)
        failures += state.failures
        unreadable += state.unreadable
        skipped += state.skipped
        if cancel.is_set():
            break
    if cancel.is_set():
        summary = _summary(roots, _Plan(), failures, True, started)
        return dataclasses.replace(summary, skipped=tuple(skipped), offline=tuple(offline))
    plan = _plan(found, known, unreadable, hashing.HASH_VERSION, stale)
    catalog.remove(plan.removed)
    _record_sidecars(catalog, found)
    yield Progress(Phase.HASHING, 0, len(plan.todo), None, failed=len(failures))

    done = 0
    pending: list[Result] = []
    flushed = time.monotonic()
    hash_started = time.monotonic()
    for result in _hash_all(plan.todo, config, cancel, hasher):
        done += 1
        if isinstance(result, FileFailure) and not result.gone:
            failures.append(result)
            log.warning("%s: %s", result.path, result.reason)
        pending.append(result)
        now = time.monotonic()
        if len(pending) >= config.batch_size or now - flushed >= _FLUSH_EVERY:
            _flush(catalog, pending, plan.replaces)
            flushed = now
        rate = done / max(now - hash_started, 1e-6)
        eta = (len(plan.todo) - done) / rate if rate > 0 else None
        yield Progress(
            Phase.HASHING, done, len(plan.todo), result.path, rate, eta, failed=len(failures)
        )
    _flush(catalog, pending, plan.replaces)
    catalog.index.sync()
    cancelled = cancel.is_set()
    if not cancelled:
        finished = time.time_ns()
        for root in roots:
            if root not in offline:
                catalog.mark_scanned(root, finished)
    summary = _summary(roots, plan, failures, cancelled, started, hashed=done)
    return dataclasses.replace(summary, skipped=tuple(skipped), offline=tuple(offline))


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


def _record_sidecars(catalog: Catalog, found: Sequence[FoundFile]) -> None:
    """Remember the sidecars beside each photo found (one listing per folder)."""
    photos = [f.path for f in found]
    sidecar_table.record(catalog, photos, sidecar_files.with_kinds(photos))


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
    files: Sequence[FoundFile], config: EngineConfig, cancel: threading.Event, hasher: Hasher
) -> Iterator[Result]:
    """Hash ``files``, in a process pool when it pays, yielding results as they come.

    A decoder that crashes its process (a native library meeting a malformed file) must
    cost that one file, not the scan: when the pool breaks, the files it had in hand are
    hashed again one per process, the one that crashes again is recorded as a failure,
    and a fresh pool takes the rest. With ``config.dask`` set, the files are hashed on
    that Dask cluster's workers instead (``dask_pool.py``).
    """
    if config.dask:
        from desktop_app.engine.scan import dask_pool

        chunk = _chunk_size(files, 1)
        yield from dask_pool.hash_files(files, config, cancel, hasher, chunk)
        return
    if config.workers == 0 or len(files) < _POOL_MINIMUM:
        for file in files:
            if cancel.is_set():
                return
            yield hasher(file.path, config)
        return
    start = 0
    while start < len(files) and not cancel.is_set():
        outcome = yield from _pooled(files[start:], config, cancel, hasher)
        done, lost = outcome
        if not lost:
            return
        log.warning("A hashing process crashed; checking its %d files one at a time", lost)
        for file in files[start + done : start + done + lost]:
            if cancel.is_set():
                return
            yield _isolated(file, config, hasher)
        start += done + lost


def _pooled(
    files: Sequence[FoundFile], config: EngineConfig, cancel: threading.Event, hasher: Hasher
) -> Generator[Result, None, tuple[int, int]]:
    """Hash ``files`` in a pool; return (files reported, files lost to a crashed worker).

    The files lost are the ones after those reported: they were in the pool's hands when
    a worker died, and their results, if any, are not trusted.
    """
    reported = 0
    with cf.ProcessPoolExecutor(max_workers=config.workers, mp_context=_context()) as pool:
        # A bounded window of tasks in flight: results stream back in submission order
        # within the window, cancelling drops only what was not started, and memory stays
        # flat however large the library.
        window: deque[tuple[int, cf.Future[list[Result]]]] = deque()
        chunk = _chunk_size(files, config.workers)
        starts = iter(range(0, len(files), chunk))
        in_hand = 0
        try:
            while True:
                start = next(starts, None) if len(window) < 2 * config.workers else None
                if start is not None:
                    batch = files[start : start + chunk]
                    in_hand += len(batch)  # counted before submit, which fails on a broken pool
                    future = pool.submit(_hash_batch, [f.path for f in batch], config, hasher)
                    window.append((len(batch), future))
                    continue
                if not window:
                    break
                size, oldest = window.popleft()
                yield from oldest.result()
                reported += size
                in_hand -= size
                if cancel.is_set():
                    return reported, 0
        except BrokenProcessPool:
            return reported, in_hand
        finally:
            for _, pending in window:
                pending.cancel()
    return reported, 0


def _isolated(file: FoundFile, config: EngineConfig, hasher: Hasher) -> Result:
    """Hash one file in a process of its own; a crash there is this file's failure."""
    with cf.ProcessPoolExecutor(max_workers=1, mp_context=_context()) as pool:
        try:
            return pool.submit(_hash_batch, [file.path], config, hasher).result()[0]
        except BrokenProcessPool:
            return FileFailure(
                file.path, file.size, file.mtime_ns, "the image decoder crashed on this file"
            )


def _chunk_size(files: Sequence[FoundFile], workers: int) -> int:
    """Files per task: small enough to cancel quickly, large enough to amortise IPC."""
    mean = sum(f.size for f in files) / max(len(files), 1)
    chunk = max(1, int(4_000_000 // max(mean, 1)))  # about 4 MB of photos per task
    return max(1, min(chunk, 16, len(files) // (4 * workers) or 1))


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
