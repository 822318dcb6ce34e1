"""Moving a photo's sidecars with it: the names they take when the photo is renamed.

Which files are a photo's sidecars is :mod:`desktop_app.engine.imaging.sidecar_files`;
when a photo gets a new name (``IMG_1234 (2).CR3`` because the name was taken), its
sidecars follow it (:func:`renamed`), so they stay recognisable as its sidecars.
"""

from __future__ import annotations

import logging
import os
from collections.abc import Iterator, Sequence

from desktop_app.engine.fileops import fsutil
from desktop_app.engine.imaging.sidecar_files import (
    LIVE_EXTENSIONS,
    SIDECAR_EXTENSIONS,
    Listing,
    find,
    find_many,
    in_listing,
    kind,
    with_kinds,
)

__all__ = [
    "LIVE_EXTENSIONS",
    "SIDECAR_EXTENSIONS",
    "Listing",
    "find",
    "find_many",
    "in_listing",
    "kind",
    "renamed",
    "unit_names",
    "with_kinds",
]

log = logging.getLogger(__name__)


def renamed(photo: str, sidecar: str, new_photo: str) -> str:
    """Where ``sidecar`` of ``photo`` goes when the photo goes to ``new_photo``.

    ``IMG_1.CR3.xmp`` follows ``IMG_1 (2).CR3`` as ``IMG_1 (2).CR3.xmp``; ``IMG_1.xmp``
    as ``IMG_1 (2).xmp``. Both land in the new photo's folder.
    """
    photo_name, name = os.path.basename(photo), os.path.basename(sidecar)
    new_name = os.path.basename(new_photo)
    if name.startswith(photo_name) and len(name) > len(photo_name):
        out = new_name + name[len(photo_name) :]
    else:
        out = os.path.splitext(new_name)[0] + os.path.splitext(name)[1]
    return os.path.join(os.path.dirname(new_photo), out)


def unit_names(photo: str, sidecars: Sequence[str], first: str) -> Iterator[list[str]]:
    """Candidate names for a photo and its sidecars together: the photo's candidates
    (``first``, ``first (2)``, ...) each with the sidecar names that follow it."""
    for candidate in fsutil.candidates(first):
        yield [candidate, *(renamed(photo, s, candidate) for s in sidecars)]
