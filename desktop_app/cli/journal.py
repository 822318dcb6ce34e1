"""The journal half of the ``doppel`` command: undo, history, ignore, unignore.

Also the helpers the cleanup commands share (``cleanup.py`` imports them): opening
the catalog, recovering an interrupted operation, running one, and printing reports.
JSON shapes are documented in the README.
"""

from __future__ import annotations

import argparse
import datetime as dt
import json
import sys
from collections.abc import Generator
from typing import Any, TextIO

from desktop_app.cli.progress import ProgressPrinter
from desktop_app.engine.cleanup import (
    Action,
    Cleanup,
    FileResult,
    FreedesktopTrash,
    MetadataMerge,
    Operation,
    OpProgress,
    Report,
    State,
    Trash,
    default_trash,
    file_record,
    parse_key,
)
from desktop_app.engine.errors import UsageError
from desktop_app.engine.types import drain
from desktop_app.engine.units import human_size

EXIT_OK, EXIT_ERROR = 0, 1


# --------------------------------------------------------------------- shared


def open_cleanup(args: argparse.Namespace) -> Cleanup:
    """The cleanup front door on the catalog ``--catalog`` names (or the default one)."""
    return Cleanup(args.catalog or None)


def trash_for(args: argparse.Namespace) -> Trash:
    folder = getattr(args, "trash_dir", None)
    return FreedesktopTrash(folder) if folder else default_trash()


def report_recovery(cleanup: Cleanup, out: TextIO) -> None:
    for settled in cleanup.recover():
        print(
            f"doppel: recovered an interrupted operation: {settled.source}: {settled.note}",
            file=out,
        )


def drive(steps: Generator[OpProgress, None, Report]) -> Report:
    """Run an operation; Ctrl+C stops it after the current file, settled and journalled."""
    try:
        return drain(steps)
    except KeyboardInterrupt:
        steps.close()
        raise


def when(ns: int) -> str:
    return dt.datetime.fromtimestamp(ns / 1e9).strftime("%Y-%m-%d %H:%M:%S")


def dump(data: Any, out: TextIO) -> None:
    json.dump(data, out, indent=2)
    out.write("\n")


def result_json(result: FileResult) -> dict[str, Any]:
    return {
        "source": result.source,
        "destination": result.destination,
        "size": result.size,
        "state": str(result.state),
        "error": result.error,
        "sidecars": [
            {"source": s.source, "destination": s.destination, "state": str(s.state),
             "error": s.error}
            for s in result.sidecars
        ],
    }  # fmt: skip


def merge_json(merge: MetadataMerge) -> dict[str, Any]:
    return {
        "keeper": merge.keeper,
        "sidecar": merge.sidecar,
        "created": merge.created,
        "carried_over": merge.summary,
        "from": list(merge.sources),
        "state": merge.state,
        "note": merge.note,
    }


def report_json(report: Report) -> dict[str, Any]:
    return {
        "operation": report.operation,
        "action": str(report.action),
        "dry_run": False,
        "undo": report.undo,
        "cancelled": report.cancelled,
        "summary": {
            "done": len(report.done),
            "failed": len(report.failed),
            "bytes_done": report.bytes_done,
        },
        "files": [result_json(r) for r in report.results],
        "merges": [merge_json(m) for m in report.merges],
    }


def print_report(report: Report, trash: Trash) -> None:
    where = {
        Action.TRASH: f"to {trash.label}",
        Action.MOVE: "to the chosen folder",
        Action.DELETE: "permanently",
    }[report.action]
    verb = "Deleted" if report.action is Action.DELETE else "Moved"
    if report.undo:
        print(
            f"Put back {len(report.done)} photos ({human_size(report.bytes_done)}) "
            f"from operation {report.operation}."
        )
    else:
        print(f"{verb} {len(report.done)} photos ({human_size(report.bytes_done)}) {where}.")
    for r in report.done:
        if r.error:  # put back under another name
            print(f"  note: {r.source}: {r.error}")
    sidecars = sum(len(r.sidecars) for r in report.done)
    if sidecars:
        print(f"  with their {sidecars} sidecar files (.xmp, .aae, Live Photo .mov...).")
    for m in report.merges:
        if report.undo:
            print(f"  {m.sidecar}: {'put back' if m.state == 'undone' else m.note}")
        elif m.state == "done":
            print(f"  {m.keeper} inherited {m.summary} (in {m.sidecar}).")
        else:
            print(f"  {m.keeper} did not inherit {m.summary}: {m.note}")
    if report.failed:
        print(f"Left {len(report.failed)} photos where they are:")
        for r in report.failed:
            print(f"  {r.source}: {r.error}")
    if report.operation is not None and not report.undo and report.action is not Action.DELETE:
        print(f"Operation {report.operation}; 'doppel undo' puts the files back.")


# --------------------------------------------------------------------- undo and history


def cmd_undo(args: argparse.Namespace, printer: ProgressPrinter) -> int:
    with open_cleanup(args) as cleanup:
        report_recovery(cleanup, sys.stderr)
        if args.operation is not None:
            targets = [args.operation]
        else:
            candidates = [op.id for op in cleanup.undoable()]
            if not candidates:
                raise UsageError("There is nothing to undo.")
            if args.count < 1:
                raise UsageError("N must be 1 or more.")
            targets = candidates if args.all else candidates[: args.count]
        reports = [drive(cleanup.undo(op)) for op in targets]
        if args.json:
            dump({"operations": [report_json(r) for r in reports]}, sys.stdout)
        else:
            for report in reports:
                print_report(report, default_trash())
        return EXIT_OK if all(not r.failed for r in reports) else EXIT_ERROR


def _operation_json(op: Operation) -> dict[str, Any]:
    return {
        "operation": op.id,
        "action": str(op.action),
        "started": when(op.started_ns),
        "finished": None if op.finished_ns is None else when(op.finished_ns),
        "state": str(op.state),
        "target": op.target,
        "note": op.note,
        "files": op.files,
        "done": op.done,
        "failed": op.failed,
        "restored": op.restored,
        "bytes_done": op.bytes_done,
        "undoable": op.restorable,
    }


def cmd_history(args: argparse.Namespace, printer: ProgressPrinter) -> int:
    with open_cleanup(args) as cleanup:
        report_recovery(cleanup, sys.stderr)
        if args.operation is not None:
            entries = cleanup.entries(args.operation)
            if args.json:
                dump(
                    {
                        "operation": args.operation,
                        "files": [
                            {
                                "source": e.source,
                                "destination": e.destination,
                                "restored": e.restored,
                                "state": str(e.state),
                                "size": e.size,
                                "note": e.error,
                            }
                            for e in entries
                        ],
                    },
                    sys.stdout,
                )
                return EXIT_OK
            for e in entries:
                place = {State.DONE: e.destination or "(removed)", State.RESTORED: e.restored}.get(
                    e.state, e.source
                )
                note = f"  ({e.error})" if e.error else ""
                print(f"{e.state:>9}  {e.source}  ->  {place}{note}")
            return EXIT_OK
        ops = cleanup.history(args.limit)
        if args.json:
            dump({"operations": [_operation_json(op) for op in ops]}, sys.stdout)
            return EXIT_OK
        for op in ops:
            target = f" -> {op.target}" if op.target else ""
            print(
                f"#{op.id}  {when(op.started_ns)}  {op.action}{target}: {op.files} files, "
                f"{op.done} done ({human_size(op.bytes_done)}), {op.failed} left in place, "
                f"{op.restored} put back  [{op.state}]"
            )
        if not ops:
            print("The journal is empty.")
    return EXIT_OK


# --------------------------------------------------------------------- ignore list


def cmd_ignore(args: argparse.Namespace, printer: ProgressPrinter) -> int:
    with open_cleanup(args) as cleanup:
        if args.list:
            pairs = cleanup.ignored()
            if args.json:
                dump(
                    {
                        "pairs": [
                            {"key": p.key, "a": p.a_path, "b": p.b_path, "added": when(p.added_ns)}
                            for p in pairs
                        ]
                    },
                    sys.stdout,
                )
            else:
                for p in pairs:
                    print(f"{p.key}  {p.a_path}  {p.b_path}  ({when(p.added_ns)})")
                if not pairs:
                    print("No pairs are remembered as not duplicates.")
            return EXIT_OK
        if len(args.files) < 2:
            raise UsageError("Name at least two files that are not copies (or use --list).")
        added = cleanup.ignore([file_record(f) for f in args.files])
        print(f"Remembered {added} new pairs as not duplicates.")
    return EXIT_OK


def cmd_unignore(args: argparse.Namespace, printer: ProgressPrinter) -> int:
    with open_cleanup(args) as cleanup:
        removed = 0
        if args.key:
            removed += cleanup.unignore([parse_key(k) for k in args.key])
        if args.files:
            if len(args.files) < 2:
                raise UsageError("Name at least two files.")
            removed += cleanup.unignore_records([file_record(f) for f in args.files])
        if not args.key and not args.files:
            raise UsageError("Name the files, or give --key A:B from 'doppel ignore --list'.")
        print(f"Forgot {removed} pairs.")
    return EXIT_OK
