"""Lineage: which copy of a group was made from which ("exported from IMG_1234.CR3").

XMP records it: ``xmpMM:DerivedFrom`` (a reference to the original's document id, or
with darktable its file name), ``xmpMM:OriginalDocumentID`` differing from the file's own
``xmpMM:DocumentID``, Camera Raw's ``crs:RawFileName``. Read from the file and its
``.xmp`` sidecars on demand (``imaging/xmp_sidecar.py``) and remembered per file version.

The keep rules' ``original`` and ``edited`` criteria (presets ``prefer-original`` and
``prefer-edited``) and the compare view and JSON's lineage line come from here.
"""

from __future__ import annotations

import functools
import logging
import os
from collections.abc import Sequence

from desktop_app.engine.imaging import sidecar_files, xmp_sidecar
from desktop_app.engine.imaging.xmp_sidecar import Lineage

log = logging.getLogger(__name__)


@functools.lru_cache(maxsize=4096)
def _read(path: str, size: int, mtime_ns: int) -> Lineage:
    return xmp_sidecar.read_photo(path, sidecar_files.find(path)).lineage


def of(path: str) -> Lineage:
    """The lineage of the file at ``path`` (empty if it cannot be read)."""
    try:
        info = os.stat(path)
    except OSError:
        return Lineage()
    return _read(path, info.st_size, info.st_mtime_ns)


def is_derived(path: str) -> bool:
    """Whether XMP says the file at ``path`` was made from another file."""
    return of(path).is_derived(path)


def describe(paths: Sequence[str]) -> dict[str, str]:
    """For each file of a group made from another: "exported from NAME".

    NAME is the original's file name when XMP gives it, else the group member whose
    document id the file's ``DerivedFrom``/``OriginalDocumentID`` names, else "another
    file".
    """
    found = {p: of(p) for p in paths}
    by_id: dict[str, str] = {}
    for p, lineage in found.items():
        for key in (lineage.document_id, lineage.original_document_id):
            if key and not lineage.is_derived(p):
                by_id.setdefault(key, p)
    out = {}
    for p, lineage in found.items():
        if not lineage.is_derived(p):
            continue
        name = lineage.source_name(p)
        if name is None:
            for key in (lineage.derived_from, lineage.original_document_id):
                if key and by_id.get(key) not in (None, p):
                    name = os.path.basename(by_id[key])
                    break
        out[p] = f"exported from {name or 'another file'}"
    return out
