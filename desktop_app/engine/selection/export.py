"""Groups, with the keeper and the marks of a plan, as CSV rows or JSON.

One row per photo: its group, path, distance to the group's reference, whether it is
the keeper, whether it is marked, size, dimensions, date taken, and the note explaining
the decision. The JSON form nests the same rows under their groups. The command line's
``select --csv/--json`` and the window's "Export" both write through here, so the shapes
are the same everywhere; they are documented in the README: add keys, never rename one.
"""

from __future__ import annotations

import csv
import json
import os
from collections.abc import Mapping
from typing import Any, TextIO

from desktop_app.engine.errors import UsageError
from desktop_app.engine.selection.plans import Decision, GroupPlan, Plan
from desktop_app.engine.types import PhotoNotes, hash_to_hex

#: CSV columns, in order.
FIELDS: tuple[str, ...] = (
    "group",
    "path",
    "distance",
    "identical",
    "keeper",
    "marked",
    "reference",
    "size",
    "width",
    "height",
    "format",
    "date",
    "hash",
    "note",
)


def member_row(group: GroupPlan, number: int, decision: Decision) -> dict[str, Any]:
    """One photo as a flat record (``number`` is the group's 1-based number)."""
    image = decision.image
    member = next(m for m in group.group.members if m.image.id == image.id)
    return {
        "group": number,
        "path": image.path,
        "distance": member.distance,
        "identical": member.identical,
        "keeper": decision.keeper,
        "marked": decision.marked,
        "reference": decision.reference,
        "size": image.size,
        "width": image.width,
        "height": image.height,
        "format": image.format,
        "date": image.taken,
        "hash": None if image.phash is None else hash_to_hex(image.phash),
        "note": decision.note,
    }


def rows(plan: Plan) -> list[dict[str, Any]]:
    """Every photo of every group of ``plan``, group by group."""
    return [member_row(g, n, d) for n, g in enumerate(plan.groups, start=1) for d in g.decisions]


def to_json(
    plan: Plan, notes: Mapping[str, PhotoNotes] | None = None, **extra: Any
) -> dict[str, Any]:
    """The plan as JSON data; ``extra`` keys (roots, catalog, ...) are added at the top.

    With ``notes`` (``Library.photo_notes``), each member also lists its ``sidecars``
    (which go wherever it goes) and its ``lineage`` ("exported from IMG_1234.CR3").
    """

    def member(g: GroupPlan, n: int, d: Decision) -> dict[str, Any]:
        row = member_row(g, n, d)
        said = None if notes is None else notes.get(d.image.path)
        if said is not None:
            row["sidecars"] = [{"path": p, "kind": k} for p, k in said.sidecars]
            row["lineage"] = said.lineage
        return row

    return {
        **extra,
        "threshold": plan.threshold,
        "rules": plan.rules.to_json(),
        "references": list(plan.references),
        "summary": {
            "groups": len(plan.groups),
            "marked": len(plan.marked),
            "marked_bytes": plan.marked_bytes,
        },
        "groups": [
            {
                "group": n,
                "keeper": g.keeper.image.path,
                "reason": g.reason,
                "members": [member(g, n, d) for d in g.decisions],
            }
            for n, g in enumerate(plan.groups, start=1)
        ],
    }


def write_csv(plan: Plan, out: TextIO) -> None:
    """Write :func:`rows` as CSV with a header line."""
    writer = csv.DictWriter(out, fieldnames=FIELDS, lineterminator="\n")
    writer.writeheader()
    for row in rows(plan):
        writer.writerow({k: "" if v is None else v for k, v in row.items()})


def write_json(
    plan: Plan, out: TextIO, notes: Mapping[str, PhotoNotes] | None = None, **extra: Any
) -> None:
    """Write :func:`to_json` indented, with a final newline."""
    json.dump(to_json(plan, notes, **extra), out, indent=2)
    out.write("\n")


def write_file(plan: Plan, path: str | os.PathLike[str], **extra: Any) -> str:
    """Write the plan to ``path``: JSON for a ``.json`` name, CSV for a ``.csv`` one.

    The window's File > Export writes through here (the command line writes to its
    output stream with :func:`write_csv` / :func:`write_json`).

    Args:
        plan: The plan.
        path: The file to write (replaced if it exists).
        extra: Keys added at the top of the JSON form (roots, catalog, ...).

    Returns:
        The format written, ``"csv"`` or ``"json"``.

    Raises:
        UsageError: The name ends neither in ``.csv`` nor in ``.json``.
        OSError: The file cannot be written.
    """
    kind = os.path.splitext(os.fspath(path))[1].lower().lstrip(".")
    if kind not in ("csv", "json"):
        raise UsageError(f"Export to a .csv or a .json file, not {os.fspath(path)!r}.")
    with open(path, "w", encoding="utf-8", newline="") as out:
        if kind == "json":
            write_json(plan, out, **extra)
        else:
            write_csv(plan, out)
    return kind
