"""The engine's second front door: everything the window and the command line do to clean up.

Beside :class:`~desktop_app.engine.library.Library` (folders, scans, groups, queries),
a :class:`Cleanup` is what acts on a catalog's decisions: keep rules and their presets,
the "not copies" list, reference folders, and the journalled file operations (apply,
preview, undo, history, recovery). The plain value types those take and return are
re-exported here (see ``__all__``), so the window and the command line import nothing
else from ``selection`` or ``fileops``.

A Cleanup uses one SQLite connection, like a Library, so it belongs to the thread that
made it: a worker thread that applies an operation opens its own on the catalog file.
"""

from __future__ import annotations

import os
import threading
from collections.abc import Generator, Iterable, Sequence

from desktop_app.engine.catalog.store import Catalog, default_catalog_path
from desktop_app.engine.errors import UsageError
from desktop_app.engine.fileops import journal, operations
from desktop_app.engine.fileops.fsutil import digest_file
from desktop_app.engine.fileops.journal import Action, Entry, Operation, OperationState, State
from desktop_app.engine.fileops.recovery import Outcome, Settled
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
from desktop_app.engine.fileops.trash import (
    FreedesktopTrash,
    SystemTrash,
    Trash,
    TrashUnavailable,
    default_trash,
)
from desktop_app.engine.library import Library
from desktop_app.engine.selection import export, not_copies, presets
from desktop_app.engine.selection.keeprules import Criterion, KeepRules
from desktop_app.engine.selection.not_copies import IgnoredPair, parse_key
from desktop_app.engine.selection.plans import (
    Decision,
    GroupPlan,
    MarkingError,
    Plan,
    select,
    unmarked,
)
from desktop_app.engine.selection.sharpest import keep_sharpest
from desktop_app.engine.types import ImageRecord

__all__ = [
    "DEFAULT_PRESET",
    "Action",
    "Cleanup",
    "Criterion",
    "Decision",
    "DeleteConfirmation",
    "Entry",
    "FileResult",
    "FreedesktopTrash",
    "GroupPlan",
    "IgnoredPair",
    "KeepRules",
    "MarkingError",
    "MetadataMerge",
    "OpProgress",
    "Operation",
    "OperationState",
    "Outcome",
    "Plan",
    "Removal",
    "Report",
    "Request",
    "Settled",
    "State",
    "SystemTrash",
    "Trash",
    "TrashUnavailable",
    "confirmation_for",
    "default_trash",
    "file_record",
    "keep_sharpest",
    "parse_key",
    "select",
    "select_in",
    "unmarked",
    "write_plan_csv",
    "write_plan_file",
    "write_plan_json",
]

#: The name of the preset used when none is chosen.
DEFAULT_PRESET = presets.DEFAULT

#: A plan as CSV, JSON, or a file whose suffix says which (see ``selection/export.py``).
write_plan_csv = export.write_csv
write_plan_json = export.write_json
write_plan_file = export.write_file


def select_in(
    library: Library,
    threshold: int,
    rules: KeepRules | None = None,
    *,
    references: Sequence[str] = (),
    within: bool = False,
) -> Plan:
    """:func:`select` over a library's groups, as the window and ``doppel select`` do it.

    The reference folders are ``references`` plus the library folders marked as
    reference in the catalog; the "not duplicates" list is honoured.

    Args:
        library: The library (its groups are computed at ``threshold``).
        threshold: Grouping threshold.
        rules: Keep-the-best rules (the default order when None).
        references: Extra reference folders (they should be library folders too).
        within: With reference folders, also select among photos without a reference
            copy.
    """
    marked = [r.path for r in library.catalog.roots() if r.reference]
    folders = [*references, *marked]
    return select(
        library.groups(threshold),
        rules,
        threshold=threshold,
        references=folders,
        reference_groups_only=False if within else None,
        not_copies=not_copies.keys(library.catalog),
    )


def file_record(path: str) -> ImageRecord:
    """A record of a file on disk by its content (for the "not copies" list).

    Raises:
        UsageError: The file cannot be read.
    """
    full = os.path.abspath(path)
    try:
        info = os.stat(full)
        digest = digest_file(full)
    except OSError as error:
        raise UsageError(f"Cannot read {path}: {error.strerror or error}") from error
    return ImageRecord(
        0, full, info.st_size, info.st_mtime_ns, digest, None, 0, 0, None, None, None
    )


class Cleanup:
    """Keep rules, the "not copies" list, reference folders and file operations of a catalog.

    Args:
        source: An open :class:`Library` or :class:`Catalog` (used, not closed by
            :meth:`close`), or the path of a catalog file to open (None: the default
            location), which :meth:`close` closes.

    Raises:
        CatalogError: The catalog file cannot be opened.
    """

    def __init__(self, source: Library | Catalog | str | os.PathLike[str] | None = None) -> None:
        if isinstance(source, Library):
            self._catalog, self._owns = source.catalog, False
        elif isinstance(source, Catalog):
            self._catalog, self._owns = source, False
        else:
            self._catalog = Catalog(default_catalog_path() if source is None else source)
            self._owns = True

    @property
    def path(self) -> str:
        """The catalog file."""
        return self._catalog.path

    def close(self) -> None:
        """Close the catalog if this Cleanup opened it."""
        if self._owns:
            self._catalog.close()

    def __enter__(self) -> Cleanup:
        return self

    def __exit__(self, *exc: object) -> None:
        self.close()

    # ----------------------------------------------------------------- folders

    def folders(self) -> dict[str, bool]:
        """Every library folder of the catalog, and whether it is a reference folder."""
        return {r.path: r.reference for r in self._catalog.roots()}

    def references(self) -> tuple[str, ...]:
        """The reference folders (of every library the catalog holds)."""
        return tuple(r.path for r in self._catalog.roots() if r.reference)

    def set_reference(self, folder: str, reference: bool) -> None:
        """Make ``folder`` a reference folder (its photos are never marked) or not."""
        self._catalog.set_reference(folder, reference)

    def record_at(self, path: str) -> ImageRecord | None:
        """The catalog's record of the photo at ``path``, if it has one."""
        return self._catalog.record_at(path)

    # ----------------------------------------------------------------- keep rules

    def preset(self, name: str = DEFAULT_PRESET) -> KeepRules:
        """The keep rules saved under ``name`` (the defaults for the default preset)."""
        return presets.load(self._catalog, name)

    def presets(self) -> dict[str, KeepRules]:
        """Every preset by name, the built-in ones included."""
        return presets.all_presets(self._catalog)

    def save_preset(self, name: str, rules: KeepRules) -> None:
        """Keep ``rules`` under ``name``."""
        presets.save(self._catalog, name, rules)

    def delete_preset(self, name: str) -> bool:
        """Forget a saved preset; False for a built-in or unknown name."""
        return presets.delete(self._catalog, name)

    @staticmethod
    def builtin_preset(name: str) -> bool:
        """Whether ``name`` is a preset that cannot be deleted."""
        return name in presets.BUILTIN

    # ----------------------------------------------------------------- not copies

    def not_copies(self) -> frozenset[tuple[bytes, bytes]]:
        """The digest pairs the user said are not copies."""
        return not_copies.keys(self._catalog)

    def ignored(self) -> list[IgnoredPair]:
        """The "not copies" list, as the user made it."""
        return not_copies.ignored(self._catalog)

    def ignore(self, records: Sequence[ImageRecord]) -> int:
        """Remember that these photos are not copies of each other; the pairs added."""
        return not_copies.ignore(self._catalog, records)

    def unignore(self, keys: Iterable[tuple[bytes, bytes]]) -> int:
        """Forget pairs of the list by key; the number forgotten."""
        return not_copies.unignore(self._catalog, keys)

    def unignore_records(self, records: Sequence[ImageRecord]) -> int:
        """Forget the pairs among these photos; the number forgotten."""
        return not_copies.unignore_records(self._catalog, records)

    # ----------------------------------------------------------------- file operations

    def recover(self) -> list[Settled]:
        """Settle what an interrupted operation left open (cheap when nothing did)."""
        return operations.recover(self._catalog)

    def preview(
        self, request: Request, *, trash: Trash | None = None, allow_delete: bool = False
    ) -> list[FileResult]:
        """What :meth:`apply` would do, touching nothing."""
        return operations.preview(self._catalog, request, trash=trash, allow_delete=allow_delete)

    def preview_merge(self, request: Request) -> list[MetadataMerge]:
        """What the metadata merge of ``request`` would give each keeper, touching nothing."""
        return operations.preview_merge(self._catalog, request)

    def apply(
        self,
        request: Request,
        *,
        trash: Trash | None = None,
        allow_delete: bool = False,
        cancel: threading.Event | None = None,
    ) -> Generator[OpProgress, None, Report]:
        """Carry out a request, journalled (see ``fileops/operations.py``)."""
        return operations.apply(
            self._catalog, request, trash=trash, allow_delete=allow_delete, cancel=cancel
        )

    def undo(
        self, operation: int | None = None, *, cancel: threading.Event | None = None
    ) -> Generator[OpProgress, None, Report]:
        """Put back the files of an operation (the latest that can be undone when None)."""
        return operations.undo(self._catalog, operation, cancel=cancel)

    def history(self, limit: int | None = None) -> list[Operation]:
        """Past operations, most recent first."""
        return operations.history(self._catalog, limit)

    def undoable(self) -> list[Operation]:
        """The operations whose files can still be put back, most recent first."""
        return journal.undoable(self._catalog)

    def entries(self, operation: int) -> list[Entry]:
        """The files of one operation."""
        return journal.entries(self._catalog, operation)
