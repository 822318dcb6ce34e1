"""The cleanup half of the ``doppel`` command: select, apply, undo, history, ignore.

Registered by ``main.py`` (:func:`add_commands` and :data:`COMMANDS`); it follows the same
rules: a thin layer over the engine (``selection``, ``fileops``, ``ignore``,
``presets``, ``export``), one-line errors, JSON shapes documented in the README,
to which keys are added, never renamed.

``select`` prints the plan and changes nothing. ``apply`` takes the same arguments,
computes the same plan and acts on it, through the same journal as the window: every
move can be undone with ``undo``, and a run that was interrupted is reconciled with the
disk the next time any of these commands starts.
"""

from __future__ import annotations

import argparse
import dataclasses
import json
import sys
from collections.abc import Callable, Sequence
from typing import Any, TextIO

from desktop_app.cli import journal
from desktop_app.cli.journal import EXIT_ERROR, EXIT_OK
from desktop_app.cli.opening import open_library
from desktop_app.cli.progress import ProgressPrinter
from desktop_app.engine.cleanup import (
    DEFAULT_PRESET,
    Action,
    Cleanup,
    KeepRules,
    Plan,
    Removal,
    Request,
    State,
    Trash,
    confirmation_for,
    select_in,
    write_plan_csv,
    write_plan_json,
)
from desktop_app.engine.errors import UsageError
from desktop_app.engine.library import Library, normalise_root
from desktop_app.engine.units import human_size

# --------------------------------------------------------------------- arguments


def add_commands(
    commands: Any,
    *,
    common: argparse.ArgumentParser,
    threshold: argparse.ArgumentParser,
    as_json: argparse.ArgumentParser,
) -> None:
    """Add the cleanup subcommands to ``doppel``'s subparsers."""
    choose = argparse.ArgumentParser(add_help=False)
    group = choose.add_argument_group("choosing the copy to keep")
    group.add_argument(
        "--keep",
        metavar="CRITERIA",
        help="criteria in order, comma-separated, from: original, pixels, format, size, date, "
        "path, folder (default: the preset's)",
    )
    group.add_argument("--preset", metavar="NAME", help="keep-the-best preset to start from")
    group.add_argument("--save-preset", metavar="NAME", help="save the resulting rules as a preset")
    group.add_argument(
        "--formats",
        metavar="LIST",
        help="preferred formats, best first (default RAW,TIFF,PNG,HEIC,JPEG,WEBP)",
    )
    group.add_argument(
        "--prefer-folder",
        action="append",
        default=[],
        metavar="DIR",
        help="preferred folder for the 'folder' criterion (repeatable, best first)",
    )
    group.add_argument(
        "--reference",
        action="append",
        default=[],
        metavar="DIR",
        help="reference folder: searched too, never touched, its photos are the keepers "
        "(repeatable)",
    )
    group.add_argument(
        "--keep-sharpest",
        action="store_true",
        help="cull similar shots instead (see 'doppel shots'): in each burst or bracket "
        "keep the sharpest frame, mark the others",
    )
    group.add_argument(
        "--within",
        action="store_true",
        help="with --reference, also select among photos that have no reference copy",
    )

    sel = commands.add_parser(
        "select",
        parents=[common, threshold, as_json, choose],
        help="choose the copy to keep in each group and print the plan (changes nothing)",
    )
    sel.add_argument("folders", nargs="+", metavar="FOLDER")
    sel.add_argument("--csv", action="store_true", help="print the plan as CSV, a row a photo")
    sel.add_argument("-o", "--output", metavar="FILE", help="write the plan to FILE")

    app = commands.add_parser(
        "apply",
        parents=[common, threshold, as_json, choose],
        help="act on the photos 'select' marks (or a saved plan): trash them by default",
    )
    app.add_argument("folders", nargs="*", metavar="FOLDER")
    how = app.add_mutually_exclusive_group()
    how.add_argument("--trash", action="store_true", help="move them to the trash (default)")
    how.add_argument("--move-to", metavar="DIR", help="move them below DIR, keeping their paths")
    how.add_argument(
        "--delete-permanently",
        action="store_true",
        help="delete them for good (no undo); needs --yes-i-am-sure",
    )
    app.add_argument("--yes-i-am-sure", action="store_true", help="confirm a permanent deletion")
    app.add_argument("--dry-run", action="store_true", help="show what would happen, do nothing")
    app.add_argument(
        "--plan", metavar="FILE", help="act on the marks of a plan saved by 'select --json -o'"
    )
    app.add_argument("--trash-dir", metavar="DIR", help="use DIR as the trash (its own layout)")
    app.add_argument(
        "--merge-metadata",
        action="store_true",
        help="before removing the copies, carry over to each keeper's XMP sidecar the rating, "
        "label, keywords, title, caption and GPS they carry and it lacks (undone with the rest)",
    )

    und = commands.add_parser(
        "undo", parents=[common, as_json], help="put back the files of the last operation(s)"
    )
    und.add_argument("count", nargs="?", type=int, default=1, metavar="N", help="last N operations")
    und.add_argument("--all", action="store_true", help="every operation that can be undone")
    und.add_argument("--operation", type=int, metavar="ID", help="this operation only")

    his = commands.add_parser("history", parents=[common, as_json], help="the journal")
    his.add_argument("--limit", type=int, default=20, metavar="N", help="operations to list")
    his.add_argument("--operation", type=int, metavar="ID", help="list the files of one")

    ign = commands.add_parser(
        "ignore",
        parents=[common, as_json],
        help="remember that photos are not copies of each other (or --list them)",
    )
    ign.add_argument("files", nargs="*", metavar="FILE")
    ign.add_argument("--list", action="store_true", help="list the remembered pairs")

    uni = commands.add_parser("unignore", parents=[common], help="forget remembered pairs")
    uni.add_argument("files", nargs="*", metavar="FILE")
    uni.add_argument(
        "--key", action="append", default=[], metavar="A:B", help="a pair as 'ignore --list' shows"
    )


def _rules(args: argparse.Namespace, cleanup: Cleanup) -> KeepRules:
    base = cleanup.preset(args.preset or DEFAULT_PRESET)
    criteria = KeepRules.parse(args.keep).criteria if args.keep else base.criteria
    formats = tuple(f for f in (args.formats or "").split(",") if f.strip()) or base.formats
    folders = tuple(args.prefer_folder) or base.folders
    rules = KeepRules(criteria, formats, folders)
    if args.save_preset:
        cleanup.save_preset(args.save_preset, rules)
    return rules


def _plan(args: argparse.Namespace, printer: ProgressPrinter) -> tuple[Library, Plan]:
    if not args.folders:
        raise UsageError("Name the library folders (or give --plan FILE).")
    references = [normalise_root(r) for r in args.reference]
    opened = argparse.Namespace(**{**vars(args), "folders": [*args.folders, *references]})
    library = open_library(opened, printer, scan=True)
    try:
        if getattr(args, "keep_sharpest", False):
            marked = [r.path for r in library.catalog.roots() if r.reference]
            plan = library.sharpest_plan(args.threshold, references=[*references, *marked])
        else:
            rules = _rules(args, Cleanup(library))
            plan = select_in(
                library, args.threshold, rules, references=references, within=args.within
            )
    except BaseException:
        library.close()
        raise
    return library, plan


def _print_plan(plan: Plan, out: TextIO) -> None:
    for number, g in enumerate(plan.groups, start=1):
        print(f"Group {number}: {g.reason}", file=out)
        for d in g.decisions:
            tag = "keep" if d.keeper else "MARK" if d.marked else "ref" if d.reference else "stay"
            image = d.image
            line = (
                f"  {tag:>4}  {image.path}  {image.width}x{image.height}  {human_size(image.size)}"
            )
            if not d.keeper:
                line += f"  ({d.note})"
            print(line, file=out)
    marked = plan.marked
    print(
        f"{len(marked)} photos marked in {sum(bool(g.marked) for g in plan.groups)} of "
        f"{len(plan.groups)} groups, {human_size(plan.marked_bytes)} "
        f"(threshold {plan.threshold}, keep by {','.join(plan.rules.criteria)}).",
        file=out,
    )


# --------------------------------------------------------------------- select


def cmd_select(args: argparse.Namespace, printer: ProgressPrinter) -> int:
    if args.csv and args.json:
        raise UsageError("Choose --csv or --json, not both.")
    library, plan = _plan(args, printer)
    with library:
        out: TextIO = sys.stdout
        stream = open(args.output, "w", encoding="utf-8", newline="") if args.output else None  # noqa: SIM115
        try:
            out = stream or sys.stdout
            if args.json:
                paths = [d.image.path for g in plan.groups for d in g.decisions]
                write_plan_json(
                    plan,
                    out,
                    Library.photo_notes(paths),
                    roots=list(library.roots),
                    catalog=library.catalog.path,
                )
            elif args.csv:
                write_plan_csv(plan, out)
            else:
                _print_plan(plan, out)
                if not plan.marked:
                    print("Nothing to do.", file=out)
        finally:
            if stream is not None:
                stream.close()
        if stream is not None:
            print(f"Plan written to {args.output}.", file=sys.stderr)
    return EXIT_OK


# --------------------------------------------------------------------- apply


def _from_file(path: str, cleanup: Cleanup) -> list[Removal]:
    """The marked photos of a plan saved by ``select --json``, checked against the catalog."""
    try:
        with open(path, encoding="utf-8") as stream:
            data = json.load(stream)
        groups = data["groups"]
    except (OSError, ValueError, KeyError, TypeError) as error:
        raise UsageError(f"Cannot read the plan {path}: {error}") from error
    items = []
    for g in groups:
        members = g.get("members", [])
        keepers = [m["path"] for m in members if not m.get("marked")]
        marked = [m["path"] for m in members if m.get("marked")]
        if marked and not keepers:
            raise UsageError(f"Group {g.get('group')} of {path} marks every photo; one must stay.")
        keeper = g.get("keeper") if g.get("keeper") in keepers else keepers[0] if keepers else None
        for p in marked:
            record = cleanup.record_at(p)
            if record is None:
                raise UsageError(f"{p} is not in the catalog; scan its folder first.")
            items.append(Removal(record, keeper=keeper))
    return items


def _action(args: argparse.Namespace) -> Action:
    if args.move_to:
        return Action.MOVE
    if args.delete_permanently:
        return Action.DELETE
    return Action.TRASH


def cmd_apply(args: argparse.Namespace, printer: ProgressPrinter) -> int:
    action = _action(args)
    if args.plan and args.folders:
        raise UsageError("Give either folders or --plan, not both.")
    if args.plan:
        library: Library | None = None
        cleanup = journal.open_cleanup(args)
        items = _from_file(args.plan, cleanup)
        references = tuple(normalise_root(r) for r in args.reference)
        roots: Sequence[str] = list(cleanup.folders())
    else:
        library, plan = _plan(args, printer)
        cleanup = Cleanup(library)
        items = plan.marked
        references = plan.references
        roots = library.roots
    try:
        return _apply(
            args,
            action,
            cleanup,
            Request(
                tuple(items),
                action,
                args.move_to,
                tuple(roots),
                references,
                merge_metadata=args.merge_metadata,
            ),
        )
    finally:
        if library is not None:
            library.close()
        else:
            cleanup.close()


_VERBS = {Action.TRASH: "trash", Action.MOVE: "move", Action.DELETE: "delete permanently"}


def _dry_run(
    args: argparse.Namespace, action: Action, cleanup: Cleanup, request: Request, trash: Trash
) -> int:
    results = cleanup.preview(request, trash=trash, allow_delete=True)
    acted = [r for r in results if r.state is State.PLANNED]
    merges = cleanup.preview_merge(request) if request.merge_metadata else []
    if args.json:
        summary = {"done": len(acted), "failed": len(results) - len(acted)}
        journal.dump(
            {
                "operation": None,
                "action": str(action),
                "dry_run": True,
                "summary": {**summary, "bytes_done": sum(r.size for r in acted)},
                "files": [journal.result_json(r) for r in results],
                "merges": [journal.merge_json(m) for m in merges],
            },
            sys.stdout,
        )
        return EXIT_OK
    for r in results:
        if r.state is State.PLANNED:
            where = f" -> {r.destination}" if r.destination else ""
            print(f"would {_VERBS[action]}: {r.source}{where}")
        else:
            print(f"would leave: {r.source} ({r.error})")
        for s in r.sidecars:
            print(f"  with its sidecar {s.source}")
    for m in merges:
        made = "a new sidecar" if m.created else "its sidecar"
        print(f"would carry over to {m.keeper} ({made} {m.sidecar}): {m.summary}")
    print(
        f"Dry run: {len(acted)} of {len(results)} photos, "
        f"{human_size(sum(r.size for r in acted))}; nothing was changed."
    )
    return EXIT_OK


def _apply(args: argparse.Namespace, action: Action, cleanup: Cleanup, request: Request) -> int:
    trash = journal.trash_for(args)
    total = human_size(request.size)
    if args.dry_run:
        return _dry_run(args, action, cleanup, request, trash)
    journal.report_recovery(cleanup, sys.stderr)
    allow_delete = False
    if action is Action.DELETE:
        confirmation = confirmation_for(request.items)
        if not args.yes_i_am_sure:
            print(
                f"This would delete {confirmation.count} photos ({total}) permanently, "
                "with no undo. Add --yes-i-am-sure to do it.",
                file=sys.stderr,
            )
            return EXIT_ERROR
        print(f"Deleting {confirmation.count} photos ({total}) permanently.", file=sys.stderr)
        request = dataclasses.replace(request, destination=None, confirmation=confirmation)
        allow_delete = True
    report = journal.drive(cleanup.apply(request, trash=trash, allow_delete=allow_delete))
    if args.json:
        journal.dump(journal.report_json(report), sys.stdout)
    else:
        journal.print_report(report, trash)
    return EXIT_OK if not report.failed else EXIT_ERROR


COMMANDS: dict[str, Callable[[argparse.Namespace, ProgressPrinter], int]] = {
    "select": cmd_select,
    "apply": cmd_apply,
    "undo": journal.cmd_undo,
    "history": journal.cmd_history,
    "ignore": journal.cmd_ignore,
    "unignore": journal.cmd_unignore,
}

__all__ = ["COMMANDS", "add_commands"]
