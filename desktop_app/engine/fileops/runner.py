"""The steps of file operations: checks, reservations, moves, batches, forwards and back.

Used by ``fileops.py``, which holds the lock, the durable commits and the public API;
the states and their order are described in ``journal.py``, the primitives in
``fsutil.py``, and what happens after an interruption in ``recovery.py``.
"""

from __future__ import annotations

import datetime as dt
import errno
import logging
import os
import threading
from collections.abc import Generator, Iterator, Sequence
from dataclasses import dataclass
from typing import TypeVar

from desktop_app.engine.catalog.store import Catalog
from desktop_app.engine.fileops import fsutil, journal, recovery
from desktop_app.engine.fileops.journal import Action, Entry, NewEntry, State
from desktop_app.engine.fileops.requests import FileResult, OpProgress, Removal, Request
from desktop_app.engine.fileops.trash import SystemTrash, Trash, TrashUnavailable
from desktop_app.engine.paths import is_within

log = logging.getLogger(__name__)

_T = TypeVar("_T")


@dataclass(slots=True)
class Pending:
    """One file of the batch being worked on."""

    entry: int
    new: NewEntry
    destination: str | None = None
    info: str | None = None
    error: str | None = None


def problem(item: Removal, references: Sequence[str]) -> str | None:
    """Why this file must be left alone, or None."""
    record = item.record
    for folder in references:
        if is_within(record.path, folder):
            return f"it is in the reference folder {folder}"
    try:
        info = os.stat(record.path)
    except FileNotFoundError:
        return "it no longer exists"
    except OSError as error:
        return f"it cannot be read: {error.strerror or error}"
    if info.st_size != record.size or info.st_mtime_ns != record.mtime_ns:
        return "it changed since it was scanned (scan again first)"
    if item.keeper is not None:
        if item.keeper == record.path:
            return "it is the copy to keep"
        if not os.path.exists(item.keeper):
            return f"the copy to keep ({item.keeper}) is gone"
        try:
            if os.path.samefile(item.keeper, record.path):
                return f"it is the same file as the copy to keep ({item.keeper})"
        except OSError as error:
            return f"the copy to keep cannot be checked: {error.strerror or error}"
    return None


def describe(error: BaseException) -> str:
    """A short sentence for an error, naming the file it concerns."""
    if isinstance(error, OSError):
        text = error.strerror or str(error)
        if error.filename:
            return f"{text}: {error.filename}"
        return text
    return str(error)


def relative(path: str, roots: Sequence[str]) -> str:
    """``path`` relative to the deepest root containing it, else its name."""
    best = max((r for r in roots if is_within(path, r)), key=len, default=None)
    if best is None:
        return os.path.basename(path)
    return os.path.relpath(path, best)


def move_target(request: Request, catalog_roots: Sequence[str], source: str) -> str:
    """Where a move puts ``source``: below the destination, at its path in its library.

    The request's library folders come first: the catalog also lists folders inside them
    (a sub-folder the user made a reference folder), and a photo keeps its path relative
    to its library folder, not to such a sub-folder.
    """
    assert request.destination is not None
    own = [r for r in request.roots if is_within(source, r)]
    rel = relative(source, own or catalog_roots)
    return os.path.join(os.path.abspath(request.destination), rel)


def chunks(items: Sequence[_T], size: int) -> Iterator[Sequence[_T]]:
    """``items`` in slices of ``size``."""
    for start in range(0, len(items), max(1, size)):
        yield items[start : start + max(1, size)]


# --------------------------------------------------------------------- doing it


def transfer(source: str, placeholder: str, token: bytes, digest: bytes | None) -> None:
    """Move ``source`` onto our ``placeholder``: a rename, or a verified copy + removal."""
    if fsutil.same_device(source, placeholder):
        fsutil.replace_placeholder(source, placeholder)
    else:
        copied = fsutil.copy_verified(source, placeholder, token, digest)
        try:
            os.unlink(source)
        except OSError as error:
            settle_failed_removal(source, placeholder, copied, error)
    fsutil.fsync_dir(os.path.dirname(source))


class CopyKept(OSError):
    """The source could not be removed nor confirmed intact: the verified copy stays."""


def settle_failed_removal(source: str, copy: str, copied: bytes, error: OSError) -> None:
    """Decide where the photo is after removing ``source`` failed behind a verified copy.

    A network share may time out after the server did remove the file, or a sync tool may
    take it at that moment: the copy at ``copy`` is then the only one left. So the copy is
    taken back only when the source is confirmed present with the very bytes copied.

    Returns normally when the source is gone (the move happened: the photo is at
    ``copy``).

    Raises:
        OSError: The source is present and intact, the copy was removed: the photo is
            where it was (``error`` itself).
        CopyKept: The source is present but cannot be confirmed intact: both stay, and
            the message names the copy.
    """
    if not os.path.lexists(source):
        log.warning(
            "Removing %s reported an error (%s) but it is gone: the photo is at %s",
            source, describe(error), copy,
        )  # fmt: skip
        return
    try:
        same = os.path.isfile(source) and fsutil.digest_file(source) == copied
    except OSError:
        same = False
    if same:  # the original stays; take our copy back so the file is in one place
        os.unlink(copy)
        raise error
    raise CopyKept(
        error.errno or errno.EIO,
        f"{describe(error)}; the original could not be confirmed intact, "
        f"so the verified copy was kept at {copy}",
        source,
    )


def reserve(pending: Pending) -> None:
    """Take the destination name (and ``.trashinfo``) for one file."""
    new = pending.new
    assert new.destination is not None
    os.makedirs(os.path.dirname(new.destination), exist_ok=True)
    if new.info is None or new.info_text is None:
        pending.destination = fsutil.reserve(new.destination, new.token)
        return
    info_dir = os.path.dirname(new.info)
    content = new.info_text.encode()
    for candidate in fsutil.candidates(new.destination):
        info = os.path.join(info_dir, os.path.basename(candidate) + ".trashinfo")
        try:  # the spec's reservation: the .trashinfo first, atomically
            fsutil.create_exclusive(info, content)
        except FileExistsError:
            continue
        try:
            fsutil.create_exclusive(candidate, new.token)
        except FileExistsError:
            fsutil.remove_if_holds(info, content)
            continue
        except BaseException:
            fsutil.remove_if_holds(info, content)
            raise
        pending.destination, pending.info = candidate, info
        return
    raise fsutil.NameExhausted(errno.EEXIST, "no free name in the trash", new.destination)


class Runner:
    """The forward half: one operation's batches."""

    def __init__(
        self,
        catalog: Catalog,
        request: Request,
        trash: Trash,
        operation: int,
        references: tuple[str, ...],
    ) -> None:
        self.catalog = catalog
        self.request = request
        self.trash = trash
        self.operation = operation
        self.references = references
        self.catalog_roots = [r.path for r in catalog.roots()]
        self.when = dt.datetime.now()
        self.unstarted: tuple[FileResult, ...] = ()

    def run(
        self, items: Sequence[Removal], cancel: threading.Event, batch_size: int
    ) -> Generator[OpProgress, None, None]:
        done = failed = 0
        yield OpProgress(0, len(items))
        for start in range(0, len(items), max(1, batch_size)):
            if cancel.is_set():
                self.unstarted = tuple(
                    FileResult(i.record.path, None, i.record.size, State.FAILED, "cancelled")
                    for i in items[start:]
                )
                return
            batch = items[start : start + max(1, batch_size)]
            pending = self._plan(batch)
            failed += sum(p.error is not None for p in pending)
            live = [p for p in pending if p.error is None]
            self._reserve(live)
            failed += sum(p.error is not None for p in live)
            live = [p for p in live if p.error is None]
            moved: list[Pending] = []
            for p in live:
                if cancel.is_set():
                    p.error = "cancelled"
                    if p.destination is not None:
                        recovery.release(p.destination, p.new.token, p.info, p.new.info_text)
                    continue
                try:
                    self._act(p)
                except (OSError, TrashUnavailable) as error:
                    p.error = describe(error)
                    log.warning("Could not %s %s: %s", self.request.action, p.new.source, p.error)
                    if p.destination is not None and not isinstance(error, CopyKept):
                        recovery.release(p.destination, p.new.token, p.info, p.new.info_text)
                    failed += 1
                else:
                    moved.append(p)
                    done += 1
                yield OpProgress(done + failed, len(items), p.new.source, failed)
            self._confirm(moved, [p for p in live if p.error is not None])

    def _plan(self, batch: Sequence[Removal]) -> list[Pending]:
        """Check each file and commit its intent (or its reason to be left alone)."""
        out: list[Pending] = []
        with self.catalog.transaction() as db:
            for item in batch:
                issue = problem(item, self.references)
                new = self._intent(item) if issue is None else None
                if isinstance(new, str):
                    issue, new = new, None
                if new is None:
                    record = item.record
                    new = NewEntry(
                        record.path, None, None, None, os.urandom(16),
                        record.digest, record.size, record.mtime_ns,
                    )  # fmt: skip
                (entry,) = journal.add(db, self.operation, [new])
                if issue is not None:
                    journal.update(db, entry, State.FAILED, error=issue)
                out.append(Pending(entry, new, error=issue))
        return out

    def _intent(self, item: Removal) -> NewEntry | str:
        source = item.record.path
        info = info_text = None
        if self.request.action is Action.DELETE or (
            self.request.action is Action.TRASH and not self.trash.restorable
        ):
            destination = None
        elif self.request.action is Action.TRASH:
            try:
                where = self.trash.location(source)
            except TrashUnavailable as error:
                return str(error)
            destination = os.path.join(where.files, os.path.basename(source))
            if where.info is not None:
                info = os.path.join(where.info, os.path.basename(source) + ".trashinfo")
                info_text = self.trash.info_text(source, where, self.when)
        else:
            destination = move_target(self.request, self.catalog_roots, source)
            if destination == source:
                return "it is already in the destination folder"
        return NewEntry(
            source=source,
            destination=destination,
            info=info,
            info_text=info_text,
            token=os.urandom(16),
            digest=item.record.digest,
            size=item.record.size,
            mtime_ns=item.record.mtime_ns,
            image=recovery.snapshot(self.catalog, source),
        )

    def _reserve(self, live: list[Pending]) -> None:
        for p in live:
            if p.new.destination is None:
                continue
            try:
                reserve(p)
            except OSError as error:
                p.error = f"the destination cannot be written: {describe(error)}"
                log.warning("Could not reserve %s: %s", p.new.destination, p.error)
        with self.catalog.transaction() as db:
            for p in live:
                if p.error is not None:
                    journal.update(db, p.entry, State.FAILED, error=p.error)
                elif p.destination is not None:
                    journal.update(
                        db, p.entry, State.RESERVED, destination=p.destination, info=p.info
                    )

    def _act(self, p: Pending) -> None:
        new = p.new
        info = os.stat(new.source)  # last look: still the file we were asked about?
        if info.st_size != new.size or info.st_mtime_ns != new.mtime_ns:
            raise OSError(errno.EBUSY, "the file changed since it was scanned", new.source)
        if self.request.action is Action.DELETE:
            os.unlink(new.source)
        elif p.destination is None:
            self.trash.send(new.source)
        else:
            transfer(new.source, p.destination, new.token, new.digest)

    def _confirm(self, moved: list[Pending], failed: list[Pending]) -> None:
        for folder in {os.path.dirname(p.destination) for p in moved if p.destination}:
            fsutil.fsync_dir(folder)
        with self.catalog.transaction() as db:
            for p in moved:
                journal.update(db, p.entry, State.DONE)
            for p in failed:
                journal.update(db, p.entry, State.FAILED, error=p.error)
            self.catalog.remove_paths([p.new.source for p in moved])


def stranger(path: str, e: Entry) -> str | None:
    """Why the file at ``path`` is not the entry's photo (size, then digest), or None.

    Undo checks this before every restore, on one device or across: once the trash is
    emptied another file may take the name the photo was sent to.
    """
    try:
        info = os.lstat(path)
        if not os.path.isfile(path) or os.path.islink(path):
            return f"{path} is no longer the photo (not a regular file)"
        if info.st_size != e.size:
            return f"{path} is no longer the photo (its size differs); nothing was moved"
        if e.digest is not None and fsutil.digest_file(path) != e.digest:
            return f"{path} is no longer the photo (its content differs); nothing was moved"
    except OSError as error:
        return f"{path} cannot be checked: {describe(error)}"
    return None


class Undoer:
    """The backward half: one operation's done entries, newest first."""

    def __init__(self, catalog: Catalog, operation: int) -> None:
        self.catalog = catalog
        self.operation = operation

    def run(
        self, todo: Sequence[Entry], cancel: threading.Event, batch_size: int
    ) -> Generator[OpProgress, None, None]:
        done = failed = 0
        yield OpProgress(0, len(todo))
        for batch in chunks(todo, batch_size):
            if cancel.is_set():
                return
            live = self._plan(batch)
            failed += len(batch) - len(live)
            restored: list[tuple[Entry, str]] = []
            problems: list[tuple[Entry, str]] = []
            for e, target in live:
                if cancel.is_set():
                    problems.append((e, "undo was cancelled"))
                    fsutil.remove_if_holds(target, e.token)
                    continue
                try:
                    self._restore(e, target)
                except OSError as error:
                    problems.append((e, f"could not be put back: {describe(error)}"))
                    fsutil.remove_if_holds(target, e.token)
                    failed += 1
                else:
                    restored.append((e, target))
                    done += 1
                yield OpProgress(done + failed, len(todo), e.source, failed)
            for folder in {os.path.dirname(t) for _, t in restored}:
                fsutil.fsync_dir(folder)
            with self.catalog.transaction() as db:
                for e, target in restored:
                    note = (
                        None if target == e.source else f"put back as {target}: the name was taken"
                    )
                    journal.update(db, e.id, State.RESTORED, restored=target, error=note)
                    recovery.readd(self.catalog, e, target)
                for e, problem in problems:
                    journal.update(db, e.id, State.DONE, error=problem)

    def _plan(self, batch: Sequence[Entry]) -> list[tuple[Entry, str]]:
        """Commit the intent to restore each file, then reserve its way back."""
        intents: list[Entry] = []
        with self.catalog.transaction() as db:
            for e in batch:
                problem = self.problem(e)
                if problem is not None:
                    journal.update(db, e.id, State.DONE, error=problem)
                    continue
                token = os.urandom(16)
                journal.update(db, e.id, State.RESTORING, token=token, restored=e.source)
                intents.append(journal.entry(self.catalog, e.id))
        live: list[tuple[Entry, str]] = []
        errors: list[tuple[Entry, str]] = []
        for e in intents:
            try:
                os.makedirs(os.path.dirname(e.source), exist_ok=True)
                live.append((e, fsutil.reserve(e.source, e.token)))
            except OSError as error:
                errors.append((e, f"could not be put back: {describe(error)}"))
        with self.catalog.transaction() as db:
            for e, target in live:
                journal.update(db, e.id, State.RESTORE_RESERVED, restored=target)
            for e, problem in errors:
                journal.update(db, e.id, State.DONE, error=problem)
        return [(journal.entry(self.catalog, e.id), t) for e, t in live]

    @staticmethod
    def problem(e: Entry) -> str | None:
        if e.destination is None:
            return f"it is in the system trash: {SystemTrash.restore_hint()}"
        if not os.path.lexists(e.destination):
            return f"it is no longer at {e.destination}"
        return stranger(e.destination, e)

    @staticmethod
    def _restore(e: Entry, target: str) -> None:
        assert e.destination is not None
        transfer(e.destination, target, e.token, e.digest)
        if e.info is not None and e.info_text is not None:
            fsutil.remove_if_holds(e.info, e.info_text.encode())
