"""The ``doppel`` command: the engine for scripts, and the launcher of the window.

Every subcommand is a thin layer over :class:`desktop_app.engine.library.Library`:
parse arguments, open the library (scanning first if a folder was never scanned), call
one engine method, print. Errors the user can act on print one line on stderr and exit
non-zero; they never show a traceback. The JSON shapes are documented in the README and
scripts depend on them: add keys, never rename or remove one.
"""

from __future__ import annotations

import argparse
import csv
import io
import json
import logging
import os
import sqlite3
import sys
import threading
from collections.abc import Callable, Generator, Sequence
from pathlib import Path
from typing import Any, NoReturn, TextIO

from desktop_app import __version__
from desktop_app.cli import cleanup
from desktop_app.cli.progress import ProgressPrinter
from desktop_app.engine.catalog.rebuild import rebuild_catalog
from desktop_app.engine.catalog.store import Catalog, default_catalog_path
from desktop_app.engine.config import DEFAULT_THRESHOLD, MAX_THRESHOLD, EngineConfig
from desktop_app.engine.errors import (
    CatalogCorrupt,
    CatalogLocked,
    CatalogTooNew,
    EngineError,
    UsageError,
)
from desktop_app.engine.library import Library
from desktop_app.engine.scan.scanner import normalise_root
from desktop_app.engine.types import (
    GeometryCheck,
    Group,
    ImageRecord,
    Match,
    Phase,
    Progress,
    ScanSummary,
    Transform,
    hash_to_hex,
)
from desktop_app.engine.units import human_size

log = logging.getLogger(__name__)

EXIT_OK, EXIT_ERROR, EXIT_USAGE, EXIT_INTERRUPTED = 0, 1, 2, 130


class _Parser(argparse.ArgumentParser):
    """argparse that reports usage errors as :class:`UsageError`, in one line."""

    def error(self, message: str) -> NoReturn:
        raise UsageError(f"{message} (see '{self.prog} --help')")


def _threshold(text: str) -> int:
    try:
        value = int(text)
    except ValueError:
        raise argparse.ArgumentTypeError(f"not a whole number: {text!r}") from None
    if not 0 <= value <= MAX_THRESHOLD:
        raise argparse.ArgumentTypeError(f"must be between 0 and {MAX_THRESHOLD}, not {value}")
    return value


def build_parser() -> argparse.ArgumentParser:
    """The argument parser of ``doppel`` (also used to document the commands)."""
    common = _Parser(add_help=False)
    common.add_argument(
        "--catalog",
        metavar="PATH",
        help="catalog file (default: $DOPPEL_CATALOG, else the per-user data folder)",
    )
    common.add_argument(
        "-v", "--verbose", action="count", default=0, help="more log output (-vv for debug)"
    )
    common.add_argument(
        "--workers", type=int, metavar="N", help="hashing processes (default: one per core)"
    )
    common.add_argument(
        "--rotations",
        action="store_true",
        help="also match copies rotated by quarter turns or mirrored",
    )
    common.add_argument(
        "--include-hidden", action="store_true", help="also scan hidden folders and files"
    )
    common.add_argument(
        "--fold-raw-jpeg",
        action="store_true",
        help="treat a RAW file and the JPEG beside it with the same name as one photo "
        "(the JPEG is not listed as a copy)",
    )
    threshold = _Parser(add_help=False)
    threshold.add_argument(
        "--threshold",
        "-t",
        type=_threshold,
        default=DEFAULT_THRESHOLD,
        metavar="N",
        help=f"largest Hamming distance between copies, 0-{MAX_THRESHOLD} "
        f"(default {DEFAULT_THRESHOLD})",
    )
    as_json = _Parser(add_help=False)
    as_json.add_argument("--json", action="store_true", help="print JSON (shape in README)")

    parser = _Parser(
        prog="doppel",
        description="Find duplicate and near-duplicate photos. "
        "Without a command, opens the window.",
    )
    parser.add_argument("--version", action="version", version=f"doppel {__version__}")
    commands = parser.add_subparsers(dest="command", metavar="COMMAND", parser_class=_Parser)

    gui = commands.add_parser("gui", parents=[common], help="open the window (the default)")
    gui.add_argument("folders", nargs="*", metavar="FOLDER", help="library folders to open")

    scan = commands.add_parser("scan", parents=[common], help="index library folders")
    scan.add_argument("folders", nargs="+", metavar="FOLDER")

    for name, text in (
        ("groups", "groups of copies, largest first"),
        ("pairs", "every pair of photos within the threshold"),
    ):
        sub = commands.add_parser(name, parents=[common, threshold, as_json], help=text)
        sub.add_argument("folders", nargs="+", metavar="FOLDER")

    query = commands.add_parser(
        "query", parents=[common, threshold, as_json], help="library photos similar to one image"
    )
    query.add_argument("image", metavar="IMAGE")
    query.add_argument(
        "--in", dest="folders", nargs="+", required=True, metavar="FOLDER", help="the library"
    )

    export = commands.add_parser(
        "export", parents=[common, as_json], help="one record per photo (CSV, or JSON)"
    )
    export.add_argument("folders", nargs="+", metavar="FOLDER")

    commands.add_parser(
        "rebuild-catalog",
        parents=[common],
        help="replace a damaged or too new catalog by a fresh one (photos are not touched)",
    )

    # select, apply, undo, history, ignore, unignore (issue 5)
    cleanup.add_commands(commands, common=common, threshold=threshold, as_json=as_json)
    return parser


def _config(args: argparse.Namespace) -> EngineConfig:
    kwargs: dict[str, Any] = {
        "threshold": getattr(args, "threshold", DEFAULT_THRESHOLD),
        "rotations": args.rotations,
        "skip_hidden": not args.include_hidden,
        "fold_raw_jpeg": args.fold_raw_jpeg,
    }
    if args.workers is not None:
        if args.workers < 0:
            raise UsageError("--workers must be 0 or more")
        kwargs["workers"] = args.workers
    return EngineConfig(**kwargs)


def _configure_logging(verbosity: int, printer: ProgressPrinter) -> Callable[[], None]:
    """Send log records to stderr above the progress bar; returns what undoes it.

    :func:`main` undoes it on the way out, so that calling it in-process (tests, scripts)
    leaves no handler bound to a stream that may be closed by then.
    """
    level = logging.WARNING if verbosity == 0 else logging.INFO if verbosity == 1 else logging.DEBUG
    handler = printer.log_handler()
    handler.setFormatter(logging.Formatter("doppel: %(levelname)s: %(message)s"))
    root = logging.getLogger()
    saved_handlers, saved_level = root.handlers[:], root.level
    root.handlers[:] = [handler]
    root.setLevel(level)

    def restore() -> None:
        root.handlers[:] = saved_handlers
        root.setLevel(saved_level)

    return restore


def _run_steps(
    steps: Generator[Progress, None, Any], printer: ProgressPrinter, cancel: threading.Event
) -> Any:
    """Drive a progress generator, drawing the bar; Ctrl+C cancels it cleanly."""
    try:
        while True:
            try:
                report = next(steps)
            except StopIteration as stop:
                return stop.value
            printer.update(report)
    except KeyboardInterrupt:
        cancel.set()
        printer.finish()
        raise
    finally:
        printer.finish()


def _open(args: argparse.Namespace, printer: ProgressPrinter, *, scan: bool) -> Library:
    library = Library(args.folders, catalog=args.catalog, config=_config(args))
    if scan and library.needs_scan():
        cancel = threading.Event()
        summary = _run_steps(library.scan(cancel), printer, cancel)
        _report_scan(summary, printer.stream, brief=True)
    return library


def _report_scan(summary: ScanSummary, out: TextIO, *, brief: bool = False) -> None:
    state = "cancelled" if summary.cancelled else "done"
    print(
        f"Scan {state} in {summary.seconds:.1f} s: {summary.added} new, {summary.updated} "
        f"changed, {summary.removed} removed, {summary.unchanged} unchanged, "
        f"{len(summary.failures)} unreadable.",
        file=out,
    )
    if summary.failures and not brief:
        print("Could not read:", file=out)
        for failure in summary.failures:
            print(f"  {failure.path}: {failure.reason}", file=out)


def _record_json(record: ImageRecord) -> dict[str, Any]:
    return {
        "path": record.path,
        "hash": None if record.phash is None else hash_to_hex(record.phash),
        "width": record.width,
        "height": record.height,
        "size": record.size,
        "format": record.format,
        "taken": record.taken,
        "camera": record.camera,
        "error": record.error,
    }


def _transform_name(transform: Transform) -> str:
    return transform.name.lower()


def _evidence(check: GeometryCheck | None) -> list[str]:
    """What the geometric check found on a pair ("crop of the original: ...")."""
    return list(check.evidence) if check is not None else []


def _group_json(group: Group) -> dict[str, Any]:
    return {
        "index": group.index,
        "reference": group.reference.image.path,
        "extra_bytes": group.extra_bytes,
        "members": [
            {
                **_record_json(m.image),
                "distance": m.distance,
                "identical": m.identical,
                "transform": _transform_name(m.transform),
                "evidence": _evidence(m.geometry),
            }
            for m in group.members
        ],
    }


def cmd_scan(args: argparse.Namespace, printer: ProgressPrinter) -> int:
    with Library(args.folders, catalog=args.catalog, config=_config(args)) as library:
        cancel = threading.Event()
        summary = _run_steps(library.scan(cancel), printer, cancel)
        _report_scan(summary, sys.stdout)
        photos, unreadable = library.counts()
        print(f"The library holds {photos} photos ({unreadable} unreadable files).")
        print(f"Catalog: {library.catalog.path}")
    return EXIT_OK


def cmd_groups(args: argparse.Namespace, printer: ProgressPrinter) -> int:
    with _open(args, printer, scan=True) as library:
        groups = library.groups(args.threshold)
        extra = sum(len(g.members) - 1 for g in groups)
        extra_bytes = sum(g.extra_bytes for g in groups)
        if args.json:
            json.dump(
                {
                    "threshold": args.threshold,
                    "roots": list(library.roots),
                    "catalog": library.catalog.path,
                    "summary": {
                        "groups": len(groups),
                        "extra_copies": extra,
                        "extra_bytes": extra_bytes,
                    },
                    "groups": [_group_json(g) for g in groups],
                },
                sys.stdout,
                indent=2,
            )
            sys.stdout.write("\n")
            return EXIT_OK
        for group in groups:
            print(
                f"Group {group.index + 1}: {len(group.members)} photos, "
                f"{human_size(group.extra_bytes)} in extra copies"
            )
            for m in group.members:
                mark = "ref" if m is group.reference else ("=" if m.identical else str(m.distance))
                taken = m.image.taken.replace("T", " ") if m.image.taken else ""
                print(
                    f"  {mark:>4}  {m.image.path}  {m.image.width}x{m.image.height}  "
                    f"{human_size(m.image.size)}  {taken}".rstrip()
                )
        print(
            f"{len(groups)} groups, {extra} extra copies taking {human_size(extra_bytes)} "
            f"(threshold {args.threshold})."
        )
    return EXIT_OK


def cmd_pairs(args: argparse.Namespace, printer: ProgressPrinter) -> int:
    with _open(args, printer, scan=True) as library:
        pairs = library.pairs(args.threshold).within(args.threshold)
        records = library.records()
        rows = sorted(
            (
                int(d),
                records[int(a)].path,
                records[int(b)].path,
                Transform(int(t)),
                _evidence(library.geometry(int(a), int(b))),
            )
            for a, b, d, t in zip(pairs.a, pairs.b, pairs.distance, pairs.transform, strict=True)
        )
        if args.json:
            out = {
                "threshold": args.threshold,
                "roots": list(library.roots),
                "pairs": [
                    {
                        "a": a,
                        "b": b,
                        "distance": d,
                        "transform": _transform_name(t),
                        "evidence": evidence,
                    }
                    for d, a, b, t, evidence in rows
                ],
            }
            json.dump(out, sys.stdout, indent=2)
            sys.stdout.write("\n")
        else:
            for d, a, b, _, _ in rows:
                print(f"{d}\t{a}\t{b}")
    return EXIT_OK


def cmd_query(args: argparse.Namespace, printer: ProgressPrinter) -> int:
    with _open(args, printer, scan=True) as library:
        result = library.query(args.image, args.threshold)
        query_path = os.path.abspath(args.image)
        if args.json:
            out = {
                "query": {"path": query_path, "hash": hash_to_hex(result.query.phash)},
                "threshold": args.threshold,
                "matches": [_match_json(m) for m in result.matches],
            }
            json.dump(out, sys.stdout, indent=2)
            sys.stdout.write("\n")
        else:
            for m in result.matches:
                mark = "=" if m.identical else str(m.distance)
                print(f"{mark}\t{m.image.path}")
            if not result.matches:
                print(f"No photo within {args.threshold} of {query_path}.", file=sys.stderr)
    return EXIT_OK


def _match_json(match: Match) -> dict[str, Any]:
    return {
        **_record_json(match.image),
        "distance": match.distance,
        "identical": match.identical,
        "transform": _transform_name(match.transform),
    }


_EXPORT_FIELDS = ("path", "hash", "width", "height", "size", "format", "taken", "camera", "error")


def cmd_export(args: argparse.Namespace, printer: ProgressPrinter) -> int:
    with _open(args, printer, scan=True) as library:
        records = library.catalog.all_records(library.roots)
        if args.json:
            out = sys.stdout
            out.write("[")
            for i, record in enumerate(records):
                out.write(",\n  " if i else "\n  ")
                json.dump(_record_json(record), out)
            out.write("\n]\n" if records else "]\n")
        else:
            writer = csv.DictWriter(sys.stdout, fieldnames=_EXPORT_FIELDS, lineterminator="\n")
            writer.writeheader()
            for record in records:
                writer.writerow(_record_json(record))
    return EXIT_OK


def cmd_rebuild_catalog(args: argparse.Namespace, printer: ProgressPrinter) -> int:
    """Set the catalog file aside and start a fresh one with the user's data in it.

    Nothing is deleted: the old file is renamed beside the new one. Photos are never
    opened. Refused while another program holds the catalog, which would go on writing
    to the file set aside.
    """
    path = Path(args.catalog).expanduser() if args.catalog else default_catalog_path()
    _refuse_if_locked(path)
    aside = rebuild_catalog(path)
    with Catalog(path) as fresh:
        roots = fresh.roots()
    if aside is None:
        print(f"There was no catalog at {path}; a new one was created.")
    else:
        print(f"Rebuilt the catalog {path}; the old file is kept as {aside}.")
    print(
        f"Kept {len(roots)} library folder(s) and your settings; the next scan hashes the "
        "photos again. No photo was touched."
    )
    return EXIT_OK


def _refuse_if_locked(path: Path) -> None:
    """Raise CatalogLocked if another connection holds a lock on the file at ``path``."""
    if not path.exists():
        return
    try:
        db = sqlite3.connect(f"file:{path}?mode=rw", uri=True, timeout=1.0)
    except sqlite3.Error:
        return  # cannot even be opened: nobody else is using it as a database
    try:
        db.execute("BEGIN IMMEDIATE")
        db.execute("ROLLBACK")
    except sqlite3.OperationalError as error:
        text = str(error).lower()
        if "locked" in text or "busy" in text:
            raise CatalogLocked(
                str(path),
                f"The catalog {path} is in use by another program; close it (the Doppel "
                "window, another doppel command) and try again.",
            ) from error
    except sqlite3.Error:
        pass  # damaged: exactly what a rebuild is for
    finally:
        db.close()


def _check_display() -> None:
    """Fail with a sentence, not a Qt abort, when there is no screen to open a window on."""
    if not sys.platform.startswith("linux") or os.environ.get("QT_QPA_PLATFORM"):
        return
    if not (os.environ.get("DISPLAY") or os.environ.get("WAYLAND_DISPLAY")):
        raise EngineError(
            "The window needs a graphical session, and neither DISPLAY nor WAYLAND_DISPLAY "
            "is set. The command line works without one: see 'doppel --help'."
        )


def cmd_gui(args: argparse.Namespace, printer: ProgressPrinter) -> int:
    folders = [normalise_root(f) for f in args.folders]  # a typo fails here, not in a dialog
    _check_display()
    try:
        from desktop_app.gui.app.application import run  # Qt is imported only when asked for
    except ImportError as error:
        raise EngineError(f"The window cannot start: {error}") from error
    return run(folders, catalog=args.catalog)


COMMANDS: dict[str, Callable[[argparse.Namespace, ProgressPrinter], int]] = {
    "scan": cmd_scan,
    "groups": cmd_groups,
    "pairs": cmd_pairs,
    "query": cmd_query,
    "export": cmd_export,
    "gui": cmd_gui,
    "rebuild-catalog": cmd_rebuild_catalog,
    **cleanup.COMMANDS,
}


def _tolerate_undecodable_names() -> None:
    """Print file names that are not valid UTF-8 as the bytes they are, never crash.

    Paths come from the file system as str with surrogate escapes; a UTF-8 terminal
    with strict errors (the default outside the C locale) would raise on them.
    """
    for stream in (sys.stdout, sys.stderr):
        if isinstance(stream, io.TextIOWrapper) and stream.errors == "strict":
            stream.reconfigure(errors="surrogateescape")


def main(argv: Sequence[str] | None = None) -> int:
    """Run ``doppel`` with ``argv`` (``sys.argv[1:]`` when None) and return the exit code."""
    argv = list(sys.argv[1:] if argv is None else argv)
    _tolerate_undecodable_names()
    printer = ProgressPrinter(sys.stderr)
    if not argv or (argv[0] not in COMMANDS and argv[0] not in ("-h", "--help", "--version")):
        argv = ["gui", *argv]  # `doppel` and `doppel FOLDER` open the window
    restore_logging: Callable[[], None] = lambda: None  # noqa: E731
    try:
        args = build_parser().parse_args(argv)
        restore_logging = _configure_logging(args.verbose, printer)
        return COMMANDS[args.command](args, printer)
    except UsageError as error:
        printer.finish()
        print(f"doppel: error: {error}", file=sys.stderr)
        return EXIT_USAGE
    except (CatalogCorrupt, CatalogTooNew) as error:
        printer.finish()
        option = f" --catalog {error.path}" if error.path != str(default_catalog_path()) else ""
        print(
            f"doppel: error: {error} To rebuild it, keeping your library folders and "
            f"settings and without touching any photo: doppel rebuild-catalog{option}",
            file=sys.stderr,
        )
        return EXIT_ERROR
    except EngineError as error:
        printer.finish()
        print(f"doppel: error: {error}", file=sys.stderr)
        return EXIT_ERROR
    except KeyboardInterrupt:
        print("doppel: interrupted; the catalog keeps everything done so far.", file=sys.stderr)
        return EXIT_INTERRUPTED
    except BrokenPipeError:  # `doppel pairs ... | head`
        sys.stderr.close()
        return EXIT_OK
    finally:
        restore_logging()


def gui_main() -> int:
    """Entry point of the ``doppel-gui`` script (no console window on Windows)."""
    return main(["gui", *sys.argv[1:]])


__all__ = ["COMMANDS", "Phase", "build_parser", "gui_main", "main"]
