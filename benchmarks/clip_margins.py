"""The geometric check's looks at brightened copies and burst frames: the margins.

For each corpus (the one ``quality.py --keep DIR`` writes, and the one
``quality_shots.py --keep DIR`` writes), every brightened copy is compared with every
file of its own picture (its original, crops, re-framings, conversions: copies the check
must confirm), and every burst frame that is not a pixel copy of its original
(``burst``: camera and subject moved; ``burst_subject``: part of the scene moved) with
every file of its picture (different shots it must refuse), with ``geometry.compare``
directly, whatever their pHash distance. It prints, per half (the same halves as the two
benchmarks: tuning and report), the pairs the earlier looks (grey, per channel) refuse,
and the worst cell of the last look (:func:`geometry._unclipped_channels`, the look
where the edit clipped) for the nearest negatives and for the copies that need it.

The last look's limit is set to -1 here, so that it decides nothing and its value is
recorded for every pair it is asked about (the smallest over the fits tried).

    python benchmarks/clip_margins.py --crops /tmp/qc --shots /tmp/qs
    python benchmarks/clip_margins.py --crops /tmp/qc --every-pair   # no cost limit

About 6 minutes for the first corpus and 12 for the second on a 2-core machine.
"""

from __future__ import annotations

import argparse
import json
import math
import sys
from collections import defaultdict
from dataclasses import dataclass
from pathlib import Path

sys.path.insert(0, str(Path(__file__).resolve().parent.parent))
sys.path.insert(0, str(Path(__file__).resolve().parent))

from _common import machine_notes

from desktop_app.engine.search import confirm, geometry

NEGATIVES = ("burst", "burst_subject")
#: Different shots that are pixel copies of their original (the camera moved and only
#: moved, a darker exposure): no look at the pixels can refuse them; the verdicts do.
PIXEL_COPIES = ("burst_moved", "burst_moved4", "bracket")
MAX_PIXELS = 10**9

_last: dict[str, float] = {}
_unclipped = geometry._unclipped_channels


def _recorded(*args: object) -> float:
    value = _unclipped(*args)  # type: ignore[arg-type]
    _last["unclipped"] = min(value, _last.get("unclipped", math.inf))
    return value


def _files(corpus: Path) -> list[tuple[str, str, str, int]]:
    """(path, picture, kind, half) of every file, as each benchmark halves them."""
    files = json.loads((corpus / "manifest.json").read_text())["files"]
    out = []
    if isinstance(next(iter(files.values())), list):  # quality.py: path -> [label, kind]
        labels = sorted({label.split("#")[0] for label, _ in files.values()})
        side = {label: k % 2 for k, label in enumerate(labels)}
        for path, (label, kind) in files.items():
            out.append((path, label.split("#")[0], kind, side[label.split("#")[0]]))
    else:  # quality_shots.py: path -> {"label", "kind", "photo"}
        for path, f in files.items():
            out.append((path, f["label"].split("#")[0], f["kind"], f["photo"] % 2))
    return out


def _pairs(files: list[tuple[str, str, str, int]]) -> list[tuple[str, str, bool, str, int]]:
    """(a, b, is_copy, picture, half): brightened copies and burst frames against the
    files of their picture."""
    by: dict[str, list[tuple[str, str, int]]] = defaultdict(list)
    for path, picture, kind, half in files:
        by[picture].append((path, kind, half))
    skip = {"distractor", *NEGATIVES, *PIXEL_COPIES}
    out = []
    for picture, members in by.items():
        for path, kind, half in members:
            if kind == "brighten" or kind in NEGATIVES:
                for other, other_kind, _ in members:
                    if other != path and other_kind not in skip:
                        out.append((path, other, kind == "brighten", picture, half))
    return out


@dataclass(frozen=True)
class Row:
    copy: bool
    picture: str
    half: int
    kinds: tuple[str, str]
    confirmed: bool
    #: The last look's worst cell (smallest over the fits), None if it was not asked.
    unclipped: float | None

    @property
    def decidable(self) -> bool:
        return self.unclipped is not None and math.isfinite(self.unclipped)


def measure(corpus: Path) -> list[Row]:
    keypoints: dict[str, geometry.Keypoints] = {}
    colours: dict[str, geometry.Colour | None] = {}

    def kp(path: str) -> geometry.Keypoints:
        if path not in keypoints:
            keypoints[path] = confirm.read_keypoints(path, MAX_PIXELS)
        return keypoints[path]

    def colour(path: str) -> geometry.Colour | None:
        if path not in colours:
            colours[path] = confirm.read_colour(path, MAX_PIXELS)
        return colours[path]

    rows = []
    for a, b, is_copy, picture, half in _pairs(_files(corpus)):
        _last.clear()

        def both(a: str = a, b: str = b) -> tuple[geometry.Colour | None, geometry.Colour | None]:
            return colour(a), colour(b)

        check = geometry.compare(kp(a), kp(b), colour=both)
        kinds = (Path(a).parent.name, Path(b).parent.name)
        rows.append(Row(is_copy, picture, half, kinds, check.confirmed, _last.get("unclipped")))
    return rows


def report(name: str, rows: list[Row]) -> None:
    for half in (0, 1):
        here = [r for r in rows if r.half == half]
        copies = [r for r in here if r.copy]
        negatives = [r for r in here if not r.copy]
        print(f"\n{name}, half {half} ({'tuning' if half == 0 else 'report'}):")
        asked = sum(r.unclipped is not None for r in negatives)
        print(
            f"  negatives {len(negatives)}: confirmed by the earlier looks "
            f"{sum(r.confirmed for r in negatives)}; the last look asked about {asked}, "
            f"could decide {sum(r.decidable for r in negatives)}"
        )
        near = sorted((r for r in negatives if r.decidable), key=lambda r: r.unclipped or 0.0)
        for r in near[:3]:
            print(f"    nearest negative {r.unclipped:.3f}  {r.picture} {r.kinds}")
        refused = [r for r in copies if not r.confirmed]
        print(f"  brightened copy pairs {len(copies)}: refused by the earlier looks {len(refused)}")
        best: dict[str, float] = {}
        for r in copies:
            value = 0.0 if r.confirmed else (r.unclipped if r.unclipped is not None else math.inf)
            best[r.picture] = min(best.get(r.picture, math.inf), value)
        for picture, value in sorted(best.items(), key=lambda item: item[1]):
            if value > 0:
                print(
                    f"    no earlier look confirms {picture} with any file; last look {value:.3f}"
                )
        wanting = sorted(r.unclipped for r in refused if r.decidable and r.unclipped is not None)
        if wanting:
            print(
                f"    copy pairs the last look could decide: {len(wanting)}, "
                f"smallest {wanting[0]:.3f}, median {wanting[len(wanting) // 2]:.3f}"
            )


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    parser.add_argument("--crops", type=Path, help="the corpus of quality.py --keep")
    parser.add_argument("--shots", type=Path, help="the corpus of quality_shots.py --keep")
    parser.add_argument(
        "--every-pair",
        action="store_true",
        help="give every pair the grey refuses the later looks (no TONE_SHIFT cost limit)",
    )
    args = parser.parse_args()
    print(f"Machine: {machine_notes()}")
    print(f"The last look's limit in the engine: {geometry.CLIPPED_CELL_ERROR}")
    if args.every_pair:
        geometry.TONE_SHIFT = -1.0
        print("Every pair the grey refuses gets the later looks (TONE_SHIFT off).")
    geometry.CLIPPED_CELL_ERROR = -1.0
    geometry._unclipped_channels = _recorded  # type: ignore[assignment]
    for name, corpus in (
        ("quality.py corpus", args.crops),
        ("quality_shots.py corpus", args.shots),
    ):
        if corpus is not None:
            report(name, measure(corpus))


if __name__ == "__main__":
    main()
