"""Acting on the files marked for removal: trash, move to a folder, delete; and undo.

This is the only module that changes a user's photos, and only when called with an
explicit :class:`Request`. Its promise: at every instant, each file of a request is
either where it was or where the journal says it went.

How (details in ``journal.py`` for the states and ``fsutil.py`` for the primitives):
files are handled in batches; for each batch the intents are committed (``planned``),
then the destination names are reserved with ``O_EXCL`` placeholders and recorded
(``reserved``), then the files are moved and the batch is confirmed (``done``) together
with their removal from the catalog, so removed files leave their groups. A move on one
device is a rename onto our placeholder; across devices the file is copied, ``fsync`` ed
and verified by digest before the original is removed. Nothing ever overwrites a file:
a taken name gets `` (2)``, `` (3)``, ... An exception or a cancelled generator settles
the batch through ``recovery.py`` on the way out; a crash leaves open entries that
:func:`recover` settles at the next start.

Undo walks an operation's entries backwards through the same steps, to the original
paths; if something now exists there, the file comes back beside it as `` (2)``.

Generators report :class:`OpProgress` and return a :class:`Report`, so the window runs
them in a worker thread (with its own :class:`Catalog`) like a scan.
"""

from __future__ import annotations

import dataclasses
import errno
import logging
import os
import threading
from collections.abc import Generator, Iterable, Sequence

from desktop_app.engine.catalog.store import Catalog
from desktop_app.engine.errors import UsageError
from desktop_app.engine.fileops import (
    fsutil,
    journal,
    metadata_merge,
    recovery,
    runner,
    sidecar_edits,
    sidecars,
    together,
)
from desktop_app.engine.fileops.journal import Action, Operation, State
from desktop_app.engine.fileops.recovery import Settled
from desktop_app.engine.fileops.requests import (
    DeleteConfirmation,
    FileResult,
    MetadataMerge,
    OpProgress,
    Removal,
    Report,
    Request,
    confirmation_for,
)
from desktop_app.engine.fileops.trash import Trash, TrashUnavailable, default_trash
from desktop_app.engine.imaging import xmp_sidecar

log = logging.getLogger(__name__)

# The request and report types live in operations.py; they are re-exported here so that
# callers need one import.
__all__ = [
    "BATCH_SIZE",
    "Action",
    "DeleteConfirmation",
    "FileResult",
    "OpProgress",
    "Removal",
    "Report",
    "Request",
    "apply",
    "confirmation_for",
    "history",
    "preview",
    "preview_merge",
    "recover",
    "undo",
]

#: Files per batch: three durable commits per batch instead of three per file.
BATCH_SIZE = 32


# --------------------------------------------------------------------- public API


def recover(catalog: Catalog) -> list[Settled]:
    """Settle what an interruption left open (call at start-up; cheap otherwise).

    Raises:
        OperationRunning: An operation is running on this catalog right now.
    """
    with journal.exclusive(catalog), journal.durable(catalog):
        return _recover(catalog)


def _recover(catalog: Catalog) -> list[Settled]:
    """:func:`recovery.recover`, then photos reunited with their sidecars."""
    settled = recovery.recover(catalog)
    sidecar_edits.recover(catalog)
    return settled + together.settle(catalog, settled) if settled else settled


def preview_merge(catalog: Catalog, request: Request) -> list[MetadataMerge]:
    """A dry run of the metadata merge: what each keeper would inherit, touching nothing."""
    items = _unique(request.items)
    references = _references(catalog, request)
    return [
        MetadataMerge(p.keeper, p.sidecar, not p.exists, p.summary, p.sources)
        for p in metadata_merge.plan(_mergeable(items, references))
    ]


def _mergeable(items: Sequence[Removal], references: Sequence[str]) -> list[tuple[str, str]]:
    """(removed copy, keeper) of the items that would be removed."""
    return [
        (i.record.path, i.keeper)
        for i in items
        if i.keeper is not None and runner.problem(i, references) is None
    ]


def _merge(
    catalog: Catalog, operation: int, items: Sequence[Removal], references: Sequence[str]
) -> tuple[MetadataMerge, ...]:
    """Write what each keeper inherits into its sidecar, journalled, before the removal."""
    out = []
    for p in metadata_merge.plan(_mergeable(items, references)):
        try:
            before = None
            if p.exists:
                with open(p.sidecar, "rb") as stream:
                    before = stream.read()
            after = xmp_sidecar.updated(before, p.changes)
        except (OSError, ValueError) as error:
            note = f"the sidecar could not be read: {error}"
            out.append(
                MetadataMerge(p.keeper, p.sidecar, False, p.summary, p.sources, "failed", note)
            )
            continue
        e = sidecar_edits.write(catalog, operation, p.keeper, p.sidecar, after, p.summary)
        out.append(_merge_result(e, p.sources))
    return tuple(out)


def _merge_result(e: sidecar_edits.Edit, sources: tuple[str, ...] = ()) -> MetadataMerge:
    return MetadataMerge(
        e.keeper, e.path, e.before is None, e.summary, sources, str(e.state), e.note or None
    )


def history(catalog: Catalog, limit: int | None = None) -> list[Operation]:
    """Past operations, most recent first, with their counts."""
    return journal.operations(catalog, limit)


def preview(
    catalog: Catalog,
    request: Request,
    *,
    trash: Trash | None = None,
    allow_delete: bool = False,
) -> list[FileResult]:
    """A dry run: what :func:`apply` would do, touching nothing on disk or in the catalog.

    Raises:
        UsageError: The request is impossible (see :func:`apply`).
    """
    items = _validate(catalog, request, allow_delete)
    trash = trash or default_trash()
    references = _references(catalog, request)
    taken: set[str] = set()
    out = []
    beside = sidecars.find_many([item.record.path for item in items])
    for item in items:
        source = item.record.path
        problem = runner.problem(item, references)
        destination = None
        if problem is None:
            try:
                destination = _predict(request, trash, source, taken)
            except (OSError, TrashUnavailable) as error:
                problem = runner.describe(error)
        side = tuple(
            FileResult(
                s,
                None if destination is None else sidecars.renamed(source, s, destination),
                _size(s),
                State.FAILED if problem else State.PLANNED,
            )
            for s in beside.get(source, [])
        )
        if problem is not None:
            out.append(
                FileResult(source, None, item.record.size, State.FAILED, problem, None, side)
            )
        else:
            out.append(
                FileResult(source, destination, item.record.size, State.PLANNED, sidecars=side)
            )
    return out


def _size(path: str) -> int:
    try:
        return os.path.getsize(path)
    except OSError:
        return 0


def apply(
    catalog: Catalog,
    request: Request,
    *,
    trash: Trash | None = None,
    allow_delete: bool = False,
    cancel: threading.Event | None = None,
    batch_size: int = BATCH_SIZE,
) -> Generator[OpProgress, None, Report]:
    """Carry out a request, journalled; see the module docstring for the guarantees.

    Args:
        catalog: The catalog holding the journal (this thread's connection).
        request: What to do.
        trash: Where trashed files go (the system trash when None).
        allow_delete: The "permanent deletion" setting; off by default, and a deletion
            also needs ``request.confirmation``.
        cancel: Set it to stop after the current file; the files done stay done.
        batch_size: Files per durable commit.

    Yields:
        Progress after each file.

    Returns:
        What happened to each file.

    Raises:
        UsageError: A move without a destination, a deletion not allowed or not
            confirmed (count and size must match), a destination that is a file.
        OperationRunning: Another operation is running on this catalog.
    """
    items = _validate(catalog, request, allow_delete)
    cancel = cancel or threading.Event()
    trash = trash or default_trash()
    if request.action is Action.MOVE:
        assert request.destination is not None
        target: str | None = os.path.abspath(request.destination)
    elif request.action is Action.TRASH:
        target = trash.label
    else:
        target = None
    with journal.exclusive(catalog), journal.durable(catalog):
        earlier = _recover(catalog)
        if earlier:
            log.warning("Settled %d entries of an interrupted operation first", len(earlier))
        if not items:
            return Report(None, request.action, False, ())
        operation = journal.begin(catalog, request.action, target)
        job = runner.Runner(catalog, request, trash, operation, _references(catalog, request))
        settled: list[Settled] = []
        finished = False
        merges: tuple[MetadataMerge, ...] = ()
        try:
            if request.merge_metadata:
                merges = _merge(catalog, operation, items, job.references)
            yield from job.run(items, cancel, batch_size)
            finished = True
        finally:
            settled = _close(catalog, operation, finished)
        return Report(
            operation,
            request.action,
            False,
            _results(catalog, operation, undo=False) + job.unstarted,
            cancelled=cancel.is_set(),
            recovered=tuple(settled),
            merges=merges,
        )


def undo(
    catalog: Catalog,
    operation: int | None = None,
    *,
    cancel: threading.Event | None = None,
    batch_size: int = BATCH_SIZE,
) -> Generator[OpProgress, None, Report]:
    """Put the files of an operation back where they were, most recent file first.

    Never overwrites: if a file now exists at an original path, the restored one comes
    back beside it with `` (2)`` added. Files that can no longer be found (the trash was
    emptied, the moved file was deleted) are reported and left as they are.

    Args:
        catalog: The catalog holding the journal.
        operation: The operation to undo; the most recent one with files to put back when
            None.
        cancel: Set it to stop after the current file.
        batch_size: Files per durable commit.

    Raises:
        UsageError: There is nothing to undo, or that operation deleted its files.
        OperationRunning: Another operation is running on this catalog.
    """
    cancel = cancel or threading.Event()
    with journal.exclusive(catalog), journal.durable(catalog):
        _recover(catalog)
        if operation is None:
            candidates = journal.undoable(catalog)
            if not candidates:
                raise UsageError("There is nothing to undo.")
            operation = candidates[0].id
        found = journal.operation(catalog, operation)
        if found is None:
            raise UsageError(f"There is no operation {operation} in the journal.")
        if found.action is Action.DELETE:
            raise UsageError(f"Operation {operation} deleted its files permanently: no undo.")
        todo = [e for e in reversed(journal.entries(catalog, operation)) if e.state is State.DONE]
        job = runner.Undoer(catalog, operation)
        settled: list[Settled] = []
        merges: tuple[MetadataMerge, ...] = ()
        try:
            yield from job.run(todo, cancel, batch_size)
            if not cancel.is_set():
                merges = tuple(_merge_result(e) for e in sidecar_edits.undo(catalog, operation))
        finally:
            settled = _close(catalog, operation, None)
        return Report(
            operation,
            found.action,
            True,
            _results(catalog, operation, undo=True, only=[e.id for e in todo]),
            cancelled=cancel.is_set(),
            recovered=tuple(settled),
            merges=merges,
        )


# --------------------------------------------------------------------- checks


def _validate(catalog: Catalog, request: Request, allow_delete: bool) -> list[Removal]:
    if request.action is Action.MOVE:
        if not request.destination:
            raise UsageError("Choose the folder to move the files to.")
        if os.path.exists(request.destination) and not os.path.isdir(request.destination):
            raise UsageError(f"Not a folder: {request.destination}")
    if request.action is Action.DELETE:
        if not allow_delete:
            raise UsageError(
                "Permanent deletion is turned off; move the files to the trash instead."
            )
        wanted = confirmation_for(_unique(request.items))
        if request.confirmation != wanted:
            raise UsageError(
                f"Permanent deletion of {wanted.count} files ({wanted.size} bytes) needs a "
                "confirmation naming exactly that count and size."
            )
    return _unique(request.items)


def _unique(items: Iterable[Removal]) -> list[Removal]:
    seen: set[str] = set()
    out = []
    for item in items:
        if item.record.path not in seen:
            seen.add(item.record.path)
            out.append(item)
    return out


def _references(catalog: Catalog, request: Request) -> tuple[str, ...]:
    listed = [r.path for r in catalog.roots() if r.reference]
    return tuple(p.rstrip("/") for p in [*listed, *request.references])


def _predict(request: Request, trash: Trash, source: str, taken: set[str]) -> str | None:
    if request.action is Action.DELETE:
        return None
    if request.action is Action.TRASH:
        if not trash.restorable:
            return None
        where = trash.location(source, create=False)
        first = os.path.join(where.files, os.path.basename(source))
    else:
        first = runner.move_target(request, (), source)
    for candidate in fsutil.candidates(first):
        if candidate not in taken and not os.path.lexists(candidate):
            taken.add(candidate)
            return candidate
    raise fsutil.NameExhausted(errno.EEXIST, "no free name for the destination", first)


def _close(catalog: Catalog, operation: int, finished: bool | None) -> list[Settled]:
    """Settle what is still open in ``operation`` and record how it ended.

    Runs on the way out of a generator, normal or not; never raises (a catalog that
    cannot be written now is settled by the next :func:`recover`).
    """
    try:
        settled = [
            recovery.settle(catalog, e)
            for e in journal.open_entries(catalog)
            if e.operation == operation
        ]
        settled += together.settle(catalog, settled)
        if finished is not None:
            state = (
                journal.OperationState.FINISHED if finished else journal.OperationState.INTERRUPTED
            )
            with catalog.transaction() as db:
                journal.finish(db, operation, state)
        return settled
    except Exception:
        log.exception(
            "Could not settle operation %d; it will be recovered at next start", operation
        )
        return []


def _results(
    catalog: Catalog, operation: int, *, undo: bool, only: Sequence[int] | None = None
) -> tuple[FileResult, ...]:
    wanted = None if only is None else set(only)
    out: list[FileResult] = []
    index: dict[int, int] = {}
    for e in journal.entries(catalog, operation):
        if wanted is not None and e.id not in wanted:
            continue
        if undo:
            where = e.restored if e.state is State.RESTORED else e.destination
        else:
            where = e.destination if e.state is not State.FAILED else None
        result = FileResult(e.source, where, e.size, e.state, e.error, e.id)
        if e.photo is not None and e.photo in index:  # a sidecar: shown with its photo
            photo = out[index[e.photo]]
            out[index[e.photo]] = dataclasses.replace(photo, sidecars=(*photo.sidecars, result))
            continue
        index[e.id] = len(out)
        out.append(result)
    if wanted is not None:
        order = {entry_id: k for k, entry_id in enumerate(only or ())}
        out.sort(key=lambda r: order.get(r.entry or 0, 0))
    return tuple(out)
