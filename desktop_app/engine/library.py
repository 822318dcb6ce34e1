"""The engine's front door: a set of library folders over one catalog.

The command line and the window both drive a :class:`Library`; neither talks to the
catalog, the scanner or the search directly. A Library holds one SQLite connection, so
it belongs to the thread that made it: a worker thread that scans opens its own Library
on the same catalog file, and the GUI thread keeps another for reading.

Beside :class:`Library`, the few functions the window and the command line need
(``default_catalog_path``, ``rebuild_catalog``, ``normalise_root``, ``open_oriented``,
``cached_thumbnail``, ``group_pairs``) are re-exported here, so they import no engine
internals; cleaning up goes through ``cleanup.py``, the other front door
(docs/architecture.md).
"""

from __future__ import annotations

import dataclasses
import logging
import os
import threading
from collections import ChainMap
from collections.abc import Generator, Iterable, Mapping, Sequence
from typing import TYPE_CHECKING

import numpy as np
import numpy.typing as npt

from desktop_app.engine.catalog import groupcache, sidecar_table
from desktop_app.engine.catalog import records as catalog_records
from desktop_app.engine.catalog.rebuild import rebuild_catalog as rebuild_catalog
from desktop_app.engine.catalog.store import Catalog
from desktop_app.engine.catalog.store import default_catalog_path as default_catalog_path
from desktop_app.engine.config import MAX_THRESHOLD, EngineConfig
from desktop_app.engine.errors import UnreadableImage, UsageError
from desktop_app.engine.fileops import fsutil
from desktop_app.engine.imaging import hashing, thumbcache
from desktop_app.engine.imaging.loading import open_oriented as open_oriented
from desktop_app.engine.paths import within_any
from desktop_app.engine.scan import scanner
from desktop_app.engine.scan.scanner import normalise_root as normalise_root
from desktop_app.engine.search import confirm, grouping, pairing, shots, verdicts
from desktop_app.engine.search.grouping import group_pairs as group_pairs
from desktop_app.engine.selection import not_copies, raw_jpeg, saved_marks
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
    PairVerdict,
    Phase,
    PhotoNotes,
    Progress,
    QueryResult,
    SavedMarks,
    ScanSummary,
    ShotGroup,
    Transform,
    drain,
)

if TYPE_CHECKING:
    from desktop_app.engine.search.milvus_index import MilvusIndex
    from desktop_app.engine.selection.plans import Plan

log = logging.getLogger(__name__)

#: The window's thumbnails, kept on disk (freedesktop thumbnail folders on Linux).
cached_thumbnail = thumbcache.thumbnail
THUMBNAIL_SIZES = thumbcache.SIZES


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
        UsageError: A folder does not exist (and is not a known library folder, whose
            drive may be unplugged: see :meth:`offline`).
        CatalogError: The catalog cannot be opened (locked, damaged, too new).
    """

    def __init__(
        self,
        roots: Iterable[str | os.PathLike[str]],
        *,
        catalog: Catalog | str | os.PathLike[str] | None = None,
        config: EngineConfig | None = None,
    ) -> None:
        found: set[str] = set()
        missing: list[tuple[str, UsageError]] = []
        for r in roots:
            try:
                found.add(scanner.normalise_root(r))
            except UsageError as error:
                missing.append((os.path.realpath(os.path.expanduser(os.fspath(r))), error))
        self.config = config or EngineConfig()
        self._milvus: MilvusIndex | None = None
        if isinstance(catalog, Catalog):
            self.catalog, self._owns_catalog = catalog, False
        else:
            path = default_catalog_path() if catalog is None else catalog
            self.catalog, self._owns_catalog = Catalog(path), True
        for where, refusal in missing:
            # A library folder on an unplugged drive is offline, not an error: its photos
            # stay catalogued. An unknown folder that does not exist is a typo.
            if os.path.lexists(where) or self.catalog.root(where) is None:
                self.close()
                raise refusal
            found.add(where)
        normalised = sorted(found)
        # A folder inside another one is already covered by it.
        self.roots: tuple[str, ...] = tuple(
            r for r in normalised if not within_any(r, (o for o in normalised if o != r))
        )
        self._records: Mapping[int, ImageRecord] | None = None
        self._rank: IdArray | None = None
        self._camera_jpegs: set[int] | None = None
        # Verdicts on pairs (issue 9), by (a, b); they depend only on the two records.
        self._verdicts: dict[tuple[int, int], PairVerdict] = {}
        self._checks: confirm.Checks = {}
        self._stored_checks: confirm.StoredChecks | None = None

    def close(self) -> None:
        """Close the catalog if this Library opened it, and the Milvus index if open."""
        if self._milvus is not None:
            self._milvus.close()
            self._milvus = None
        if self._owns_catalog:
            self.catalog.close()

    def __enter__(self) -> Library:
        return self

    def __exit__(self, *exc: object) -> None:
        self.close()

    # ----------------------------------------------------------------- the index

    def milvus_index(self) -> MilvusIndex | None:
        """The Milvus index ``config.index`` names (opened on first use), or None for
        the default SQLite segment index. pymilvus is imported only here.

        Raises:
            UsageError: The URI is malformed, the server cannot be reached or the
                ``scale`` extra is not installed.
        """
        if self.config.index == "sqlite":
            return None
        if self._milvus is None:
            from desktop_app.engine.search import milvus_index

            uri = milvus_index.parse_uri(self.config.index)
            self._milvus = milvus_index.MilvusIndex(
                self.catalog, uri, rotations=self.config.rotations
            )
        return self._milvus

    def _search(self, value: int, threshold: int) -> tuple[IdArray, npt.NDArray[np.uint8]]:
        """Library photos within ``threshold`` of the hash ``value``, in the chosen index."""
        index = self.milvus_index()
        if index is None:
            return self.catalog.query(value, threshold, self.roots)
        ids, distances = index.query_synced(value, threshold)
        if ids.size:
            inside = np.isin(ids, self.catalog.hashed_ids(self.roots))
            ids, distances = ids[inside], distances[inside]
        return ids, distances

    # ----------------------------------------------------------------- scanning

    def needs_scan(self) -> bool:
        """Whether some folder was never scanned to completion, or, with rotation
        matching on, some photo was hashed without its rotation variants."""
        for root in self.roots:
            known = self.catalog.root(root)
            if known is None or known.scanned_ns is None:
                return True
            if self.config.rotations and self.catalog.lacking_variants([root], limit=1):
                return True
        return False

    def scan(self, cancel: threading.Event | None = None) -> Generator[Progress, None, ScanSummary]:
        """Scan the folders, then bring the pair cache up to date.

        Cancelling keeps every file hashed so far; the next scan resumes from there.

        Yields:
            Progress of the walk, the hashing and the pairing.

        Returns:
            What changed.

        Raises:
            CatalogLocked: Another scan is writing into the same catalog.
        """
        cancel = cancel or threading.Event()
        with self.catalog.scan_lock():  # one scan at a time writes into a catalog
            summary = yield from self._scan_locked(cancel)
        return summary

    def _scan_locked(self, cancel: threading.Event) -> Generator[Progress, None, ScanSummary]:
        summary = yield from scanner.scan(self.catalog, self.roots, self.config, cancel)
        self._records = None
        self._rank = None
        self._camera_jpegs = None
        self._verdicts = {}
        self._stored_checks = None
        if not cancel.is_set():
            yield from pairing.update_pairs(
                self.catalog,
                self.config.threshold,
                rotations=self.config.rotations,
                cancel=cancel,
                index=self.milvus_index(),
            )
        if not cancel.is_set():
            yield from self.group_all(self.pairs(self.config.threshold), cancel)
        if cancel.is_set():
            summary = _cancelled(summary)
        return summary

    def offline(self) -> tuple[str, ...]:
        """Library folders that are missing or empty while the catalog holds photos from
        them (an unplugged drive, an unmounted share): their photos are kept, offline,
        until a scan with ``forget_missing`` forgets them."""
        return tuple(
            r for r in self.roots if scanner.is_offline(r) and sum(self.catalog.count([r])) > 0
        )

    def failures(self) -> list[FileFailure]:
        """Files in the library that could not be read, with the reason (from the records
        when they are read: the catalog is not asked again)."""
        if isinstance(self._records, catalog_records.RecordTable):
            return self._records.failures()
        return self.catalog.failures(self.roots)

    def counts(self) -> tuple[int, int]:
        """(photos hashed, files that could not be read) in the library."""
        return self.catalog.count(self.roots)

    # ----------------------------------------------------------------- pairs and groups

    def pairs(
        self,
        threshold: int | None = None,
        *,
        cancel: threading.Event | None = None,
        similar_shots: bool = False,
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
        # The pairs of the photos read as records (those the groups are resolved with),
        # which saves the catalog a pass over every row to find the hashed ones.
        found = self.records()
        live = catalog_records.hashed_ids(found)
        # Cleanup (issue 5): pairs the user said are not copies never reach grouping.
        pairs = not_copies.filter_pairs(self.catalog, self.catalog.pairs.load(reach, live=live))
        # Crops, rotations and upper-range distances only once the pixels agree (issue 10).
        pairs, checks = confirm.confirm(
            self.catalog,
            pairs,
            wanted,
            found,
            max_pixels=self.config.max_pixels,
            trim=self.config.trim_borders,
            cancel=cancel,
        )
        self._checks.update(checks)
        pairs = raw_jpeg.without(pairs, self.folded())
        if similar_shots:
            return pairs
        # Issue 9: two exposures that look alike (a burst, a bracket) are not copies.
        copies, _ = verdicts.split_pairs(pairs, self._records_of, self._verdicts)
        return copies

    def similar_shot_pairs(self, threshold: int | None = None) -> PairSet:
        """The pairs within ``threshold`` whose capture metadata says they are different
        exposures (``verdicts.py``): what :meth:`pairs` leaves out of the copies."""
        pairs = self.pairs(threshold, similar_shots=True)
        return verdicts.split_pairs(pairs, self._records_of, self._verdicts)[1]

    def shots(self, threshold: int | None = None) -> list[ShotGroup]:
        """Similar shots for culling (``search/shots.py``): bursts and brackets, each in
        capture-time order with its sharpness; nothing in them is a copy or marked."""
        return shots.shot_groups(self.records(), self.similar_shot_pairs(threshold))

    def sharpest_plan(
        self,
        threshold: int | None = None,
        which: Sequence[int] | None = None,
        *,
        references: Sequence[str] = (),
    ) -> Plan:
        """ "Keep the sharpest": a plan over the similar shots (:meth:`shots`) that keeps
        the sharpest frame of each group (or of the groups ``which``) and marks the
        others; it goes through the same dry run, journal and undo as any plan."""
        from desktop_app.engine.selection.sharpest import keep_sharpest

        return keep_sharpest(self.shots(threshold), which, references=references)

    def verdict(self, a: ImageRecord, b: ImageRecord, distance: int | None = None) -> PairVerdict:
        """The verdict on two photos of this library and its evidence (``verdicts.py``)."""
        key = (a.id, b.id) if a.id <= b.id else (b.id, a.id)
        found = self._verdicts.get(key)  # as split_pairs decided it, when it did
        if found is None:
            found = verdicts.verdict(a, b, distance)
            self._verdicts[key] = found
        return found

    def _records_of(self, ids: list[int]) -> Mapping[int, ImageRecord]:
        if self._records is not None:
            return self._records
        return self.catalog.records(ids)

    def geometry(self, a: int, b: int) -> GeometryCheck | None:
        """The geometric check of the pair of images ``a`` and ``b`` (either order) as
        :meth:`pairs` reached it, or None when the pair needed none (or was not seen)."""
        return self._geometry_checks().get((min(a, b), max(a, b)))

    def _geometry_checks(self) -> Mapping[tuple[int, int], GeometryCheck]:
        """The checks this Library reached, and those stored in the catalog by others
        (the window's Library reads what its worker's Library checked), read when asked."""
        if self._stored_checks is None:
            self._stored_checks = confirm.stored_checks(self.catalog, self.records())
        return ChainMap(self._checks, self._stored_checks)  # type: ignore[arg-type]

    def folded(self) -> set[int]:
        """Ids of the photos folded into another one and hidden from the results: the
        JPEGs beside RAW files when ``config.fold_raw_jpeg`` is on, else none."""
        if not self.config.fold_raw_jpeg:
            return set()
        if self._camera_jpegs is None:
            self._camera_jpegs = raw_jpeg.camera_jpeg_ids(self.records().values())
        return self._camera_jpegs

    def pairs_steps(
        self, threshold: int, *, cancel: threading.Event | None = None
    ) -> Generator[Progress, None, object]:
        """The pair-cache update :meth:`pairs` runs, as a progress generator."""
        return pairing.update_pairs(
            self.catalog,
            threshold,
            rotations=self.config.rotations,
            cancel=cancel,
            index=self.milvus_index(),
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
        checks = self._geometry_checks()
        if self._stored_checks is not None:  # the group's stored verdicts, in one read
            start, stop = int(found.offsets[index]), int(found.offsets[index + 1])
            reference = int(found.members[start])
            self._stored_checks.prefetch(
                key
                for member in found.members[start + 1 : stop].tolist()
                if (key := (min(member, reference), max(member, reference))) not in self._checks
            )
        return resolve_group(found, index, self.records(), checks)

    def saved_marks(self) -> SavedMarks:
        """The marks left unapplied when this library was last closed (by photo path)."""
        return saved_marks.load(self.catalog, self.roots)

    def save_marks(self, saved: SavedMarks) -> None:
        """Keep the marks not applied yet for the next opening of this library (replacing
        what was kept before; an empty SavedMarks forgets them)."""
        saved_marks.save(self.catalog, self.roots, saved)

    def size(self) -> int:
        """How many files of the library are catalogued: ``len(records())``, counted in
        the catalog while the records are not read yet."""
        return len(self._records) if self._records is not None else self.catalog.size(self.roots)

    def adopt_records(self, found: Mapping[int, ImageRecord]) -> None:
        """Use the records another Library of the same catalog and folders has just read
        (the window's worker, which needs them for its pairs), rather than reading
        100,000 rows again; ignored once this Library has records of its own."""
        if self._records is None:
            self._records = found

    def refresh(self) -> None:
        """Drop the cached records, after files were trashed, moved or put back
        (``fileops``) so that the next :meth:`groups` sees the catalog as it is now."""
        self._records = None
        self._rank = None
        self._verdicts = {}
        self._stored_checks = None

    def records(self) -> Mapping[int, ImageRecord]:
        """Every catalogued file of the library by id, in path order (cached until the
        next scan). Each record is made the first time it is looked up
        (``catalog/records.py``): a library opens without making one per photo."""
        if self._records is None:
            self._records = self.catalog.record_table(self.roots)
        return self._records

    def file_sizes(self) -> tuple[IdArray, npt.NDArray[np.int64]]:
        """``(ids, sizes in bytes)`` of every catalogued file of the library, in path
        order, read without making their records."""
        return catalog_records.file_sizes(self.records())

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
        if (index := self.milvus_index()) is not None:
            index.sync()
        for transform, value in enumerate(hashes):
            ids, distances = self._search(value, wanted)
            for image_id, distance in zip(ids.tolist(), distances.tolist(), strict=True):
                old = best.get(image_id)
                if old is None or distance < old[0]:
                    best[image_id] = (distance, transform)
        for image_id in self.folded():
            best.pop(image_id, None)
        found = self.catalog.records(best)
        asked = query_record(features)
        matches = sorted(
            (
                Match(
                    image=record,
                    distance=best[record.id][0],
                    identical=_same_bytes(record, features),
                    transform=Transform(best[record.id][1]),
                    verdict=verdicts.verdict(asked, record, best[record.id][0]),
                )
                for record in found.values()
            ),
            key=lambda m: (m.distance, not m.identical, m.image.path),
        )
        return QueryResult(features, wanted, tuple(matches))

    def sidecars(self, paths: Sequence[str]) -> dict[str, list[tuple[str, str]]]:
        """The sidecars the last scan found beside these photos: path -> [(sidecar, kind)]."""
        return sidecar_table.of(self.catalog, paths)

    @staticmethod
    def photo_notes(paths: Sequence[str]) -> dict[str, PhotoNotes]:
        """The sidecars and lineage of these photos (one group, for "exported from"),
        read from the disk now: what a file operation would move with each."""
        from desktop_app.engine.imaging import sidecar_files
        from desktop_app.engine.selection import lineage

        said = lineage.describe(paths)
        found = sidecar_files.find_many(paths)
        return {
            p: PhotoNotes(tuple((s, sidecar_files.kind(s)) for s in found.get(p, [])), said.get(p))
            for p in paths
        }

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
    inside = {int(found.members[k]): records[int(found.members[k])] for k in range(start, stop)}
    members = tuple(
        Member(
            image=records[int(found.members[k])],
            distance=int(found.distance[k]),
            identical=k > start
            and reference.digest is not None
            and records[int(found.members[k])].digest == reference.digest,
            transform=Transform(int(found.transform[k])),
            verdict=None
            if k == start
            else verdicts.verdict_among(
                inside, reference.id, int(found.members[k]), int(found.distance[k])
            ),
            geometry=_oriented(checks, int(found.members[k]), reference.id)
            if checks is not None and k > start
            else None,
        )
        for k in range(start, stop)
    )
    return Group(index, members)


def pair_verdict(a: ImageRecord, b: ImageRecord, distance: int | None = None) -> PairVerdict:
    """Copy or different shot, for any two photos (``search/verdicts.py``), for the window
    and scripts that hold records but no Library (the compare view)."""
    return verdicts.verdict(a, b, distance)


def query_record(features: ImageFeatures) -> ImageRecord:
    """A query image as a record (id -1), to judge it against library photos."""
    return ImageRecord(
        id=-1,
        path=features.path,
        size=features.size,
        mtime_ns=features.mtime_ns,
        digest=features.digest,
        phash=features.phash,
        width=features.width,
        height=features.height,
        format=features.format,
        taken=features.taken,
        camera=features.camera,
        content_width=features.content_width,
        content_height=features.content_height,
        capture=features.capture,
        pixel_digest=features.pixel_digest,
        sharpness=features.sharpness,
        greyscale=features.greyscale,
        brightness=features.brightness,
    )


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
    return dataclasses.replace(summary, cancelled=True)


def open_library(
    folders: Sequence[str | os.PathLike[str]],
    catalog: str | os.PathLike[str] | None = None,
    config: EngineConfig | None = None,
) -> Library:
    """A :class:`Library` over ``folders``; raises UsageError when none is given."""
    if not folders:
        raise UsageError("Name at least one library folder.")
    return Library(folders, catalog=catalog, config=config)


def _same_bytes(record: ImageRecord, features: ImageFeatures) -> bool:
    """Whether a catalogued photo has exactly the bytes of a query image. A RAW file the
    scan left without a digest (no other file had its size) is read for it when the
    query image has its size."""
    if record.size != features.size or features.digest is None:
        return False
    if record.digest is not None:
        return record.digest == features.digest
    try:
        return fsutil.digest_file(record.path) == features.digest
    except OSError:
        return False
