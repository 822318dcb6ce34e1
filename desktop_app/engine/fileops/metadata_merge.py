"""The keeper inherits: what the removed copies of a group carried and the keeper lacks.

Before the copies are removed, the user may carry over to the copy kept: the highest
rating, a colour label, the union of the keywords, a title and a caption where the
keeper has none, GPS where the keeper has none. This module decides what that is;
``fileops/sidecar_edits.py`` writes it, journalled, into the keeper's XMP sidecar (never
into the photo file) and takes it back on undo.
"""

from __future__ import annotations

import logging
import os
from collections.abc import Sequence
from dataclasses import dataclass

from desktop_app.engine.imaging import sidecar_files, xmp_sidecar
from desktop_app.engine.imaging.formats import IMAGE_EXTENSIONS, is_raw_name
from desktop_app.engine.imaging.xmp_sidecar import PhotoMetadata

log = logging.getLogger(__name__)


@dataclass(frozen=True, slots=True)
class MergePlan:
    """What one keeper would inherit.

    Attributes:
        keeper: The photo kept.
        sidecar: Its XMP sidecar, written with the changes.
        exists: Whether that sidecar exists already (else it is created).
        changes: Only the fields to set, with their new values.
        sources: The removed copies it inherits from.
    """

    keeper: str
    sidecar: str
    exists: bool
    changes: PhotoMetadata
    sources: tuple[str, ...]

    @property
    def summary(self) -> str:
        """``rating 4, keywords dawn, harbour, caption`` for the window and the terminal."""
        return describe(self.changes)


def describe(changes: PhotoMetadata) -> str:
    """A short list of what ``changes`` sets."""
    parts = []
    if changes.rating is not None:
        parts.append(f"rating {changes.rating}")
    if changes.label:
        parts.append(f"label {changes.label}")
    if changes.keywords:
        parts.append("keywords " + ", ".join(sorted(changes.keywords)))
    if changes.title:
        parts.append("title")
    if changes.caption:
        parts.append("caption")
    if changes.gps is not None:
        parts.append("GPS")
    return "; ".join(parts)


def inherited(keeper: PhotoMetadata, removed: Sequence[PhotoMetadata]) -> PhotoMetadata:
    """What the keeper lacks of what ``removed`` carry (empty fields: nothing to add).

    Keywords come back as the full union (the keeper's own included), so that writing
    them replaces the keeper's list by a superset.
    """
    ratings = [m.rating for m in removed if m.rating is not None and m.rating > 0]
    best = max(ratings, default=None)
    rating = best if best is not None and best > (keeper.rating or 0) else None
    keywords = keeper.keywords.union(*(m.keywords for m in removed))
    return PhotoMetadata(
        rating=rating,
        label=None if keeper.label else next((m.label for m in removed if m.label), None),
        keywords=keywords if keywords != keeper.keywords else frozenset(),
        title=None if keeper.title else next((m.title for m in removed if m.title), None),
        caption=None if keeper.caption else next((m.caption for m in removed if m.caption), None),
        gps=None if keeper.gps else next((m.gps for m in removed if m.gps), None),
    )


def is_empty(changes: PhotoMetadata) -> bool:
    """Whether ``changes`` sets nothing."""
    return not describe(changes)


def keeper_sidecar(keeper: str) -> tuple[str, bool]:
    """The XMP sidecar to write for ``keeper`` and whether it exists.

    An existing one is used (the darktable form ``photo.ext.xmp`` first). A new one takes
    the form the photo's editors read: ``IMG_1.xmp`` beside a RAW (Lightroom, Camera
    Raw, Capture One), ``photo.jpg.xmp`` beside anything else (darktable, digiKam), and
    always the full-name form when another image shares the stem.
    """
    found = [s for s in sidecar_files.find(keeper) if s.lower().endswith(".xmp")]
    full = [s for s in found if os.path.basename(s).startswith(os.path.basename(keeper))]
    if full or found:
        return (full or found)[0], True
    folder, name = os.path.split(keeper)
    stem = os.path.splitext(name)[0]
    try:
        names = os.listdir(folder)
    except OSError:
        names = []
    shared = any(
        n != name
        and os.path.splitext(n)[0] == stem
        and os.path.splitext(n)[1].lower() in IMAGE_EXTENSIONS
        for n in names
    )
    if is_raw_name(name) and not shared:
        return os.path.join(folder, stem + ".xmp"), False
    return keeper + ".xmp", False


def _is_image(name: str) -> bool:
    return os.path.splitext(name)[1].lower() in IMAGE_EXTENSIONS


def plan(removals: Sequence[tuple[str, str]]) -> list[MergePlan]:
    """What each keeper would inherit from its removed copies.

    Args:
        removals: (removed copy, its keeper) pairs.

    Returns:
        One plan per keeper that would gain something, in the order of the keepers.
    """
    by_keeper: dict[str, list[str]] = {}
    for copy, keeper in removals:
        if copy != keeper:
            by_keeper.setdefault(keeper, []).append(copy)
    out = []
    beside = sidecar_files.find_many([*by_keeper, *(c for cs in by_keeper.values() for c in cs)])
    for keeper, copies in by_keeper.items():
        if not os.path.isfile(keeper):
            continue
        own = xmp_sidecar.read_photo(keeper, beside.get(keeper, []))
        theirs = [xmp_sidecar.read_photo(c, beside.get(c, [])) for c in copies]
        changes = inherited(own, theirs)
        if is_empty(changes):
            continue
        path, exists = keeper_sidecar(keeper)
        out.append(MergePlan(keeper, path, exists, changes, tuple(copies)))
    return out
