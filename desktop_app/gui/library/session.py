"""One open library as the window sees it: pairs, grouping, summary, background jobs.

:class:`LibrarySession` sits between the window and the engine. It keeps a
:class:`~desktop_app.engine.library.Library` for reads on the GUI thread, and gives
every background job (scan, pair search, query) a factory that opens another Library in
the worker thread, since a Library holds one SQLite connection and belongs to its thread.
Jobs that write to the catalog (scan, pair search) share the index controller's single
thread, so there is only one writer at a time; queries run on their own thread.

The threshold slider regroups from the pairs already loaded, debounced
(:data:`REGROUP_DELAY_MS`); :class:`~desktop_app.gui.groups.regroup.Regrouper` decides where
that runs and keeps the results. If the slider goes beyond what the loaded pairs reach
(libraries above the engine's full-reach limit), the pairs are searched again off the
GUI thread first.
"""

from __future__ import annotations

import dataclasses
import gc
import logging
import os
from collections.abc import Callable, Mapping, Sequence
from dataclasses import dataclass
from pathlib import Path

import numpy as np
from PySide6.QtCore import QObject, QTimer, Signal

from desktop_app.engine.config import MAX_THRESHOLD, EngineConfig
from desktop_app.engine.library import Library, default_catalog_path
from desktop_app.engine.types import (
    FileFailure,
    Group,
    Grouping,
    ImageRecord,
    PairSet,
    QueryResult,
    ScanSummary,
)
from desktop_app.gui.common.workers import IndexController, TaskRunner, describe_error
from desktop_app.gui.groups.regroup import Regrouper

log = logging.getLogger(__name__)

#: Quiet time after the last slider move before regrouping.
REGROUP_DELAY_MS = 120


@dataclass(frozen=True, slots=True)
class Summary:
    """The summary line: groups, extra copies and the disk space they take."""

    photos: int
    groups: int
    extra_copies: int
    extra_bytes: int
    threshold: int


def extra_bytes(grouping: Grouping, sizes: np.ndarray) -> int:
    """Bytes taken by every member of every group but its largest file.

    Args:
        grouping: The groups.
        sizes: File size by image id.
    """
    if len(grouping) == 0:
        return 0
    member_sizes = sizes[grouping.members]
    starts = grouping.offsets[:-1]
    total = np.add.reduceat(member_sizes, starts)
    largest = np.maximum.reduceat(member_sizes, starts)
    return int((total - largest).sum())


def offline_text(folders: Sequence[str]) -> str:
    """The status bar's line about library folders that are missing or empty."""
    names = ", ".join(folders)
    return (
        f"Offline (missing or empty; a drive not plugged in?): {names}. Their photos are "
        "kept; View › Forget Photos of Offline Folders forgets them."
    )


class LibrarySession(QObject):
    """The library open in the window, and the work running on it.

    Args:
        catalog: The catalog file (None: the default location).
        config: Engine settings for scans and queries.
        parent: Owner.

    Signals:
        opened(tuple): A library was opened (its folders).
        grouping_changed(object): New groups are ready (a Grouping, or None when closed).
        summary_changed(object): The summary line changed (a :class:`Summary`).
        histogram_changed(list, int): Pair counts by distance, and how far they reach.
        failures_changed(list): Files of the library that could not be read.
        status(str): A short message for the status bar.
        error(str, object): A job failed: the message and the exception.
        query_ready(object): A :class:`QueryResult` arrived.
        query_failed(str, object): A query could not run (not an image...).
        busy_changed(bool): Pairs are being loaded or searched.
        closing(): The library is about to close (its catalog is still open, the scan
            stopped when the window quits): the last moment to keep something in it.
    """

    opened = Signal(tuple)
    grouping_changed = Signal(object)
    summary_changed = Signal(object)
    histogram_changed = Signal(list, int)
    failures_changed = Signal(list)
    status = Signal(str)
    error = Signal(str, object)
    query_ready = Signal(object)
    query_failed = Signal(str, object)
    busy_changed = Signal(bool)
    closing = Signal()

    def __init__(
        self,
        catalog: str | os.PathLike[str] | None = None,
        config: EngineConfig | None = None,
        parent: QObject | None = None,
    ) -> None:
        super().__init__(parent)
        self.catalog_path = Path(catalog) if catalog is not None else default_catalog_path()
        self.config = config or EngineConfig()
        self.library: Library | None = None
        self.pairs: PairSet | None = None
        self.grouping: Grouping | None = None
        self.threshold = self.config.threshold
        self.last_regroup_seconds = 0.0
        self._sizes = np.zeros(1, np.int64)
        self._frozen = False  # gc.freeze() was called for our records
        self._records_from_worker = False  # the first pairs bring the records
        self.index = IndexController(self)
        self.index.finished.connect(self._on_scan_finished)
        self.index.failed.connect(self._on_scan_failed)
        self._pair_tasks = TaskRunner(self.index.pool, parent=self)
        self._pairs_token: int | None = None
        self._queries = TaskRunner(name="doppel-query", parent=self)
        self.regrouper = Regrouper(self)
        self.regrouper.ready.connect(self._on_regrouper_ready)
        self.regrouper.failed.connect(self._on_regrouper_failed)
        self.regrouper.complete.connect(self._on_regrouper_complete)
        self._query_token: int | None = None
        self._regroup_timer = QTimer(self)
        self._regroup_timer.setSingleShot(True)
        self._regroup_timer.setInterval(REGROUP_DELAY_MS)
        self._regroup_timer.timeout.connect(self._on_regroup_timer_timeout)

    # ----------------------------------------------------------------- lifecycle

    @property
    def roots(self) -> tuple[str, ...]:
        """The folders of the open library (empty when none is open)."""
        return self.library.roots if self.library is not None else ()

    def open(self, folders: Sequence[str], *, rescan: bool = True) -> None:
        """Open the library made of ``folders``, then scan it or load its pairs.

        Args:
            folders: Library folders.
            rescan: Scan even if every folder was scanned before (to pick up changes).

        Raises:
            EngineError: A folder is missing or the catalog cannot be opened.
        """
        library = Library(folders, catalog=self.catalog_path, config=self.config)
        self.close()
        self.library = library
        needs_scan = library.needs_scan()
        if needs_scan:
            self._reload_records()
        else:
            # The worker reads the records with the pairs, and hands them over: this
            # thread does not read them a second time (1 s at 100,000 photos).
            self._records_from_worker = True
            self.load_pairs()
        self.opened.emit(library.roots)
        if not self._records_from_worker:  # else from the worker's rows, when they come
            self.failures_changed.emit(library.failures())
        offline = library.offline()
        if offline:
            self.status.emit(offline_text(offline))
        if needs_scan or rescan:
            self.scan()

    def close(self) -> None:
        """Close the library: cancel its jobs and forget its groups."""
        if self.library is None:
            return
        self.closing.emit()
        self.index.cancel()
        self._drop_pair_task()
        self._queries.drop_all()
        self.regrouper.set_pairs(None)
        self._regroup_timer.stop()
        self.library.close()
        self.library = None
        self.pairs = None
        self.grouping = None
        self._records_from_worker = False
        self._unfreeze()
        self.grouping_changed.emit(None)
        self.histogram_changed.emit([0] * (MAX_THRESHOLD + 1), MAX_THRESHOLD)

    def shutdown(self) -> None:
        """Stop every background job and wait for the threads (at exit)."""
        self._regroup_timer.stop()
        self._pair_tasks.drop_all()
        self._queries.shutdown()
        self.regrouper.shutdown()
        self.index.shutdown()
        if self.library is not None:
            self.closing.emit()
            self.library.close()
            self.library = None
        self._unfreeze()

    def _worker_factory(self) -> Callable[[], Library]:
        """Opens a Library like ours; called in a worker thread, which then owns it."""
        roots, catalog = self.roots, self.catalog_path
        config = dataclasses.replace(self.config, threshold=self.threshold)
        return lambda: Library(roots, catalog=catalog, config=config)

    def _reload_records(self) -> None:
        assert self.library is not None
        # A large library's rows are hundreds of thousands of long-lived objects; left
        # to the collector, reading them triggers full collections that walk them all
        # (80 ms each at 100,000 photos), and so does every later one, a dropped frame
        # while scrolling. They hold no reference cycles, so the collector is paused
        # while they are read and then told to ignore them: refcounting still frees them.
        # (Records are made from the rows as they are looked up: those of the groups
        # shown, not one per photo.) The previous rows (and anything frozen with them)
        # go back to the collector first: without this every reload would add one more
        # library's worth of objects that no collection ever looks at again.
        self._unfreeze()
        collecting = gc.isenabled()
        gc.disable()
        try:
            ids, sizes_in_order = self.library.file_sizes()
        finally:
            if collecting:
                gc.enable()
        sizes = np.zeros(int(ids.max(initial=0)) + 1, np.int64)
        sizes[ids] = sizes_in_order
        self._sizes = sizes
        gc.freeze()
        self._frozen = True

    def _unfreeze(self) -> None:
        if self._frozen:
            gc.unfreeze()
            self._frozen = False

    # ----------------------------------------------------------------- scanning

    def scan(self) -> bool:
        """Scan the open library in the background.

        Returns:
            False if no library is open or a scan is already running.
        """
        if self.library is None:
            return False
        return self.index.start(self._worker_factory())

    def forget_offline(self) -> bool:
        """Scan, forgetting the photos of folders that are missing or empty.

        Returns:
            False if no library is open or a scan is already running.
        """
        if self.library is None:
            return False
        roots, catalog = self.roots, self.catalog_path
        config = dataclasses.replace(self.config, threshold=self.threshold, forget_missing=True)
        return self.index.start(lambda: Library(roots, catalog=catalog, config=config))

    def cancel_scan(self) -> None:
        """Stop the running scan; what was hashed is kept."""
        self.index.cancel()

    def _on_scan_finished(self, summary: ScanSummary) -> None:
        self.reload()

    def reload(self) -> None:
        """See the catalog as it is now, after another connection changed it (a scan, or
        files trashed, moved or put back), and regroup."""
        if self.library is None:
            return
        # The change was made on another connection: reopen ours so its caches see it.
        self.library.close()
        self.library = Library(self.roots, catalog=self.catalog_path, config=self.config)
        self._reload_records()
        self.failures_changed.emit(self.library.failures())
        self.load_pairs()

    def _on_scan_failed(self, message: str, error: object) -> None:
        self.error.emit(message, error)

    # ----------------------------------------------------------------- pairs and groups

    def load_pairs(self, threshold: int | None = None) -> None:
        """Load (or search) the pairs up to ``threshold`` off the GUI thread, then regroup."""
        if self.library is None:
            return
        wanted = self.threshold if threshold is None else threshold
        factory = self._worker_factory()

        def work() -> tuple[PairSet, dict[int, Grouping], Mapping[int, ImageRecord]]:
            with factory() as library:
                pairs = library.pairs(wanted)
                return pairs, library.cached_groupings(pairs), library.records()

        self._drop_pair_task()
        self.busy_changed.emit(True)
        self._pairs_token = self._pair_tasks.submit(
            work, self._on_pairs_loaded, self._on_pairs_failed
        )

    def _drop_pair_task(self) -> None:
        if self._pairs_token is not None:
            self._pair_tasks.drop(self._pairs_token)
            self._pairs_token = None
            self.busy_changed.emit(False)

    def _on_pairs_loaded(
        self, loaded: tuple[PairSet, dict[int, Grouping], Mapping[int, ImageRecord]]
    ) -> None:
        self._pairs_token = None
        self.busy_changed.emit(False)
        if self.library is None:
            return
        pairs, stored, records = loaded
        if self._records_from_worker:
            self._records_from_worker = False
            self.library.adopt_records(records)
            self._reload_records()
            self.failures_changed.emit(self.library.failures())
        self.pairs = pairs
        counts = np.bincount(pairs.distance, minlength=MAX_THRESHOLD + 1)[: MAX_THRESHOLD + 1]
        self.regrouper.set_pairs(pairs, self.library.rank(), stored=stored)
        self.histogram_changed.emit([int(c) for c in counts], pairs.threshold)
        self.regroup()

    def _on_pairs_failed(self, error: BaseException) -> None:
        self._pairs_token = None
        self.busy_changed.emit(False)
        if self._records_from_worker and self.library is not None:
            self._records_from_worker = False
            self._reload_records()
            self.failures_changed.emit(self.library.failures())
        self.error.emit(describe_error(error), error)

    def set_threshold(self, threshold: int) -> None:
        """Regroup at ``threshold`` once the slider has been still for a moment."""
        self.threshold = threshold
        self._regroup_timer.start()

    def _on_regroup_timer_timeout(self) -> None:
        self.regroup()

    def regroup(self) -> None:
        """Show the groups at the current threshold (now, or when they are computed)."""
        self._regroup_timer.stop()
        if self.library is None or self.pairs is None:
            return
        if self.threshold > self.pairs.threshold:
            self.status.emit(f"Searching for pairs up to distance {self.threshold}…")
            self.load_pairs(self.threshold)
            return
        self.regrouper.request(self.threshold)

    def _on_regrouper_ready(self, found: Grouping) -> None:
        if self.library is None:
            return
        self.last_regroup_seconds = self.regrouper.last_seconds
        self.grouping = found
        self.grouping_changed.emit(found)
        self.summary_changed.emit(self.summary())

    def _on_regrouper_failed(self, message: str) -> None:
        self.error.emit(message, None)

    def _on_regrouper_complete(self, pairs: PairSet, groupings: dict[int, Grouping]) -> None:
        """Keep the groupings warmed up here in the catalog, for the next time these
        pairs are opened (the worker runs behind any scan, on the scan's thread)."""
        if self.library is None:
            return
        factory = self._worker_factory()

        def work() -> None:
            with factory() as library:
                library.store_groupings(pairs, groupings)

        self._pair_tasks.submit(work, lambda _: None, _log_store_failure)

    def summary(self) -> Summary:
        """Groups, extra copies and their size at the current threshold."""
        photos = self.library.size() if self.library is not None else 0
        if self.grouping is None:
            return Summary(photos, 0, 0, 0, self.threshold)
        return Summary(
            photos,
            len(self.grouping),
            self.grouping.extra_copies,
            extra_bytes(self.grouping, self._sizes),
            self.grouping.threshold,
        )

    def resolve(self, grouping: Grouping, index: int) -> Group:
        """Group ``index`` of ``grouping`` with its records (for the model)."""
        assert self.library is not None
        return self.library.resolve(grouping, index)

    def failures(self) -> list[FileFailure]:
        """Files of the library that could not be read."""
        return self.library.failures() if self.library is not None else []

    # ----------------------------------------------------------------- query by image

    def query(self, source: str | bytes) -> bool:
        """Look for photos like ``source`` (a file, or image bytes) at the largest distance.

        The query slider then filters the result without asking again.

        Returns:
            False if no library is open.
        """
        if self.library is None:
            return False
        factory = self._worker_factory()

        def work() -> QueryResult:
            with factory() as library:
                return library.query(source, MAX_THRESHOLD)

        if self._query_token is not None:
            self._queries.drop(self._query_token)
        self._query_token = self._queries.submit(work, self._on_query_done, self._on_query_error)
        return True

    def _on_query_done(self, result: QueryResult) -> None:
        self._query_token = None
        self.query_ready.emit(result)

    def _on_query_error(self, error: BaseException) -> None:
        self._query_token = None
        self.query_failed.emit(describe_error(error), error)


def _log_store_failure(error: BaseException) -> None:
    # The groupings are a cache: not storing them costs a warm-up next time, nothing more.
    log.info("Could not keep the groupings in the catalog: %s", error)
