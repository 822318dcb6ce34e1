"""RAW + JPEG: the JPEG a camera writes beside its RAW file, and folding it into the RAW.

Cameras set to "RAW + JPEG" write two files per shot with the same name in the same
folder (``DSC_0001.NEF`` and ``DSC_0001.JPG``; newer Canon and Sony bodies write HEIF
instead of JPEG). The RAW is hashed through its embedded preview, which is the camera's
own rendering, so the two match as a pair like any other copy. Some photographers want
exactly that (to delete the JPEGs); others keep both on purpose and do not want tens of
thousands of "duplicates" that are not. With ``EngineConfig.fold_raw_jpeg`` the JPEG is
*folded into its RAW*: the pair is one photo, represented by the RAW, and the JPEG is left
out of pairs, groups and query results, so that a third copy (an export, a backup) is
grouped with the RAW only.
"""

from __future__ import annotations

import os
from collections.abc import Iterable

import numpy as np
import numpy.typing as npt

from desktop_app.engine.imaging.formats import RAW_EXTENSIONS
from desktop_app.engine.types import ImageRecord, PairSet

#: Extensions of the picture a camera writes beside its RAW file.
CAMERA_JPEG_EXTENSIONS = frozenset({".jpg", ".jpeg", ".heic", ".heif", ".hif"})


def _key(path: str) -> tuple[str, str]:
    folder, name = os.path.split(path)
    return folder, os.path.splitext(name)[0].lower()


def camera_jpeg_ids(records: Iterable[ImageRecord]) -> set[int]:
    """Ids of the JPEG (or HEIF) files that have a RAW file of the same name beside them.

    Args:
        records: Catalog records (unreadable RAW files count too: a RAW file whose
            preview cannot be read still is the photo the JPEG belongs to).

    Returns:
        Their ids. The stems are compared without case (``IMG_1.CR2`` and
        ``IMG_1.jpg``), the folders exactly.
    """
    raws: set[tuple[str, str]] = set()
    candidates: list[tuple[tuple[str, str], int]] = []
    for record in records:
        extension = os.path.splitext(record.path)[1].lower()
        if extension in RAW_EXTENSIONS:
            raws.add(_key(record.path))
        elif extension in CAMERA_JPEG_EXTENSIONS and record.phash is not None:
            candidates.append((_key(record.path), record.id))
    return {image_id for key, image_id in candidates if key in raws}


def without(pairs: PairSet, ids: set[int]) -> PairSet:
    """``pairs`` without every pair that involves one of ``ids``.

    Args:
        pairs: A pair set.
        ids: Image ids to leave out.

    Returns:
        The remaining pairs, complete to the same threshold.
    """
    if not ids or not len(pairs):
        return pairs
    gone = np.fromiter(ids, dtype=np.int64, count=len(ids))
    keep: npt.NDArray[np.bool_] = ~(np.isin(pairs.a, gone) | np.isin(pairs.b, gone))
    return PairSet(
        pairs.a[keep], pairs.b[keep], pairs.distance[keep], pairs.transform[keep], pairs.threshold
    )
