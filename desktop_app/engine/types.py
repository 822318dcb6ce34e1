"""Plain data that crosses the engine's boundaries.

Frozen dataclasses only, so that they are safe to hand from a worker thread or process
to the GUI thread. Hashes are unsigned 64-bit ``int`` in Python and ``uint64`` in numpy;
bit 63 is the first bit of imagehash's bit string, so ``format(h, "016x")`` equals
``str(imagehash_hash)`` and ``imagehash.hex_to_hash`` reads it back.
"""

from __future__ import annotations

import enum
import os
from collections.abc import Generator
from dataclasses import dataclass, field
from typing import Any, TypeVar

import numpy as np
import numpy.typing as npt

from desktop_app.engine.units import format_duration

IdArray = npt.NDArray[np.int64]
HashArray = npt.NDArray[np.uint64]
DistArray = npt.NDArray[np.uint8]


class Transform(enum.IntEnum):
    """The eight symmetries of a rectangle, as applied to a photo before hashing.

    ``ImageFeatures.variants[t]`` is the pHash of the photo transformed by ``t``. A pair
    matched through ``t`` means: photo *a* turned by ``t`` looks like photo *b*.
    """

    IDENTITY = 0
    ROTATE_90 = 1  # counter-clockwise, as PIL.Image.Transpose.ROTATE_90
    ROTATE_180 = 2
    ROTATE_270 = 3
    FLIP_LEFT_RIGHT = 4
    FLIP_TOP_BOTTOM = 5
    TRANSPOSE = 6
    TRANSVERSE = 7


#: ``INVERSE_TRANSFORM[t]`` undoes transform ``t`` (ROTATE_90 <-> ROTATE_270; the others
#: are their own inverse): *a* turned by t looks like *b* <=> *b* turned by it looks like *a*.
INVERSE_TRANSFORM = np.array([0, 3, 2, 1, 4, 5, 6, 7], dtype=np.uint8)
INVERSE_TRANSFORM.setflags(write=False)


def hash_distance(a: int, b: int) -> int:
    """Hamming distance between two 64-bit hashes (signed or unsigned Python ints)."""
    return ((a ^ b) & 0xFFFF_FFFF_FFFF_FFFF).bit_count()


def hash_to_hex(value: int) -> str:
    """16 lower-case hex digits, the form ``str(imagehash.ImageHash)`` prints."""
    return format(value, "016x")


@dataclass(frozen=True, slots=True)
class Capture:
    """Who took a photo, when and how: the camera's record of one exposure.

    Read at scan time from EXIF, embedded XMP and an ``.xmp`` sidecar beside the photo
    (``imaging/capture.py``). Two files with the same capture are the same exposure;
    two with different ones (another sub-second, body or exposure) are different shots
    even when their pixels look alike (a burst, a bracket). Every field may be missing.

    Attributes:
        taken: DateTimeOriginal as ISO 8601 "YYYY-MM-DDTHH:MM:SS".
        subsec: SubSecTimeOriginal, the digits as written ("120").
        offset: OffsetTimeOriginal ("+02:00").
        make: The Make tag.
        model: The Model tag.
        serial: BodySerialNumber.
        unique_id: ImageUniqueID.
        exposure_time: Seconds.
        f_number: The aperture's f-number.
        iso: PhotographicSensitivity (ISO).
        exposure_bias: ExposureBiasValue in stops.
        document_id: xmpMM:DocumentID.
        original_document_id: xmpMM:OriginalDocumentID.
        instance_id: xmpMM:InstanceID.
        derived_from: xmpMM:DerivedFrom (its documentID, or a darktable file name).
    """

    taken: str | None = None
    subsec: str | None = None
    offset: str | None = None
    make: str | None = None
    model: str | None = None
    serial: str | None = None
    unique_id: str | None = None
    exposure_time: float | None = None
    f_number: float | None = None
    iso: int | None = None
    exposure_bias: float | None = None
    document_id: str | None = None
    original_document_id: str | None = None
    instance_id: str | None = None
    derived_from: str | None = None

    @property
    def shot(self) -> bool:
        """Whether the camera's record of the exposure is there (a capture time)."""
        return self.taken is not None

    @property
    def when(self) -> str | None:
        """Capture time as shown: "2024-05-01 14:22:48.120" (sub-second when known)."""
        if self.taken is None:
            return None
        text = self.taken.replace("T", " ")
        return f"{text}.{self.subsec}" if self.subsec else text

    @property
    def exposure(self) -> str | None:
        """ "1/250 s f/2.8 ISO 200 -1 EV", from what is known, or None."""
        parts = []
        if self.exposure_time:
            t = self.exposure_time
            parts.append(f"1/{round(1 / t)} s" if t < 0.5 else f"{t:g} s")
        if self.f_number:
            parts.append(f"f/{self.f_number:g}")
        if self.iso:
            parts.append(f"ISO {self.iso}")
        if self.exposure_bias:
            parts.append(f"{self.exposure_bias:+g} EV")
        return " ".join(parts) or None

    def to_json(self) -> dict[str, object]:
        """The fields that are set, for the catalog and the JSON output."""
        return {
            name: getattr(self, name) for name in self.__slots__ if getattr(self, name) is not None
        }

    @classmethod
    def from_json(cls, data: dict[str, object]) -> Capture:
        """Inverse of :meth:`to_json`; unknown keys (a newer version) are ignored."""
        known = set(cls.__slots__)
        return cls(**{k: v for k, v in data.items() if k in known})  # type: ignore[arg-type]


class VerdictKind(enum.StrEnum):
    """What a pair of near photos is. The first three are copies; the last is not."""

    IDENTICAL = "identical"
    SAME_PIXELS = "same_pixels"
    COPY = "copy"
    SIMILAR_SHOT = "similar_shot"

    @property
    def is_copy(self) -> bool:
        """Whether the pair belongs in a group of copies."""
        return self is not VerdictKind.SIMILAR_SHOT

    @property
    def label(self) -> str:
        """As a card's badge shows it ("SAME PIXELS")."""
        return self.value.replace("_", " ").upper()


@dataclass(frozen=True, slots=True)
class PairVerdict:
    """The verdict on a pair of photos and the evidence for it, in short phrases
    ("same capture time 14:22:48.120", "same camera body"), strongest first."""

    kind: VerdictKind
    evidence: tuple[str, ...] = ()

    @property
    def is_copy(self) -> bool:
        return self.kind.is_copy


@dataclass(frozen=True, slots=True)
class ImageFeatures:
    """What hashing one file yields. Picklable: it crosses the process-pool boundary.

    Attributes:
        path: The file, as given to the hasher.
        size: File size in bytes, from the same ``stat`` as ``mtime_ns``.
        mtime_ns: Modification time; with ``size`` it decides whether a re-scan re-hashes.
        digest: xxh3-128 of the file's bytes: equal digests mean byte-identical files.
            None for a camera RAW file, whose hashing reads only its preview; the scan
            digests it once another file has the same size.
        phash: 64-bit perceptual hash of the oriented, border-trimmed picture.
        width: Displayed width in pixels (after EXIF orientation, before trimming).
        height: Displayed height in pixels.
        format: Pillow's format name ("JPEG", "PNG", "HEIF", ...).
        taken: EXIF date taken as ISO 8601 ("2024-05-01T13:45:10"), if present.
        camera: Camera make and model from EXIF, if present.
        variants: pHashes of the eight :class:`Transform` s of the picture, identity
            first, or empty when rotation matching is off.
        content_width: Width of the picture without the flat borders the hash trims
            (equal to ``width`` when there are none), or None if unknown.
        content_height: Height likewise.
        capture: Capture time, camera and exposure, when the file says (or its sidecar).
        pixel_digest: xxh3-128 of the picture without its metadata: a JPEG's entropy-coded
            data, another format's decoded pixels. Equal means the same picture.
        sharpness: Variance of the Laplacian on the reduced greyscale picture.
        greyscale: The picture has no colour (one channel).
        brightness: Mean grey level (0-255) of the border-trimmed picture: a bracket one
            stop darker has half of it, a copy the same.
        windows: pHashes of fixed windows of the picture (``imaging/windows.py``), so
            that a crop of it can be found; empty when unknown.
    """

    path: str
    size: int
    mtime_ns: int
    digest: bytes | None
    phash: int
    width: int
    height: int
    format: str
    taken: str | None = None
    camera: str | None = None
    variants: tuple[int, ...] = ()
    content_width: int | None = None
    content_height: int | None = None
    capture: Capture | None = None
    pixel_digest: bytes | None = None
    sharpness: float | None = None
    greyscale: bool = False
    brightness: float | None = None
    windows: tuple[int, ...] = ()


@dataclass(frozen=True, slots=True)
class FileFailure:
    """A file that looked like a photo but could not be hashed, and why.

    ``reason`` is a short sentence for the user ("truncated JPEG", "not an image").
    ``gone`` is set when the file vanished between the folder walk and its reading: the
    scan then drops it from the catalog instead of listing it as unreadable.
    """

    path: str
    size: int
    mtime_ns: int
    reason: str
    gone: bool = False


@dataclass(frozen=True, slots=True)
class ImageRecord:
    """One row of the catalog. ``phash`` is None and ``error`` set for unreadable files."""

    id: int
    path: str
    size: int
    mtime_ns: int
    digest: bytes | None
    phash: int | None
    width: int
    height: int
    format: str | None
    taken: str | None
    camera: str | None
    error: str | None = None
    content_width: int | None = None
    content_height: int | None = None
    capture: Capture | None = None
    pixel_digest: bytes | None = None
    sharpness: float | None = None
    greyscale: bool = False
    brightness: float | None = None

    @property
    def name(self) -> str:
        """The file name without its folder."""
        return os.path.basename(self.path)

    @property
    def folder(self) -> str:
        """The folder the file is in."""
        return os.path.dirname(self.path)

    @property
    def pixels(self) -> int:
        """Pixel count of the whole file."""
        return self.width * self.height

    @property
    def picture_size(self) -> tuple[int, int]:
        """Width and height of the picture without added flat borders (a frame, bands)."""
        return (self.content_width or self.width, self.content_height or self.height)

    @property
    def picture_pixels(self) -> int:
        """Pixel count of the picture itself, the first keep-the-best criterion: a copy
        with a frame added has more pixels but no more picture."""
        width, height = self.picture_size
        return width * height


class Phase(enum.Enum):
    """Steps of a scan, in the order they happen."""

    WALKING = "walking"
    HASHING = "hashing"
    PAIRING = "pairing"
    GROUPING = "grouping"
    DONE = "done"


@dataclass(frozen=True, slots=True)
class Progress:
    """A progress report from a running scan.

    Attributes:
        phase: Which step is running.
        done: Items finished in this phase.
        total: Items this phase will handle, or None while still unknown.
        current: The file being worked on, if any.
        rate: Items per second over this phase so far.
        eta: Seconds left in this phase, or None if unknown.
        failed: Files that could not be read so far in the whole scan.
    """

    phase: Phase
    done: int
    total: int | None
    current: str | None = None
    rate: float = 0.0
    eta: float | None = None
    failed: int = 0


PHASE_LABELS = {
    Phase.WALKING: "Looking for photos",
    Phase.HASHING: "Hashing",
    Phase.PAIRING: "Finding pairs",
    Phase.GROUPING: "Grouping",
    Phase.DONE: "Done",
}


def describe_progress(report: Progress) -> str:
    """One line of text for a progress report (the command line's bar, the window's status bar)."""
    label = PHASE_LABELS[report.phase]
    if report.total is None:
        text = f"{label}: {report.done}" if report.done else f"{label}…"
    else:
        text = f"{label}: {report.done}/{report.total}"
        if report.rate > 0:
            text += f"  {report.rate:.1f}/s"
        if report.eta is not None and report.done < report.total:
            text += f"  {format_duration(report.eta)} left"
    if report.failed:
        text += f"  ({report.failed} unreadable)"
    return text


@dataclass(frozen=True, slots=True)
class ScanSummary:
    """What a finished (or cancelled) scan did to the catalog."""

    roots: tuple[str, ...]
    added: int
    updated: int
    removed: int
    unchanged: int
    failures: tuple[FileFailure, ...]
    cancelled: bool
    seconds: float
    #: Folders and files left out: other applications' libraries, the user's exclusions.
    skipped: tuple[str, ...] = ()
    #: Library folders missing or empty (an unplugged drive) whose photos were kept.
    offline: tuple[str, ...] = ()

    @property
    def hashed(self) -> int:
        """Files decoded in this scan."""
        return self.added + self.updated


@dataclass(frozen=True, slots=True)
class PairSet:
    """Every pair of catalog images within ``threshold`` of each other, as arrays.

    ``a[i] < b[i]`` are image ids, ``distance[i]`` their Hamming distance (the smallest
    over transforms when rotation matching is on) and ``transform[i]`` the
    :class:`Transform` of *a* that gave it. The set is complete: no pair within
    ``threshold`` is missing.
    """

    a: IdArray
    b: IdArray
    distance: DistArray
    transform: DistArray
    threshold: int

    def __len__(self) -> int:
        return int(self.a.shape[0])

    def within(self, threshold: int) -> PairSet:
        """The subset of pairs at or below ``threshold`` (which must not exceed ours)."""
        if threshold > self.threshold:
            raise ValueError(f"pairs are complete only up to {self.threshold}")
        keep = self.distance <= threshold
        return PairSet(
            self.a[keep], self.b[keep], self.distance[keep], self.transform[keep], threshold
        )

    @staticmethod
    def empty(threshold: int) -> PairSet:
        """A complete set with no pairs (for an empty catalog)."""
        return PairSet(
            np.empty(0, np.int64),
            np.empty(0, np.int64),
            np.empty(0, np.uint8),
            np.empty(0, np.uint8),
            threshold,
        )


@dataclass(frozen=True, slots=True)
class Grouping:
    """A partition of some images into groups of copies, as flat arrays.

    Group ``g`` is ``members[offsets[g]:offsets[g + 1]]``; its first member is the
    reference, and ``distance`` holds each member's Hamming distance to that reference
    (0 for the reference itself). Groups are ordered largest first; see
    ``engine/search/grouping.py`` for the policy and the tie-breaks.
    """

    offsets: IdArray
    members: IdArray
    distance: DistArray
    transform: DistArray
    threshold: int

    def __len__(self) -> int:
        return int(self.offsets.shape[0]) - 1

    def group(self, index: int) -> tuple[IdArray, DistArray]:
        """Member ids and their distances to the reference, reference first."""
        start, stop = int(self.offsets[index]), int(self.offsets[index + 1])
        return self.members[start:stop], self.distance[start:stop]

    @property
    def extra_copies(self) -> int:
        """Images beyond one per group: what removing all duplicates would remove."""
        return int(self.members.shape[0]) - len(self)


@dataclass(frozen=True, slots=True)
class GeometryCheck:
    """The verdict of the geometric check (``search/geometry.py``) on a pair ``(a, b)``.

    Attributes:
        confirmed: *a* (turned by the pair's transform) is a copy of *b*, possibly
            cropped, straightened or resized.
        evidence: Short sentences for the user, e.g. "crop of the original: 78 % of its
            width, offset (5 %, 10 %)", "turned 2 degrees", "mirrored". They merge with
            the pair's other evidence (a tuple of strings).
        cropped: Which picture is the crop of the other: "a", "b", or "" for neither.
        frame: Where the crop lies in the other picture, as fractions of its width and
            height ``(left, top, right, bottom)``; None when neither is a crop.
        angle: Rotation of *a* onto *b* beyond the pair's transform, in degrees
            (counter-clockwise).
        inliers: Keypoint matches that agree with the fitted transform.
        reason: Why the pair was not confirmed (for the log and the benchmark).
    """

    confirmed: bool
    evidence: tuple[str, ...] = ()
    cropped: str = ""
    frame: tuple[float, float, float, float] | None = None
    angle: float = 0.0
    inliers: int = 0
    reason: str = ""


@dataclass(frozen=True, slots=True)
class Member:
    """One image of a group, with its relation to the group's reference."""

    image: ImageRecord
    distance: int
    identical: bool
    transform: Transform = Transform.IDENTITY
    verdict: PairVerdict | None = None  # with the reference; None for the reference
    #: The geometric check of this member against the reference, oriented so that
    #: ``geometry.cropped == "a"`` means this member is the crop; None when the pHash
    #: match was certain enough not to need one.
    geometry: GeometryCheck | None = None


@dataclass(frozen=True, slots=True)
class Group:
    """A group of copies resolved to catalog records; ``members[0]`` is the reference."""

    index: int
    members: tuple[Member, ...]

    @property
    def reference(self) -> Member:
        return self.members[0]

    @property
    def extra_bytes(self) -> int:
        """Bytes taken by all members but the largest one."""
        sizes = sorted((m.image.size for m in self.members), reverse=True)
        return sum(sizes[1:])


@dataclass(frozen=True, slots=True)
class Match:
    """One answer to a query by image: a catalog image and its distance to the query."""

    image: ImageRecord
    distance: int
    identical: bool
    transform: Transform = Transform.IDENTITY
    verdict: PairVerdict | None = None


@dataclass(frozen=True, slots=True)
class QueryResult:
    """The answer to a query by image, best match first."""

    query: ImageFeatures
    threshold: int
    matches: tuple[Match, ...] = field(default_factory=tuple)


@dataclass(frozen=True, slots=True)
class SavedMarks:
    """The marks of a library that were not applied, kept for its next opening.

    Attributes:
        auto: "Select duplicates" was used: it runs again on the groups shown.
        marks: The user's own marks (True) and unmarks (False) by photo path, laid over
            what "Select duplicates" chose.
    """

    auto: bool = False
    marks: dict[str, bool] = field(default_factory=dict)


_T = TypeVar("_T")


def drain(steps: Generator[Any, None, _T]) -> _T:
    """Run a progress generator to its end and return its return value.

    Long-running engine work is a generator of :class:`Progress` reports whose return
    value is its result: the command line draws the reports as a bar, the window
    forwards them as signals, and scripts that only want the result call this.
    """
    while True:
        try:
            next(steps)
        except StopIteration as stop:
            return stop.value  # type: ignore[no-any-return]


@dataclass(frozen=True, slots=True)
class PhotoNotes:
    """What travels with a photo and where it came from, for the window and the JSON.

    Attributes:
        sidecars: (path, kind) of its sidecar files (``.xmp``, ``.aae``, Live Photo
            ``.mov``...): they go wherever the photo goes.
        lineage: "exported from IMG_1234.CR3" where XMP says it was made from another
            file, else None.
    """

    sidecars: tuple[tuple[str, str], ...] = ()
    lineage: str | None = None

    @property
    def lines(self) -> list[str]:
        """Lines for a tooltip: the lineage, then the sidecars."""
        out = [self.lineage.capitalize()] if self.lineage else []
        if self.sidecars:
            names = ", ".join(os.path.basename(p) for p, _ in self.sidecars)
            out.append(f"Sidecars (go with it): {names}")
        return out


@dataclass(frozen=True, slots=True)
class ShotGroup:
    """Similar shots for culling: frames of a burst, a bracket, in capture-time order.

    Not copies: each member is its own exposure. Nothing in such a group is marked
    unless the user asks ("keep the sharpest").
    """

    index: int
    members: tuple[ImageRecord, ...]

    @property
    def sharpest(self) -> ImageRecord:
        """The member with the highest sharpness score (the first one on a tie)."""
        return max(self.members, key=lambda r: r.sharpness or 0.0)
