"""The plain data of file operations: requests in, progress and reports out.

The window builds a :class:`Request` (usually with ``selection.Plan.request``), shows
:func:`fileops.preview` of it, runs :func:`fileops.apply` in a worker thread, and
displays the :class:`Report`. Everything here is a frozen dataclass: safe to hand
between threads.
"""

from __future__ import annotations

from collections.abc import Iterable
from dataclasses import dataclass

from desktop_app.engine.fileops.journal import Action, State
from desktop_app.engine.fileops.recovery import Settled
from desktop_app.engine.types import ImageRecord


@dataclass(frozen=True, slots=True)
class Removal:
    """One file to act on.

    Attributes:
        record: Its catalog row; the file must still match it (size, modification time).
        keeper: The copy of it that stays, if any: the file is left alone when the keeper
            is gone or is the same file (a link to it).
    """

    record: ImageRecord
    keeper: str | None = None


@dataclass(frozen=True, slots=True)
class DeleteConfirmation:
    """What the user confirmed before a permanent deletion: this many files, this size.

    Build it with :func:`confirmation_for` from what was shown to the user; the
    deletion is refused if the request does not match it exactly.
    """

    count: int
    size: int


@dataclass(frozen=True, slots=True)
class Request:
    """What to do to which files.

    Attributes:
        items: The files.
        action: Trash (the default), move, or delete permanently.
        destination: The folder of a move; files keep their path relative to their
            library folder (one of ``roots``) below it.
        roots: Library folders, for the relative paths of a move.
        references: Reference folders besides the catalog's: their files are never
            touched, whatever the request says.
        confirmation: Required for a permanent deletion.
        merge_metadata: Before removing the copies, carry over to each keeper (into its
            XMP sidecar) the rating, label, keywords, title, caption and GPS that its
            removed copies carry and it lacks (``fileops/metadata_merge.py``).
    """

    items: tuple[Removal, ...]
    action: Action = Action.TRASH
    destination: str | None = None
    roots: tuple[str, ...] = ()
    references: tuple[str, ...] = ()
    confirmation: DeleteConfirmation | None = None
    merge_metadata: bool = False

    @property
    def size(self) -> int:
        """Total size of the files, in bytes."""
        return sum(item.record.size for item in self.items)


def confirmation_for(items: Iterable[Removal]) -> DeleteConfirmation:
    """The confirmation to show ("delete N files, S bytes?") and pass back."""
    listed = list(items)
    return DeleteConfirmation(len(listed), sum(i.record.size for i in listed))


@dataclass(frozen=True, slots=True)
class FileResult:
    """What happened (or, in a dry run, would happen) to one file.

    Attributes:
        source: The file's path before the operation.
        destination: Where it went or would go; None for a deletion or when it stays.
        size: Its size in bytes.
        state: ``done``, ``failed`` (left in place) or ``restored``; ``planned`` in a
            dry run for a file that would be acted on.
        error: Why it was left in place, or a note.
        entry: The journal entry, if one was written.
        sidecars: The photo's sidecars (``.xmp``, ``.aae``, Live Photo ``.mov``...),
            which went (or stayed, or came back) with it, each with its own outcome.
    """

    source: str
    destination: str | None
    size: int
    state: State
    error: str | None = None
    entry: int | None = None
    sidecars: tuple[FileResult, ...] = ()


@dataclass(frozen=True, slots=True)
class MetadataMerge:
    """What one keeper inherited (or, in a dry run, would inherit) from its copies.

    Attributes:
        keeper: The photo kept.
        sidecar: Its XMP sidecar, where the metadata is written.
        created: Whether the sidecar is new.
        summary: What is carried over (``rating 4; keywords dawn, harbour, sea``).
        sources: The removed copies it comes from.
        state: ``planned`` (dry run), ``done``, ``failed``, ``undone``.
        note: Why it failed, or a note.
    """

    keeper: str
    sidecar: str
    created: bool
    summary: str
    sources: tuple[str, ...] = ()
    state: str = "planned"
    note: str | None = None


@dataclass(frozen=True, slots=True)
class Report:
    """The outcome of an operation or an undo.

    Attributes:
        operation: The journal's operation id (None for a dry run or an empty request).
        action: What the operation did.
        undo: Whether this reports an undo of ``operation``.
        results: One per file.
        cancelled: The caller's cancel event stopped it early.
        recovered: Entries settled after an interruption inside this run.
        merges: The keepers' sidecars written (or put back, for an undo).
    """

    operation: int | None
    action: Action
    undo: bool
    results: tuple[FileResult, ...]
    cancelled: bool = False
    recovered: tuple[Settled, ...] = ()
    merges: tuple[MetadataMerge, ...] = ()

    @property
    def done(self) -> list[FileResult]:
        """Files acted on (moved, trashed, deleted, or restored for an undo)."""
        wanted = State.RESTORED if self.undo else State.DONE
        return [r for r in self.results if r.state is wanted]

    @property
    def failed(self) -> list[FileResult]:
        """Files left where they were (for an undo: not put back), with the reason."""
        if self.undo:
            return [r for r in self.results if r.state is not State.RESTORED]
        return [r for r in self.results if r.state is State.FAILED]

    @property
    def bytes_done(self) -> int:
        """Total size of :attr:`done`."""
        return sum(r.size for r in self.done)


@dataclass(frozen=True, slots=True)
class OpProgress:
    """Progress of a running operation: ``done`` of ``total`` files handled."""

    done: int
    total: int
    current: str | None = None
    failed: int = 0
