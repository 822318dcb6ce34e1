"""The engine's front door: a set of library folders over one catalog.

The command line and the window both drive a :class:`Library`; neither talks to the
catalog, the scanner or the search directly. A Library holds one SQLite connection, so
it belongs to the thread that made it: a worker thread that scans opens its own Library
on the same catalog file, and the GUI thread keeps another for reading.
"""

from __future__ import annotations

import dataclasses
import logging
import os
import threading
from collections.abc import Generator, Iterable, Mapping, Sequence

import numpy as np

from desktop_app.engine.catalog import groupcache
from desktop_app.engine.catalog.store import Catalog, default_catalog_path
from desktop_app.engine.config import MAX_THRESHOLD, EngineConfig
from desktop_app.engine.errors import UnreadableImage, UsageError
from desktop_app.engine.imaging import hashing
from desktop_app.engine.paths import within_any
from desktop_app.engine.scan import scanner
from desktop_app.engine.search import confirm, grouping, pairing
from desktop_app.engine.selection import not_copies, raw_jpeg
from desktop_app.engine.types import (
    FileFailure,
    GeometryCheck,
    Group,
    Grouping,
    IdArray,
    ImageFeatures,
    ImageRecord,
    Match,
    Member,
    PairSet,
    Phase,
    Progress,
    QueryResult,
    ScanSummary,
    Transform,
    drain,
)

log = logging.getLogger(__name__)


def check_threshold(threshold: int) -> int:
    """``threshold`` if the engine supports it.

    Raises:
        UsageError: It is outside 0..MAX_THRESHOLD.
    """
    if not 0 <= threshold <= MAX_THRESHOLD:
        raise UsageError(f"The threshold must be between 0 and {MAX_THRESHOLD}, not {threshold}.")
    return threshold


class Library:
    """Library folders and the catalog that indexes them.

    Args:
        roots: The library folders; they must exist.
        catalog: An open :class:`Catalog` (not closed by :meth:`close`), a path to one,
            or None for the default location (``DOPPEL_CATALOG`` or the per-user data
            folder).
        config: Engine settings; defaults when None.

    Raises:
        UsageError: A folder does not exist.
        CatalogError: The catalog cannot be opened (locked, damaged, too new).
    """

    def __init__(
        self,
        roots: Iterable[str | os.PathLike[str]],
        *,
        catalog: Catalog | str | os.PathLike[str] | None = None,
        config: EngineConfig | None = None,
    ) -> None:
        normalised = sorted({scanner.normalise_root(r) for r in roots})
        # A folder inside another one is already covered by it.
        self.roots: tuple[str, ...] = tuple(
            r for r in normalised if not within_any(r, (o for o in normalised if o != r))
        )
        self.config = config or EngineConfig()
        if isinstance(catalog, Catalog):
            self.catalog, self._owns_catalog = catalog, False
        else:
            path = default_catalog_path() if catalog is None else catalog
            self.catalog, self._owns_catalog = Catalog(path), True
        self._records: dict[int, ImageRecord] | None = None
        self._rank: IdArray | None = None
        self._sidecars: set[int] | None = None
        self._checks: confirm.Checks = {}
        self._stored_checks_loaded = False

    def close(self) -> None:
        """Close the catalog if this Library opened it."""
        if self._owns_catalog:
            self.catalog.close()

    def __enter__(self) -> Library:
        return self

    def __exit__(self, *exc: object) -> None:
        self.close()

    # ----------------------------------------------------------------- scanning

    def needs_scan(self) -> bool:
        """Whether some folder was never scanned to completion, or, with rotation
        matching on, some photo was hashed without its rotation variants."""
        for root in self.roots:
            known = self.catalog.root(root)
            if known is None or known.scanned_ns is None:
                return True
            if self.config.rotations and scanner.lacking_variants(self.catalog, root, limit=1):
                return True
        return False

    def scan(self, cancel: threading.Event | None = None) -> Generator[Progress, None, ScanSummary]:
        """Scan the folders, then bring the pair cache up to date.

        Cancelling keeps every file hashed so far; the next scan resumes from there.

        Yields:
            Progress of the walk, the hashing and the pairing.

        Returns:
            What changed.
        """
        cancel = cancel or threading.Event()
        summary = yield from scanner.scan(self.catalog, self.roots, self.config, cancel)
        self._records = None
        self._rank = None
        self._sidecars = None
        self._stored_checks_loaded = False
        if not cancel.is_set():
            yield from pairing.update_pairs(
                self.catalog,
                self.config.threshold,
                rotations=self.config.rotations,
                cancel=cancel,
            )
        if not cancel.is_set():
            yield from self.group_all(self.pairs(self.config.threshold), cancel)
        if cancel.is_set():
            summary = _cancelled(summary)
        return summary

    def failures(self) -> list[FileFailure]:
        """Files in the library that could not be read, with the reason."""
        return self.catalog.failures(self.roots)

    def counts(self) -> tuple[int, int]:
        """(photos hashed, files that could not be read) in the library."""
        return self.catalog.count(self.roots)

    # ----------------------------------------------------------------- pairs and groups

    def pairs(
        self, threshold: int | None = None, *, cancel: threading.Event | None = None
    ) -> PairSet:
        """Every pair of library photos within ``threshold`` (the config's when None).

        Loads them from the pair cache, searching first if the cache does not reach
        that far (which can take a while on a large library: call it off the GUI thread).
        The returned set may reach further than asked (up to the cache's threshold), so
        that a slider can regroup from it without coming back here. With
        ``config.fold_raw_jpeg``, pairs of the JPEGs written beside RAW files are left out.
        """
        wanted = check_threshold(self.config.threshold if threshold is None else threshold)
        drain(self.pairs_steps(wanted, cancel=cancel))
        state = self.catalog.pairs.state()
        reach = wanted if state.upto is None else max(wanted, state.upto)
        # Cleanup (issue 5): pairs the user said are not copies never reach grouping.
        pairs = not_copies.filter_pairs(self.catalog, self.catalog.pairs.load(reach, self.roots))
        # Crops, rotations and upper-range distances only once the pixels agree (issue 10).
        pairs, checks = confirm.confirm(
            self.catalog,
            pairs,
            wanted,
            self.records(),
            max_pixels=self.config.max_pixels,
            trim=self.config.trim_borders,
            cancel=cancel,
        )
        self._checks.update(checks)
        return raw_jpeg.without(pairs, self.folded())

    def geometry(self, a: int, b: int) -> GeometryCheck | None:
        """The geometric check of the pair of images ``a`` and ``b`` (either order) as
        :meth:`pairs` reached it, or None when the pair needed none (or was not seen)."""
        return self._geometry_checks().get((min(a, b), max(a, b)))

    def _geometry_checks(self) -> confirm.Checks:
        """The checks this Library reached, and those stored in the catalog by others
        (the window's Library reads what its worker's Library checked)."""
        if not self._stored_checks_loaded:
            stored = confirm.stored_checks(self.catalog, self.records())
            stored.update(self._checks)
            self._checks = stored
            self._stored_checks_loaded = True
        return self._checks

    def folded(self) -> set[int]:
        """Ids of the photos folded into another one and hidden from the results: the
        JPEGs beside RAW files when ``config.fold_raw_jpeg`` is on, else none."""
        if not self.config.fold_raw_jpeg:
            return set()
        if self._sidecars is None:
            self._sidecars = raw_jpeg.sidecar_ids(self.records().values())
        return self._sidecars

    def pairs_steps(
        self, threshold: int, *, cancel: threading.Event | None = None
    ) -> Generator[Progress, None, object]:
        """The pair-cache update :meth:`pairs` runs, as a progress generator."""
        return pairing.update_pairs(
            self.catalog, threshold, rotations=self.config.rotations, cancel=cancel
        )

    def group(self, pairs: PairSet, threshold: int) -> Grouping:
        """Group photos whose pairs are within ``threshold`` (no chaining, see grouping.py)."""
        check_threshold(threshold)
        return grouping.group_pairs(pairs.within(threshold), threshold, rank=self.rank())

    def group_all(
        self, pairs: PairSet, cancel: threading.Event | None = None
    ) -> Generator[Progress, None, dict[int, Grouping]]:
        """Group ``pairs`` at every threshold they reach and keep the groupings in the
        catalog (``groupcache.py``), so that the slider finds each position ready.

        Yields:
            Progress, one report per threshold.

        Returns:
            The groupings by threshold (empty if cancelled; nothing is stored then).
        """
        found: dict[int, Grouping] = {}
        total = pairs.threshold + 1
        for threshold in range(total):
            if cancel is not None and cancel.is_set():
                return {}
            yield Progress(Phase.GROUPING, threshold, total)
            found[threshold] = self.group(pairs, threshold)
        self.store_groupings(pairs, found)
        yield Progress(Phase.GROUPING, total, total)
        return found

    def cached_groupings(self, pairs: PairSet) -> dict[int, Grouping]:
        """The stored groupings of exactly these pairs (and this library's path order),
        by threshold; empty if they were never stored or the pairs changed since."""
        return self.catalog.groupings.load(groupcache.signature(pairs, self.rank()))

    def store_groupings(self, pairs: PairSet, groupings: dict[int, Grouping]) -> None:
        """Keep groupings of ``pairs`` (computed by :meth:`group`) in the catalog."""
        self.catalog.groupings.store(groupcache.signature(pairs, self.rank()), groupings)

    def groups(self, threshold: int | None = None) -> list[Group]:
        """Every group of copies in the library, largest first, resolved to records."""
        wanted = check_threshold(self.config.threshold if threshold is None else threshold)
        found = self.group(self.pairs(wanted), wanted)
        return [self.resolve(found, g) for g in range(len(found))]

    def resolve(self, found: Grouping, index: int) -> Group:
        """Group ``index`` of ``found`` with catalog records for its members."""
        return resolve_group(found, index, self.records(), self._geometry_checks())

    def refresh(self) -> None:
        """Drop the cached records, after files were trashed, moved or put back
        (``fileops``) so that the next :meth:`groups` sees the catalog as it is now."""
        self._records = None
        self._rank = None
        self._stored_checks_loaded = False

    def records(self) -> dict[int, ImageRecord]:
        """Every catalogued file of the library by id (cached until the next scan)."""
        if self._records is None:
            self._records = {r.id: r for r in self.catalog.all_records(self.roots)}
        return self._records

    def rank(self) -> IdArray:
        """The library's image ids in path order: grouping's tie-break order."""
        if self._rank is None:
            if self._records is not None:  # already in path order
                self._rank = np.fromiter(self._records, dtype=np.int64, count=len(self._records))
            else:  # without building a record per photo (a worker only needs the order)
                self._rank = self.catalog.ids_in_path_order(self.roots)
        return self._rank

    # ----------------------------------------------------------------- query by image

    def query(
        self, source: str | os.PathLike[str] | bytes, threshold: int | None = None
    ) -> QueryResult:
        """Library photos similar to one image, nearest first.

        With rotation matching on, each of the query's eight variant hashes is looked up
        in the segment index (exact at every threshold): a match's distance is the least
        over the transforms t of the query turned by t against the library photo, and
        ``Match.transform`` is that t. (The pair search also tries the other direction,
        the photo turned against the query; the two differ by a bit or two at most, as
        each variant hash has its own median.) With ``config.fold_raw_jpeg``, the JPEGs
        written beside RAW files are left out.

        Args:
            source: A file anywhere (it need not be in the library) or the image's bytes
                (a paste from the clipboard).
            threshold: Largest distance to return (the config's when None).

        Raises:
            UnreadableImage: The source is not a readable image.
        """
        wanted = check_threshold(self.config.threshold if threshold is None else threshold)
        features = self._features(source)
        best: dict[int, tuple[int, int]] = {}
        hashes = list(features.variants) if self.config.rotations else []
        hashes = hashes or [features.phash]
        for transform, value in enumerate(hashes):
            ids, distances = self.catalog.query(value, wanted, self.roots)
            for image_id, distance in zip(ids.tolist(), distances.tolist(), strict=True):
                old = best.get(image_id)
                if old is None or distance < old[0]:
                    best[image_id] = (distance, transform)
        for image_id in self.folded():
            best.pop(image_id, None)
        found = self.catalog.records(best)
        matches = sorted(
            (
                Match(
                    image=record,
                    distance=best[record.id][0],
                    identical=record.digest == features.digest,
                    transform=Transform(best[record.id][1]),
                )
                for record in found.values()
            ),
            key=lambda m: (m.distance, not m.identical, m.image.path),
        )
        return QueryResult(features, wanted, tuple(matches))

    def _features(self, source: str | os.PathLike[str] | bytes) -> ImageFeatures:
        if isinstance(source, bytes):
            return hashing.hash_bytes(source, "<pasted image>", self.config)
        path = os.fspath(source)
        if not os.path.isfile(path):
            raise UnreadableImage(path, "no such file")
        result = hashing.hash_file(path, self.config)
        if isinstance(result, FileFailure):
            raise UnreadableImage(path, result.reason)
        return result


def resolve_group(
    found: Grouping,
    index: int,
    records: Mapping[int, ImageRecord],
    checks: Mapping[tuple[int, int], GeometryCheck] | None = None,
) -> Group:
    """Group ``index`` of ``found`` with its members' records taken from ``records``.

    What :meth:`Library.resolve` does, without the Library: a worker thread (the window's
    "Select duplicates" over every group) resolves groups from a records mapping made on
    another thread, since the Library and its connection belong to the thread that made it.

    Args:
        found: A grouping of image ids.
        index: The group's index in it.
        records: Catalog records by image id (``Library.records()``).
        checks: Geometric checks by pair (``Library.geometry``), to say how each
            member relates to the reference.
    """
    start, stop = int(found.offsets[index]), int(found.offsets[index + 1])
    reference = records[int(found.members[start])]
    members = tuple(
        Member(
            image=records[int(found.members[k])],
            distance=int(found.distance[k]),
            identical=k > start
            and reference.digest is not None
            and records[int(found.members[k])].digest == reference.digest,
            transform=Transform(int(found.transform[k])),
            geometry=_oriented(checks, int(found.members[k]), reference.id)
            if checks and k > start
            else None,
        )
        for k in range(start, stop)
    )
    return Group(index, members)


def _oriented(
    checks: Mapping[tuple[int, int], GeometryCheck], member: int, reference: int
) -> GeometryCheck | None:
    """The check of (member, reference), with ``cropped`` and ``frame`` relative to
    the member as *a*."""
    check = checks.get((min(member, reference), max(member, reference)))
    if check is None or member < reference:
        return check
    swapped = {"a": "b", "b": "a"}.get(check.cropped, "")
    return dataclasses.replace(check, cropped=swapped)


def _cancelled(summary: ScanSummary) -> ScanSummary:
    return ScanSummary(
        summary.roots,
        summary.added,
        summary.updated,
        summary.removed,
        summary.unchanged,
        summary.failures,
        True,
        summary.seconds,
    )


def open_library(
    folders: Sequence[str | os.PathLike[str]],
    catalog: str | os.PathLike[str] | None = None,
    config: EngineConfig | None = None,
) -> Library:
    """A :class:`Library` over ``folders``; raises UsageError when none is given."""
    if not folders:
        raise UsageError("Name at least one library folder.")
    return Library(folders, catalog=catalog, config=config)
