"""The files that belong to a photo: its sidecars, found beside it.

Photographers keep their work next to the photo: an ``.xmp`` from Lightroom, darktable,
Capture One or digiKam holds the edits, rating, label and keywords; an iPhone ``.aae``
its edits; a camera ``.thm`` its preview; RawTherapee a ``.pp3``; DxO a ``.dop``; ON1 an
``.on1``; and a Live Photo is a HEIC (or JPEG) and a ``.mov`` of the same name.

Two naming forms are recognised, both with a case-insensitive extension:

* **stem form** ``IMG_1234.xmp`` beside ``IMG_1234.CR3`` (Lightroom, Capture One, Apple).
  It belongs to the photo only when no other image in the folder has the same stem: a
  RAW and its JPEG share one ``IMG_1234.xmp`` and a HEIC and its JPEG copy share one
  ``.mov``, so such a shared file stays where it is, with the copy that stays.
* **full-name form** ``IMG_1234.CR3.xmp`` (darktable, RawTherapee, DxO): always the
  photo's own.

The scan records them (``scan/scanner.py``); file operations move them with their
photo (``fileops/sidecars.py``); the scan reads a photo's ``.xmp`` through
:meth:`Listing.xmp` and :func:`cached_listing` (``imaging/xmp.py``).
"""

from __future__ import annotations

import logging
import os
from collections.abc import Sequence

from desktop_app.engine.imaging.formats import IMAGE_EXTENSIONS

log = logging.getLogger(__name__)

#: Extensions of sidecar files, in either naming form.
SIDECAR_EXTENSIONS: frozenset[str] = frozenset({".xmp", ".aae", ".thm", ".pp3", ".dop", ".on1"})

#: Extensions of the motion half of a Live Photo (stem form only).
LIVE_EXTENSIONS: frozenset[str] = frozenset({".mov"})


def kind(path: str) -> str:
    """A short word for a sidecar: ``xmp``, ``aae``, ..., ``live photo`` for the ``.mov``."""
    extension = os.path.splitext(path)[1].lower()
    return "live photo" if extension in LIVE_EXTENSIONS else extension.lstrip(".")


class Listing:
    """One folder's names, indexed by stem, so each photo's sidecars are found in
    time proportional to their number (folders hold tens of thousands of photos)."""

    def __init__(self, names: Sequence[str]) -> None:
        self.by_base: dict[str, list[str]] = {}
        self.images_by_stem: dict[str, int] = {}
        #: Lower-cased name -> name of every ``.xmp`` file (read in any case of its name).
        self.xmp_by_lower: dict[str, str] = {}
        for name in names:
            base, extension = os.path.splitext(name)
            self.by_base.setdefault(base, []).append(name)
            lowered = extension.lower()
            if lowered in IMAGE_EXTENSIONS:
                self.images_by_stem[base] = self.images_by_stem.get(base, 0) + 1
            elif lowered == ".xmp":
                self.xmp_by_lower[name.lower()] = name

    def xmp(self, photo_name: str, *, shared: bool = True) -> str | None:
        """The name of the ``.xmp`` sidecar to READ for ``photo_name``, if any.

        The stem form ``IMG.xmp`` comes first, then ``IMG.CR2.xmp``; names match in
        any case. With ``shared`` (reading), a stem-form ``.xmp`` shared by a RAW and
        its JPEG describes both; without it, the rule of :meth:`sidecars` (a shared
        file belongs to neither) holds.
        """
        if not self.xmp_by_lower:
            return None
        stem = os.path.splitext(photo_name)[0]
        candidates = [photo_name + ".xmp"]
        if shared or self.images_by_stem.get(stem, 0) <= 1:
            candidates.insert(0, stem + ".xmp")
        for candidate in candidates:
            found = self.xmp_by_lower.get(candidate.lower())
            if found is not None:
                return found
        return None

    def sidecars(self, photo_name: str) -> list[str]:
        """The sidecar names of ``photo_name`` in this folder, sorted."""
        stem = os.path.splitext(photo_name)[0]
        out = [
            n
            for n in self.by_base.get(photo_name, [])
            if os.path.splitext(n)[1].lower() in SIDECAR_EXTENSIONS
        ]
        if self.images_by_stem.get(stem, 0) <= 1:
            out += [
                n
                for n in self.by_base.get(stem, [])
                if n != photo_name
                and os.path.splitext(n)[1].lower() in SIDECAR_EXTENSIONS | LIVE_EXTENSIONS
            ]
        return sorted(out)


def in_listing(photo_name: str, names: Sequence[str]) -> list[str]:
    """The sidecar names of ``photo_name`` among ``names`` (one folder's entries).

    Args:
        photo_name: The photo's file name.
        names: Every name in its folder.

    Returns:
        The sidecars' names, sorted.
    """
    return Listing(names).sidecars(photo_name)


def find(photo: str) -> list[str]:
    """The sidecars of the photo at ``photo`` as they are on disk now (full paths).

    A folder that cannot be listed has none (the photo's own checks report it).
    """
    folder = os.path.dirname(photo)
    try:
        names = os.listdir(folder)
    except OSError as error:
        log.debug("Cannot list %s for sidecars: %s", folder, error)
        return []
    return _files(folder, in_listing(os.path.basename(photo), names))


#: Per folder: its modification time and its :class:`Listing`. A scan asks for every
#: photo of a folder in turn: one ``stat`` of the folder each, one listing per folder.
_LISTINGS: dict[str, tuple[int, Listing]] = {}
_LISTING_FOLDERS = 64


def cached_listing(folder: str) -> Listing | None:
    """The :class:`Listing` of ``folder``, listed again only when its mtime changed.

    For reading (the scan's ``.xmp``); moving files lists afresh (:func:`find`).
    None when the folder cannot be listed.
    """
    try:
        mtime = os.stat(folder or ".").st_mtime_ns
    except OSError:
        return None
    known = _LISTINGS.get(folder)
    if known is not None and known[0] == mtime:
        return known[1]
    try:
        listing = Listing(os.listdir(folder or "."))
    except OSError:
        return None
    if len(_LISTINGS) >= _LISTING_FOLDERS:
        _LISTINGS.clear()
    _LISTINGS[folder] = (mtime, listing)
    return listing


def _files(folder: str, names: Sequence[str]) -> list[str]:
    """Full paths of the names that are regular files (not links, not folders)."""
    paths = [os.path.join(folder, n) for n in names]
    return [p for p in paths if os.path.isfile(p) and not os.path.islink(p)]


def find_many(photos: Sequence[str]) -> dict[str, list[str]]:
    """:func:`find` for many photos, listing each folder once."""
    by_folder: dict[str, list[str]] = {}
    for photo in photos:
        by_folder.setdefault(os.path.dirname(photo), []).append(photo)
    out: dict[str, list[str]] = {}
    for folder, members in by_folder.items():
        try:
            names = os.listdir(folder)
        except OSError:
            continue
        listing = Listing(names)
        for photo in members:
            found = _files(folder, listing.sidecars(os.path.basename(photo)))
            if found:
                out[photo] = found
    return out


def with_kinds(photos: Sequence[str]) -> dict[str, list[tuple[str, str]]]:
    """:func:`find_many` with each sidecar's :func:`kind`, as the catalog records them."""
    return {p: [(s, kind(s)) for s in found] for p, found in find_many(photos).items()}
