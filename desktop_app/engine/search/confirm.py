"""Confirming the pairs that pHash alone cannot vouch for, with the geometric check.

Which pairs (:func:`needs_check`): window pairs (``window_pairs.py``), pairs matched
through a rotation or mirror variant, whole-image pairs above :data:`CERTAIN_DISTANCE`,
and near whole-image pairs whose window hashes disagree (:func:`windows_disagree`).
Between distinct photographs the pHash distance averages about 31 bits; below
:data:`CERTAIN_DISTANCE` chance pairs between unrelated photos are rare enough that the
benchmark never shows one, but above it two different photos do meet (a mirrored copy
of one photo and another photo 11 bits apart, on a real library); and a second frame of
a burst can lie 4-8 bits from the first as a whole while its windows, which frame the
moved subject and the moved camera differently, lie further. Each such pair is re-read
from its two files and checked by ``geometry.py``; a pair it does not confirm is left
out.

Verdicts are kept in ``geometry_checks``, keyed by the two files' digests and the
transform, so a pair is checked once whatever the scans that follow, and a changed file
(new digest) is checked again. Keypoints are computed once per photo (and transform)
within one call, so checking k pairs among m photos costs m reduced decodes; a photo in a
pair the grey pixels refuse, and whose tones moved (``geometry.TONE_SHIFT``), is decoded
once more, in colour, for the check's second chance (``geometry.compare``'s ``colour``).

How far: pairs up to the threshold asked for are always checked; beyond it, each
further slider position is checked while its unchecked pairs stay within
:data:`EXTRA_BUDGET`, and the returned set then reaches that far (its ``threshold``):
a small library gets the slider's whole range at once, a large one checks the upper
positions when the slider gets there.
"""

from __future__ import annotations

import functools
import json
import logging
import threading
from collections.abc import Callable, Iterable, Iterator, Mapping

import numpy as np
import numpy.typing as npt
import xxhash
from PIL import Image

from desktop_app.engine.catalog import records as catalog_records
from desktop_app.engine.catalog.rows import chunks as in_slices
from desktop_app.engine.catalog.store import Catalog
from desktop_app.engine.errors import UnreadableImage
from desktop_app.engine.imaging.borders import find_content_box
from desktop_app.engine.imaging.loading import apply_orientation, open_image, to_grey, to_rgb
from desktop_app.engine.search import geometry
from desktop_app.engine.search.window_pairs import WINDOW_BASE
from desktop_app.engine.types import (
    GeometryCheck,
    HashArray,
    IdArray,
    ImageRecord,
    PairSet,
    Transform,
)

log = logging.getLogger(__name__)

#: Whole-image pairs (not turned) at or below this distance need no geometric check when
#: their window hashes agree too. Chosen with benchmarks/quality.py on the tuning half of
#: its corpus.
CERTAIN_DISTANCE = 8
#: A whole-image pair within :data:`CERTAIN_DISTANCE` is certain only when the mean
#: distance between the photos' matching window hashes is at most this
#: (:func:`windows_disagree`). Chosen with benchmarks/crop_quality.py on the tuning half
#: of its corpus.
WINDOW_AGREEMENT = 7.0
#: Unchecked pairs a call checks beyond the threshold asked for (about 30 ms each).
EXTRA_BUDGET = 400
#: Short side the check decodes to (JPEG DCT scaling, then box reduction).
_DECODE_SIDE = 512

Checks = dict[tuple[int, int], GeometryCheck]


def needs_check(
    pairs: PairSet, windows: Callable[[IdArray], HashArray] | None = None
) -> npt.NDArray[np.bool_]:
    """Which pairs the geometric check must confirm before they are shown.

    Args:
        pairs: Candidate pairs.
        windows: The window hashes of photos by id (``Catalog.windows``); with them, a
            whole-image pair within :data:`CERTAIN_DISTANCE` whose windows disagree
            (:func:`windows_disagree`) is checked too.
    """
    need: npt.NDArray[np.bool_] = (pairs.transform != 0) | (pairs.distance > CERTAIN_DISTANCE)
    near = np.flatnonzero(~need)
    if windows is not None and near.size:
        ids = np.unique(np.concatenate([pairs.a[near], pairs.b[near]]))
        table = windows(ids)
        # In slices: a large library has millions of near pairs, 88 bytes of windows each.
        for start in range(0, near.size, _WINDOW_SLICE):
            part = near[start : start + _WINDOW_SLICE]
            rows_a = table[np.searchsorted(ids, pairs.a[part])]
            rows_b = table[np.searchsorted(ids, pairs.b[part])]
            need[part[windows_disagree(rows_a, rows_b)]] = True
    return need


#: Near pairs whose windows are compared at once (about 18 MB of window rows).
_WINDOW_SLICE = 100_000


def windows_disagree(first: HashArray, second: HashArray) -> npt.NDArray[np.bool_]:
    """Which pairs of photos, near as wholes, have windows that are not.

    Rows are the photos' window hashes (``imaging/windows.py``). A copy that keeps the
    frame (resized, re-encoded, brightened, bordered, watermarked) has each window near
    the same window of its original, as its whole picture is. A second frame of a burst
    is near as a whole, but the camera moved and so did part of the scene: its thirds
    and tighter windows frame other things, and their mean distance is larger
    (docs/benchmarks.md, "Bursts near as wholes"). Such a pair is not certain from
    pHash, and goes to the geometric check (as does a small crop, which then passes it).
    A photo without window hashes (a row of zeros) cannot tell: the pair stays certain.
    """
    known = (first != 0).all(axis=1) & (second != 0).all(axis=1)
    mean = np.bitwise_count(first ^ second).mean(axis=1)
    out: npt.NDArray[np.bool_] = known & (mean > WINDOW_AGREEMENT)
    return out


def confirm(
    catalog: Catalog,
    pairs: PairSet,
    wanted: int,
    records: Mapping[int, ImageRecord],
    *,
    max_pixels: int,
    trim: bool = True,
    cancel: threading.Event | None = None,
) -> tuple[PairSet, Checks]:
    """Keep the pairs that are certain or confirmed, as far as the budget allows.

    Args:
        catalog: Holds the verdicts already reached (and receives the new ones).
        pairs: Candidate pairs; window pairs carry codes from ``WINDOW_BASE`` up.
        wanted: Every pair up to this threshold is decided.
        records: Catalog records of the images (paths and digests).
        max_pixels: Decompression-bomb limit for re-reading the files.
        trim: Cut flat borders, as the hash does.
        cancel: Stops checking; the pairs not checked yet are then left out.

    Returns:
        ``(pairs, checks)``: the kept pairs, complete to their ``threshold`` (between
        ``wanted`` and ``pairs.threshold``), all with Transform codes (a window pair
        becomes IDENTITY), and the verdicts reached by this call, by ``(a, b)``, of
        the kept pairs that needed one (those reached before are in the catalog:
        :func:`stored_checks`).
    """
    forget_outdated(catalog)
    digests = _digest_words(records)
    known = _load_masks(catalog, _signature(catalog, pairs, digests), len(pairs))
    if known is None:
        need = needs_check(pairs, catalog.windows)
        decided, confirmed = _load_verdicts(catalog, pairs, need, digests)
    else:
        need, decided, confirmed = known
    pending = need & ~decided
    pending_by_threshold = np.bincount(
        pairs.distance[pending].astype(np.int64), minlength=pairs.threshold + 2
    )
    reach = min(wanted, pairs.threshold)
    budget = EXTRA_BUDGET
    while reach < pairs.threshold and pending_by_threshold[reach + 1] <= budget:
        reach += 1
        budget -= int(pending_by_threshold[reach])
    within = pairs.distance <= reach
    todo = np.flatnonzero(pending & within).tolist()
    checks: Checks = {}
    if todo:
        log.info("Checking %d pairs geometrically (up to distance %d)", len(todo), reach)
        fresh = _check_pairs(pairs, todo, records, max_pixels, trim, cancel)
        _store_verdicts(catalog, pairs, fresh, records)
        for k in todo:
            verdict = fresh.get((int(pairs.a[k]), int(pairs.b[k])))
            if verdict is None:
                continue  # not checked (cancelled, unreadable): decided another time
            decided[k] = True
            if verdict.confirmed:
                confirmed[k] = True
                checks[(int(pairs.a[k]), int(pairs.b[k]))] = verdict
    if todo or known is None:
        _store_masks(catalog, _signature(catalog, pairs, digests), need, decided, confirmed)
    keep = within & (~need | confirmed)
    transform = np.where(pairs.transform >= WINDOW_BASE, 0, pairs.transform).astype(np.uint8)
    kept = PairSet(pairs.a[keep], pairs.b[keep], pairs.distance[keep], transform[keep], int(reach))
    return kept, checks


def _digest_words(records: Mapping[int, ImageRecord]) -> npt.NDArray[np.uint64]:
    """``(id, has a digest, digest word 0, digest word 1)`` of every record, in id order
    (a record without a 16-byte digest has 0 and zeros)."""
    count = len(records)
    ids = np.fromiter(records, dtype=np.int64, count=count)
    digests = catalog_records.digests(records)  # from the rows of a table, not records
    has = np.fromiter((d is not None and len(d) == 16 for d in digests), dtype=bool, count=count)
    none = bytes(16)
    packed = b"".join([d if d is not None and len(d) == 16 else none for d in digests])
    out = np.empty((count, 4), dtype=np.uint64)
    out[:, 0] = ids
    out[:, 1] = has
    out[:, 2:] = np.frombuffer(packed, dtype="<u8").reshape(-1, 2)
    ordered: npt.NDArray[np.uint64] = out[np.argsort(ids, kind="stable")]
    return ordered


def _signature(catalog: Catalog, pairs: PairSet, digests: npt.NDArray[np.uint64]) -> bytes:
    """What the flags of :func:`confirm` depend on: the candidate pairs, the files they
    were found in (ids and digests), the window hashes present, the verdicts kept (their
    packed chunks) and the rules (the check's version and this module's limits)."""
    digest = xxhash.xxh3_128()
    rules = (geometry.CHECK_VERSION, CERTAIN_DISTANCE, WINDOW_AGREEMENT, pairs.threshold)
    digest.update(repr(rules).encode())
    for array in (pairs.a, pairs.b, pairs.distance, pairs.transform, digests):
        digest.update(np.ascontiguousarray(array).data)
        digest.update(len(array).to_bytes(8, "little"))
    packed = catalog.execute("SELECT max(id), count(*) FROM geometry_packed").fetchone()
    windows = catalog.execute("SELECT count(*) FROM images WHERE windows IS NOT NULL").fetchone()
    digest.update(repr((tuple(packed), tuple(windows))).encode())
    return digest.digest()


def _load_masks(
    catalog: Catalog, signature: bytes, n: int
) -> tuple[npt.NDArray[np.bool_], npt.NDArray[np.bool_], npt.NDArray[np.bool_]] | None:
    """``(need, decided, confirmed)`` as the last call left them, if nothing they depend
    on has changed since (the same signature): a library opens without joining its
    pairs with the verdicts again."""
    row = catalog.execute(
        "SELECT need, decided, confirmed FROM geometry_masks WHERE signature = ?", (signature,)
    ).fetchone()
    if row is None:
        return None
    flags = [np.unpackbits(np.frombuffer(bytes(b), np.uint8), count=n).astype(bool) for b in row]
    return flags[0], flags[1], flags[2]


def _store_masks(
    catalog: Catalog,
    signature: bytes,
    need: npt.NDArray[np.bool_],
    decided: npt.NDArray[np.bool_],
    confirmed: npt.NDArray[np.bool_],
) -> None:
    with catalog.transaction() as db:
        db.execute("DELETE FROM geometry_masks")
        db.execute(
            "INSERT INTO geometry_masks(signature, need, decided, confirmed) VALUES(?, ?, ?, ?)",
            (signature, *(np.packbits(f).tobytes() for f in (need, decided, confirmed))),
        )


#: ``meta`` key: the ``geometry.CHECK_VERSION`` the kept verdicts were reached with.
VERSION_KEY = "geometry_check_version"


def forget_outdated(catalog: Catalog) -> None:
    """Drop the kept verdicts if an earlier version of the check reached them: they are
    a cache, and a pair the check now decides otherwise must be checked again."""
    if catalog.get_meta(VERSION_KEY) == str(geometry.CHECK_VERSION):
        return
    with catalog.transaction() as db:
        forgotten = db.execute("DELETE FROM geometry_checks").rowcount
        db.execute("DELETE FROM geometry_packed")
        db.execute("DELETE FROM geometry_masks")
        Catalog.put_meta(db, VERSION_KEY, str(geometry.CHECK_VERSION))
    if forgotten:
        log.info("Forgot %d geometric verdicts of an earlier check", forgotten)


def _pair_transform(code: int) -> int:
    """The Transform a pair's first photo is turned by before the check."""
    return 0 if code >= WINDOW_BASE else code


def _check_pairs(
    pairs: PairSet,
    todo: list[int],
    records: Mapping[int, ImageRecord],
    max_pixels: int,
    trim: bool,
    cancel: threading.Event | None,
) -> Checks:
    # Pairs in order of their first photo, so that each photo's keypoints serve its
    # pairs while they are at hand; a bounded cache keeps memory flat however many
    # photos are checked (a whole library after the check's version changed).
    todo = sorted(todo, key=lambda k: (int(pairs.a[k]), int(pairs.b[k])))

    @functools.lru_cache(maxsize=_KEYPOINT_CACHE)
    def keypoints_of(image_id: int, transform: int) -> geometry.Keypoints | None:
        picture = _picture(records.get(image_id), max_pixels, trim)
        if picture is None:
            return None
        return geometry.keypoints(geometry.prepare(picture, Transform(transform)))

    # The colour, read only for the pairs whose grey pixels differ (the check's second
    # chance): most pairs never need it.
    @functools.lru_cache(maxsize=_COLOUR_CACHE)
    def colour_of(image_id: int, transform: int) -> geometry.Colour | None:
        return _colour(records.get(image_id), max_pixels, Transform(transform), trim)

    out: Checks = {}
    for k in todo:
        if cancel is not None and cancel.is_set():
            break
        a, b, code = int(pairs.a[k]), int(pairs.b[k]), int(pairs.transform[k])
        transform = _pair_transform(code)
        first, second = keypoints_of(a, transform), keypoints_of(b, 0)
        if first is None or second is None:
            continue  # unreadable now: decided next time, never cached

        def colour(
            a: int = a, b: int = b, transform: int = transform
        ) -> tuple[geometry.Colour | None, geometry.Colour | None]:
            return colour_of(a, transform), colour_of(b, 0)

        out[(a, b)] = geometry.compare(first, second, turned=Transform(transform), colour=colour)
    return out


#: Photos whose keypoints one call keeps at hand (about 0.4 MB each).
_KEYPOINT_CACHE = 256
#: Photos whose colour one call keeps at hand (about 0.6 MB each).
_COLOUR_CACHE = 64


def load_picture(path: str, max_pixels: int, trim: bool = True) -> Image.Image:
    """The upright greyscale picture the check works on, reduced, borders cut.

    Raises:
        UnreadableImage: The file cannot be read or decoded.
        OSError: The file is gone or unreadable.
    """
    grey, _ = _load(path, max_pixels, trim, colour=False)
    return grey


def load_colour(path: str, max_pixels: int, trim: bool = True) -> Image.Image | None:
    """The picture of :func:`load_picture` in colour ("RGB", the same size, cut and
    reduced the same way), or None for a greyscale file.

    Raises:
        UnreadableImage: The file cannot be read or decoded.
        OSError: The file is gone or unreadable.
    """
    _, colour = _load(path, max_pixels, trim, colour=True)
    return colour


def read_keypoints(
    path: str, max_pixels: int, transform: Transform = Transform.IDENTITY, trim: bool = True
) -> geometry.Keypoints:
    """The keypoints the check compares, of a file turned by ``transform``."""
    picture = load_picture(path, max_pixels, trim)
    return geometry.keypoints(geometry.prepare(picture, transform))


def read_colour(
    path: str, max_pixels: int, transform: Transform = Transform.IDENTITY, trim: bool = True
) -> geometry.Colour | None:
    """The colour pixels of the check's second chance, aligned with the pixels of
    :func:`read_keypoints` (None for a greyscale file)."""
    picture = load_colour(path, max_pixels, trim)
    return None if picture is None else geometry.colour_pixels(geometry.prepare(picture, transform))


def _load(
    path: str, max_pixels: int, trim: bool, *, colour: bool
) -> tuple[Image.Image, Image.Image | None]:
    with open(path, "rb") as file:
        data = file.read()
    opened = open_image(data, path, max_pixels)
    image = opened.image
    if image.format in ("JPEG", "MPO"):
        # "YCbCr" decodes the same luma as "L" (the grey is the same either way), with
        # the colour beside it.
        image.draft("YCbCr" if colour else "L", (_DECODE_SIDE, _DECODE_SIDE))
    image.load()
    rgb: Image.Image | None = None
    if image.mode == "YCbCr":
        grey = image.getchannel(0)
        rgb = image.convert("RGB") if colour else None
    else:
        grey = to_grey(image)
        if colour and not _grey_mode(image.mode):
            rgb = to_rgb(image)
    orientation = opened.exif.orientation
    grey = apply_orientation(grey, orientation)
    rgb = None if rgb is None else apply_orientation(rgb, orientation)
    while min(grey.size) >= 4 * _DECODE_SIDE:
        grey = grey.reduce(2)
        rgb = None if rgb is None else rgb.reduce(2)
    if trim:
        box = find_content_box(np.asarray(grey))
        if box != (0, 0, grey.width, grey.height):
            grey = grey.crop(box)
            rgb = None if rgb is None else rgb.crop(box)
    return grey, rgb


def _grey_mode(mode: str) -> bool:
    """Whether pictures of this Pillow mode have no colour (no second chance in colour)."""
    return mode in ("1", "L", "LA", "La") or mode.startswith(("I", "F"))


def _picture(record: ImageRecord | None, max_pixels: int, trim: bool) -> Image.Image | None:
    if record is None:
        return None
    try:
        return load_picture(record.path, max_pixels, trim)
    except (OSError, UnreadableImage) as error:
        log.warning("Cannot re-read %s for the geometric check: %s", record.path, error)
        return None


def _colour(
    record: ImageRecord | None, max_pixels: int, transform: Transform, trim: bool
) -> geometry.Colour | None:
    if record is None:
        return None
    try:
        return read_colour(record.path, max_pixels, transform, trim)
    except (OSError, UnreadableImage) as error:
        log.warning("Cannot re-read %s in colour for the geometric check: %s", record.path, error)
        return None


def _digests(
    pairs: PairSet, k: int, records: Mapping[int, ImageRecord]
) -> tuple[bytes, bytes] | None:
    first = records.get(int(pairs.a[k]))
    second = records.get(int(pairs.b[k]))
    if first is None or second is None or first.digest is None or second.digest is None:
        return None
    return first.digest, second.digest


def _load_verdicts(
    catalog: Catalog,
    pairs: PairSet,
    need: npt.NDArray[np.bool_],
    words: npt.NDArray[np.uint64],
) -> tuple[npt.NDArray[np.bool_], npt.NDArray[np.bool_]]:
    """Which pairs already have a verdict in the catalog, and which of those are
    confirmed: ``(decided, confirmed)``, one flag per pair (False where not needed).
    ``words`` are the records' digests (:func:`_digest_words`).

    Read from ``geometry_packed``, where every verdict's key (the two files' digests
    and the transform, five 64-bit words) and flag are kept in a few large chunks, and
    joined on arrays: opening a library with millions of checked pairs costs reading
    those chunks and a sort, not a Python step per pair (the evidence is read only when
    it is shown: :func:`stored_checks`). A verdict written again for the same key
    (another check of the same two files) overrides the earlier one.
    """
    n = pairs.a.shape[0]
    decided = np.zeros(n, dtype=bool)
    confirmed = np.zeros(n, dtype=bool)
    wanted = np.flatnonzero(need)
    if not wanted.size:
        return decided, confirmed
    chunks = catalog.execute("SELECT keys, flags FROM geometry_packed ORDER BY id").fetchall()
    if not chunks:
        return decided, confirmed
    table = np.frombuffer(b"".join(bytes(c[0]) for c in chunks), dtype="<u8").reshape(-1, 5)
    flags = np.frombuffer(b"".join(bytes(c[1]) for c in chunks), dtype=np.uint8)
    ids = words[:, 0].astype(np.int64)
    has_digest = words[:, 1] == 1
    digests = words[:, 2:]
    a, found_a = _positions(ids, pairs.a[wanted])
    b, found_b = _positions(ids, pairs.b[wanted])
    usable = found_a & found_b & has_digest[a] & has_digest[b]
    wanted, a, b = wanted[usable], a[usable], b[usable]
    code = np.where(pairs.transform[wanted] >= WINDOW_BASE, 0, pairs.transform[wanted])
    code = code.astype(np.uint64)
    # Sorted by a 64-bit mix of the key: the last verdict of a run of equal mixes is the
    # newest; the whole key is compared after.
    mixed = _mix(table[:, 0], table[:, 1], 0) ^ _mix(table[:, 2], table[:, 3], 1)
    mixed ^= _mix(table[:, 4], table[:, 4], 2)
    order = np.argsort(mixed, kind="stable")
    mixed = mixed[order]
    as_first = _mix(digests[:, 0], digests[:, 1], 0)  # per photo, then per pair
    as_second = _mix(digests[:, 0], digests[:, 1], 1)
    probe = as_first[a] ^ as_second[b] ^ _mix(code, code, 2)
    # Probed in sorted order: numpy's binary search then walks the table once.
    by_probe = np.argsort(probe)
    at = np.empty_like(by_probe)
    at[by_probe] = np.searchsorted(mixed, probe[by_probe], side="right") - 1
    row = order[at.clip(0)]
    hit = (
        (at >= 0)
        & (table[row, 0] == digests[a, 0])
        & (table[row, 1] == digests[a, 1])
        & (table[row, 2] == digests[b, 0])
        & (table[row, 3] == digests[b, 1])
        & (table[row, 4] == code)
    )  # a different key with the same mix: undecided, so checked again (never wrong)
    decided[wanted[hit]] = True
    confirmed[wanted[hit]] = flags[row[hit]] == 1
    return decided, confirmed


def _positions(ids: IdArray, wanted: IdArray) -> tuple[IdArray, npt.NDArray[np.bool_]]:
    """Where each of ``wanted`` is in the sorted ``ids``, and whether it is there."""
    if not ids.size:
        return np.zeros(wanted.shape[0], np.int64), np.zeros(wanted.shape[0], bool)
    top = int(ids[-1])
    if int(ids[0]) >= 0 and top <= 4 * ids.shape[0] + 1024:  # dense ids: a direct table
        slot = np.full(top + 1, -1, np.int64)
        slot[ids] = np.arange(ids.shape[0])
        inside = (wanted >= 0) & (wanted <= top)
        at = np.where(inside, slot[wanted.clip(0, top)], -1)
        return at.clip(0), at >= 0
    at = np.searchsorted(ids, wanted).clip(0, ids.shape[0] - 1)
    return at, ids[at] == wanted


def _mix(
    low: npt.NDArray[np.uint64], high: npt.NDArray[np.uint64], part: int
) -> npt.NDArray[np.uint64]:
    """A 64-bit hash of one part of a verdict's key (0: the first digest's two words,
    1: the second's, 2: the transform), MurmurHash3's finaliser over the words; the
    key's mix is the xor of its parts' hashes, so a photo's part is computed once for
    all its pairs."""
    with np.errstate(over="ignore"):
        x = (low * np.uint64(0x9E3779B97F4A7C15)) ^ (high * np.uint64(0xC2B2AE3D27D4EB4F))
        x ^= np.uint64(_SALTS[part])
        for factor in (0xFF51AFD7ED558CCD, 0xC4CEB9FE1A85EC53):
            x ^= x >> np.uint64(33)
            x *= np.uint64(factor)
        x ^= x >> np.uint64(33)
    out: npt.NDArray[np.uint64] = x
    return out


_SALTS = (0x165667B19E3779F9, 0xD6E8FEB86659FD93, 0x27D4EB2F165667C5)


def _store_verdicts(
    catalog: Catalog, pairs: PairSet, fresh: Checks, records: Mapping[int, ImageRecord]
) -> None:
    # Positions of the checked pairs only: a large library has millions of pairs, a few
    # of which were just checked.
    firsts = np.fromiter((a for a, _ in fresh), np.int64, len(fresh))
    seconds = np.fromiter((b for _, b in fresh), np.int64, len(fresh))
    near = np.flatnonzero(np.isin(pairs.a, firsts) & np.isin(pairs.b, seconds)).tolist()
    index = {(int(pairs.a[k]), int(pairs.b[k])): k for k in near}
    rows = []
    for key, verdict in fresh.items():
        k = index[key]
        digests = _digests(pairs, k, records)
        if digests is None:
            continue
        rows.append(
            (
                digests[0],
                digests[1],
                _pair_transform(int(pairs.transform[k])),
                int(verdict.confirmed),
                json.dumps(list(verdict.evidence)),
                verdict.cropped,
                None if verdict.frame is None else json.dumps(list(verdict.frame)),
            )
        )
    packed = [r for r in rows if len(r[0]) == 16 and len(r[1]) == 16]
    with catalog.transaction() as db:
        db.executemany(
            "INSERT OR REPLACE INTO geometry_checks(first, second, transform, confirmed,"
            " evidence, cropped, frame) VALUES(?, ?, ?, ?, ?, ?, ?)",
            rows,
        )
        if packed:  # the same verdicts, for the bulk read of _load_verdicts
            db.execute(
                "INSERT INTO geometry_packed(keys, flags) VALUES(?, ?)",
                (
                    b"".join(r[0] + r[1] + int(r[2]).to_bytes(8, "little") for r in packed),
                    bytes(int(r[3]) for r in packed),
                ),
            )


#: Pairs :meth:`StoredChecks.prefetch` asks for per statement (two variables each).
_PREFETCH_CHUNK = 400


def _check(swapped: bool, evidence: str, cropped: str, frame: str | None) -> GeometryCheck:
    """A confirmed verdict from its ``geometry_checks`` row, read for the pair in the
    other order when ``swapped``."""
    if swapped:
        cropped = {"a": "b", "b": "a"}.get(cropped, "")
    return GeometryCheck(
        True,
        tuple(json.loads(evidence)),
        cropped,
        None if frame is None else tuple(json.loads(frame)),
    )


def stored_checks(catalog: Catalog, records: Mapping[int, ImageRecord]) -> StoredChecks:
    """Every confirmed verdict in the catalog, by the ``(a, b)`` ids (``a < b``) of the
    records whose files it was reached on (for a Library that did not run
    :func:`confirm` itself). Read one pair at a time, when asked."""
    return StoredChecks(catalog, records)


class StoredChecks(Mapping[tuple[int, int], GeometryCheck]):
    """The confirmed verdicts of the catalog, looked up pair by pair (by the primary key
    of ``geometry_checks``) and kept once read: opening a library with hundreds of
    thousands of checked pairs reads only the evidence of the groups that are shown."""

    def __init__(self, catalog: Catalog, records: Mapping[int, ImageRecord]) -> None:
        self._catalog = catalog
        self._records = records
        self._seen: dict[tuple[int, int], GeometryCheck | None] = {}

    def _digest(self, image_id: int) -> bytes | None:
        record = self._records.get(image_id)
        return None if record is None else record.digest

    def _read(self, key: tuple[int, int]) -> GeometryCheck | None:
        a, b = key
        first, second = self._digest(a), self._digest(b)
        if a == b or first is None or second is None:
            return None
        for x, y, swapped in ((first, second, False), (second, first, True)):
            row = self._catalog.execute(
                "SELECT evidence, cropped, frame FROM geometry_checks"
                " WHERE first = ? AND second = ? AND confirmed = 1 ORDER BY transform LIMIT 1",
                (x, y),
            ).fetchone()
            if row is not None:
                return _check(swapped, *row)
        return None

    def prefetch(self, keys: Iterable[tuple[int, int]]) -> None:
        """Read the verdicts of these pairs at once, for the lookups to come: a group's
        members against its reference, in one statement rather than one or two each."""
        wanted: dict[tuple[bytes, bytes], list[tuple[tuple[int, int], bool]]] = {}
        for key in keys:
            if key in self._seen:
                continue
            a, b = key
            first, second = self._digest(a), self._digest(b)
            if a == b or first is None or second is None:
                self._seen[key] = None
                continue
            wanted.setdefault((first, second), []).append((key, False))
            wanted.setdefault((second, first), []).append((key, True))
        if not wanted:
            return
        # Per key, as _read finds it: the pair in its own order first, else swapped;
        # the smallest transform of either.
        best: dict[tuple[int, int], tuple[bool, int, tuple[str, str, str | None]]] = {}
        for chunk in in_slices(list(wanted), _PREFETCH_CHUNK):
            values = ",".join("(?, ?)" for _ in chunk)
            # CROSS JOIN keeps the pairs wanted as the outer loop, each looked up by the
            # primary key: with a few hundred of them, SQLite would otherwise index the
            # whole table for the join (0.1 s at 300,000 verdicts).
            rows = self._catalog.execute(
                f"WITH wanted(x, y) AS (VALUES {values})"
                " SELECT g.first, g.second, g.transform, g.evidence, g.cropped, g.frame"
                " FROM wanted CROSS JOIN geometry_checks AS g ON g.first = wanted.x"
                " AND g.second = wanted.y WHERE g.confirmed = 1",
                [digest for pair in chunk for digest in pair],
            ).fetchall()
            for first, second, transform, evidence, cropped, frame in rows:
                for key, swapped in wanted.get((bytes(first), bytes(second)), ()):
                    rank = (swapped, int(transform))
                    old = best.get(key)
                    if old is None or rank < old[:2]:
                        best[key] = (swapped, int(transform), (evidence, cropped, frame))
        for pairs in wanted.values():
            for key, _ in pairs:
                found = best.get(key)
                self._seen[key] = None if found is None else _check(found[0], *found[2])

    def __getitem__(self, key: tuple[int, int]) -> GeometryCheck:
        if key not in self._seen:
            self._seen[key] = self._read(key)
        found = self._seen[key]
        if found is None:
            raise KeyError(key)
        return found

    def __iter__(self) -> Iterator[tuple[int, int]]:
        """Every pair with a confirmed verdict (reads the whole table)."""
        by_digest: dict[bytes, list[int]] = {}
        for record in self._records.values():
            if record.digest is not None:
                by_digest.setdefault(record.digest, []).append(record.id)
        keys: set[tuple[int, int]] = set()
        rows = self._catalog.execute(
            "SELECT first, second FROM geometry_checks WHERE confirmed = 1"
        ).fetchall()
        for first, second in rows:
            for a in by_digest.get(bytes(first), ()):
                for b in by_digest.get(bytes(second), ()):
                    if a != b:
                        keys.add((min(a, b), max(a, b)))
        return iter(sorted(keys))

    def __len__(self) -> int:
        return sum(1 for _ in self)
