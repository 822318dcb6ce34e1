"""The cleanup's work that reads or writes outside the window: recovery, export, imports.

Plain functions over the engine, kept out of :mod:`~desktop_app.gui.cleanup.controller` so that the
controller stays about wiring:

* :func:`recover_at_start` settles what an interrupted file operation left open
  (``Cleanup.recover``) before the window does anything else.
* :func:`export_job` is the worker-thread function of File > Export.
* :func:`import_problem` says why a folder cannot be checked as a new import.
"""

from __future__ import annotations

import logging
import os
from collections.abc import Callable, Sequence

from desktop_app.engine.cleanup import Cleanup, Plan, Settled, write_plan_file
from desktop_app.engine.errors import EngineError
from desktop_app.engine.paths import is_within, within_any

log = logging.getLogger(__name__)


def recover_at_start(catalog_path: str | os.PathLike[str]) -> tuple[list[Settled], list[str]]:
    """Settle the journal entries an interruption left open.

    Returns:
        What was settled, and one line per file for the user ("PATH: completed — ...").
        Nothing when the catalog cannot be opened now: opening a library deals with that.
    """
    try:
        with Cleanup(catalog_path) as cleanup:
            settled = cleanup.recover()
    except EngineError as error:
        log.info("No recovery at start: %s", error)
        return [], []
    lines = [f"{s.source}: {s.outcome} — {s.note}" for s in settled]
    if lines:
        log.info("Recovered an interrupted operation: %s", "; ".join(lines))
    return settled, lines


def export_job(
    plan: Callable[[], Plan], path: str, roots: Sequence[str], catalog: str
) -> Callable[[], tuple[str, int, int]]:
    """The worker function of File > Export: make the plan of every group, write it.

    Returns:
        A function returning (format written, groups, marked photos).
    """

    def work() -> tuple[str, int, int]:
        made = plan()
        kind = write_plan_file(made, path, roots=list(roots), catalog=catalog)
        return kind, len(made.groups), len(made.marked)

    return work


def import_problem(target: str, roots: Sequence[str]) -> str | None:
    """Why ``target`` cannot be checked as an import against a library of ``roots``."""
    if within_any(target, roots):
        return "That folder is already part of the library."
    if any(is_within(r, target) for r in roots):
        return "That folder holds the library; choose the import folder itself."
    return None
