"""Crop experiments of ``benchmarks/quality.py``: would a second signal find more crops?

pHash sees the whole frame, so a crop moves it (5 %: median 6 bits, 10 %: median 10).
Two cheap second signals are tried on the pairs the pair cache already holds (pHash
distance up to 16) that are beyond the threshold, as the issue suggests:

- **centre crops**: besides its pHash, each picture gets the pHash of its central 95 %
  and 90 %; a pair's distance becomes the least over (full, full), (crop of a, full b)
  and (full a, crop of b);
- **crop-resistant hash** (imagehash's ``crop_resistant_hash``, segments hashed with
  dHash): a pair matches when at least one segment matches (imagehash's defaults).

Besides the corpus's centred crops, each original is also cropped as photographers
crop: 10 % off the left only, 10 % off the top and the right, and a 4:5 portrait frame
out of the middle of a landscape. Each signal is scored on recall of all these crops and
on the false pairs it adds among every unrelated pair of the corpus within 16.
"""

from __future__ import annotations

import sys
import tempfile
import time
from collections.abc import Callable
from pathlib import Path
from typing import Any

import imagehash
import numpy as np
from PIL import Image

sys.path.insert(0, str(Path(__file__).resolve().parent.parent))

from desktop_app.engine.config import MAX_THRESHOLD
from desktop_app.engine.imaging.borders import find_content_box
from desktop_app.engine.imaging.hashing import block_hash, dct_block, reduce_for_hash
from desktop_app.engine.imaging.loading import apply_orientation, open_image, to_grey

CENTRE_SCALES = (0.95, 0.90)


def _grey(path: str) -> Image.Image:
    """The reduced, upright, trimmed picture the engine hashes."""
    opened = open_image(Path(path).read_bytes(), path)
    image = opened.image
    if image.format in ("JPEG", "MPO"):
        image.draft("L", (256, 256))
    image.load()
    grey = reduce_for_hash(apply_orientation(to_grey(image), opened.exif.orientation))
    return grey.crop(find_content_box(np.asarray(grey)))


def centre_hashes(path: str) -> tuple[int, ...]:
    """(full-frame pHash, pHash of the central 95 %, of the central 90 %)."""
    grey = _grey(path)
    width, height = grey.size
    out = [block_hash(dct_block(grey, trim=False))]
    for scale in CENTRE_SCALES:
        dx, dy = (1 - scale) / 2 * width, (1 - scale) / 2 * height
        box = (round(dx), round(dy), round(width - dx), round(height - dy))
        out.append(block_hash(dct_block(grey.crop(box), trim=False)))
    return tuple(out)


def centre_distance(a: tuple[int, ...], b: tuple[int, ...]) -> int:
    pairs = [(a[0], b[0])] + [(x, b[0]) for x in a[1:]] + [(a[0], y) for y in b[1:]]
    return min((x ^ y).bit_count() for x, y in pairs)


def crop_resistant(path: str) -> Any:
    with Image.open(path) as image:
        return imagehash.crop_resistant_hash(image)


def _extra_crops(originals: dict[str, str], folder: Path) -> dict[str, list[tuple[str, str]]]:
    """Photographers' crops of every original: kind -> [(label, path)]."""
    out: dict[str, list[tuple[str, str]]] = {"left10": [], "topright10": [], "portrait45": []}
    for label, path in sorted(originals.items()):
        with Image.open(path) as opened:
            image = opened.convert("RGB")
        width, height = image.size
        boxes = {
            "left10": (round(width * 0.1), 0, width, height),
            "topright10": (0, round(height * 0.1), round(width * 0.9), height),
        }
        if width > height * 4 / 5:
            new = int(height * 4 / 5)
            boxes["portrait45"] = ((width - new) // 2, 0, (width - new) // 2 + new, height)
        for kind, box in boxes.items():
            target = folder / kind / (label.replace("/", "-") + ".jpg")
            target.parent.mkdir(parents=True, exist_ok=True)
            image.crop(box).save(target, "JPEG", quality=90)
            out[kind].append((label, str(target)))
    return out


def report(corpus: Any, gt: Any, found: Any, threshold: int) -> None:
    """Print recall on crops and false pairs added, for pHash alone and each signal."""
    paths: list[str] = found.paths
    originals = corpus.originals()
    started = time.perf_counter()
    centre = {p: centre_hashes(p) for p in paths}
    centre_seconds = (time.perf_counter() - started) / len(paths)
    with tempfile.TemporaryDirectory(prefix="doppel-crops-") as temp:
        extra = _extra_crops(originals, Path(temp))
        crops: dict[str, list[tuple[str, str]]] = {
            kind: [(corpus.files[p][0], p) for p in paths if corpus.files[p][1] == kind]
            for kind in ("crop5", "crop10")
        }
        crops.update(extra)
        for items in extra.values():
            for _, p in items:
                centre[p] = centre_hashes(p)
        # Unrelated pairs the cache holds (pHash within 16): where a signal could add errors.
        negatives = [
            (paths[a], paths[b], int(d))
            for a, b, d in zip(
                found.i.tolist(), found.j.tolist(), found.distance.tolist(), strict=True
            )
            if gt.labels[a] != gt.labels[b]
        ]
        needed = {originals[label] for items in crops.values() for label, _ in items}
        needed |= {p for items in crops.values() for _, p in items}
        needed |= {p for a, b, _ in negatives for p in (a, b)}
        started = time.perf_counter()
        resistant = {p: crop_resistant(p) for p in sorted(needed)}
        resistant_seconds = (time.perf_counter() - started) / max(len(resistant), 1)

        def phash_d(a: str, b: str) -> int:
            return (centre[a][0] ^ centre[b][0]).bit_count()

        signals: dict[str, Callable[[str, str, int], bool]] = {
            "pHash only": lambda a, b, t: phash_d(a, b) <= t,
            "+ centre crops": lambda a, b, t: (
                phash_d(a, b) <= t
                or (phash_d(a, b) <= MAX_THRESHOLD and centre_distance(centre[a], centre[b]) <= t)
            ),
            "+ crop-resistant": lambda a, b, t: (
                phash_d(a, b) <= t
                or (phash_d(a, b) <= MAX_THRESHOLD and bool(resistant[a].matches(resistant[b])))
            ),
        }
        print(
            f"\n### Crops: second signals on pairs within {MAX_THRESHOLD} (threshold {threshold})\n"
        )
        print(
            f"Cost per picture: centre-crop hashes {centre_seconds * 1e3:.1f} ms "
            f"(decode + 3 hashes), crop-resistant hash {resistant_seconds * 1e3:.0f} ms.\n"
        )
        kinds = list(crops)
        print("| signal | " + " | ".join(kinds) + " | false pairs added |")
        print("|---|" + "---:|" * (len(kinds) + 1))
        base_fp = sum(1 for a, b, d in negatives if d <= threshold)
        for name, accept in signals.items():
            cells = []
            for kind in kinds:
                hits = [accept(originals[label], p, threshold) for label, p in crops[kind]]
                cells.append(f"{np.mean(hits):.3f}")
            fp = sum(1 for a, b, _ in negatives if accept(a, b, threshold)) - base_fp
            print(f"| {name} | " + " | ".join(cells) + f" | {fp} |")
        print(
            "\nMedian pHash distance of each crop kind to its original: "
            + ", ".join(
                f"{kind} {np.median([phash_d(originals[lab], p) for lab, p in crops[kind]]):.0f}"
                for kind in kinds
            )
        )
