"""The hashing pool: worker processes fed from the walk as it goes, sharing a reader
gate and a memory budget.

Hashing runs in a pool of worker processes, one per core: decoding is CPU-bound and
Pillow holds the GIL for much of it. The pool uses the ``forkserver`` method where the
platform has it, preloaded with the hashing module, so that workers start in
milliseconds and never inherit the threads of a running GUI. Every worker gets, at its
start, the pool's :class:`~desktop_app.engine.imaging.reading.Reader` (at most
``readers`` of them read at once: one on a spinning disk or a network share) and its
:class:`~desktop_app.engine.imaging.budget.MemoryBudget`.
"""

from __future__ import annotations

import concurrent.futures as cf
import itertools
import logging
import multiprocessing
import threading
from collections import deque
from collections.abc import Generator, Iterator, Sequence
from concurrent.futures.process import BrokenProcessPool
from typing import Protocol, TypeVar

from desktop_app.engine.config import EngineConfig
from desktop_app.engine.imaging import budget, reading
from desktop_app.engine.scan.files import FoundFile, Hasher, Result
from desktop_app.engine.types import FileFailure

log = logging.getLogger(__name__)

#: Fewer files than this are hashed in-process: a pool costs more than it saves.
POOL_MINIMUM = 8


class _HasPath(Protocol):
    @property
    def path(self) -> str: ...
    @property
    def size(self) -> int: ...
    @property
    def mtime_ns(self) -> int: ...


_File = TypeVar("_File", bound=_HasPath)


def hash_all(
    files: Iterator[_File | None],
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
    and a fresh pool takes the rest. With ``config.dask`` set, the files are hashed on
    that Dask cluster's workers instead (``dask_pool.py``), once the walk has listed them.
    """
    if config.dask:
        yield from _on_dask(files, config, cancel, hasher)
        return
    first: list[_File] = []
    for item in files:  # a pool costs more than it saves on a handful of files
        if item is None:
            yield None
            continue
        first.append(item)
        if len(first) >= POOL_MINIMUM:
            break
    if config.workers == 0 or len(first) < POOL_MINIMUM:
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
    stream: Iterator[_File | None] = itertools.chain(first, files)
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
    files: Iterator[_File | None],
    config: EngineConfig,
    cancel: threading.Event,
    hasher: Hasher,
    resources: tuple[object, object],
) -> Generator[Result | None, None, list[_File]]:
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
        window: deque[tuple[list[_File], cf.Future[list[Result]]]] = deque()
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

    def add(self, batch: Sequence[_HasPath]) -> None:
        self.count += len(batch)
        self.total += sum(f.size for f in batch)

    def chunk(self) -> int:
        if not self.count:
            return 1
        mean = self.total / self.count
        return max(1, min(16, int(4_000_000 // max(mean, 1))))


def _take(files: Iterator[_File | None], chunk: int) -> tuple[list[_File], bool, int]:
    """Up to ``chunk`` files from the stream: (files, stream ended, ticks met: 0 or 1).

    Stops early at a tick, so that a slow walk never keeps found files from the workers
    nor results from the caller.
    """
    batch: list[_File] = []
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


def _isolated(file: _File, config: EngineConfig, hasher: Hasher) -> Result:
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


def _on_dask(
    files: Iterator[_File | None], config: EngineConfig, cancel: threading.Event, hasher: Hasher
) -> Iterator[Result | None]:
    """Hash on a Dask cluster: the files the walk lists, in batches of about 4 MB."""
    from desktop_app.engine.scan import dask_pool

    listed: list[FoundFile] = []
    for item in files:
        if item is None:
            yield None
        else:
            listed.append(FoundFile(item.path, item.size, item.mtime_ns))
    sizes = _Sizes()
    sizes.add(listed)
    yield from dask_pool.hash_files(listed, config, cancel, hasher, sizes.chunk())
