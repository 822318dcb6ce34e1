"""Named keep-the-best presets, stored in the catalog (table ``presets``).

A preset is a :class:`~desktop_app.engine.selection.keeprules.KeepRules` under a name the user
chose ("Prints: TIFF first"). The built-in ``default`` preset is the default rule order;
saving a preset named ``default`` replaces it for this catalog, and deleting that one
brings the built-in back. Presets are the user's data: migrations keep them and a rebuild
of a damaged catalog salvages them.
"""

from __future__ import annotations

import json
import logging
import time

from desktop_app.engine.catalog.store import Catalog
from desktop_app.engine.errors import UsageError
from desktop_app.engine.selection.keeprules import DEFAULT_CRITERIA, Criterion, KeepRules

log = logging.getLogger(__name__)

#: The preset used when none is named.
DEFAULT = "default"

#: Presets every catalog has, unless the user saved one under the same name.
BUILTIN: dict[str, KeepRules] = {
    DEFAULT: KeepRules(),
    # Lineage from XMP (selection/lineage.py): keep the file exports were made from, or
    # the edited export; the usual criteria decide among the rest.
    "prefer-original": KeepRules((Criterion.SOURCE, *DEFAULT_CRITERIA)),
    "prefer-edited": KeepRules((Criterion.EDITED, *DEFAULT_CRITERIA)),
}


def _check_name(name: str) -> str:
    cleaned = name.strip()
    if not cleaned:
        raise UsageError("A preset needs a name.")
    if len(cleaned) > 100:
        raise UsageError("A preset name has at most 100 characters.")
    return cleaned


def save(catalog: Catalog, name: str, rules: KeepRules) -> None:
    """Store ``rules`` under ``name``, replacing a preset of that name.

    Raises:
        UsageError: The name is empty or too long.
    """
    name = _check_name(name)
    with catalog.transaction() as db:
        db.execute(
            "INSERT INTO presets(name, rules, updated_ns) VALUES(?, ?, ?)"
            " ON CONFLICT(name) DO UPDATE SET rules=excluded.rules, updated_ns=excluded.updated_ns",
            (name, json.dumps(rules.to_json()), time.time_ns()),
        )


def load(catalog: Catalog, name: str = DEFAULT) -> KeepRules:
    """The rules saved under ``name`` (or the built-in preset of that name).

    Raises:
        UsageError: No preset has that name.
    """
    row = catalog.execute("SELECT rules FROM presets WHERE name=?", (name.strip(),)).fetchone()
    if row is not None:
        return KeepRules.from_json(json.loads(row[0]))
    if name.strip() in BUILTIN:
        return BUILTIN[name.strip()]
    known = ", ".join(sorted(all_presets(catalog))) or "none"
    raise UsageError(f"No preset named {name!r} (known: {known}).")


def all_presets(catalog: Catalog) -> dict[str, KeepRules]:
    """Every preset by name, built-in ones included, in name order."""
    found = dict(BUILTIN)
    for name, text in catalog.execute("SELECT name, rules FROM presets"):
        try:
            found[name] = KeepRules.from_json(json.loads(text))
        except (ValueError, UsageError) as error:  # hand-edited or from a newer version
            log.warning("Preset %r cannot be read: %s", name, error)
    return dict(sorted(found.items()))


def delete(catalog: Catalog, name: str) -> bool:
    """Forget a saved preset; True if there was one (built-ins cannot be deleted)."""
    with catalog.transaction() as db:
        cur = db.execute("DELETE FROM presets WHERE name=?", (name.strip(),))
        return cur.rowcount > 0
