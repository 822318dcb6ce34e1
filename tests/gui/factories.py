"""Builders of engine values and photo files for the window tests."""

from __future__ import annotations

from collections.abc import Sequence
from pathlib import Path

import numpy as np
from PIL import Image, ImageDraw

from desktop_app.engine.types import Group, Grouping, ImageRecord, Member, Transform


def record(
    image_id: int,
    path: str,
    *,
    size: int = 1_000_000,
    width: int = 4000,
    height: int = 3000,
    phash: int | None = None,
    digest: bytes | None = None,
    taken: str | None = "2024-05-01T13:45:10",
    camera: str | None = "Camera X",
    fmt: str = "JPEG",
) -> ImageRecord:
    """A catalog record of a pretend photo."""
    return ImageRecord(
        id=image_id,
        path=path,
        size=size,
        mtime_ns=1_700_000_000_000_000_000,
        digest=digest if digest is not None else image_id.to_bytes(16, "big"),
        phash=phash if phash is not None else (1 << 63) | image_id,
        width=width,
        height=height,
        format=fmt,
        taken=taken,
        camera=camera,
    )


def grouping(groups: Sequence[Sequence[tuple[int, int]]], threshold: int = 10) -> Grouping:
    """A Grouping from ``[[(id, distance), ...], ...]``, reference first in each group."""
    offsets = np.cumsum([0] + [len(g) for g in groups]).astype(np.int64)
    members = np.array([i for g in groups for i, _ in g], dtype=np.int64)
    distance = np.array([d for g in groups for _, d in g], dtype=np.uint8)
    transform = np.zeros(members.shape[0], dtype=np.uint8)
    return Grouping(offsets, members, distance, transform, threshold)


def resolver(records: dict[int, ImageRecord]):
    """A ``resolve(grouping, index)`` over ``records``, like ``Library.resolve``."""

    def resolve(found: Grouping, index: int) -> Group:
        start, stop = int(found.offsets[index]), int(found.offsets[index + 1])
        reference = records[int(found.members[start])]
        return Group(
            index,
            tuple(
                Member(
                    records[int(found.members[k])],
                    int(found.distance[k]),
                    k > start and records[int(found.members[k])].digest == reference.digest,
                    Transform(int(found.transform[k])),
                )
                for k in range(start, stop)
            ),
        )

    return resolve


def scene(seed: int, size: tuple[int, int] = (320, 240)) -> Image.Image:
    """A photo-like picture: a gradient with a few shapes, different for each seed."""
    rng = np.random.default_rng(seed)
    w, h = size
    x = np.linspace(0, 1, w)[None, :, None]
    y = np.linspace(0, 1, h)[:, None, None]
    colour = rng.uniform(0, 255, (1, 1, 3))
    base = (colour * (0.4 + 0.6 * x) * (0.5 + 0.5 * y)).astype(np.uint8)
    picture = Image.fromarray(np.broadcast_to(base, (h, w, 3)).copy())
    draw = ImageDraw.Draw(picture)
    for _ in range(6):
        x0, y0 = int(rng.integers(0, w - 40)), int(rng.integers(0, h - 40))
        x1, y1 = x0 + int(rng.integers(20, w // 2)), y0 + int(rng.integers(20, h // 2))
        fill = tuple(int(v) for v in rng.integers(0, 255, 3))
        if rng.random() < 0.5:
            draw.ellipse((x0, y0, x1, y1), fill=fill)
        else:
            draw.rectangle((x0, y0, x1, y1), fill=fill)
    return picture


def write_photo(path: Path, seed: int, size: tuple[int, int] = (320, 240), **save) -> Path:
    """Save :func:`scene` ``seed`` at ``path`` (format from the suffix)."""
    path.parent.mkdir(parents=True, exist_ok=True)
    scene(seed, size).save(path, **save)
    return path


def write_library(
    folder: Path, originals: int = 6, copies: int = 2, *, seed: int = 0
) -> dict[str, list[Path]]:
    """A folder of photos: each original with resized and re-encoded copies.

    Returns:
        For each original's name, its file and its copies' files.
    """
    out: dict[str, list[Path]] = {}
    for k in range(originals):
        name = f"photo{k:02d}"
        picture = scene(seed * 1000 + k, (480, 360))
        original = folder / "originals" / f"{name}.jpg"
        original.parent.mkdir(parents=True, exist_ok=True)
        picture.save(original, quality=92)
        files = [original]
        for c in range(copies):
            copy = folder / "exports" / f"{name}_copy{c}.jpg"
            copy.parent.mkdir(parents=True, exist_ok=True)
            scale = 0.5 if c % 2 == 0 else 0.75
            picture.resize((int(480 * scale), int(360 * scale))).save(copy, quality=60 + 10 * c)
            files.append(copy)
        out[name] = files
    return out


def differing_rows(dialog) -> list[str]:
    """Labels of the compare dialog's metadata rows whose two values differ."""
    table = dialog.table

    def cell(row: int, column: int) -> str:
        item = table.item(row, column)  # None for a cell never set
        return item.text() if item is not None else ""

    out = []
    for row in range(table.rowCount()):
        if cell(row, 0) != cell(row, 1):
            label = table.verticalHeaderItem(row)  # None (row number shown) if never set
            out.append(label.text() if label is not None else str(row + 1))
    return out


def set_action(dialog, action) -> None:
    """Choose ``action`` in the apply dialog (and so preview it), if that choice is enabled."""
    button = dialog.choices.button(list(type(action)).index(action))
    if button.isEnabled():
        button.setChecked(True)
