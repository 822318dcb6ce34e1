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
from collections.abc import Callable, Sequence
from pathlib import Path
from typing import Any, NoReturn

from desktop_app import __version__
from desktop_app.cli import cleanup, demo
from desktop_app.cli import shots as shot_cli
from desktop_app.cli.opening import (
    engine_config,
    open_library,
    open_window,
    report_scan,
    run_steps,
)
from desktop_app.cli.progress import ProgressPrinter
from desktop_app.cli.records import record_json
from desktop_app.engine.cleanup import Cleanup
from desktop_app.engine.config import DEFAULT_THRESHOLD, MAX_THRESHOLD
from desktop_app.engine.errors import (
    CatalogCorrupt,
    CatalogLocked,
    CatalogTooNew,
    EngineError,
    UsageError,
)
from desktop_app.engine.library import (
    Library,
    default_catalog_path,
    normalise_root,
    rebuild_catalog,
)
from desktop_app.engine.types import (
    Group,
    Match,
    Phase,
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
        "--readers",
        type=int,
        metavar="N",
        help="processes reading files at once (default: 1 on a spinning disk or network "
        "share, one per hashing process on an SSD)",
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
    common.add_argument(
        "--exclude",
        action="append",
        default=[],
        metavar="GLOB",
        help="leave out folders and files whose name matches GLOB (or whose path ends "
        "like it, when it holds a /); repeatable. Other applications' libraries and "
        "caches (*.lrdata, *.photoslibrary, ...) are always left out",
    )
    common.add_argument(
        "--index",
        default="sqlite",
        metavar="sqlite|milvus:URI",
        help="where the hash index lives: the catalog (default), or Milvus: a server "
        "(milvus:http://host:19530) or a Milvus Lite file (milvus:PATH.db); "
        "needs pip install 'doppel[scale]'",
    )
    common.add_argument(
        "--dask",
        metavar="ADDRESS",
        help="hash on the workers of this Dask scheduler (tcp://host:8786); the files "
        "must be at the same paths on the workers; needs pip install 'doppel[scale]'",
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
    scan.add_argument(
        "--forget-missing",
        action="store_true",
        help="forget the photos of a library folder that is missing or empty (by "
        "default they are kept as offline: the drive may just be unplugged)",
    )

    for name, text in (
        ("groups", "groups of copies, largest first"),
        ("pairs", "every pair of photos within the threshold"),
    ):
        sub = commands.add_parser(name, parents=[common, threshold, as_json], help=text)
        sub.add_argument("folders", nargs="+", metavar="FOLDER")
        sub.add_argument(
            "--similar-shots",
            action="store_true",
            help="also list pairs of similar shots (bursts, brackets: not copies)",
        )

    shots = commands.add_parser(
        "shots",
        parents=[common, threshold, as_json],
        help="similar shots for culling: bursts and brackets with their sharpness",
    )
    shots.add_argument("folders", nargs="+", metavar="FOLDER")

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
    demo.add_command(commands, common=common)
    return parser


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
        for added in root.handlers:
            if added not in saved_handlers:
                added.close()  # the window's log file, when the command opened one
        root.handlers[:] = saved_handlers
        root.setLevel(saved_level)

    return restore


def _transform_name(transform: Transform) -> str:
    return transform.name.lower()


def _group_json(group: Group, sidecars: dict[str, list[tuple[str, str]]]) -> dict[str, Any]:
    return {
        "index": group.index,
        "reference": group.reference.image.path,
        "extra_bytes": group.extra_bytes,
        "members": [
            {
                **record_json(m.image),
                "distance": m.distance,
                "identical": m.identical,
                "transform": _transform_name(m.transform),
                "sidecars": [{"path": p, "kind": k} for p, k in sidecars.get(m.image.path, [])],
                **shot_cli.verdict_json(m.verdict, m.geometry),
            }
            for m in group.members
        ],
    }


def cmd_scan(args: argparse.Namespace, printer: ProgressPrinter) -> int:
    with Library(args.folders, catalog=args.catalog, config=engine_config(args)) as library:
        cancel = threading.Event()
        summary = run_steps(library.scan(cancel), printer, cancel)
        report_scan(summary, sys.stdout)
        photos, unreadable = library.counts()
        print(f"The library holds {photos} photos ({unreadable} unreadable files).")
        print(f"Catalog: {library.catalog.path}")
    return EXIT_OK


def cmd_groups(args: argparse.Namespace, printer: ProgressPrinter) -> int:
    with open_library(args, printer, scan=True) as library:
        groups = library.groups(args.threshold)
        extra = sum(len(g.members) - 1 for g in groups)
        extra_bytes = sum(g.extra_bytes for g in groups)
        shots = (
            shot_cli.pair_rows(
                library, library.similar_shot_pairs(args.threshold).within(args.threshold)
            )
            if args.similar_shots
            else []
        )
        if args.json:
            sidecars = library.sidecars([m.image.path for g in groups for m in g.members])
            more = (
                {"similar_shots": [shot_cli.pair_json(r) for r in shots]}
                if args.similar_shots
                else {}
            )
            json.dump(
                {
                    **more,
                    "threshold": args.threshold,
                    "roots": list(library.roots),
                    "catalog": library.catalog.path,
                    "summary": {
                        "groups": len(groups),
                        "extra_copies": extra,
                        "extra_bytes": extra_bytes,
                    },
                    "groups": [_group_json(g, sidecars) for g in groups],
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
        if shots:
            print(f"{len(shots)} pairs of similar shots (different exposures, not copies):")
            for d, a, b, _, verdict, _ in shots:
                print(f"  {d}\t{a}\t{b}\t{'; '.join(verdict.evidence)}")
    return EXIT_OK


def cmd_pairs(args: argparse.Namespace, printer: ProgressPrinter) -> int:
    with open_library(args, printer, scan=True) as library:
        pairs = library.pairs(args.threshold, similar_shots=args.similar_shots)
        rows = shot_cli.pair_rows(library, pairs.within(args.threshold))
        if args.json:
            out = {
                "threshold": args.threshold,
                "roots": list(library.roots),
                "pairs": [shot_cli.pair_json(row) for row in rows],
            }
            json.dump(out, sys.stdout, indent=2)
            sys.stdout.write("\n")
        else:
            for d, a, b, _, _, _ in rows:
                print(f"{d}\t{a}\t{b}")
    return EXIT_OK


def cmd_query(args: argparse.Namespace, printer: ProgressPrinter) -> int:
    with open_library(args, printer, scan=True) as library:
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
        **record_json(match.image),
        "distance": match.distance,
        "identical": match.identical,
        "transform": _transform_name(match.transform),
        **shot_cli.verdict_json(match.verdict),
    }


_EXPORT_FIELDS = ("path", "hash", "width", "height", "size", "format", "taken", "camera", "error")


def cmd_export(args: argparse.Namespace, printer: ProgressPrinter) -> int:
    with open_library(args, printer, scan=True) as library:
        records = library.catalog.all_records(library.roots)
        if args.json:
            out = sys.stdout
            out.write("[")
            for i, record in enumerate(records):
                out.write(",\n  " if i else "\n  ")
                json.dump(record_json(record), out)
            out.write("\n]\n" if records else "]\n")
        else:
            writer = csv.DictWriter(
                sys.stdout, fieldnames=_EXPORT_FIELDS, lineterminator="\n", extrasaction="ignore"
            )
            writer.writeheader()
            for record in records:
                writer.writerow(record_json(record))
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
    with Cleanup(path) as fresh:
        roots = fresh.folders()
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


def cmd_gui(args: argparse.Namespace, printer: ProgressPrinter) -> int:
    folders = [normalise_root(f) for f in args.folders]  # a typo fails here, not in a dialog
    return open_window(folders, args.catalog)


COMMANDS: dict[str, Callable[[argparse.Namespace, ProgressPrinter], int]] = {
    "scan": cmd_scan,
    "groups": cmd_groups,
    "pairs": cmd_pairs,
    "query": cmd_query,
    "export": cmd_export,
    "shots": shot_cli.cmd_shots,
    "gui": cmd_gui,
    "demo": demo.cmd_demo,
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
