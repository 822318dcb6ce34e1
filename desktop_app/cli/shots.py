"""``doppel shots``: similar shots for culling (issue 9).

Bursts and brackets, each frame with its capture time, exposure and sharpness; nothing
is marked (``doppel apply FOLDER --keep-sharpest`` keeps the sharpest of each group,
through the same dry run, journal and undo as any plan).
"""

from __future__ import annotations

import argparse
import json
import sys
from typing import Any

from desktop_app.cli.opening import open_library
from desktop_app.cli.progress import ProgressPrinter
from desktop_app.cli.records import record_json
from desktop_app.engine.library import Library
from desktop_app.engine.types import GeometryCheck, ImageRecord, PairSet, PairVerdict, Transform

EXIT_OK = 0


#: A pair as the command line lists it: distance, the two paths, the transform, the
#: verdict (issue 9) and what the geometric check found (issue 10).
PairRow = tuple[int, str, str, Transform, PairVerdict, tuple[str, ...]]


def verdict_json(
    verdict: PairVerdict | None, geometry: GeometryCheck | None = None
) -> dict[str, Any]:
    """``verdict`` and ``evidence`` keys: the verdict's evidence (issue 9), then what the
    geometric check found (issue 10); None and [] for a group's reference."""
    found = list(geometry.evidence) if geometry is not None else []
    if verdict is None:
        return {"verdict": None, "evidence": found}
    return {"verdict": verdict.kind.value, "evidence": [*verdict.evidence, *found]}


def pair_rows(library: Library, pairs: PairSet) -> list[PairRow]:
    """The pairs of ``pairs`` by distance, with their paths, verdicts and evidence."""
    records = library.records()
    rows: list[PairRow] = []
    for a, b, d, t in zip(pairs.a, pairs.b, pairs.distance, pairs.transform, strict=True):
        x, y = records[int(a)], records[int(b)]
        check = library.geometry(int(a), int(b))
        evidence = tuple(check.evidence) if check is not None else ()
        rows.append(
            (int(d), x.path, y.path, Transform(int(t)), library.verdict(x, y, int(d)), evidence)
        )
    return sorted(rows)


def pair_json(row: PairRow) -> dict[str, Any]:
    """One pair as JSON: paths, distance, transform, verdict and evidence."""
    d, a, b, t, verdict, evidence = row
    return {
        "a": a,
        "b": b,
        "distance": d,
        "transform": t.name.lower(),
        "verdict": verdict.kind.value,
        "evidence": [*verdict.evidence, *evidence],
    }


def _shot_json(record: ImageRecord) -> dict[str, Any]:
    capture = record.capture
    return {
        **record_json(record),
        "captured": None if capture is None else capture.when,
        "exposure": None if capture is None else capture.exposure,
    }


def cmd_shots(args: argparse.Namespace, printer: ProgressPrinter) -> int:
    """Similar shots for culling; nothing is marked (``doppel apply --sharpest`` does)."""
    with open_library(args, printer, scan=True) as library:
        groups = library.shots(args.threshold)
        if args.json:
            out = {
                "threshold": args.threshold,
                "roots": list(library.roots),
                "groups": [
                    {
                        "index": g.index,
                        "sharpest": g.sharpest.path,
                        "members": [_shot_json(r) for r in g.members],
                    }
                    for g in groups
                ],
            }
            json.dump(out, sys.stdout, indent=2)
            sys.stdout.write("\n")
            return EXIT_OK
        for g in groups:
            print(f"Shots {g.index + 1}: {len(g.members)} frames")
            for r in g.members:
                star = "*" if r.id == g.sharpest.id else " "
                capture = r.capture
                when = capture.when if capture is not None else ""
                exposure = (capture.exposure if capture is not None else "") or ""
                sharp = "" if r.sharpness is None else f"sharpness {r.sharpness:.0f}"
                print(f"  {star} {r.path}  {when}  {exposure}  {sharp}".rstrip())
        print(f"{len(groups)} groups of similar shots (* the sharpest; nothing is marked).")
    return EXIT_OK
