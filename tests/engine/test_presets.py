"""Keep-the-best presets stored in the catalog."""

from __future__ import annotations

import pytest

from desktop_app.engine.catalog.store import Catalog
from desktop_app.engine.errors import UsageError
from desktop_app.engine.selection import presets
from desktop_app.engine.selection.plans import Criterion, KeepRules


@pytest.fixture(params=["memory", "file"])
def catalog(request, tmp_path):
    path = ":memory:" if request.param == "memory" else tmp_path / "catalog.sqlite"
    with Catalog(path) as opened:
        yield opened


def test_the_builtin_default(catalog):
    assert presets.load(catalog) == KeepRules()
    assert list(presets.all_presets(catalog)) == ["default", "prefer-edited", "prefer-original"]


def test_save_load_replace_delete(catalog):
    prints = KeepRules.parse("format,pixels", formats=["TIFF", "RAW"], folders=["/prints"])
    presets.save(catalog, " Prints ", prints)
    assert presets.load(catalog, "Prints") == prints
    assert list(presets.all_presets(catalog)) == [
        "Prints", "default", "prefer-edited", "prefer-original",
    ]  # fmt: skip
    sizes = KeepRules.parse("size")
    presets.save(catalog, "Prints", sizes)
    assert presets.load(catalog, "Prints").criteria == (Criterion.SIZE,)
    assert presets.delete(catalog, "Prints") and not presets.delete(catalog, "Prints")
    with pytest.raises(UsageError, match="No preset named 'Prints'"):
        presets.load(catalog, "Prints")


def test_the_default_can_be_replaced_and_restored(catalog):
    mine = KeepRules.parse("date,pixels")
    presets.save(catalog, "default", mine)
    assert presets.load(catalog) == mine
    presets.delete(catalog, "default")
    assert presets.load(catalog) == KeepRules()


def test_names_are_checked(catalog):
    with pytest.raises(UsageError):
        presets.save(catalog, "  ", KeepRules())
    with pytest.raises(UsageError):
        presets.save(catalog, "x" * 101, KeepRules())


def test_presets_survive_reopening(tmp_path):
    path = tmp_path / "c.sqlite"
    with Catalog(path) as catalog:
        presets.save(catalog, "web", KeepRules.parse("path,size"))
    with Catalog(path) as catalog:
        assert presets.load(catalog, "web").criteria == (Criterion.PATH, Criterion.SIZE)
