"""The steps of file operations: checks, reservations, moves, batches, forwards and back.

Used by ``operations.py``, which holds the lock, the durable commits and the public API;
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
from dataclasses import dataclass, field

from desktop_app.engine.catalog import sidecar_table
from desktop_app.engine.catalog.store import Catalog
from desktop_app.engine.fileops import fsutil, journal, recovery, sidecars
from desktop_app.engine.fileops.journal import Action, Entry, NewEntry, State
from desktop_app.engine.fileops.requests import FileResult, OpProgress, Removal, Request
from desktop_app.engine.fileops.trash import SystemTrash, Trash, TrashUnavailable
from desktop_app.engine.paths import is_within

log = logging.getLogger(__name__)


@dataclass(slots=True)
class Pending:
    """One file of the batch being worked on: a photo, with its sidecars as a unit."""

    entry: int
    new: NewEntry
    destination: str | None = None
    info: str | None = None
    error: str | None = None
    sidecars: list[Pending] = field(default_factory=list)
    #: A sidecar that moved and could not be put back beside its failed photo: why.
    stuck: str | None = None

    @property
    def members(self) -> list[Pending]:
        """The sidecars, then the photo: the order they move in."""
        return [*self.sidecars, self]


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


def unit_chunks(todo: Sequence[Entry], size: int) -> Iterator[list[Entry]]:
    """Undo's batches of about ``size`` entries, never splitting a photo from its
    sidecars (newest first, a photo's sidecars come just before it)."""
    batch: list[Entry] = []
    for e in todo:
        batch.append(e)
        if len(batch) >= max(1, size) and e.photo is None:
            yield batch
            batch = []
    if batch:
        yield batch


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
    """Take the destination names (and ``.trashinfo`` s) for a photo and its sidecars.

    All at one candidate (``x (2).jpg`` with ``x (2).xmp``) so the sidecars keep
    following the photo's name; a candidate where any of them is taken is released.
    """
    new = pending.new
    assert new.destination is not None
    os.makedirs(os.path.dirname(new.destination), exist_ok=True)
    info_dir = None if new.info is None or new.info_text is None else os.path.dirname(new.info)
    members = [pending, *pending.sidecars]
    names_of = sidecars.unit_names(
        new.source, [m.new.source for m in pending.sidecars], new.destination
    )
    for names in names_of:
        made: list[tuple[str, bytes]] = []
        infos: list[str | None] = []
        try:
            for member, name in zip(members, names, strict=True):
                info = None
                if info_dir is not None and member.new.info_text is not None:
                    # the spec's reservation: the .trashinfo first, atomically
                    info = os.path.join(info_dir, os.path.basename(name) + ".trashinfo")
                    content = member.new.info_text.encode()
                    fsutil.create_exclusive(info, content)
                    made.append((info, content))
                infos.append(info)
                fsutil.create_exclusive(name, member.new.token)
                made.append((name, member.new.token))
        except FileExistsError:
            for path, content in made:
                fsutil.remove_if_holds(path, content)
            continue
        except BaseException:
            for path, content in made:
                fsutil.remove_if_holds(path, content)
            raise
        for member, name, info in zip(members, names, infos, strict=True):
            member.destination, member.info = name, info
        return
    raise fsutil.NameExhausted(errno.EEXIST, "no free name for the destination", new.destination)


def put_back(moved: Sequence[Pending]) -> None:
    """Return files of a unit that moved to their places, newest first (their photo
    could not follow). A file that cannot be put back is marked ``stuck``."""
    for m in reversed(moved):
        if m.destination is None:  # deleted, or in a trash that does not say where
            m.stuck = "it was removed before its photo failed"
            continue
        try:
            fsutil.create_exclusive(m.new.source, m.new.token)
            try:
                transfer(m.destination, m.new.source, m.new.token, m.new.digest)
            except BaseException:
                fsutil.remove_if_holds(m.new.source, m.new.token)
                raise
        except OSError as error:
            m.stuck = f"it could not be put back beside its photo: {describe(error)}"
            log.warning("Could not put %s back: %s", m.new.source, m.stuck)


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
        #: The sidecars of every photo of the run, listed once per folder at its start.
        self.beside: dict[str, list[str]] = {}

    def run(
        self, items: Sequence[Removal], cancel: threading.Event, batch_size: int
    ) -> Generator[OpProgress, None, None]:
        done = failed = 0
        self.beside = sidecars.find_many([item.record.path for item in items])
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
                    self._release(p)
                    continue
                try:
                    self._act(p)
                except (OSError, TrashUnavailable) as error:
                    p.error = describe(error)
                    log.warning("Could not %s %s: %s", self.request.action, p.new.source, p.error)
                    self._release(p)
                    failed += 1
                else:
                    moved.append(p)
                    done += 1
                yield OpProgress(done + failed, len(items), p.new.source, failed)
            self._confirm(moved, [p for p in live if p.error is not None])

    def _plan(self, batch: Sequence[Removal]) -> list[Pending]:
        """Check each file and its sidecars and commit their intents (or the reason
        to leave the photo alone: a sidecar that cannot go keeps its photo in place)."""
        out: list[Pending] = []
        with self.catalog.transaction() as db:
            for item in batch:
                issue = problem(item, self.references)
                new = self._intent(item) if issue is None else None
                if isinstance(new, str):
                    issue, new = new, None
                extra: list[NewEntry] = []
                if new is not None:
                    listed = self.beside.get(item.record.path, [])
                    side = self._sidecar_intents(new, [p for p in listed if os.path.lexists(p)])
                    if isinstance(side, str):
                        issue = side
                    else:
                        extra = side
                if new is None:
                    record = item.record
                    new = NewEntry(
                        record.path, None, None, None, os.urandom(16),
                        record.digest, record.size, record.mtime_ns,
                    )  # fmt: skip
                (entry,) = journal.add(db, self.operation, [new])
                if issue is not None:
                    journal.update(db, entry, State.FAILED, error=issue)
                pending = Pending(entry, new, error=issue)
                if issue is None and extra:
                    ids = journal.add(db, self.operation, extra, photo=entry)
                    pending.sidecars = [Pending(i, e) for i, e in zip(ids, extra, strict=True)]
                out.append(pending)
        return out

    def _sidecar_intents(self, photo: NewEntry, paths: Sequence[str]) -> list[NewEntry] | str:
        """The intents of a photo's sidecars, or why one of them cannot go with it."""
        out = []
        for path in paths:
            try:
                info = os.stat(path)
                digest = fsutil.digest_file(path)
            except OSError as error:
                return f"its sidecar {os.path.basename(path)} cannot be read: {describe(error)}"
            destination = info_path = info_text = None
            if photo.destination is not None:
                destination = sidecars.renamed(photo.source, path, photo.destination)
            if photo.info is not None and destination is not None:
                where = self.trash.location(photo.source)
                info_path = os.path.join(
                    os.path.dirname(photo.info), os.path.basename(destination) + ".trashinfo"
                )
                info_text = self.trash.info_text(path, where, self.when)
            out.append(
                NewEntry(
                    path,
                    destination,
                    info_path,
                    info_text,
                    os.urandom(16),
                    digest,
                    info.st_size,
                    info.st_mtime_ns,
                )
            )
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
        """Reserve every unit's names, then record them (or the failure) durably."""
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
                    for m in p.members:
                        journal.update(db, m.entry, State.FAILED, error=p.error)
                else:
                    for m in p.members:
                        if m.destination is not None:
                            journal.update(
                                db, m.entry, State.RESERVED, destination=m.destination, info=m.info
                            )

    def _act(self, p: Pending) -> None:
        """Move a photo and its sidecars (sidecars first); if one fails, the ones that
        moved go back, so the photo and its sidecars stay together."""
        for m in p.members:  # last look: still the files we were asked about?
            info = os.stat(m.new.source)
            if info.st_size != m.new.size or info.st_mtime_ns != m.new.mtime_ns:
                raise OSError(errno.EBUSY, "the file changed since it was scanned", m.new.source)
        moved: list[Pending] = []
        try:
            for m in p.members:
                self._move(m)
                moved.append(m)
        except (OSError, TrashUnavailable) as error:
            if isinstance(error, CopyKept):  # its verified copy stays where it went
                p.members[len(moved)].stuck = str(error)
            put_back(moved)
            raise

    def _move(self, m: Pending) -> None:
        new = m.new
        if self.request.action is Action.DELETE:
            os.unlink(new.source)
        elif m.destination is None:
            self.trash.send(new.source)
        else:
            transfer(new.source, m.destination, new.token, new.digest)

    @staticmethod
    def _release(p: Pending) -> None:
        """Give back the reserved names of a unit that stays (not a stuck file's)."""
        for m in p.members:
            if m.destination is not None and m.stuck is None:
                recovery.release(m.destination, m.new.token, m.info, m.new.info_text)

    def _confirm(self, moved: list[Pending], failed: list[Pending]) -> None:
        for folder in {os.path.dirname(p.destination) for p in moved if p.destination}:
            fsutil.fsync_dir(folder)
        with self.catalog.transaction() as db:
            for p in moved:
                for m in p.members:
                    journal.update(db, m.entry, State.DONE)
            for p in failed:
                journal.update(db, p.entry, State.FAILED, error=p.error)
                for m in p.sidecars:
                    if m.stuck is not None:
                        journal.update(db, m.entry, State.DONE, error=m.stuck)
                    else:
                        note = f"left in place with its photo: {p.error}"
                        journal.update(db, m.entry, State.FAILED, error=note)
            self.catalog.remove_paths([p.new.source for p in moved])
            sidecar_table.forget(self.catalog, [p.new.source for p in moved])


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
        for batch in unit_chunks(todo, batch_size):
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
                back = [t for e, t in restored if e.photo is None]
                sidecar_table.record(self.catalog, back, sidecars.with_kinds(back))

    def _plan(self, batch: Sequence[Entry]) -> list[tuple[Entry, str]]:
        """Commit the intent to restore each file, then reserve its way back: a photo
        and its sidecars together, under names that keep them together."""
        intents: list[Entry] = []
        problems = {e.id: self.problem(e) for e in batch}
        with self.catalog.transaction() as db:
            for e in batch:
                problem = problems[e.id]
                if problem is None and e.photo is not None and problems.get(e.photo):
                    problem = "left with its photo, which cannot be put back"
                if problem is not None:
                    journal.update(db, e.id, State.DONE, error=problem)
                    continue
                token = os.urandom(16)
                journal.update(db, e.id, State.RESTORING, token=token, restored=e.source)
                intents.append(journal.entry(self.catalog, e.id))
        live: list[tuple[Entry, str]] = []
        errors: list[tuple[Entry, str]] = []
        for unit in self._units(intents):
            try:
                os.makedirs(os.path.dirname(unit[0].source), exist_ok=True)
                live += zip(unit, self._reserve(unit), strict=True)
            except OSError as error:
                errors += [(e, f"could not be put back: {describe(error)}") for e in unit]
        with self.catalog.transaction() as db:
            for e, target in live:
                journal.update(db, e.id, State.RESTORE_RESERVED, restored=target)
            for e, problem in errors:
                journal.update(db, e.id, State.DONE, error=problem)
        return [(journal.entry(self.catalog, e.id), t) for e, t in live]

    def _units(self, intents: Sequence[Entry]) -> list[list[Entry]]:
        """The entries as units: each photo first, then its sidecars being restored."""
        ids = {e.id for e in intents}
        units: dict[int, list[Entry]] = {}
        for e in intents:
            owner = e.photo if e.photo is not None and e.photo in ids else e.id
            units.setdefault(owner, []).append(e)
        return [sorted(u, key=lambda e: e.photo is not None) for u in units.values()]

    def _reserve(self, unit: Sequence[Entry]) -> list[str]:
        """Free names for a unit, photo first (see :func:`sidecars.unit_names`)."""
        head = unit[0]
        if head.photo is not None:  # a sidecar whose photo is already back (or gone)
            photo = journal.entry(self.catalog, head.photo)
            first = head.source
            if photo.state is State.RESTORED and photo.restored is not None:
                first = sidecars.renamed(photo.source, head.source, photo.restored)
            return [fsutil.reserve(first, head.token)]
        rest = [e.source for e in unit[1:]]
        for names in sidecars.unit_names(head.source, rest, head.source):
            made: list[tuple[str, bytes]] = []
            try:
                for e, name in zip(unit, names, strict=True):
                    fsutil.create_exclusive(name, e.token)
                    made.append((name, e.token))
            except FileExistsError:
                for path, token in made:
                    fsutil.remove_if_holds(path, token)
                continue
            except BaseException:
                for path, token in made:
                    fsutil.remove_if_holds(path, token)
                raise
            return names
        raise fsutil.NameExhausted(errno.EEXIST, "no free name to put it back", head.source)

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
