"""Shared helpers of the cleanup tests: catalogs, photo files and records in tmp_path.

Every cleanup test module imports :func:`no_system_trash`, an autouse fixture that points
``XDG_DATA_HOME`` into the test's folder and makes Send2Trash fail loudly, so that no test
can ever touch the real trash of the machine running it.
"""

from __future__ import annotations

import os
from pathlib import Path
from urllib.parse import unquote_to_bytes

import pytest
import xxhash
from PIL import Image

from desktop_app.engine.catalog.store import Catalog
from desktop_app.engine.selection import not_copies
from desktop_app.engine.types import Group, ImageFeatures, ImageRecord

HASH_VERSION = 1


@pytest.fixture(autouse=True)
def no_system_trash(tmp_path, monkeypatch):
    """Redirect the freedesktop trash into tmp_path and forbid Send2Trash."""
    monkeypatch.setenv("XDG_DATA_HOME", str(tmp_path / "xdg-data"))
    import send2trash

    def refuse(*args, **kwargs):
        raise AssertionError("a test tried to use the real system trash")

    monkeypatch.setattr(send2trash, "send2trash", refuse)
    yield


def digest(path: str | os.PathLike[str]) -> bytes:
    """xxh3-128 of a file, as the catalog stores it."""
    return xxhash.xxh3_128(Path(path).read_bytes()).digest()


def write_file(path: Path, content: bytes) -> Path:
    """A plain file with ``content`` (for tests where the picture does not matter)."""
    path.parent.mkdir(parents=True, exist_ok=True)
    path.write_bytes(content)
    return path


def write_photo(path: Path, size: tuple[int, int] = (64, 48), seed: int = 0, fmt: str = "JPEG"):
    """A small generated photo."""
    path.parent.mkdir(parents=True, exist_ok=True)
    image = Image.new("RGB", size)
    pixels = image.load()
    for x in range(size[0]):
        for y in range(size[1]):
            pixels[x, y] = ((x * 7 + seed * 31) % 256, (y * 5 + seed * 17) % 256, (x + y) % 256)
    image.save(path, fmt)
    return path


def add_to_catalog(
    catalog: Catalog,
    path: Path,
    *,
    phash: int = 0x8000_0000_0000_0001,
    width: int = 64,
    height: int = 48,
    fmt: str = "JPEG",
    taken: str | None = None,
) -> ImageRecord:
    """Catalog a file on disk as if a scan had hashed it, and return its record."""
    info = os.stat(path)
    features = ImageFeatures(
        path=str(path),
        size=info.st_size,
        mtime_ns=info.st_mtime_ns,
        digest=digest(path),
        phash=phash,
        width=width,
        height=height,
        format=fmt,
        taken=taken,
    )
    catalog.add_results([features], HASH_VERSION)
    record = catalog.record_at(str(path))
    assert record is not None
    return record


def tree_digests(root: Path, *, skip: tuple[str, ...] = ()) -> dict[str, bytes]:
    """Relative path -> digest of every file under ``root`` (byte-for-byte comparison)."""
    out = {}
    for path in sorted(root.rglob("*")):
        rel = str(path.relative_to(root))
        if path.is_file() and not any(rel.startswith(s) for s in skip):
            out[rel] = digest(path)
    return out


def record(
    image_id: int,
    path: str,
    *,
    width: int = 3000,
    height: int = 2000,
    size: int = 1_000_000,
    fmt: str | None = "JPEG",
    taken: str | None = None,
    digest: bytes | None = None,
    phash: int = 0x8000_0000_0000_0001,
) -> ImageRecord:
    """A catalog record for selection tests (no file behind it)."""
    return ImageRecord(
        id=image_id,
        path=path,
        size=size,
        mtime_ns=0,
        digest=digest if digest is not None else image_id.to_bytes(16, "big"),
        phash=phash,
        width=width,
        height=height,
        format=fmt,
        taken=taken,
        camera=None,
    )


def group(*records: ImageRecord, distances: tuple[int, ...] | None = None, index: int = 0):
    """A group whose first record is the grouping's reference.

    Distances to the reference default to the Hamming distance of the pHashes.
    """
    from desktop_app.engine.types import Group, Member

    first = records[0]
    if distances is None:
        distances = tuple((r.phash ^ first.phash).bit_count() for r in records)
    members = tuple(
        Member(r, d, identical=k > 0 and r.digest == first.digest)
        for k, (r, d) in enumerate(zip(records, distances, strict=True))
    )
    return Group(index, members)


def ignore_group(catalog: Catalog, group: Group) -> int:
    """Remember a whole group as not copies (``not_copies.ignore`` of its photos)."""
    return not_copies.ignore(catalog, [m.image for m in group.members])


def parse_info(text: str) -> str | None:
    """The decoded ``Path=`` of a ``.trashinfo`` text, if present."""
    for line in text.splitlines():
        if line.startswith("Path="):
            return os.fsdecode(unquote_to_bytes(line[5:]))
    return None
