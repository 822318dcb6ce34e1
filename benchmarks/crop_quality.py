"""Crops, re-framings and straightened copies: recall per kind and precision, per half.

The engine's decision for every pair of the quality corpus that the figures need (each
original with each of its copies, and every pair of files of different pictures,
including the ``burst`` negatives), computed from the same parts the engine uses:
``hash_file`` features, the whole-image / rotation / window distances merged as
``window_pairs.merge`` does, ``confirm.CERTAIN_DISTANCE`` and
``confirm.windows_disagree``, and ``geometry.compare`` on the pictures
``confirm.read_keypoints`` reads (and, for its second chance, ``confirm.read_colour``).
It skips the pairs between two copies of one picture, which the full ``quality.py`` run
also checks (thousands of them, about half an hour on a busy 2-core machine), so its
precision counts only original-copy pairs as true ones: a lower bound of the real
precision. ``--failures`` lists the missed copies and the
false pairs with the reason of each.

    python benchmarks/quality.py --keep /tmp/qc --no-signals   # builds the corpus
    python benchmarks/crop_quality.py /tmp/qc --half 1         # the report half
    python benchmarks/crop_quality.py /tmp/qc --half 1 --rotations
"""

from __future__ import annotations

import argparse
import json
import sys
import time
from collections import defaultdict
from pathlib import Path

import numpy as np

sys.path.insert(0, str(Path(__file__).resolve().parent.parent))
sys.path.insert(0, str(Path(__file__).resolve().parent))

from _common import machine_notes

from desktop_app.engine.config import DEFAULT_THRESHOLD, EngineConfig
from desktop_app.engine.imaging.hashing import hash_file
from desktop_app.engine.search import confirm, geometry
from desktop_app.engine.search.window_pairs import WINDOW_THRESHOLD
from desktop_app.engine.types import INVERSE_TRANSFORM, ImageFeatures, Transform


def main() -> int:
    parser = argparse.ArgumentParser(
        description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter
    )
    parser.add_argument("corpus", type=Path, help="a corpus folder built by quality.py --keep")
    parser.add_argument("--half", type=int, choices=(0, 1), default=1, help="0 tuning, 1 report")
    parser.add_argument("--rotations", action="store_true", help="rotation matching on")
    parser.add_argument(
        "--failures", action="store_true", help="list the missed copies and the false pairs"
    )
    args = parser.parse_args()
    print(f"Machine: {machine_notes()}")
    files = json.loads((args.corpus / "manifest.json").read_text())["files"]
    labels = sorted({label.split("#")[0] for label, _ in files.values()})
    side = {label: k % 2 for k, label in enumerate(labels)}
    paths = sorted(p for p, (label, _) in files.items() if side[label.split("#")[0]] == args.half)
    config = EngineConfig(workers=0, rotations=True)
    features = [hash_file(p, config) for p in paths]
    assert all(isinstance(f, ImageFeatures) for f in features)
    label = [files[p][0] for p in paths]
    kind = [files[p][1] for p in paths]
    n = len(paths)
    hashes = np.array([f.phash for f in features], dtype=np.uint64)  # type: ignore[union-attr]
    windows = np.array([f.windows for f in features], dtype=np.uint64)  # type: ignore[union-attr]
    variants = np.array([f.variants for f in features], dtype=np.uint64)  # type: ignore[union-attr]
    whole = np.bitwise_count(hashes[:, None] ^ hashes[None, :]).astype(int)
    window = np.bitwise_count(windows[:, None, :] ^ hashes[None, :, None]).min(axis=2)
    window = np.minimum(window, window.T).astype(int)
    turned = np.stack(
        [np.bitwise_count(variants[:, t][:, None] ^ hashes[None, :]) for t in range(8)]
    ).astype(int)

    pictures: dict[tuple[int, int], geometry.Keypoints] = {}
    colours: dict[tuple[int, int], geometry.Colour | None] = {}

    def keypoints(i: int, t: int) -> geometry.Keypoints:
        if (i, t) not in pictures:
            pictures[(i, t)] = confirm.read_keypoints(paths[i], config.max_pixels, Transform(t))
        return pictures[(i, t)]

    def colour(i: int, t: int) -> geometry.Colour | None:
        if (i, t) not in colours:
            colours[(i, t)] = confirm.read_colour(paths[i], config.max_pixels, Transform(t))
        return colours[(i, t)]

    started = time.perf_counter()
    checks = 0
    found: dict[tuple[int, int], bool] = {}
    why: dict[tuple[int, int], str] = {}
    for i in range(n):
        for j in range(i + 1, n):
            same = label[i] == label[j]
            if same and "original" not in (kind[i], kind[j]):
                continue
            d, t = int(whole[i, j]), 0
            if args.rotations:
                options = [(int(turned[u, i, j]), u) for u in range(8)]
                options += [(int(turned[u, j, i]), int(INVERSE_TRANSFORM[u])) for u in range(1, 8)]
                d, t = min(options, key=lambda o: (o[0], o[1] != 0, o[1]))
            by_window = window[i, j] <= WINDOW_THRESHOLD and window[i, j] < d
            distance = int(window[i, j]) if by_window else d
            if distance > DEFAULT_THRESHOLD:
                decided = False
            elif (
                by_window
                or t != 0
                or distance > confirm.CERTAIN_DISTANCE
                or confirm.windows_disagree(windows[i : i + 1], windows[j : j + 1])[0]
            ):
                t = 0 if by_window else t
                check = geometry.compare(
                    keypoints(i, t),
                    keypoints(j, 0),
                    turned=Transform(t),
                    colour=lambda i=i, j=j, t=t: (colour(i, t), colour(j, 0)),
                )
                decided = check.confirmed
                why[(i, j)] = f"checked at {distance}: {check.reason or check.measures}"
                checks += 1
            else:
                decided = True
                why[(i, j)] = f"certain at {distance}"
            found[(i, j)] = decided
            why.setdefault((i, j), f"distance {distance}")
    seconds = time.perf_counter() - started

    recall: dict[str, list[int]] = defaultdict(lambda: [0, 0])
    true = false = false_bursts = 0
    for (i, j), decided in found.items():
        if label[i] == label[j]:
            copy_kind = kind[j] if kind[i] == "original" else kind[i]
            recall[copy_kind][0] += decided
            recall[copy_kind][1] += 1
            true += decided
        elif decided:
            false += 1
            false_bursts += "burst" in (kind[i], kind[j])
    if args.failures:
        for (i, j), decided in sorted(found.items()):
            if decided != (label[i] == label[j]):
                what = "missed" if label[i] == label[j] else "false"
                print(f"{what}: {label[i]}/{kind[i]} - {label[j]}/{kind[j]}: {why[(i, j)]}")
    name = "tuning" if args.half == 0 else "report"
    rotations = "on" if args.rotations else "off"
    print(
        f"\n{name} half, rotations {rotations}, threshold {DEFAULT_THRESHOLD}: {n} files, "
        f"{checks} geometric checks in {seconds:.0f} s\n"
    )
    print("| copy kind | recall |")
    print("|---|---:|")
    for copy_kind, (hit, total) in recall.items():
        print(f"| {copy_kind} | {hit / total:.3f} ({hit}/{total}) |")
    print(
        f"\nprecision (original-copy pairs as the true ones): {true / (true + false):.4f} "
        f"({true} true, {false} false, of which {false_bursts} with a burst frame); "
        f"without the burst negatives: {true / (true + false - false_bursts):.4f}"
    )
    return 0


if __name__ == "__main__":
    sys.exit(main())
