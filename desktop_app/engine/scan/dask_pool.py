"""Hashing a scan's files on the workers of a Dask distributed cluster.

``EngineConfig.dask = "tcp://scheduler:8786"`` makes :func:`scanner.scan` hand its
files to this module instead of the local process pool. The files must be on storage the
workers see at the same paths (an NFS or SMB share, a cluster file system): a worker
reads and hashes them where they are, and only the features (a few hundred bytes per
photo) travel back. The scan stays on this machine and keeps writing the catalog, so
cancelling, progress and resuming behave as they do locally:

* files go out in batches (the local pool's rule, ``pool._Sizes``: about 4 MB of photos
  each), at most two batches per worker thread in flight, and results are yielded in
  the order the files were listed, batch by batch, as they come back;
* cancelling stops submitting, cancels the batches not yet started and returns; the
  files not reported are still "new" for the next scan, as after a local cancel;
* a batch whose worker died (Dask retries a task on another worker first) is sent again
  one file per task, and the file that still kills its worker is recorded as a failure,
  like a decoder crash in the local pool.

distributed is imported only here, and only when the setting names a scheduler: it comes
with the ``scale`` extra.
"""

from __future__ import annotations

import logging
import threading
from collections import deque
from collections.abc import Generator, Sequence
from typing import Any

from desktop_app.engine.config import EngineConfig
from desktop_app.engine.errors import UsageError
from desktop_app.engine.scan.files import FoundFile, Hasher, Result
from desktop_app.engine.types import FileFailure

log = logging.getLogger(__name__)


#: Seconds to wait for the scheduler before giving up.
CONNECT_TIMEOUT = 20.0


def connect(address: str) -> Any:
    """A Dask client of the scheduler at ``address``.

    Raises:
        UsageError: distributed is not installed or the scheduler cannot be reached.
    """
    try:
        from distributed import Client
    except ImportError as error:
        raise UsageError(
            "Hashing on a Dask cluster needs the optional dependencies: "
            "pip install 'doppel[scale]'."
        ) from error
    try:
        return Client(address, timeout=CONNECT_TIMEOUT, set_as_default=False)  # type: ignore[no-untyped-call]
    except (OSError, TimeoutError) as error:
        raise UsageError(f"Cannot reach the Dask scheduler at {address}: {error}") from error


def _hash_batch(paths: list[str], config: EngineConfig, hasher: Hasher) -> list[Result]:
    return [hasher(path, config) for path in paths]


def hash_files(
    files: Sequence[FoundFile],
    config: EngineConfig,
    cancel: threading.Event,
    hasher: Hasher,
    chunk: int,
) -> Generator[Result, None, None]:
    """Hash ``files`` on the cluster ``config.dask`` names, yielding results in order.

    Args:
        files: The files to hash, as the walk found them.
        config: Hashing settings (sent to the workers) and the scheduler's address.
        cancel: Set it to stop after the batches in hand.
        hasher: Hashes one file; it runs on the workers.
        chunk: Files per batch.
    """
    assert config.dask is not None
    client = connect(config.dask)
    try:
        threads = sum(client.nthreads().values()) or 1
        log.info("Hashing %d files on %s (%d worker threads)", len(files), config.dask, threads)
        window: deque[tuple[Sequence[FoundFile], Any]] = deque()
        starts = iter(range(0, len(files), chunk))
        try:
            while True:
                start = next(starts, None) if len(window) < 2 * threads else None
                if start is not None and not cancel.is_set():
                    batch = files[start : start + chunk]
                    paths = [f.path for f in batch]
                    future = client.submit(_hash_batch, paths, config, hasher, pure=False)
                    window.append((batch, future))
                    continue
                if not window:
                    break
                batch, oldest = window.popleft()
                yield from _collect(client, batch, oldest, config, hasher)
                if cancel.is_set():
                    return
        finally:
            for _, pending in window:
                pending.cancel()
    finally:
        client.close()


def _collect(
    client: Any, batch: Sequence[FoundFile], future: Any, config: EngineConfig, hasher: Hasher
) -> list[Result]:
    """The results of one batch; a batch that kept killing workers is split into files."""
    from distributed import KilledWorker

    try:
        return list(future.result())
    except KilledWorker:
        log.warning("A Dask worker died on a batch; hashing its %d files one by one", len(batch))
    out: list[Result] = []
    for file in batch:
        single = client.submit(_hash_batch, [file.path], config, hasher, pure=False)
        try:
            out += single.result()
        except KilledWorker:
            out.append(
                FileFailure(
                    file.path, file.size, file.mtime_ns, "the image decoder crashed on this file"
                )
            )
    return out
