"""What the ``doppel`` subcommands share: the engine settings from the arguments, opening
a library (scanning it first when needed), driving a scan with a progress bar, and
opening the window.
"""

from __future__ import annotations

import argparse
import os
import sys
import threading
from collections.abc import Generator, Sequence
from typing import Any, TextIO

from desktop_app.cli.progress import ProgressPrinter
from desktop_app.engine.config import DEFAULT_THRESHOLD, EngineConfig
from desktop_app.engine.errors import EngineError, UsageError
from desktop_app.engine.library import Library
from desktop_app.engine.types import Progress, ScanSummary


def engine_config(args: argparse.Namespace) -> EngineConfig:
    """The engine settings the common options ask for."""
    kwargs: dict[str, Any] = {
        "threshold": getattr(args, "threshold", DEFAULT_THRESHOLD),
        "rotations": args.rotations,
        "skip_hidden": not args.include_hidden,
        "fold_raw_jpeg": args.fold_raw_jpeg,
        "exclude": tuple(args.exclude),
        "forget_missing": getattr(args, "forget_missing", False),
        "index": args.index,
        "dask": args.dask,
    }
    if args.index != "sqlite" and not (args.index.startswith("milvus:") and args.index[7:]):
        raise UsageError(f'--index must be "sqlite" or "milvus:URI", not {args.index!r}')
    if args.workers is not None:
        if args.workers < 0:
            raise UsageError("--workers must be 0 or more")
        kwargs["workers"] = args.workers
    if args.readers is not None:
        if args.readers < 1:
            raise UsageError("--readers must be 1 or more")
        kwargs["readers"] = args.readers
    return EngineConfig(**kwargs)


def run_steps(
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


def open_library(args: argparse.Namespace, printer: ProgressPrinter, *, scan: bool) -> Library:
    """The library of ``args.folders``; scanned first when ``scan`` and it needs one."""
    library = Library(args.folders, catalog=args.catalog, config=engine_config(args))
    if scan and library.needs_scan():
        cancel = threading.Event()
        summary = run_steps(library.scan(cancel), printer, cancel)
        report_scan(summary, printer.stream, brief=True)
    else:
        report_offline(library.offline(), printer.stream)
    return library


def report_scan(summary: ScanSummary, out: TextIO, *, brief: bool = False) -> None:
    """A scan's counts on ``out``, its unreadable files unless ``brief``, the offline
    folders and what was left out (the first few when ``brief``)."""
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
    report_offline(summary.offline, out)
    if summary.skipped:
        print(
            f"Left out {len(summary.skipped)} folders and files (other applications' "
            "libraries and caches, and --exclude patterns):",
            file=out,
        )
        shown = summary.skipped if not brief else summary.skipped[:_SKIPPED_SHOWN]
        for path in shown:
            print(f"  {path}", file=out)
        if len(shown) < len(summary.skipped):
            print(f"  ... and {len(summary.skipped) - len(shown)} more", file=out)


#: Left-out paths listed after the brief scan report of groups, pairs...
_SKIPPED_SHOWN = 10


def report_offline(offline: Sequence[str], out: TextIO) -> None:
    """One line for each library folder that is missing or empty, whose photos are kept."""
    for root in offline:
        print(
            f"Offline: {root} is missing or empty (a drive not plugged in?); its photos "
            "are kept. To forget them: doppel scan --forget-missing FOLDER...",
            file=out,
        )


def check_display() -> None:
    """Fail with a sentence, not a Qt abort, when there is no screen to open a window on."""
    if not sys.platform.startswith("linux") or os.environ.get("QT_QPA_PLATFORM"):
        return
    if not (os.environ.get("DISPLAY") or os.environ.get("WAYLAND_DISPLAY")):
        raise EngineError(
            "The window needs a graphical session, and neither DISPLAY nor WAYLAND_DISPLAY "
            "is set. The command line works without one: see 'doppel --help'."
        )


def open_window(folders: Sequence[str], catalog: str | None) -> int:
    """Run the window on ``folders`` until it closes; Qt is imported only here."""
    check_display()
    try:
        from desktop_app.gui.app.application import run
    except ImportError as error:
        raise EngineError(f"The window cannot start: {error}") from error
    return run(folders, catalog=catalog)
