"""Groupings of the loaded pairs at any threshold, fast enough for a slider.

The engine groups the pairs within a threshold with numpy, at about a quarter of a
microsecond per pair; what a threshold costs therefore depends on how many pairs lie
within it, which the distance histogram tells in advance. :class:`Regrouper` uses that:

* up to :data:`SYNC_REGROUP_PAIRS` pairs (under about 50 ms), it groups on the GUI
  thread: no thread hop, and the result is there when ``request`` returns;
* beyond, it groups on a thread of its own; a result that arrives after the slider moved
  on is kept but not shown;
* every result is cached until the pairs change, and once the first grouping is shown,
  the other thresholds are computed in the background, cheapest first, so that the
  slider finds them ready (on 100,000 photos the last ones take seconds; see
  docs/benchmarks.md). A request the user makes jumps ahead of that warm-up;
* the groupings a scan stored in the catalog (``engine/catalog/groupcache.py``) are handed in
  with the pairs, so that normally every position is ready from the start; when they
  were missing, ``complete`` hands the warmed-up set back for the session to store.

The worker never touches the :class:`~desktop_app.engine.library.Library` (it belongs to
the GUI thread): it gets the pairs and the rank array, and calls the engine's
``group_pairs`` as ``Library.group`` does.
"""

from __future__ import annotations

import logging
import time

import numpy as np
from PySide6.QtCore import QObject, Signal

from desktop_app.engine.config import MAX_THRESHOLD
from desktop_app.engine.library import group_pairs
from desktop_app.engine.types import Grouping, IdArray, PairSet
from desktop_app.gui.common.workers import TaskRunner, describe_error

log = logging.getLogger(__name__)

#: Largest number of pairs within the threshold that is grouped on the GUI thread.
SYNC_REGROUP_PAIRS = 200_000
#: Pool priorities: what the user asked for before the warm-up.
_ASKED, _WARMING = 1, 0

_Result = tuple[int, Grouping, float, int]


def _group(pairs: PairSet, rank: IdArray | None, threshold: int, generation: int) -> _Result:
    """Group ``pairs`` at ``threshold`` (any thread), timing the engine."""
    started = time.perf_counter()
    found = group_pairs(pairs.within(threshold), threshold, rank=rank)
    return threshold, found, time.perf_counter() - started, generation


class Regrouper(QObject):
    """Computes, caches and delivers groupings of one :class:`PairSet`.

    Signals:
        ready(Grouping): The grouping at the last requested threshold.
        failed(str): Grouping raised (a bug; the message says what).
        complete(PairSet, dict): Every threshold has been grouped here (none came from
            the catalog): the pairs and the groupings by threshold, worth storing.
    """

    ready = Signal(object)
    failed = Signal(str)
    complete = Signal(object, object)

    def __init__(self, parent: QObject | None = None) -> None:
        super().__init__(parent)
        self._runner = TaskRunner(name="doppel-regroup", parent=self)
        self._pairs: PairSet | None = None
        self._rank: IdArray | None = None
        self._within = np.zeros(MAX_THRESHOLD + 1, np.int64)
        self._cache: dict[int, Grouping] = {}
        self._queued: dict[int, tuple[int, int]] = {}  # threshold -> (token, priority)
        self._wanted: int | None = None
        self._generation = 0
        self._warmed = False
        self._completed = False
        #: Seconds the engine took for the last grouping delivered.
        self.last_seconds = 0.0

    def set_pairs(
        self,
        pairs: PairSet | None,
        rank: IdArray | None = None,
        stored: dict[int, Grouping] | None = None,
    ) -> None:
        """Group these pairs from now on (forgetting the groupings of the old ones).

        Args:
            pairs: The pairs, complete up to ``pairs.threshold``.
            rank: ``Library.rank()``, the image ids in tie-break (path) order.
            stored: Groupings of exactly these pairs and rank, by threshold, as
                ``Library.cached_groupings`` returns them.
        """
        self._runner.drop_all()
        self._generation += 1
        self._pairs, self._rank = pairs, rank
        self._cache.clear()
        self._queued.clear()
        self._wanted = None
        self._warmed = False
        self._completed = bool(stored)  # what came from the catalog need not go back
        if pairs is not None:
            counts = np.bincount(pairs.distance, minlength=MAX_THRESHOLD + 1)
            self._within = np.cumsum(counts[: MAX_THRESHOLD + 1])
            self._cache.update(
                (t, found) for t, found in (stored or {}).items() if t <= pairs.threshold
            )

    def reach(self) -> int:
        """The largest threshold the pairs allow (-1 without pairs)."""
        return -1 if self._pairs is None else self._pairs.threshold

    def cached(self, threshold: int) -> Grouping | None:
        """The grouping at ``threshold`` if it was computed already."""
        return self._cache.get(threshold)

    def request(self, threshold: int) -> None:
        """Deliver the grouping at ``threshold`` through ``ready``, now or soon."""
        if self._pairs is None or threshold > self._pairs.threshold:
            raise ValueError(f"no pairs reach threshold {threshold}")
        self._wanted = threshold
        found = self._cache.get(threshold)
        if found is not None:
            self._deliver(found)
        elif int(self._within[threshold]) <= SYNC_REGROUP_PAIRS:
            assert self._pairs is not None
            self._store(_group(self._pairs, self._rank, threshold, self._generation))
        else:
            queued = self._queued.get(threshold)
            if queued is not None and queued[1] == _WARMING:  # ahead of the warm-up
                self._runner.drop(queued[0])
                queued = None
            if queued is None:
                self._submit(threshold, _ASKED)

    def shutdown(self) -> None:
        """Drop queued work and wait for the running grouping."""
        self._runner.shutdown()

    def _submit(self, threshold: int, priority: int) -> None:
        pairs, rank, generation = self._pairs, self._rank, self._generation
        assert pairs is not None
        token = self._runner.submit(
            lambda: _group(pairs, rank, threshold, generation),
            self._store,
            self._on_error,
            priority=priority,
        )
        self._queued[threshold] = (token, priority)

    def _store(self, result: _Result) -> None:
        threshold, found, seconds, generation = result
        if generation != self._generation:
            return  # computed from pairs that have been replaced since
        self._queued.pop(threshold, None)
        self._cache[threshold] = found
        log.debug("Grouped at %d in %.1f ms", threshold, 1000 * seconds)
        if threshold == self._wanted:
            self.last_seconds = seconds
            self._deliver(found)
        pairs = self._pairs
        if not self._completed and pairs is not None and len(self._cache) > pairs.threshold:
            self._completed = True
            self.complete.emit(pairs, dict(self._cache))

    def _deliver(self, found: Grouping) -> None:
        self.ready.emit(found)
        if not self._warmed:
            self._warmed = True
            self._warm_up()

    def _warm_up(self) -> None:
        """Queue every threshold not grouped yet, cheapest first."""
        assert self._pairs is not None
        missing = [
            t
            for t in range(self._pairs.threshold + 1)
            if t not in self._cache and t not in self._queued
        ]
        for threshold in sorted(missing, key=lambda t: int(self._within[t])):
            self._submit(threshold, _WARMING)

    def _on_error(self, error: BaseException) -> None:
        self.failed.emit(describe_error(error))
