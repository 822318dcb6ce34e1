"""``doppel demo [DIR]``: a generated library of photos and their copies, opened in the window.

A newcomer's first command. The photos are drawn by :mod:`desktop_app.demo` (no real
photographs ship with Doppel): originals under "2023/..." and "2024/...", their copies
(resized, re-compressed, converted, cropped, watermarked, byte-identical backups) under
"exports/...", "backup copy/..." and "phone sync", and unrelated singles. The demo keeps
its own catalog inside DIR, so the user's catalog never learns of it; deleting DIR
removes every trace.
"""

from __future__ import annotations

import argparse
import logging
import sys
import tempfile
from pathlib import Path
from typing import Any

from desktop_app.cli.opening import open_window
from desktop_app.cli.progress import ProgressPrinter
from desktop_app.demo import build_demo_library
from desktop_app.engine.errors import UsageError

log = logging.getLogger(__name__)

#: The demo's catalog file, inside the demo folder (hidden: scans skip it).
CATALOG_NAME = ".doppel-demo-catalog.sqlite"
#: Different pictures in the demo library; two in three get copies.
DEFAULT_PHOTOS = 24


def add_command(commands: Any, *, common: argparse.ArgumentParser) -> None:
    """Add ``demo`` to ``doppel``'s subparsers."""
    demo = commands.add_parser(
        "demo",
        parents=[common],
        help="write a generated library of photos and their copies, and open it in the window",
    )
    demo.add_argument(
        "folder",
        nargs="?",
        metavar="DIR",
        help="a new or empty folder to write it to (default: a new folder in the "
        "temporary folder, e.g. /tmp/doppel-demo-XXXX)",
    )
    demo.add_argument(
        "--photos",
        type=int,
        default=DEFAULT_PHOTOS,
        metavar="N",
        help=f"different pictures to draw (default {DEFAULT_PHOTOS})",
    )
    demo.add_argument(
        "--no-window", action="store_true", help="only write the library; do not open it"
    )


def demo_folder(folder: str | None) -> Path:
    """The folder to write the demo to: ``folder`` if new or empty, else a new temp one.

    Raises:
        UsageError: ``folder`` is a file, or a folder that already holds something (the
            demo never writes among the user's files).
    """
    if folder is None:
        return Path(tempfile.mkdtemp(prefix="doppel-demo-")).resolve()
    path = Path(folder).expanduser().resolve()
    if path.exists() and not path.is_dir():
        raise UsageError(f"{folder} is a file; name a new or empty folder for the demo.")
    if path.is_dir() and any(path.iterdir()):
        raise UsageError(f"{folder} is not empty; name a new or empty folder for the demo.")
    try:
        path.mkdir(parents=True, exist_ok=True)
    except OSError as error:
        raise UsageError(f"Cannot create {folder}: {error.strerror or error}") from error
    return path


def cmd_demo(args: argparse.Namespace, printer: ProgressPrinter) -> int:
    """Write the demo library, then open the window on it."""
    if args.photos < 1:
        raise UsageError("--photos must be 1 or more.")
    root = demo_folder(args.folder)
    print(f"Writing a demo library of {args.photos} photos and their copies to {root} …")
    manifest = build_demo_library(root, photos=args.photos)
    print(
        f"Wrote {len(manifest['originals'])} originals and {len(manifest['copies'])} copies "
        f"to {root}. Delete the folder when you are done with it."
    )
    catalog = args.catalog or str(root / CATALOG_NAME)
    if args.no_window:
        return 0
    sys.stdout.flush()
    return open_window([str(root)], catalog)
