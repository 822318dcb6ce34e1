"""The hash index in a Milvus collection, for archives beyond one machine.

The SQLite segment index (``segment_index.py``) stays the default; this backend is
chosen with ``EngineConfig.index = "milvus:URI"``. ``URI`` is a Milvus server
(``http://host:19530``, a standalone server or a cluster's proxy) or a local file path
ending in ``.db``, which pymilvus runs in the embedded Milvus Lite. Nothing here is
imported unless that setting asks for it: pymilvus comes with the ``scale`` extra.

The collection. One entity per (photo, kind of hash): ``pk = 8 * photo id + kind``, the
photo id and the kind as scalar fields, and the hash as a 64-bit ``BINARY_VECTOR`` under a
``BIN_FLAT`` index with the ``HAMMING`` metric. Kind 0 is the pHash; kinds 1-7 are the
rotation and mirror variants (``types.Transform``), stored when rotation matching is on.
``BIN_FLAT`` is exact; the approximate binary index (``BIN_IVF_FLAT``) is not used, as
docs/scale-out.md explains with the measurement.

The catalog stays the record of truth; the collection mirrors its hashes. Image ids are
never reused (a changed file gets a new row), so :meth:`MilvusIndex.sync` only adds the
images above its watermark (kept in the catalog's ``meta``) and drops those the catalog
no longer has; it finds the latter by comparing counts, so an up-to-date mirror costs
one ``count(*)`` per sync. A collection that holds fewer photos than the watermark says
(a fresh server, a dropped collection) is filled again.

Searching. A range search with ``radius = threshold + 1`` (Milvus keeps distances
``range_filter <= d < radius``) returns every entity within the threshold, capped at
:data:`FIRST_LIMIT` per query (Milvus's cost grows with the cap). A query that fills
the cap is searched again with :data:`TOP_K`, Milvus's largest; one that fills that too
is searched in narrower bands of distance, and a band of a single distance that still
fills it falls back to an exact scan of the catalog's hashes, so no hit is ever lost.
Every hit is verified against the catalog's own hashes before it is used: a stale or
faulty index can drop nothing silently and add nothing false. All pairs are batched
range searches of every photo's pHash against every entity, assembled into the same pair records as
``all_pairs.py`` produces (``all_pairs.assemble``): a hit on kind t of photo y means
"y turned by t is d from x", the record the brute force makes for that transform.
"""

from __future__ import annotations

import json
import logging
import os
import secrets
import threading
from collections.abc import Callable, Sequence
from typing import TYPE_CHECKING, Any

import numpy as np
import numpy.typing as npt

from desktop_app.engine.catalog import rows
from desktop_app.engine.errors import UsageError
from desktop_app.engine.search import all_pairs
from desktop_app.engine.types import HashArray, IdArray, PairSet

if TYPE_CHECKING:
    from desktop_app.engine.catalog.store import Catalog

log = logging.getLogger(__name__)

#: Milvus's largest ``limit`` (topk) per query.
TOP_K = 16_384
#: The limit of a first search. Milvus sizes its result buffers by the limit: at 100,000
#: hashes, batches of 256 queries took 0.37 ms a query with 1,024 and 4.3 ms with 16,384
#: (Milvus Lite 2.5.1). The few queries that fill it are searched again with TOP_K.
FIRST_LIMIT = 1_024
#: Query hashes per search request.
BATCH = 256
#: Entities per insert request.
INSERT_BATCH = 20_000
_KINDS = 8

#: What a crowded query is scanned against: ids and their hashes, kinds in columns.
Everything = Callable[[], tuple[IdArray, npt.NDArray[np.uint64]]]


def parse_uri(spec: str) -> str:
    """The URI of an ``"milvus:URI"`` index setting, local paths made absolute.

    Raises:
        UsageError: Not a Milvus setting, or a local path that Milvus Lite cannot use.
    """
    if not spec.startswith("milvus:") or len(spec) <= len("milvus:"):
        raise UsageError(f'The index must be "sqlite" or "milvus:URI", not {spec!r}.')
    uri = spec[len("milvus:") :]
    if uri.startswith(("http://", "https://", "tcp://", "unix:")):
        return uri
    path = os.path.abspath(os.path.expanduser(uri))
    if not path.endswith(".db"):
        raise UsageError(f"A Milvus Lite index is a file whose name ends in .db, not {uri!r}.")
    if not os.path.isdir(os.path.dirname(path)):
        raise UsageError(f"No such folder for the Milvus Lite file: {os.path.dirname(path)}")
    return path


def _client(uri: str) -> Any:
    try:
        from pymilvus import MilvusClient
    except ImportError as error:
        raise UsageError(
            "The Milvus index needs the optional dependencies: pip install 'doppel[scale]'."
        ) from error
    try:
        return MilvusClient(uri)
    except Exception as error:  # pymilvus raises its own and grpc errors alike
        raise UsageError(f"Cannot reach Milvus at {uri}: {error}") from error


def _vectors(values: HashArray) -> list[bytes]:
    """64-bit hashes as Milvus binary vectors (8 bytes, most significant first)."""
    raw = np.ascontiguousarray(values, dtype=np.uint64).astype(">u8").tobytes()
    return [raw[k : k + 8] for k in range(0, len(raw), 8)]


class MilvusIndex:
    """The hashes of one catalog in one Milvus collection.

    Args:
        catalog: The catalog whose hashes are mirrored (the record of truth).
        uri: A server URI or an absolute ``.db`` path (:func:`parse_uri`).
        rotations: Also store the seven rotation and mirror variants of each photo.
    """

    def __init__(self, catalog: Catalog, uri: str, *, rotations: bool = False) -> None:
        self._catalog = catalog
        self.uri = uri
        self.rotations = rotations
        self._client = _client(uri)
        name = catalog.get_meta("milvus_collection")
        if name is None:  # one collection per catalog, so catalogs can share a server
            name = "doppel_" + secrets.token_hex(8)
            catalog.set_meta("milvus_collection", name)
        self.collection = name
        self._state_key = f"milvus_state:{uri}:{name}"

    def close(self) -> None:
        """Close the connection (Milvus Lite stops when its last client closes)."""
        self._client.close()

    # ----------------------------------------------------------------- upkeep

    def _state(self) -> tuple[int, bool]:
        text = self._catalog.get_meta(self._state_key)
        if text is None:
            return 0, self.rotations
        state = json.loads(text)
        return int(state["watermark"]), bool(state["rotations"])

    def _put_state(self, watermark: int) -> None:
        value = json.dumps({"watermark": watermark, "rotations": self.rotations})
        self._catalog.set_meta(self._state_key, value)

    def _create(self) -> None:
        from pymilvus import DataType, MilvusClient

        client = self._client
        if client.has_collection(self.collection):
            client.drop_collection(self.collection)
        schema = MilvusClient.create_schema(auto_id=False)
        schema.add_field("pk", DataType.INT64, is_primary=True)
        schema.add_field("photo", DataType.INT64)
        schema.add_field("kind", DataType.INT8)
        schema.add_field("hash", DataType.BINARY_VECTOR, dim=64)
        params = client.prepare_index_params()
        params.add_index("hash", index_type="BIN_FLAT", metric_type="HAMMING")
        client.create_collection(
            self.collection, schema=schema, index_params=params, consistency_level="Strong"
        )
        self._put_state(0)

    def _count(self) -> int:
        rows = self._client.query(self.collection, filter="kind == 0", output_fields=["count(*)"])
        return int(rows[0]["count(*)"])

    def _photos(self) -> IdArray:
        """Every photo id in the collection."""
        found: list[int] = []
        iterator = self._client.query_iterator(
            self.collection, batch_size=10_000, filter="kind == 0", output_fields=["photo"]
        )
        try:
            while batch := iterator.next():
                found += [int(row["photo"]) for row in batch]
        finally:
            iterator.close()
        return np.array(sorted(found), dtype=np.int64)

    def sync(self) -> int:
        """Bring the collection up to date with the catalog's hashes.

        Returns:
            How many photos were added.
        """
        watermark, rotations = self._state()
        if rotations != self.rotations or not self._client.has_collection(self.collection):
            self._create()
            watermark = 0
        elif watermark == self._catalog.max_id():  # the usual case: two counts, no rows
            (hashed,) = self._catalog.execute(
                "SELECT count(*) FROM images WHERE phash IS NOT NULL"
            ).fetchone()
            if self._count() == hashed:
                return 0
        ids, _, _ = self._catalog.hashes()
        below = ids[ids <= watermark]
        added: IdArray = ids[ids > watermark]
        if self._count() != below.shape[0]:
            held = self._photos()
            gone = np.setdiff1d(held, below)
            for start in range(0, gone.shape[0], 1000):
                chunk = gone[start : start + 1000].tolist()
                self._client.delete(self.collection, filter=f"photo in {chunk}")
            missing = np.setdiff1d(below, held)
            added = np.union1d(added, missing)
            log.info("Milvus index: %d photos dropped, %d restored", gone.size, missing.size)
        self._insert(added)
        self._put_state(self._catalog.max_id())
        if added.size:
            log.debug("Milvus index: added %d photos to %s", added.size, self.collection)
        return int(added.shape[0])

    def _insert(self, wanted: IdArray) -> None:
        if not wanted.size:
            return
        ids, hashes, variants = self._table(wanted)
        kinds = _KINDS if variants is not None else 1
        for start in range(0, ids.shape[0], max(1, INSERT_BATCH // kinds)):
            stop = start + max(1, INSERT_BATCH // kinds)
            rows: list[dict[str, Any]] = []
            block = variants[start:stop] if variants is not None else hashes[start:stop, None]
            for kind in range(kinds):
                vectors = _vectors(block[:, kind])
                for photo, vector in zip(ids[start:stop].tolist(), vectors, strict=True):
                    rows.append({"pk": photo * _KINDS + kind, "photo": photo, "kind": kind,
                                 "hash": vector})  # fmt: skip
            self._client.insert(self.collection, rows)

    def _table(self, wanted: IdArray) -> tuple[IdArray, HashArray, npt.NDArray[np.uint64] | None]:
        """Ids, hashes and (with rotations) variants of the ``wanted`` photos.

        A photo hashed without variants (while rotation matching was off) repeats its
        pHash in every column until a scan hashes it again.
        """
        ids, hashes, _ = self._catalog.hashes()
        keep = np.isin(ids, wanted)
        ids, hashes = ids[keep], hashes[keep]
        if not self.rotations:
            return ids, hashes, None
        table = np.repeat(hashes[:, None], _KINDS, axis=1)
        position = {image_id: k for k, image_id in enumerate(ids.tolist())}
        rows = self._catalog.execute(
            "SELECT id, variants FROM images WHERE phash IS NOT NULL AND variants IS NOT NULL"
        )
        for image_id, blob in rows:
            k = position.get(int(image_id))
            if k is not None:
                table[k] = np.frombuffer(blob, dtype="<u8")
        return ids, hashes, table

    # ----------------------------------------------------------------- searching

    def _search(
        self, queries: HashArray, threshold: int, everything: Everything, identity_only: bool
    ) -> list[list[tuple[int, int, int]]]:
        """``(photo, kind, distance)`` of every entity within ``threshold`` of each query.

        ``everything`` gives the ids and the hashes (kinds in columns; one column: the
        pHashes only) that a query too crowded for Milvus's top-k is scanned against.
        """
        vectors = _vectors(queries)
        where = "kind == 0" if identity_only else ""
        out = self._range(vectors, 0, threshold + 1, where, FIRST_LIMIT)
        for k, hits in enumerate(out):
            if len(hits) == FIRST_LIMIT:  # crowded: again, with the largest limit
                out[k] = self._bands(
                    [vectors[k]], 0, threshold + 1, where, queries[k : k + 1], everything
                )[0]
        return out

    def _range(
        self, vectors: list[bytes], low: int, high: int, where: str, limit: int
    ) -> list[list[tuple[int, int, int]]]:
        """One range search: hits with ``low <= d < high``, at most ``limit`` per query."""
        params: dict[str, Any] = {"radius": high}
        if low > 0:
            params["range_filter"] = low
        results = self._client.search(
            self.collection,
            data=vectors,
            anns_field="hash",
            limit=limit,
            filter=where,
            search_params={"metric_type": "HAMMING", "params": params},
            output_fields=["photo", "kind"],
        )
        return [
            [(int(h["entity"]["photo"]), int(h["entity"]["kind"]), round(h["distance"])) for h in r]
            for r in results
        ]

    def _bands(
        self,
        vectors: list[bytes],
        low: int,
        high: int,
        where: str,
        queries: HashArray,
        everything: Everything,
    ) -> list[list[tuple[int, int, int]]]:
        """Hits with ``low <= d < high``; a query that fills :data:`TOP_K` is split."""
        out = self._range(vectors, low, high, where, TOP_K)
        for k, hits in enumerate(out):
            if len(hits) < TOP_K:
                continue
            if high - low > 1:  # crowded: search again in two narrower bands
                mid = (low + high) // 2
                one = queries[k : k + 1]
                out[k] = [
                    *self._bands([vectors[k]], low, mid, where, one, everything)[0],
                    *self._bands([vectors[k]], mid, high, where, one, everything)[0],
                ]
            else:  # more than TOP_K at one distance: scan (exact, and very rare)
                log.info("Milvus index: over %d hashes at distance %d; scanning", TOP_K, low)
                ids, table = everything()
                d = np.bitwise_count(table ^ queries[k])
                rows, kinds = np.nonzero(d == low)
                out[k] = [(int(ids[r]), int(t), low) for r, t in zip(rows, kinds, strict=True)]
        return out

    def _identity_table(self) -> tuple[IdArray, npt.NDArray[np.uint64]]:
        ids, hashes, _ = self._catalog.hashes()
        return ids, hashes[:, None]

    def _known(self, photos: Sequence[int]) -> dict[int, npt.NDArray[np.uint64]]:
        """The catalog's hashes of ``photos`` (kinds in columns) for verification."""
        out: dict[int, npt.NDArray[np.uint64]] = {}
        unique = sorted(set(photos))
        for start in range(0, len(unique), 900):
            chunk = unique[start : start + 900]
            marks = ",".join("?" * len(chunk))
            for image_id, phash, blob in self._catalog.execute(
                f"SELECT id, phash, variants FROM images WHERE id IN ({marks})"
                " AND phash IS NOT NULL",
                chunk,
            ):
                if blob is not None and self.rotations:
                    out[image_id] = np.frombuffer(blob, dtype="<u8").astype(np.uint64)
                else:
                    out[image_id] = np.full(_KINDS, rows.as_unsigned(phash), dtype=np.uint64)
        return out

    def query(self, value: int, threshold: int) -> tuple[IdArray, npt.NDArray[np.uint8]]:
        """Every catalogued image whose pHash is within ``threshold`` of ``value``.

        The same answer as :meth:`SegmentIndex.query`: ``(ids, distances)`` sorted by
        distance, then id, each verified against the catalog's hash.
        """
        self.sync()
        return self.query_synced(value, threshold)

    def query_synced(self, value: int, threshold: int) -> tuple[IdArray, npt.NDArray[np.uint8]]:
        """:meth:`query` without the sync first (a caller that just synced)."""
        query = np.array([value], dtype=np.uint64)
        hits = self._search(query, threshold, self._identity_table, True)[0]
        known = self._known([photo for photo, _, _ in hits])
        found: dict[int, int] = {}
        for photo, _, _ in hits:
            mine = known.get(photo)
            if mine is None:
                continue  # gone from the catalog since the sync
            distance = int(np.bitwise_count(mine[0] ^ np.uint64(value)))
            if distance <= threshold:
                found[photo] = distance
        order = sorted(found, key=lambda p: (found[p], p))
        return (
            np.array(order, dtype=np.int64),
            np.array([found[p] for p in order], dtype=np.uint8),
        )

    def all_pairs(
        self,
        ids: IdArray,
        hashes: HashArray,
        threshold: int,
        *,
        variants: npt.NDArray[np.uint64] | None = None,
        cancel: threading.Event | None = None,
        progress: Callable[[int, int], None] | None = None,
    ) -> PairSet:
        """Every pair within ``threshold``, as :func:`all_pairs.all_pairs` finds it.

        Call :meth:`sync` first; the arguments are the catalog's hashes (``Catalog.hashes``)
        that the hits are verified against, so that this may run off the catalog's thread.

        Args:
            ids: Every hashed photo's id, ascending.
            hashes: Their pHashes.
            threshold: Largest distance.
            variants: ``(n, 8)`` rotation variants to match rotations (the collection must
                hold them: built with ``rotations=True``).
            cancel: Checked between batches; :class:`all_pairs.Cancelled` is raised.
            progress: Called with (photos searched, photos).

        Raises:
            all_pairs.Cancelled: ``cancel`` was set.
        """
        if variants is not None and not self.rotations:
            raise ValueError("rotation pairs need an index built with rotations on")
        table = hashes[:, None] if variants is None else variants
        n = int(ids.shape[0])

        def everything() -> tuple[IdArray, npt.NDArray[np.uint64]]:
            return ids, table

        records: list[tuple[tuple[IdArray, IdArray, npt.NDArray[np.uint8]], int]] = []
        for start in range(0, n, BATCH):
            if cancel is not None and cancel.is_set():
                raise all_pairs.Cancelled
            if progress is not None:
                progress(start, n)
            block = hashes[start : start + BATCH]
            hits = self._search(block, threshold, everything, variants is None)
            records.extend(_records(hits, start, ids, hashes, table, threshold))
        if progress is not None:
            progress(n, n)
        return all_pairs.assemble(ids, records, threshold)


def _records(
    hits: list[list[tuple[int, int, int]]],
    start: int,
    ids: IdArray,
    hashes: HashArray,
    table: npt.NDArray[np.uint64],
    threshold: int,
) -> list[tuple[tuple[IdArray, IdArray, npt.NDArray[np.uint8]], int]]:
    """Verified pair records of one batch: ``((x, y, d), t)``, x turned by t is d from y."""
    queries = [start + k for k, row in enumerate(hits) for _ in row]
    if not queries:
        return []
    flat = [h for row in hits for h in row]
    x = np.array(queries, dtype=np.int64)
    photos = np.array([h[0] for h in flat], dtype=np.int64)
    kinds = np.array([h[1] for h in flat], dtype=np.int64)
    y = np.searchsorted(ids, photos)
    y = np.minimum(y, ids.shape[0] - 1)
    present = ids[y] == photos  # a photo gone from the catalog since the sync
    kinds = np.minimum(kinds, table.shape[1] - 1)
    d = np.bitwise_count(table[y, kinds] ^ hashes[x])
    keep = present & (d <= threshold) & (x != y)
    out: list[tuple[tuple[IdArray, IdArray, npt.NDArray[np.uint8]], int]] = []
    for t in range(table.shape[1]):
        sel = keep & (kinds == t)
        if t == 0:
            sel &= x < y  # each identity pair is met from both ends: keep one
        if sel.any():
            # Kind t of y hit x: y turned by t is d from x.
            out.append(((y[sel], x[sel], d[sel].astype(np.uint8)), t))
    return out
